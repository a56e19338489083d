#ifndef LOADER_ELF_LOADER_H
#define LOADER_ELF_LOADER_H
/* Loads an ELF executable's PT_LOAD segments at their physical addresses
 * (ELF64 x86-64, or ELF32 i386 as multiboot kernels often are). Pure: the
 * caller supplies the write, so bad images are unit-tested on the host. */
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "loader/guest_write.h"
#include "loader/load_area.h"

/* Segments must lie where `area` allows. On failure returns false and
 * explains why in `why`. */
bool elf_load(const void *image, size_t size, const struct load_area *area,
              guest_write_fn write, void *ctx, uint64_t *entry, char *why, size_t why_size);
#endif
