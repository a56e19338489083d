/* The MSRs a guest uses without exits: the MSR bitmap's pass-through list
 * and the switching, with the vCPU, of those no VMCS field holds. */
#include "virt/vcpu_msrs.h"
#include "virt/vm.h"
#include "arch/cpu.h"
#include "arch/msr.h"
#include "vmx/vmx_cpu.h"
#include "lib/string.h"

#define MSR_KERNEL_GS_BASE      0xc0000102
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_SFMASK              0xc0000084
#define MSR_TSC_AUX             0xc0000103

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
