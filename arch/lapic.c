#include "arch/lapic.h"
#include "arch/cpu.h"
#include "arch/msr.h"
#include "arch/interrupts.h"
#include <stddef.h>

enum {
    LAPIC_ID = 0x20, LAPIC_TPR = 0x80, LAPIC_EOI = 0xb0, LAPIC_SVR = 0xf0,
    LAPIC_ICR_LOW = 0x300, LAPIC_ICR_HIGH = 0x310,
};
#define SVR_APIC_ENABLE     0x100
#define ICR_DELIVERY_PENDING 0x1000
#define X2APIC_MSR_BASE     0x800

static volatile uint8_t *xapic_base;    /* NULL in x2APIC mode */

static uint32_t lapic_read(uint32_t reg)
{
    if (!xapic_base)
        return (uint32_t)rdmsr(X2APIC_MSR_BASE + (reg >> 4));
    return *(volatile uint32_t *)(xapic_base + reg);
}

static void lapic_write(uint32_t reg, uint32_t v)
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
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_SVR, SVR_APIC_ENABLE | VECTOR_SPURIOUS);
}

uint32_t lapic_id(void)
{
    uint32_t id = lapic_read(LAPIC_ID);
    return xapic_base ? id >> 24 : id;
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
    if (!xapic_base) {
        wrmsr(X2APIC_MSR_BASE + (LAPIC_ICR_LOW >> 4), (uint64_t)apic_id << 32 | icr_low);
        return;
    }
    lapic_write(LAPIC_ICR_HIGH, apic_id << 24);
    lapic_write(LAPIC_ICR_LOW, icr_low);
    while (lapic_read(LAPIC_ICR_LOW) & ICR_DELIVERY_PENDING)
        cpu_relax();
}
