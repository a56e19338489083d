#ifndef VIRT_VCPU_MSRS_H
#define VIRT_VCPU_MSRS_H
/* A vCPU's MSRs: those it uses without exits, and those the hypervisor
 * emulates for it (its APIC's are dev/apic_access.h's). */
#include <stdint.h>
#include <stdbool.h>
#include "arch/msr.h"

/* The IA32_EFER bits the virtual processor has; the others are reserved,
 * for WRMSR as for the EFER a nested VM entry loads. LMA is the processor's
 * to set (SDM Vol. 3A 2.2.1). */
#define VCPU_EFER_BITS (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)

/* Machine-check banks the virtual processor has (IA32_MCG_CAP[7:0]). */
#define VCPU_MCE_BANKS 4

/* The emulated MSRs' state that is the vCPU's own (struct vcpu). */
struct vcpu_msr_state {
    uint64_t misc_enable;                   /* IA32_MISC_ENABLE */
    uint64_t tsc_adjust;                    /* IA32_TSC_ADJUST */
    uint64_t mcg_status, mcg_ctl;           /* IA32_MCG_STATUS, IA32_MCG_CTL */
    uint64_t mc_bank[VCPU_MCE_BANKS][4];    /* IA32_MCi_CTL, _STATUS, _ADDR, _MISC */
};

struct vcpu;
/* The emulated MSRs as at power-on or INIT (SDM Vol. 3A 11.1.1, Table 11-1,
 * and KVM's reset values where the SDM leaves them to firmware). */
void vcpu_msrs_reset(struct vcpu *vcpu);
/* Intercept every MSR but the pass-through ones (virt/vcpu_msrs.c). */
void msr_bitmap_init(uint64_t *bitmap);
/* Lets RDMSR (`read`) and WRMSR (`write`) of `msr` run without an exit. */
void msr_bitmap_open(uint64_t *bitmap, uint32_t msr, bool read, bool write);
/* Makes RDMSR of `msr` exit again. */
void msr_bitmap_close_read(uint64_t *bitmap, uint32_t msr);
/* IA32_DEBUGCTL, whose reads run without an exit while its value is 0. */
#define MSR_IA32_DEBUGCTL 0x1d9
/* The pass-through MSRs no VMCS field holds, switched with the vCPU. */
void vcpu_msrs_load(const struct vcpu *vcpu);
void vcpu_msrs_save(struct vcpu *vcpu);
/* RDMSR/WRMSR of the MSRs emulated for the vCPU (its VMCS current): false
 * with *handled false if `msr` is not one of them, with *handled true if
 * the access raises #GP. */
bool vcpu_read_msr(struct vcpu *vcpu, uint32_t msr, uint64_t *value, bool *handled);
bool vcpu_write_msr(struct vcpu *vcpu, uint32_t msr, uint64_t value, bool *handled);
/* Whether `value` is a valid IA32_PAT: no reserved memory type (SDM Vol. 3A
 * 13.12.2). */
bool vcpu_pat_valid(uint64_t value);
#endif
