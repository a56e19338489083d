#include "arch/lapic.h"
#include "arch/cpu.h"
#include "arch/msr.h"
#include "arch/interrupts.h"
#include <stdbool.h>
#include <stddef.h>

#define LVT_TIMER_TSC_DEADLINE (2u << 17)
#define TIMER_DIVIDE_BY_1   0xb
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CALIBRATION_CYCLES  1000000u
#define SVR_APIC_ENABLE     0x100
#define LVT_MASKED          0x10000
#define ICR_DELIVERY_PENDING 0x1000
#define X2APIC_MSR_BASE     0x800

static volatile uint8_t *xapic_base;    /* NULL in x2APIC mode */
static bool tsc_deadline_mode;
/* One-shot mode: timer ticks per TSC cycle, 32.32 fixed point (every CPU
 * of a system runs its APIC timer at the same rate). */
static uint64_t timer_ticks_per_cycle;

uint32_t lapic_read(uint32_t reg)
{
    if (!xapic_base)
        return (uint32_t)rdmsr(X2APIC_MSR_BASE + (reg >> 4));
    return *(volatile uint32_t *)(xapic_base + reg);
}

void lapic_write(uint32_t reg, uint32_t v)
{
    if (!xapic_base)
        wrmsr(X2APIC_MSR_BASE + (reg >> 4), v);
    else
        *(volatile uint32_t *)(xapic_base + reg) = v;
}

void lapic_init_cpu(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    if (!(base & APIC_BASE_ENABLE)) {
        base |= APIC_BASE_ENABLE;
        wrmsr(MSR_IA32_APIC_BASE, base);
    }
    xapic_base = (base & APIC_BASE_X2APIC) ? NULL : (volatile uint8_t *)(base & ~0xfffull);
    lapic_write(APIC_REG_TPR, 0);
    lapic_write(APIC_REG_SVR, SVR_APIC_ENABLE | VECTOR_SPURIOUS);
    tsc_deadline_mode = cpuid(1, 0).ecx & CPUID_1_ECX_TSC_DEADLINE;
    if (tsc_deadline_mode) {
        lapic_write(APIC_REG_LVT_TIMER, LVT_TIMER_TSC_DEADLINE | VECTOR_TIMER);
        return;
    }
    lapic_write(APIC_REG_TIMER_DIVIDE, TIMER_DIVIDE_BY_1);
    if (!timer_ticks_per_cycle) {
        /* Count down from the top, masked, for a known number of cycles. */
        lapic_write(APIC_REG_LVT_TIMER, LVT_MASKED | VECTOR_TIMER);
        lapic_write(APIC_REG_TIMER_INITIAL, 0xffffffffu);
        uint64_t start = rdtsc();
        while (rdtsc() - start < CALIBRATION_CYCLES)
            cpu_relax();
        uint32_t ticks = 0xffffffffu - lapic_read(APIC_REG_TIMER_CURRENT);
        timer_ticks_per_cycle = ((uint64_t)ticks << 32) / CALIBRATION_CYCLES;
        if (!timer_ticks_per_cycle)     /* a timer too slow to measure: assume 1:1 */
            timer_ticks_per_cycle = 1ull << 32;
        lapic_write(APIC_REG_TIMER_INITIAL, 0);
    }
    lapic_write(APIC_REG_LVT_TIMER, VECTOR_TIMER);     /* one-shot */
}

void lapic_timer_arm(uint64_t deadline)
{
    if (tsc_deadline_mode) {
        wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
        return;
    }
    int64_t cycles = (int64_t)(deadline - rdtsc());
    unsigned __int128 ticks = cycles > 0 ? (unsigned __int128)cycles * timer_ticks_per_cycle >> 32
                                         : 0;
    /* The longest count wakes early, which is harmless. */
    lapic_write(APIC_REG_TIMER_INITIAL, ticks == 0 ? 1 : ticks > 0xffffffffu ? 0xffffffffu
                                                                             : (uint32_t)ticks);
}

uint32_t lapic_id(void)
{
    uint32_t id = lapic_read(APIC_REG_ID);
    return xapic_base ? id >> 24 : id;
}

void lapic_eoi(void)
{
    lapic_write(APIC_REG_EOI, 0);
}

void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
    if (!xapic_base) {
        wrmsr(X2APIC_MSR_BASE + (APIC_REG_ICR_LOW >> 4), (uint64_t)apic_id << 32 | icr_low);
        return;
    }
    lapic_write(APIC_REG_ICR_HIGH, apic_id << 24);
    lapic_write(APIC_REG_ICR_LOW, icr_low);
    while (lapic_read(APIC_REG_ICR_LOW) & ICR_DELIVERY_PENDING)
        cpu_relax();
}
