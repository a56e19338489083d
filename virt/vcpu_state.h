#ifndef VIRT_VCPU_STATE_H
#define VIRT_VCPU_STATE_H
/*
 * A vCPU's life as a schedulable entity (sched/sched.h): waking it for an
 * event, blocking it in HLT or while it waits for SIPI, stopping it for
 * good. This is the narrow interface through which devices reach vCPUs
 * (with vcpu_request, virt/vm.h): they make an event pending, then wake.
 */
#include <stdbool.h>
#include "sched/sched.h"
#include "virt/vm.h"

/* Where a vCPU's interrupt controllers say whether an interrupt waits for
 * it: the local APIC's deliverable vector or the 8259's INTR; from any
 * CPU, and (`interrupt_waiting_loaded`) the same asked on the vCPU's own
 * CPU with its VMCS current, which may answer from the VMCS. Registered
 * once at start-up by the devices (dev/irq.c), which sit above this core. */
void vcpu_set_interrupt_source(bool (*interrupt_waiting)(const struct vcpu *vcpu),
                               bool (*interrupt_waiting_loaded)(const struct vcpu *vcpu));
/* Something is pending for the vCPU (interrupt, INIT, SIPI; set before
 * calling): a blocked vCPU that it wakes becomes runnable, a running one
 * is made to exit so it looks before entering again. Any CPU may call. */
void vcpu_wake(struct vcpu *vcpu);
/* An NMI for the vCPU (an NMI IPI, LINT1, an I/O APIC NMI entry): latched
 * and the vCPU woken, even from HLT; false, and nothing happens, where the
 * CPU cannot give guests NMIs (nmis_virtualised, virt/event_inject.h).
 * Any CPU may call. */
bool vcpu_nmi(struct vcpu *vcpu);
/* The running vCPU blocks (HLT, or waiting for SIPI) unless an event that
 * wakes it is already there; true if it blocked. */
bool vcpu_block(struct vcpu *vcpu, enum vcpu_state blocked_in);
/* Whether an event that ends the vCPU's HLT is there (what wakes it from
 * VCPU_HALTED): for polling before it blocks (exits/exit_hlt.c), on the
 * vCPU's own CPU with its VMCS current. */
bool vcpu_halt_wake_pending(const struct vcpu *vcpu);
/* A blocked vCPU whose own timer fired becomes runnable, if it may take
 * the event (the caller made it pending); true if it woke. */
bool vcpu_unblock_for_timer(struct vcpu *vcpu);
/* A halted vCPU becomes runnable for an event that ends HLT whatever its
 * interrupt flag says (L1's VMX-preemption timer while L2 halts, which
 * exits to L1); true if it woke. */
bool vcpu_unblock_halted(struct vcpu *vcpu);
/* Marks the vCPU stopped for good and makes its CPU notice. */
void vcpu_stop(struct vcpu *vcpu);
/* A timer the vCPU stops or wakes for (the VM's PIT, for vCPU 0) moved
 * earlier, from another vCPU maybe: the CPU that runs it, or waits on it
 * while it halts, computes its stop time again. Any CPU may call. */
void vcpu_timer_changed(struct vcpu *vcpu);
/* What each vCPU state means to the scheduler (sched_entity_ops.state_class). */
extern const enum sched_state vcpu_state_class[];
#endif
