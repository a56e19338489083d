#ifndef ARCH_ACPI_H
#define ARCH_ACPI_H
/* The host's ACPI tables: only what bring-up needs from the MADT. */
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#define ACPI_MAX_CPUS 64

struct host_topology {
    uint32_t apic_ids[ACPI_MAX_CPUS];
    size_t cpu_count;
    uint64_t ioapic_address;    /* 0 if the MADT lists none */
    uint32_t ioapic_gsi_base;
    uint32_t isa_irq_to_gsi[16];
    bool isa_irq_active_low[16];
    bool isa_irq_level[16];
};

/* Reads the MADT; false (with a reason) if no usable ACPI tables exist. */
bool acpi_read_topology(uint64_t rsdp_hint, struct host_topology *topo, const char **why);
#endif
