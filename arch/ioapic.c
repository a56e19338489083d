/* The host IOAPIC (82093AA datasheet): used for the console UART's interrupt. */
#include "arch/ioapic.h"
#include "arch/cpu.h"

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WINDOW 0x10
#define IOAPIC_REDTBL(n) (0x10 + 2 * (n))
#define REDIR_ACTIVE_LOW (1u << 13)
#define REDIR_LEVEL      (1u << 15)
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1

static volatile uint32_t *ioapic;
static const struct host_topology *topology;

static void ioapic_write(uint32_t reg, uint32_t v)
{
    ioapic[IOAPIC_REGSEL / 4] = reg;
    ioapic[IOAPIC_WINDOW / 4] = v;
}

void ioapic_init(const struct host_topology *topo)
{
    outb(PIC1_DATA, 0xff);      /* the IOAPIC takes over from the 8259s */
    outb(PIC2_DATA, 0xff);
    topology = topo;
    ioapic = (volatile uint32_t *)(topo->ioapic_address ? topo->ioapic_address : 0xfec00000);
}

void ioapic_route_isa_irq(uint8_t irq, uint8_t vector, uint32_t apic_id)
{
    uint32_t pin = topology->isa_irq_to_gsi[irq] - topology->ioapic_gsi_base;
    uint32_t low = vector;
    if (topology->isa_irq_active_low[irq])
        low |= REDIR_ACTIVE_LOW;
    if (topology->isa_irq_level[irq])
        low |= REDIR_LEVEL;
    ioapic_write(IOAPIC_REDTBL(pin) + 1, apic_id << 24);
    ioapic_write(IOAPIC_REDTBL(pin), low);
}
