#ifndef LOADER_MULTIBOOT_H
#define LOADER_MULTIBOOT_H
/*
 * Multiboot version 1 (Multiboot Specification 0.6.96), as QEMU's -kernel
 * loads such kernels: the header found in the image's first 8192 bytes
 * (section 3.1.1), the kernel loaded from the a.out kludge's addresses when
 * header flag 16 is set, else from its ELF program headers (3.1.3), the
 * modules page-aligned above the kernel, and the information structure
 * (3.3) with the memory sizes and map, command line, modules and boot loader
 * name in one page. The caller enters the kernel in 32-bit protected mode
 * with EAX = MULTIBOOT_BOOTLOADER_MAGIC and EBX = the information's address
 * (3.2). Pure, unit-tested on the host.
 *
 * Header flag 2 (video mode) is ignored, as QEMU does: we have no display,
 * and the information never claims video fields (its flags 11 and 12 stay
 * clear), so the kernel can tell. Page alignment (flag 0) and memory
 * information (flag 1) are always given; other required flags (bits 3-15)
 * make the image refused.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "loader/multiboot_kernel.h"

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002u     /* EAX at entry (3.2) */

/* Whether `image` has a multiboot header: the magic 0x1BADB002 at a 4-byte
 * aligned offset in its first 8192 bytes, with a valid checksum. As in
 * QEMU, an image without one is not a multiboot kernel (a damaged header
 * included) and goes to the next loader; its flags are checked by
 * multiboot_load, so that an unsupported requirement is reported. */
bool multiboot_is_kernel(const void *image, size_t size);

/* Loads the kernel and modules and writes the information page. On failure
 * returns false with the reason in `why`. */
bool multiboot_load(const void *image, size_t size, const struct multiboot_args *args,
                    guest_write_fn write, void *ctx, struct multiboot_result *out, char *why,
                    size_t why_size);
#endif
