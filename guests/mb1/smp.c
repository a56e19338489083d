/* Starting the other CPUs the way an OS does (SDM Vol. 3A 9.4.4, the
 * universal start-up algorithm): INIT, then two start-up IPIs, broadcast to
 * all but self through the xAPIC; each AP runs the trampoline (start.S),
 * increments aps_started and halts. */
#include "guests/mb1/mb1.h"

#define LAPIC_BASE      0xfee00000u
#define LAPIC_SVR       0x0f0
#define LAPIC_ICR_LOW   0x300
#define LAPIC_ICR_HIGH  0x310
#define SVR_ENABLE      0x100
#define SVR_SPURIOUS    0xff
#define ICR_INIT        0x00500
#define ICR_STARTUP     0x00600
#define ICR_BUSY        0x01000
#define ICR_ASSERT      0x04000
#define ICR_ALL_BUT_SELF 0xc0000
/* The SDM's 10 ms after INIT and 200 us between the SIPIs, in TSC ticks
 * for a TSC of up to 1 GHz (we do not know its rate); the timeout for the
 * APs is far longer, as they may share physical CPUs with other guests. */
#define INIT_DELAY      10000000ull
#define SIPI_DELAY      200000ull
#define AP_TIMEOUT      500000000ull

extern const char ap_trampoline[], ap_trampoline_end[];
volatile uint32_t aps_started;      /* incremented by each AP (start.S) */

static volatile uint32_t *lapic(unsigned reg)
{
    return (volatile uint32_t *)(LAPIC_BASE + reg);
}

static void delay(uint64_t ticks)
{
    uint64_t start = rdtsc();
    while (rdtsc() - start < ticks)
        __asm__ volatile("pause");
}

static void send_ipi(uint32_t command)
{
    *lapic(LAPIC_ICR_HIGH) = 0;
    *lapic(LAPIC_ICR_LOW) = ICR_ALL_BUT_SELF | command;
    while (*lapic(LAPIC_ICR_LOW) & ICR_BUSY)
        __asm__ volatile("pause");
}

unsigned smp_start_aps(unsigned expected)
{
    if (!expected)
        return 0;
    memcpy((void *)MB1_AP_TRAMPOLINE, ap_trampoline, (size_t)(ap_trampoline_end - ap_trampoline));
    *lapic(LAPIC_SVR) = SVR_ENABLE | SVR_SPURIOUS;
    send_ipi(ICR_INIT | ICR_ASSERT);
    delay(INIT_DELAY);
    for (int i = 0; i < 2; i++) {
        send_ipi(ICR_STARTUP | ICR_ASSERT | (MB1_AP_TRAMPOLINE >> 12));
        delay(SIPI_DELAY);
    }
    uint64_t start = rdtsc();
    while (aps_started < expected && rdtsc() - start < AP_TIMEOUT)
        __asm__ volatile("pause");
    return aps_started;
}
