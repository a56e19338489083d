/* TSC rate by counting TSC ticks across a PIT channel-2 one-shot: the PIT's
 * 1.193182 MHz clock is the one time base every PC (and Bochs) has. */
#include "arch/tsc.h"
#include "arch/cpu.h"

#define PIT_HZ          1193182ull
#define PIT_CH2_DATA    0x42
#define PIT_COMMAND     0x43
#define PORT_B          0x61
#define PORT_B_GATE2    0x01
#define PORT_B_SPEAKER  0x02
#define PORT_B_OUT2     0x20
#define CALIBRATE_MS    10

static uint64_t khz;

uint64_t tsc_calibrate(void)
{
    uint16_t count = (uint16_t)(PIT_HZ * CALIBRATE_MS / 1000);
    uint8_t b = (inb(PORT_B) & ~PORT_B_SPEAKER) | PORT_B_GATE2;
    outb(PORT_B, b & ~PORT_B_GATE2);
    outb(PIT_COMMAND, 0xb0);            /* channel 2, lobyte/hibyte, mode 0 */
    outb(PIT_CH2_DATA, count & 0xff);
    outb(PIT_CH2_DATA, count >> 8);
    outb(PORT_B, b);                    /* gate high: counting starts */
    uint64_t start = rdtsc();
    while (!(inb(PORT_B) & PORT_B_OUT2))
        cpu_relax();
    khz = (rdtsc() - start) / CALIBRATE_MS;
    if (!khz)
        khz = 1;
    return khz;
}

uint64_t tsc_khz(void) { return khz; }

void udelay(uint64_t us)
{
    uint64_t end = rdtsc() + us * khz / 1000;
    while (rdtsc() < end)
        cpu_relax();
}
