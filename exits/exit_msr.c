/* RDMSR/WRMSR: the MSR bitmap lets the guest use the MSRs whose state the
 * VMCS or the vCPU switch keeps per guest; the few others a guest needs are
 * emulated here, and any other MSR raises #GP as on a CPU without it. */
#include "exits/exits.h"
#include "dev/apic_access.h"
#include "virt/event_inject.h"
#include "virt/msr_bitmap.h"
#include "virt/vm.h"
#include "arch/cpu.h"
#include "arch/msr.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_cpu.h"
#include "lib/string.h"

#define MSR_IA32_TSC            0x010
#define MSR_IA32_UCODE_REV      0x08b
#define MSR_IA32_MTRRCAP        0x0fe
#define MSR_IA32_MISC_ENABLE    0x1a0
#define MSR_IA32_MTRR_DEF_TYPE  0x2ff
#define MSR_KERNEL_GS_BASE      0xc0000102
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_SFMASK              0xc0000084
#define MSR_TSC_AUX             0xc0000103
#define MISC_ENABLE_FAST_STRINGS (1ull << 0)
#define MISC_ENABLE_NO_BTS      (1ull << 11)
#define MISC_ENABLE_NO_PEBS     (1ull << 12)
#define EFER_WRITABLE           (EFER_SCE | EFER_LME | EFER_NXE)

/* Pass-through MSRs: guest state in the VMCS (FS/GS base, SYSENTER) or
 * switched by vcpu_load/vcpu_put (the SYSCALL MSRs, KERNEL_GS_BASE, TSC_AUX). */
static const uint32_t passthrough[] = {
    MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
    MSR_TSC_AUX, MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
};

void msr_bitmap_init(uint64_t *bitmap)
{
    /* SDM Vol. 3C 25.6.9: read-low, read-high, write-low, write-high, 1 KiB each. */
    uint8_t *b = (uint8_t *)bitmap;
    memset(b, 0xff, 4096);
    for (unsigned i = 0; i < sizeof(passthrough) / sizeof(passthrough[0]); i++) {
        uint32_t msr = passthrough[i];
        unsigned offset = msr >= 0xc0000000 ? 1024 : 0;
        unsigned bit = msr & 0x1fff;
        b[offset + bit / 8] &= (uint8_t)~(1u << (bit % 8));
        b[2048 + offset + bit / 8] &= (uint8_t)~(1u << (bit % 8));
    }
}

static bool read_msr(struct vcpu *vcpu, uint32_t msr, uint64_t *value)
{
    switch (msr) {
    case MSR_IA32_TSC: *value = rdtsc() + vmcs_read(TSC_OFFSET); return true;
    case MSR_IA32_FEATURE_CONTROL: *value = FEATURE_CONTROL_LOCKED; return true; /* VMX off */
    case MSR_IA32_UCODE_REV: *value = 0; return true;
    case MSR_IA32_MTRRCAP: *value = 0; return true;     /* no MTRRs to program */
    case MSR_IA32_MTRR_DEF_TYPE: *value = vcpu->mtrr_def_type; return true;
    case MSR_IA32_MISC_ENABLE:
        *value = MISC_ENABLE_FAST_STRINGS | MISC_ENABLE_NO_BTS | MISC_ENABLE_NO_PEBS;
        return true;
    case MSR_IA32_EFER: *value = vmcs_read(GUEST_IA32_EFER); return true;
    case MSR_IA32_PAT: *value = vcpu->pat; return true;
    default: {
        bool handled;
        bool ok = apic_msr_read(vcpu, msr, value, &handled);
        return handled && ok;
    }
    }
}

static bool write_efer(uint64_t value)
{
    if (value & ~(EFER_WRITABLE | EFER_LMA))
        return false;
    uint64_t old = vmcs_read(GUEST_IA32_EFER);
    /* LME may not change while paging is on (SDM Vol. 3A 10.8.5); LMA is
     * the CPU's to set. */
    if ((value ^ old) & EFER_LME && guest_cr0() & CR0_PG)
        return false;
    vmcs_write(GUEST_IA32_EFER, (value & EFER_WRITABLE) | (old & EFER_LMA));
    return true;
}

static bool write_msr(struct vcpu *vcpu, uint32_t msr, uint64_t value)
{
    switch (msr) {
    case MSR_IA32_TSC:
        vcpu->tsc_offset = value - rdtsc();
        vmcs_write(TSC_OFFSET, vcpu->tsc_offset);
        return true;
    case MSR_IA32_MTRR_DEF_TYPE: vcpu->mtrr_def_type = value; return true;
    case MSR_IA32_UCODE_REV:
    case MSR_IA32_MISC_ENABLE:
        return true;
    case MSR_IA32_EFER: return write_efer(value);
    case MSR_IA32_PAT:
        for (int i = 0; i < 8; i++) {
            uint8_t type = value >> (8 * i) & 0xff;
            if (type == 2 || type == 3 || type > 7)     /* reserved memory types */
                return false;
        }
        vcpu->pat = value;
        if (vmcs_config.ctl[VMX_CTL_ENTRY] & ENTRY_LOAD_PAT)    /* else it cannot take effect */
            vmcs_write(GUEST_IA32_PAT, value);
        return true;
    default: {
        bool handled;
        bool ok = apic_msr_write(vcpu, msr, value, &handled);
        return handled && ok;
    }
    }
}

enum exit_action handle_rdmsr(struct vcpu *vcpu, const struct vm_exit *exit)
{
    (void)exit;
    uint64_t value;
    if (!read_msr(vcpu, (uint32_t)vcpu->regs.rcx, &value)) {
        inject_exception(vcpu, VECTOR_GP, true, 0);
        return EXIT_RESUME;
    }
    vcpu->regs.rax = (uint32_t)value;
    vcpu->regs.rdx = value >> 32;
    skip_instruction(vcpu);
    return EXIT_RESUME;
}

enum exit_action handle_wrmsr(struct vcpu *vcpu, const struct vm_exit *exit)
{
    (void)exit;
    uint64_t value = (vcpu->regs.rdx << 32) | (uint32_t)vcpu->regs.rax;
    if (!write_msr(vcpu, (uint32_t)vcpu->regs.rcx, value)) {
        inject_exception(vcpu, VECTOR_GP, true, 0);
        return EXIT_RESUME;
    }
    skip_instruction(vcpu);
    return EXIT_RESUME;
}

void vcpu_msrs_load(const struct vcpu *v)
{
    wrmsr(MSR_KERNEL_GS_BASE, v->msr_kernel_gs_base);
    wrmsr(MSR_STAR, v->msr_star);
    wrmsr(MSR_LSTAR, v->msr_lstar);
    wrmsr(MSR_CSTAR, v->msr_cstar);
    wrmsr(MSR_SFMASK, v->msr_sfmask);
    if (vmcs_config.ctl[VMX_CTL_PROC2] & PROC2_ENABLE_RDTSCP)
        wrmsr(MSR_TSC_AUX, v->msr_tsc_aux);
}

void vcpu_msrs_save(struct vcpu *v)
{
    v->msr_kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
    v->msr_star = rdmsr(MSR_STAR);
    v->msr_lstar = rdmsr(MSR_LSTAR);
    v->msr_cstar = rdmsr(MSR_CSTAR);
    v->msr_sfmask = rdmsr(MSR_SFMASK);
    if (vmcs_config.ctl[VMX_CTL_PROC2] & PROC2_ENABLE_RDTSCP)
        v->msr_tsc_aux = rdmsr(MSR_TSC_AUX);
}
