#ifndef LOADER_LOAD_AREA_H
#define LOADER_LOAD_AREA_H
/*
 * Where a loader may put an image's contents: the guest's RAM as its
 * memory map reports it, below a limit, except what the loader itself
 * places there for this kind of start (the boot page tables, the
 * information structure, ...), each named so that a refusal says what is
 * in the way. QEMU and GRUB load kernels below 1 MiB too; so do we, where
 * nothing of ours is. Pure, unit-tested on the host.
 */
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "loader/guest_memmap.h"

struct load_reserved {
    uint64_t start, end;        /* [start, end) */
    const char *what;           /* "the multiboot information", ... */
};

struct load_area {
    const struct guest_mem_range *memory_map;
    size_t memory_map_count;
    uint64_t limit;             /* nothing at or above it (32-bit pointers, real mode) */
    const struct load_reserved *reserved;
    size_t reserved_count;
};

/* Whether [start, end) may hold image contents: inside one RAM range, below
 * the limit, clear of every reserved range. If not, false with the reason
 * in `why`. */
bool load_area_allows(const struct load_area *area, uint64_t start, uint64_t end, char *why,
                      size_t why_size);
#endif
