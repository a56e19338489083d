#ifndef ARCH_LAPIC_H
#define ARCH_LAPIC_H
/* The host's local APIC, in xAPIC (MMIO) or x2APIC (MSR) mode, whichever
 * the firmware left enabled (SDM Vol. 3A ch. 13). */
#include <stdint.h>
#include "arch/apic_regs.h"

#define ICR_FIXED         0x000
#define ICR_NMI           0x400
#define ICR_INIT          0x500
#define ICR_STARTUP       0x600
#define ICR_LEVEL_ASSERT  0x4000
#define ICR_ALL_BUT_SELF  0xc0000
/* x2APIC mode's SELF IPI register: a write sends the vector to this APIC
 * (SDM Vol. 3A 13.12.11). */
#define X2APIC_MSR_SELF_IPI 0x83fu

/* Finds the APIC's mode (xAPIC or x2APIC, from IA32_APIC_BASE, enabling a
 * disabled APIC) and sets it up: TPR 0, software-enabled, timer ready. */
void lapic_init_cpu(void);
/* Register access in whichever mode lapic_init_cpu found. */
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t value);
uint32_t lapic_id(void);
void lapic_eoi(void);
/* Sends an IPI (ICR low bits: delivery mode, vector, shorthand) and waits
 * until the APIC has accepted it. */
void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low);
/* One timer interrupt (VECTOR_TIMER) at host TSC `deadline` or soon after:
 * TSC-deadline mode where the CPU has it, else one-shot mode with the
 * timer's rate measured against the TSC. Replaces any earlier arming. */
void lapic_timer_arm(uint64_t deadline);
#endif
