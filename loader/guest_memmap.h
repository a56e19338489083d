#ifndef LOADER_GUEST_MEMMAP_H
#define LOADER_GUEST_MEMMAP_H
/*
 * The VM's physical memory map as firmware would report it (the PC layout
 * QEMU gives): the boot loaders turn it into an e820 table (Linux) or a
 * multiboot memory map. Pure, so it is unit-tested on the host.
 *
 *   [0, 0x9fc00)            RAM (conventional memory)
 *   [0x9fc00, 0xa0000)      reserved (EBDA)
 *   [0xe0000, 0x100000)     reserved (BIOS area: the ACPI tables live here)
 *   [0x100000, low end)     RAM, up to GUEST_LOW_RAM_LIMIT (3 GiB)
 *   [4 GiB, ...)            the rest of the RAM
 * The hole between 3 and 4 GiB holds the devices (IOAPIC, LAPIC).
 */
#include <stdint.h>
#include <stddef.h>

enum guest_mem_type { GUEST_MEM_RAM = 1, GUEST_MEM_RESERVED = 2 };  /* e820 type numbers */

struct guest_mem_range {
    uint64_t start, size;
    enum guest_mem_type type;
};

#define GUEST_EBDA_GPA      0x9fc00ull
#define GUEST_BIOS_AREA_GPA 0xe0000ull
#define GUEST_MEMMAP_MAX    5

/* Fills `out` (GUEST_MEMMAP_MAX entries) for a VM of `ram_size` bytes and
 * returns how many ranges there are, in ascending order. */
size_t guest_memory_map(uint64_t ram_size, struct guest_mem_range out[GUEST_MEMMAP_MAX]);
/* The RAM range of `map` that holds [start, end) whole, or NULL. */
const struct guest_mem_range *guest_ram_holding(const struct guest_mem_range *map, size_t count,
                                                uint64_t start, uint64_t end);
#endif
