/* The MSRs of a vCPU (virt/vcpu_msrs.h): those the guest uses without
 * exits (the MSR bitmap's pass-through list, switched with the vCPU where
 * no VMCS field holds them) and those emulated here. */
#include "virt/vcpu_msrs.h"
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
#define MISC_ENABLE_FAST_STRINGS (1ull << 0)
#define MISC_ENABLE_NO_BTS      (1ull << 11)
#define MISC_ENABLE_NO_PEBS     (1ull << 12)
#define EFER_WRITABLE           (VCPU_EFER_BITS & ~EFER_LMA)

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

/* The MSRs whose state is a guest-state field of the VMCS (SDM Vol. 3C
 * 25.4.2), or 0. */
static enum vmcs_field vmcs_msr_field(uint32_t msr)
{
    switch (msr) {
    case MSR_IA32_SYSENTER_CS: return GUEST_SYSENTER_CS;
    case MSR_IA32_SYSENTER_ESP: return GUEST_SYSENTER_ESP;
    case MSR_IA32_SYSENTER_EIP: return GUEST_SYSENTER_EIP;
    case MSR_FS_BASE: return GUEST_FS_BASE;
    case MSR_GS_BASE: return GUEST_GS_BASE;
    default: return 0;
    }
}

/* The pass-through MSRs vcpu_msrs_load puts in the processor while the
 * vCPU runs: read and written there. */
static bool switched_msr(uint32_t msr)
{
    switch (msr) {
    case MSR_KERNEL_GS_BASE: case MSR_STAR: case MSR_LSTAR: case MSR_CSTAR: case MSR_SFMASK:
        return true;
    case MSR_TSC_AUX:
        return vmcs_config.ctl[VMX_CTL_PROC2] & PROC2_ENABLE_RDTSCP;
    default:
        return false;
    }
}

bool vcpu_read_msr(struct vcpu *v, uint32_t msr, uint64_t *value, bool *handled)
{
    *handled = true;
    enum vmcs_field field = vmcs_msr_field(msr);
    if (field) {
        *value = vmcs_read(field);
        return true;
    }
    if (switched_msr(msr)) {
        *value = rdmsr(msr);
        return true;
    }
    switch (msr) {
    case MSR_IA32_TSC: *value = rdtsc() + vmcs_read(TSC_OFFSET); return true;
    case MSR_IA32_FEATURE_CONTROL: *value = FEATURE_CONTROL_LOCKED; return true; /* VMX off */
    case MSR_IA32_UCODE_REV: *value = 0; return true;
    case MSR_IA32_MTRRCAP: *value = 0; return true;     /* no MTRRs to program */
    case MSR_IA32_MTRR_DEF_TYPE: *value = v->mtrr_def_type; return true;
    case MSR_IA32_MISC_ENABLE:
        *value = MISC_ENABLE_FAST_STRINGS | MISC_ENABLE_NO_BTS | MISC_ENABLE_NO_PEBS;
        return true;
    case MSR_IA32_EFER: *value = vmcs_read(GUEST_IA32_EFER); return true;
    case MSR_IA32_PAT: *value = v->pat; return true;
    default:
        *handled = false;
        return false;
    }
}

static bool write_efer(uint64_t value)
{
    if (value & ~VCPU_EFER_BITS)
        return false;
    uint64_t old = vmcs_read(GUEST_IA32_EFER);
    /* LME may not change while paging is on (SDM Vol. 3A 10.8.5); LMA is
     * the CPU's to set. */
    if ((value ^ old) & EFER_LME && guest_cr0() & CR0_PG)
        return false;
    vmcs_write(GUEST_IA32_EFER, (value & EFER_WRITABLE) | (old & EFER_LMA));
    return true;
}

bool vcpu_pat_valid(uint64_t value)
{
    for (int i = 0; i < 8; i++) {
        uint8_t type = value >> (8 * i) & 0xff;
        if (type == 2 || type == 3 || type > 7)     /* reserved memory types */
            return false;
    }
    return true;
}

/* An address the processor accepts in these MSRs (SDM Vol. 3A 4.1.1: a
 * non-canonical one raises #GP). */
static bool canonical(uint64_t address)
{
    return (uint64_t)((int64_t)(address << 16) >> 16) == address;
}

bool vcpu_write_msr(struct vcpu *v, uint32_t msr, uint64_t value, bool *handled)
{
    *handled = true;
    enum vmcs_field field = vmcs_msr_field(msr);
    if (field) {
        if (msr != MSR_IA32_SYSENTER_CS && !canonical(value))
            return false;
        vmcs_write(field, value);
        return true;
    }
    if (switched_msr(msr)) {
        if (msr == MSR_TSC_AUX ? value >> 32 : (msr != MSR_STAR && msr != MSR_SFMASK &&
                                                !canonical(value)))
            return false;
        wrmsr(msr, value);
        return true;
    }
    switch (msr) {
    case MSR_IA32_TSC:
        v->tsc_offset = value - rdtsc();
        vmcs_write(TSC_OFFSET, v->tsc_offset);
        return true;
    case MSR_IA32_MTRR_DEF_TYPE: v->mtrr_def_type = value; return true;
    case MSR_IA32_UCODE_REV:
    case MSR_IA32_MISC_ENABLE:
        return true;
    case MSR_IA32_EFER: return write_efer(value);
    case MSR_IA32_PAT:
        if (!vcpu_pat_valid(value))
            return false;
        v->pat = value;
        if (vmcs_config.ctl[VMX_CTL_ENTRY] & ENTRY_LOAD_PAT)    /* else it cannot take effect */
            vmcs_write(GUEST_IA32_PAT, value);
        return true;
    default:
        *handled = false;
        return false;
    }
}
