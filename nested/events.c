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

static uint32_t control12(const struct vcpu *v, enum vmcs_field field)
{
    return (uint32_t)vmcs12_get(v->nested->vmcs12, field);
}

void nested_deliver_interrupts(struct vcpu *v)
{
    if (!(control12(v, PIN_BASED_VM_EXEC_CONTROL) & PIN_EXTERNAL_INTERRUPT_EXITING)) {
        /* L1 lets its interrupts reach L2: delivered through L2's IDT, as
         * the processor would (L0's own interrupt window on vmcs02; L1's
         * interrupt-window exiting stays as L1 set it). */
        inject_pending_interrupt(v);
        if (control12(v, CPU_BASED_VM_EXEC_CONTROL) & PROC_INTERRUPT_WINDOW_EXITING)
            vmcs_set_bits(CPU_BASED_VM_EXEC_CONTROL, PROC_INTERRUPT_WINDOW_EXITING);
        return;
    }
    if (!vcpu_interrupt_waiting(v))
        return;
    uint32_t info = 0;
    if (control12(v, VM_EXIT_CONTROLS) & EXIT_ACK_INTERRUPT_ON_EXIT) {
        int vector = vcpu_acknowledge_interrupt(v);
        if (vector < 0)
            return;
        info = INTR_TYPE_EXTERNAL_INFO | (uint32_t)vector;
    }
    /* Without the acknowledgement the interrupt stays pending in L1's
     * APIC; L1 takes it once it enables interrupts (SDM Vol. 3C 28.2.2). */
    nested_vm_exit(v, EXIT_REASON_EXTERNAL_INTERRUPT, true, 0, info);
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
    nested_vm_exit(v, EXIT_REASON_PREEMPTION_TIMER, true, 0, 0);
    return 0;
}

bool nested_init_signal(struct vcpu *v)
{
    if (!v->nested)
        return false;
    if (v->in_l2 && __atomic_exchange_n(&v->init_pending, false, __ATOMIC_SEQ_CST))
        nested_vm_exit(v, EXIT_REASON_INIT_SIGNAL, true, 0, 0);
    /* In VMX root operation INIT is blocked; a start-up IPI only reaches a
     * processor waiting for one, which L1 never is in VMX operation. */
    __atomic_store_n(&v->sipi_vector, -1, __ATOMIC_SEQ_CST);
    return true;
}
