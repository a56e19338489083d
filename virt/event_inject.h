#ifndef VIRT_EVENT_INJECT_H
#define VIRT_EVENT_INJECT_H
/* Event injection on the next VM entry (SDM Vol. 3C 27.6 "Event Injection"). */
#include <stdint.h>
#include <stdbool.h>
#include "virt/vm.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_controls.h"
#include "arch/cpu.h"

/* VM-entry interruption-information field and the IDT-vectoring
 * information field share this layout (SDM Vol. 3C 25.8.3, 25.9.3). */
#define INTR_INFO_VALID           (1u << 31)
#define INTR_INFO_DELIVER_ERROR   (1u << 11)
#define INTR_INFO_TYPE(info)      ((info) >> 8 & 7)
#define INTR_TYPE_EXTERNAL        (0u << 8)
#define INTR_TYPE_NMI             (2u << 8)
#define INTR_TYPE_HW_EXCEPTION    (3u << 8)
#define VECTOR_NMI 2

#define VECTOR_UD 6
#define VECTOR_GP 13

/* A hardware exception; `has_error_code` for #DF, #TS, #NP, #SS, #GP, #PF, #AC. */
void inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error_code, uint32_t error_code);
/* After an exit: puts back an event whose delivery the exit interrupted. */
void reinject_interrupted_event(struct vcpu *vcpu);

/* Whether guests get NMIs: they need "virtual NMIs", which blocks a guest's
 * NMIs from the injection of one until its IRET, and NMI-window exiting
 * (SDM Vol. 3C 25.3, 25.6.2, 26.2), which every VT-x CPU since 2008 has. Without
 * them NMIs are dropped and counted. */
bool nmis_virtualised(void);
/* The vCPU's pending NMI, if the guest can take one at the next entry (no
 * other event going in, no STI, MOV-SS or virtual-NMI blocking): consumed,
 * true. One it cannot take yet turns on NMI-window exiting; without one
 * the window is off. The caller delivers what it took. */
bool take_pending_nmi(struct vcpu *vcpu);
/* NMIs go before interrupts (SDM Vol. 3A 7.9): injects the vCPU's pending
 * NMI if the guest can take one at the next entry, else turns on NMI-window
 * exiting; true if it injected one. */
bool inject_pending_nmi(struct vcpu *vcpu);
/* After an EPT violation (`qualification`) that L0 resolves and the guest
 * then retries: an IRET that faulted had unblocked NMIs, and must find them
 * blocked again (SDM Vol. 3C 28.2.3, "NMI unblocking due to IRET"). */
void restore_nmi_blocking(struct vcpu *vcpu, uint64_t qualification);

/* The vCPU's VMCS stops being current on this CPU (vcpu_put, a switch
 * between vmcs01 and vmcs02): if it shows no virtual-NMI blocking, the
 * guest has IRETed the NMIs L0 gave it. Its blocking cannot be spoiled
 * while it stays current (see nmi_blocked, event_inject.c), only after.
 * Inline: every switch of vCPU takes it, and it rarely has work. */
static inline void nmi_note_vmcs_leaving(struct vcpu *v)
{
    if (__builtin_expect(v->vmcs->nmi_blocking_possible, 0) &&
        !(vmcs_read(GUEST_INTERRUPTIBILITY_INFO) & INTERRUPTIBILITY_NMI))
        v->vmcs->nmi_blocking_possible = false;
}

/* Inline below: every interrupt delivered (dev/irq.c) takes these. */

/* Whether the guest can take an external interrupt at the next entry: only
 * with RFLAGS.IF set, outside STI and MOV-SS shadows, and with no other
 * event being injected (SDM Vol. 3A 7.8.1, Vol. 3C 27.6). */
static inline bool interrupt_window_open(void)
{
    return !(vmcs_read(VM_ENTRY_INTR_INFO) & INTR_INFO_VALID) &&
           (vmcs_read(GUEST_RFLAGS) & RFLAGS_IF) &&
           !(vmcs_read(GUEST_INTERRUPTIBILITY_INFO) & INTERRUPTIBILITY_STI_MOV_SS);
}

/* Delivers external interrupt `vector` at the next entry (the window is open). */
static inline void inject_external_interrupt(struct vcpu *v, uint8_t vector)
{
    vmcs_write(VM_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXTERNAL | vector);
    v->stats.interrupts_injected++;
}

/* An event window's exiting control (`control`, a primary processor-based
 * one) on or off, written only when it changes (`*exiting` says how it is). */
static inline void set_window_exiting(struct vcpu *v, bool *exiting, uint32_t control, bool on)
{
    if (*exiting == on)
        return;
    *exiting = on;
    uint32_t proc = v->vmcs->controls.proc;
    loaded_vmcs_set_proc(v->vmcs, on ? proc | control : proc & ~control);
}

/* Interrupt-window exiting on or off: an exit as soon as the guest can take
 * an interrupt (SDM Vol. 3C 25.6.2). */
static inline void set_interrupt_window(struct vcpu *v, bool on)
{
    set_window_exiting(v, &v->window_exiting, PROC_INTERRUPT_WINDOW_EXITING, on);
}
#endif
