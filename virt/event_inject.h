#ifndef VIRT_EVENT_INJECT_H
#define VIRT_EVENT_INJECT_H
/* Event injection on the next VM entry (SDM Vol. 3C 27.6 "Event Injection"). */
#include <stdint.h>
#include <stdbool.h>

struct vcpu;

#define VECTOR_UD 6
#define VECTOR_GP 13

/* A hardware exception; `has_error_code` for #DF, #TS, #NP, #SS, #GP, #PF, #AC. */
void inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error_code, uint32_t error_code);
/* After an exit: puts back an event whose delivery the exit interrupted. */
void reinject_interrupted_event(struct vcpu *vcpu);
/* Before an entry: injects the virtual APIC's highest deliverable interrupt
 * if the guest can take it now, else turns on interrupt-window exiting. */
void inject_pending_interrupt(struct vcpu *vcpu);
#endif
