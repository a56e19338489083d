#ifndef LOADER_MULTIBOOT_KERNEL_H
#define LOADER_MULTIBOOT_KERNEL_H
/*
 * What Multiboot 1 (loader/multiboot.h) and Multiboot2 (loader/multiboot2.h)
 * loaders do alike: the kernel loaded from the header's address fields
 * (Multiboot 0.6.96 3.1.3, the a.out kludge; Multiboot2 3.1.5, the address
 * tag: the same four fields) or else from its ELF program headers, and the
 * modules placed page-aligned above it. Pure, unit-tested on the host
 * through both loaders.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "loader/guest_write.h"
#include "loader/guest_memmap.h"
#include "loader/load_area.h"

struct multiboot_module {
    const void *data;
    size_t size;
    const char *name;       /* its string in the information */
};

struct multiboot_args {
    const char *kernel_name;    /* argv[0] of the command line, as QEMU gives it */
    const char *cmdline;        /* the rest of the command line */
    const struct multiboot_module *modules;
    size_t module_count;
    const struct guest_mem_range *memory_map;
    size_t memory_map_count;
    const struct load_area *area;   /* where the kernel may go (modules: below its limit) */
    uint64_t modules_min;           /* the lowest address for modules */
    uint64_t info_gpa;              /* one page for the information (below 4 GiB) */
    const uint8_t *acpi_rsdp;       /* the firmware's RSDP (36 bytes), for Multiboot2 */
};

struct multiboot_result {
    uint64_t entry;
    uint64_t kernel_start, kernel_end;  /* what the kernel occupies, bss included */
};

/* The header's load addresses, where it has them. */
struct multiboot_address_fields {
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
};

/* Loads the kernel: with `addr`, the file from load_addr's offset (placed
 * by where the header, at `header_offset` in the file, lands:
 * header_addr) to load_end_addr (0: the file's end) at load_addr, then
 * zeros to bss_end_addr (0: none), entering at `entry`, which must lie in
 * it; without, from the ELF program headers, entering at `entry` if
 * nonzero, else at the ELF entry. */
bool multiboot_load_kernel(const void *image, size_t size, size_t header_offset,
                           const struct multiboot_address_fields *addr, uint64_t entry,
                           const struct multiboot_args *args, guest_write_fn write, void *ctx,
                           struct multiboot_result *out, char *why, size_t why_size);

/* Called for each module placed, [start, end) in guest memory. */
typedef bool (*multiboot_module_placed_fn)(void *ctx, size_t index, uint64_t start,
                                           uint64_t end);
/* Each module on the next page boundary above the kernel (and the module
 * before it), never below modules_min, below the area's limit. */
bool multiboot_place_modules(const struct multiboot_args *args, uint64_t kernel_end,
                             guest_write_fn write, void *ctx, multiboot_module_placed_fn placed,
                             void *placed_ctx, char *why, size_t why_size);
#endif
