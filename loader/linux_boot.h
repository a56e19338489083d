#ifndef LOADER_LINUX_BOOT_H
#define LOADER_LINUX_BOOT_H
/*
 * The Linux x86 boot protocol (Documentation/arch/x86/boot.rst), as a boot
 * loader does it for a bzImage: the protected-mode kernel at its preferred
 * address, the initrd as high in low memory as the kernel allows, the
 * command line, and the "zero page" (struct boot_params: the setup header
 * copied from the image, the e820 map, the RSDP address). The kernel is
 * entered at its 64-bit entry point (load address + 0x200, protocol 2.12
 * and XLF_KERNEL_64) with RSI = the zero page. Pure, unit-tested on the host.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "loader/guest_write.h"
#include "loader/guest_memmap.h"

/* Whether `image` looks like a bzImage (boot sector signature and "HdrS"). */
bool linux_is_bzimage(const void *image, size_t size);

struct linux_boot_args {
    const void *initrd;             /* NULL: none */
    size_t initrd_size;
    const char *cmdline;
    uint64_t cmdline_gpa;           /* where the command line goes (below 0xa0000) */
    uint64_t zero_page_gpa;         /* where boot_params goes, one page */
    uint64_t rsdp_gpa;              /* boot_params.acpi_rsdp_addr (protocol 2.14) */
    const struct guest_mem_range *memory_map;
    size_t memory_map_count;
};

struct linux_boot_result {
    uint64_t entry;                 /* 64-bit entry point */
    uint64_t kernel_gpa, kernel_end;    /* load address, + init_size */
    uint64_t initrd_gpa;
    uint16_t protocol;              /* e.g. 0x20f for 2.15 */
};

/* The kernel's release from its header (e.g. "6.1.0-57-amd64"), at most
 * out_size - 1 characters; empty if the image has none. */
void linux_kernel_version(const void *image, size_t size, char *out, size_t out_size);

/* Loads the kernel and initrd and writes the command line and zero page.
 * On failure returns false with the reason in `why`. */
bool linux_load(const void *image, size_t size, const struct linux_boot_args *args,
                guest_write_fn write, void *ctx, struct linux_boot_result *out, char *why,
                size_t why_size);
#endif
