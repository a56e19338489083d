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
#define MSR_IA32_TSC_ADJUST     0x03b
#define MSR_IA32_UCODE_REV      0x08b
#define MSR_IA32_MTRRCAP        0x0fe
#define MSR_IA32_MCG_CAP        0x179
#define MSR_IA32_MCG_STATUS     0x17a
#define MSR_IA32_MCG_CTL        0x17b
#define MSR_IA32_MISC_ENABLE    0x1a0
/* IA32_DEBUGCTL (SDM Vol. 3B 18.4.1): LBR and BTF are the bits a guest may
 * set. The VMCS loads and saves the register with the guest's state
 * (ENTRY_LOAD_DEBUG_CONTROLS, EXIT_SAVE_DEBUG_CONTROLS, both required), so
 * BTF takes effect as it is; LBR is accepted and dropped, as KVM does
 * without LBR virtualisation (no last-branch records are offered); any
 * other bit is #GP. Reads run without an exit while the VM's values are 0:
 * the processor has the guest's value loaded, and Linux KVM as L1 reads it
 * before every entry. The first WRMSR that keeps BTF makes the VM's reads
 * exit from then on, for Bochs: it keeps no IA32_DEBUGCTL (its VM entry
 * reads the field and drops it, its RDMSR returns 0), so a read let
 * through is right there only while the value is 0. */
#define DEBUGCTL_LBR            (1ull << 0)
#define DEBUGCTL_BTF            (1ull << 1)
#define MSR_IA32_MTRR_DEF_TYPE  0x2ff
#define MSR_IA32_MC0_CTL        0x400       /* bank i: 0x400 + 4i: CTL, STATUS, ADDR, MISC */
#define MCG_CTL_P               (1ull << 8)
#define MCI_STATUS              1
/* IA32_MISC_ENABLE (SDM Vol. 4 Table 2-2): fast strings, automatic thermal
 * control, enhanced SpeedStep, MONITOR FSM, limit CPUID maxval, xTPR
 * disable and XD disable are the guest's to set; BTS and PEBS unavailable
 * (bits 11, 12) are read-only 1; the others are reserved (#GP). KVM keeps
 * the writable bits per vCPU the same way. */
#define MISC_ENABLE_FAST_STRINGS (1ull << 0)
#define MISC_ENABLE_NO_BTS      (1ull << 11)
#define MISC_ENABLE_NO_PEBS     (1ull << 12)
#define MISC_ENABLE_READ_ONLY   (MISC_ENABLE_NO_BTS | MISC_ENABLE_NO_PEBS)
#define MISC_ENABLE_WRITABLE    (MISC_ENABLE_FAST_STRINGS | 1ull << 3 | 1ull << 16 | \
                                 1ull << 18 | 1ull << 22 | 1ull << 23 | 1ull << 34)
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

/* The byte of `msr`'s read (or write) bit, and the bit's mask (SDM Vol.
 * 3C 25.6.9: read-low, read-high, write-low, write-high, 1 KiB each). */
static uint8_t *bitmap_byte(uint64_t *bitmap, uint32_t msr, bool write, uint8_t *mask)
{
    unsigned offset = (write ? 2048 : 0) + (msr >= 0xc0000000 ? 1024 : 0);
    unsigned bit = msr & 0x1fff;
    *mask = (uint8_t)(1u << (bit % 8));
    return (uint8_t *)bitmap + offset + bit / 8;
}

void msr_bitmap_open(uint64_t *bitmap, uint32_t msr, bool read, bool write)
{
    uint8_t mask;
    if (read)
        *bitmap_byte(bitmap, msr, false, &mask) &= (uint8_t)~mask;
    if (write)
        *bitmap_byte(bitmap, msr, true, &mask) &= (uint8_t)~mask;
}

void msr_bitmap_close_read(uint64_t *bitmap, uint32_t msr)
{
    uint8_t mask;
    *bitmap_byte(bitmap, msr, false, &mask) |= mask;
}

void msr_bitmap_init(uint64_t *bitmap)
{
    memset(bitmap, 0xff, 4096);
    for (unsigned i = 0; i < sizeof(passthrough) / sizeof(passthrough[0]); i++)
        msr_bitmap_open(bitmap, passthrough[i], true, true);
    msr_bitmap_open(bitmap, MSR_IA32_DEBUGCTL, true, false);
}

/* A vCPU of the VM keeps a nonzero IA32_DEBUGCTL: its reads exit (see
 * DEBUGCTL_LBR above), in every MSR bitmap the VM's vCPUs use. */
static void debugctl_reads_exit(struct vm *vm)
{
    msr_bitmap_close_read(vm->msr_bitmap, MSR_IA32_DEBUGCTL);
    __atomic_fetch_add(&vm->msr_bitmap_changes, 1, __ATOMIC_RELEASE);
    if (vm->x2apic_msr_bitmap)
        msr_bitmap_close_read(vm->x2apic_msr_bitmap, MSR_IA32_DEBUGCTL);
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

void vcpu_msrs_reset(struct vcpu *v)
{
    struct vcpu_msr_state *m = &v->msrs;
    *m = (struct vcpu_msr_state){
        .misc_enable = MISC_ENABLE_FAST_STRINGS | MISC_ENABLE_READ_ONLY,
        .mcg_ctl = ~0ull,       /* every bank's errors reported */
    };
    for (unsigned i = 0; i < VCPU_MCE_BANKS; i++)
        m->mc_bank[i][0] = ~0ull;
}

/* The machine-check bank register `msr` is, or NULL (SDM Vol. 3B 16.3.2). */
static uint64_t *mc_bank_register(struct vcpu *v, uint32_t msr)
{
    if (msr < MSR_IA32_MC0_CTL || msr >= MSR_IA32_MC0_CTL + 4 * VCPU_MCE_BANKS)
        return NULL;
    unsigned n = msr - MSR_IA32_MC0_CTL;
    return &v->msrs.mc_bank[n / 4][n % 4];
}

/* A write to a machine-check bank register: CTL takes all zeros or all
 * ones (KVM allows no other value, where the SDM leaves the bits to the
 * model), STATUS only 0 (software clears it; a non-zero write is #GP
 * unless IA32_MCG_CAP offered it, SDM Vol. 3B 16.3.2.2), ADDR and MISC
 * anything. */
static bool write_mc_bank(uint64_t *reg, uint32_t msr, uint64_t value)
{
    unsigned which = (msr - MSR_IA32_MC0_CTL) % 4;
    if (which == 0 && value != 0 && value != ~0ull)
        return false;
    if (which == MCI_STATUS && value != 0)
        return false;
    *reg = value;
    return true;
}

/* IA32_TSC and IA32_TSC_ADJUST move together (SDM Vol. 3B 18.17.3): a write
 * to either changes the TSC offset, and what a write to IA32_TSC added is
 * added to IA32_TSC_ADJUST too. */
static void set_tsc_offset(struct vcpu *v, uint64_t offset)
{
    v->msrs.tsc_adjust += offset - v->tsc_offset;
    v->tsc_offset = offset;
    vmcs_write(TSC_OFFSET, offset);
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
    case MSR_IA32_MISC_ENABLE: *value = v->msrs.misc_enable; return true;
    case MSR_IA32_TSC_ADJUST: *value = v->msrs.tsc_adjust; return true;
    case MSR_IA32_MCG_CAP: *value = MCG_CTL_P | VCPU_MCE_BANKS; return true;
    case MSR_IA32_MCG_STATUS: *value = v->msrs.mcg_status; return true;
    case MSR_IA32_MCG_CTL: *value = v->msrs.mcg_ctl; return true;
    case MSR_IA32_EFER: *value = vmcs_read(GUEST_IA32_EFER); return true;
    case MSR_IA32_DEBUGCTL: *value = vmcs_read(GUEST_IA32_DEBUGCTL); return true;
    case MSR_IA32_PAT: *value = v->pat; return true;
    default: {
        const uint64_t *bank = mc_bank_register(v, msr);
        if (bank) {
            *value = *bank;
            return true;
        }
        *handled = false;
        return false;
    }
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
    case MSR_IA32_TSC: set_tsc_offset(v, value - rdtsc()); return true;
    case MSR_IA32_TSC_ADJUST:
        set_tsc_offset(v, v->tsc_offset + (value - v->msrs.tsc_adjust));
        return true;
    case MSR_IA32_MTRR_DEF_TYPE: v->mtrr_def_type = value; return true;
    case MSR_IA32_UCODE_REV: return true;
    case MSR_IA32_MISC_ENABLE:
        if (value & ~(MISC_ENABLE_WRITABLE | MISC_ENABLE_READ_ONLY))
            return false;
        v->msrs.misc_enable = (value & MISC_ENABLE_WRITABLE) | MISC_ENABLE_READ_ONLY;
        return true;
    case MSR_IA32_MCG_CAP: return false;       /* read-only */
    case MSR_IA32_MCG_STATUS: v->msrs.mcg_status = value; return true;
    case MSR_IA32_MCG_CTL:
        if (value != 0 && value != ~0ull)
            return false;
        v->msrs.mcg_ctl = value;
        return true;
    case MSR_IA32_EFER: return write_efer(value);
    case MSR_IA32_DEBUGCTL:
        if (value & ~(DEBUGCTL_LBR | DEBUGCTL_BTF))
            return false;
        vmcs_write(GUEST_IA32_DEBUGCTL, value & DEBUGCTL_BTF);
        if (value & DEBUGCTL_BTF)
            debugctl_reads_exit(v->vm);
        return true;
    case MSR_IA32_PAT:
        if (!vcpu_pat_valid(value))
            return false;
        v->pat = value;
        if (vmcs_config.ctl[VMX_CTL_ENTRY] & ENTRY_LOAD_PAT)    /* else it cannot take effect */
            vmcs_write(GUEST_IA32_PAT, value);
        return true;
    default: {
        uint64_t *bank = mc_bank_register(v, msr);
        if (bank)
            return write_mc_bank(bank, msr, value);
        *handled = false;
        return false;
    }
    }
}
