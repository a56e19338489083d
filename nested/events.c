/* Events between the levels (nested/events.h). */
#include "nested/events.h"
#include "nested/nested.h"
#include "nested/switch.h"
#include "dev/irq.h"
#include "virt/event_inject.h"
#include "vmx/exit_reasons.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_controls.h"

#define INTR_TYPE_EXTERNAL_INFO 0x80000000u     /* valid, type 0 */
#define NMI_INFO (INTR_INFO_VALID | INTR_TYPE_NMI | VECTOR_NMI)

static uint32_t control12(const struct vcpu *v, enum vmcs_field field)
{
    return (uint32_t)vmcs12_get(v->nested->vmcs12, field);
}

/* With L1's "NMI exiting", a pending NMI exits to L1 at the first point L2
 * could take one (KVM's vmx_nmi_blocked: no event being injected, no STI,
 * MOV-SS or NMI blocking in L2), with exit reason 0 and the NMI in the
 * interruption information (SDM Vol. 3C 26.2, 28.2.2); until then vmcs02
 * exits at L2's NMI window. The exit counts as the NMI's delivery: L1 has
 * NMIs blocked after it, until its IRET (as KVM and Bochs do). True if it
 * exited. */
static bool nmi_exits_to_l1(struct vcpu *v)
{
    if (!take_pending_nmi(v))
        return false;
    nested_vm_exit(v, EXIT_REASON_EXCEPTION_NMI, NESTED_EXIT_INFO_SYNTHETIC, 0, NMI_INFO);
    vmcs_set_bits(GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_NMI);   /* vmcs01's */
    v->vmcs->nmi_blocking_possible = true;
    return true;
}

void nested_deliver_events(struct vcpu *v)
{
    uint32_t pin12 = control12(v, PIN_BASED_VM_EXEC_CONTROL);
    bool nmis_to_l2 = !(pin12 & PIN_NMI_EXITING);
    if (!nmis_to_l2 && nmi_exits_to_l1(v))
        return;
    if (!(pin12 & PIN_EXTERNAL_INTERRUPT_EXITING)) {
        /* L1 lets its interrupts (and without NMI exiting its NMIs) reach
         * L2: delivered through L2's IDT, as the processor would (L0's own
         * windows on vmcs02; L1's interrupt-window exiting stays as L1 set
         * it). */
        if (nmis_to_l2)
            inject_pending_events(v);
        else
            inject_pending_interrupt(v);
        if (control12(v, CPU_BASED_VM_EXEC_CONTROL) & PROC_INTERRUPT_WINDOW_EXITING)
            loaded_vmcs_set_proc(v->vmcs, v->vmcs->controls.proc | PROC_INTERRUPT_WINDOW_EXITING);
        return;
    }
    /* An interrupt that exits to L1 goes before an NMI for L2, which L2
     * then takes when L1 resumes it (two events at once: either order is
     * one the processor could have seen). */
    if (!vcpu_interrupt_waiting(v)) {
        if (nmis_to_l2)
            (void)inject_pending_nmi(v);
        return;
    }
    /* An event being injected into L2 (L1's, or one L0 put back) goes in
     * first, as on the processor: the VM entry delivers it, and only then
     * is the interrupt recognized (SDM Vol. 3C 27.6; a VMX-preemption
     * timer of 0 exits after that injection, before L2's first
     * instruction). So L2 is entered once more, to exit at once, and the
     * exit to L1 follows without the event in its IDT-vectoring
     * information, which the processor never shows for an external
     * interrupt (Linux KVM as L1 stops its guest with an internal error
     * on such an exit). */
    if (vmcs_read(VM_ENTRY_INTR_INFO) & INTR_INFO_VALID) {
        v->exit_after_entry = true;
        vcpu_request(v, REQ_EVENT);
        return;
    }
    uint32_t info = 0;
    if (control12(v, VM_EXIT_CONTROLS) & EXIT_ACK_INTERRUPT_ON_EXIT) {
        int vector = vcpu_acknowledge_interrupt(v);
        if (vector < 0)
            return;
        info = INTR_TYPE_EXTERNAL_INFO | (uint32_t)vector;
    }
    /* Without the acknowledgement the interrupt stays pending in L1's
     * APIC; L1 takes it once it enables interrupts (SDM Vol. 3C 28.2.2). */
    nested_vm_exit(v, EXIT_REASON_EXTERNAL_INTERRUPT, NESTED_EXIT_INFO_SYNTHETIC, 0, info);
}

bool nested_l2_halts(struct vcpu *v)
{
    v->nested->l2_halted = true;
    return control12(v, PIN_BASED_VM_EXEC_CONTROL) & PIN_EXTERNAL_INTERRUPT_EXITING;
}

uint64_t nested_timer_check(struct vcpu *v, uint64_t now)
{
    uint64_t deadline = v->nested->timer_deadline;
    if (!deadline)
        return 0;
    if ((int64_t)(now - deadline) < 0)
        return deadline;
    nested_vm_exit(v, EXIT_REASON_PREEMPTION_TIMER, NESTED_EXIT_INFO_SYNTHETIC, 0, 0);
    return 0;
}

bool nested_init_signal(struct vcpu *v)
{
    if (!v->nested)
        return false;
    if (v->in_l2 && __atomic_exchange_n(&v->init_pending, false, __ATOMIC_SEQ_CST))
        nested_vm_exit(v, EXIT_REASON_INIT_SIGNAL, NESTED_EXIT_INFO_SYNTHETIC, 0, 0);
    /* In VMX root operation INIT is blocked; a start-up IPI only reaches a
     * processor waiting for one, which L1 never is in VMX operation. */
    __atomic_store_n(&v->sipi_vector, -1, __ATOMIC_SEQ_CST);
    return true;
}
