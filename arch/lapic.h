#ifndef ARCH_LAPIC_H
#define ARCH_LAPIC_H
/* The host's local APIC, in xAPIC (MMIO) or x2APIC (MSR) mode, whichever
 * the firmware left enabled (SDM Vol. 3A ch. 13). */
#include <stdint.h>

#define ICR_FIXED         0x000
#define ICR_NMI           0x400
#define ICR_INIT          0x500
#define ICR_STARTUP       0x600
#define ICR_LEVEL_ASSERT  0x4000
#define ICR_ALL_BUT_SELF  0xc0000

/* Register offsets (SDM Vol. 3A 11.4.1 Table 11-1); x2APIC MSR 0x800 + reg / 16. */
enum {
    LAPIC_ID = 0x20, LAPIC_VERSION = 0x30, LAPIC_TPR = 0x80, LAPIC_PPR = 0xa0, LAPIC_EOI = 0xb0,
    LAPIC_LDR = 0xd0, LAPIC_DFR = 0xe0, LAPIC_SVR = 0xf0, LAPIC_ISR = 0x100, LAPIC_IRR = 0x200,
    LAPIC_ICR_LOW = 0x300, LAPIC_ICR_HIGH = 0x310, LAPIC_LVT_TIMER = 0x320,
    LAPIC_TIMER_INITIAL = 0x380, LAPIC_TIMER_CURRENT = 0x390, LAPIC_TIMER_DIVIDE = 0x3e0,
};

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
