#ifndef ARCH_IOAPIC_H
#define ARCH_IOAPIC_H
#include <stdint.h>
#include "arch/acpi.h"

/* Masks the legacy 8259 pair and routes nothing yet. */
void ioapic_init(const struct host_topology *topo);
/* Routes ISA IRQ `irq` (after MADT overrides) to `vector` on the CPU with `apic_id`. */
void ioapic_route_isa_irq(uint8_t irq, uint8_t vector, uint32_t apic_id);
#endif
