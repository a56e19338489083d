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
/* Whether the guest can take an external interrupt at the next entry. */
bool interrupt_window_open(void);
/* Delivers external interrupt `vector` at the next entry (the window is open). */
void inject_external_interrupt(struct vcpu *vcpu, uint8_t vector);
/* Interrupt-window exiting on or off: an exit as soon as the guest can take
 * an interrupt (SDM Vol. 3C 25.6.2). */
void set_interrupt_window(struct vcpu *vcpu, bool on);
#endif
