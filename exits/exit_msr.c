/* RDMSR/WRMSR: the MSR bitmap lets the guest use the MSRs whose state the
 * VMCS or the vCPU switch keeps per guest; the few others a guest needs are
 * emulated here, and any other MSR raises #GP as on a CPU without it. */
#include "exits/exits.h"
#include "dev/apic_access.h"
#include "virt/event_inject.h"
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
#define EFER_WRITABLE           (EFER_SCE | EFER_LME | EFER_NXE)

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
