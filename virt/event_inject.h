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
#define INTR_TYPE_HW_EXCEPTION    (3u << 8)

#define VECTOR_UD 6
#define VECTOR_GP 13

/* A hardware exception; `has_error_code` for #DF, #TS, #NP, #SS, #GP, #PF, #AC. */
void inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error_code, uint32_t error_code);
/* After an exit: puts back an event whose delivery the exit interrupted. */
void reinject_interrupted_event(struct vcpu *vcpu);
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

/* Interrupt-window exiting on or off: an exit as soon as the guest can take
 * an interrupt (SDM Vol. 3C 25.6.2). */
static inline void set_interrupt_window(struct vcpu *v, bool on)
{
    if (v->window_exiting == on)
        return;
    v->window_exiting = on;
    if (on)
        vmcs_set_bits(CPU_BASED_VM_EXEC_CONTROL, PROC_INTERRUPT_WINDOW_EXITING);
    else
        vmcs_clear_bits(CPU_BASED_VM_EXEC_CONTROL, PROC_INTERRUPT_WINDOW_EXITING);
}
#endif
