/* RDMSR/WRMSR that exit: the MSR bitmap lets the guest use the MSRs whose
 * state the VMCS or the vCPU switch keeps per guest; the others a guest
 * needs are the VMX capability MSRs (nested/nested.h), the vCPU's own
 * (virt/vcpu_msrs.h) and its APIC's (dev/apic_access.h), and any other MSR
 * raises #GP as on a CPU without it. */
#include "exits/exits.h"
#include "dev/apic_access.h"
#include "virt/event_inject.h"
#include "virt/vcpu_msrs.h"
#include "nested/nested.h"
#include "virt/vm.h"
#include "arch/cpu.h"
#include "arch/msr.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_cpu.h"
#include "lib/string.h"

/* The APIC's MSRs first: IPIs and EOIs are the frequent ones. */
static bool read_msr(struct vcpu *vcpu, uint32_t msr, uint64_t *value)
{
    bool handled;
    bool ok = apic_msr_read(vcpu, msr, value, &handled);
    if (handled)
        return ok;
    ok = nested_read_msr(vcpu, msr, value, &handled);
    if (handled)
        return ok;
    ok = vcpu_read_msr(vcpu, msr, value, &handled);
    return handled && ok;
}

static bool write_msr(struct vcpu *vcpu, uint32_t msr, uint64_t value)
{
    bool handled;
    bool ok = apic_msr_write(vcpu, msr, value, &handled);
    if (handled)
        return ok;
    ok = vcpu_write_msr(vcpu, msr, value, &handled);
    return handled && ok;
}

enum exit_action handle_rdmsr(struct vcpu *vcpu, struct vm_exit exit)
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

static void emulate_wrmsr(struct vcpu *vcpu, uint32_t msr)
{
    uint64_t value = (vcpu->regs.rdx << 32) | (uint32_t)vcpu->regs.rax;
    if (write_msr(vcpu, msr, value))
        skip_instruction(vcpu);
    else
        inject_exception(vcpu, VECTOR_GP, true, 0);
}

enum exit_action handle_wrmsr(struct vcpu *vcpu, struct vm_exit exit)
{
    (void)exit;
    emulate_wrmsr(vcpu, (uint32_t)vcpu->regs.rcx);
    return EXIT_RESUME;
}

/* The WRMSRs to the APIC, the hot ones of a guest with an x2APIC: arming
 * its timer, IPIs, EOIs where APIC virtualization does not take them (KVM's
 * fastpath has the first two). None needs interrupts on (an IPI's target is
 * told by a request and a host IPI), and what they ask of the run loop
 * (REQ_TIMER, REQ_EVENT) it sees before the entry. */
bool handle_wrmsr_fastpath(struct vcpu *vcpu)
{
    uint32_t msr = (uint32_t)vcpu->regs.rcx;
    if (msr != MSR_IA32_TSC_DEADLINE && (msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST))
        return false;
    emulate_wrmsr(vcpu, msr);
    return true;
}
