#ifndef LOADER_ACPI_H
#define LOADER_ACPI_H
/*
 * The ACPI tables a VM's firmware would leave for its OS (ACPI 6.4 5.2):
 * RSDP, RSDT and XSDT, FADT, FACS, a DSDT that only defines \_S5, and a
 * MADT describing the vCPUs' local APICs, the IOAPIC and QEMU's ISA
 * interrupt overrides. Addresses and ports come from dev/platform.h.
 * Pure: it fills a buffer that the caller copies into guest memory, and the
 * unit tests parse back.
 */
#include <stdint.h>
#include <stddef.h>

#define ACPI_MAX_VCPUS 255      /* xAPIC IDs 0..254: 255 is the broadcast ID */

/* Builds the tables for a VM with `vcpus` vCPUs (APIC ID = ACPI processor
 * ID = vCPU number) into buf[0, size), as they will lie at guest-physical
 * `gpa`: the RSDP first (an OS's scan looks at 16-byte boundaries), then
 * the tables. Returns the bytes used, or 0 if they do not fit, `vcpus` is
 * not 1..ACPI_MAX_VCPUS, `gpa` is not 64-byte aligned (the FACS must be) or
 * the tables would reach above 4 GiB (32-bit pointers name them). */
size_t acpi_build_tables(uint8_t *buf, size_t size, uint64_t gpa, uint32_t vcpus);
#endif
