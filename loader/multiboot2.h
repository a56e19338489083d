#ifndef LOADER_MULTIBOOT2_H
#define LOADER_MULTIBOOT2_H
/*
 * Multiboot2 (Multiboot2 Specification 2.0, the format GRUB boots vmxvisor
 * with): the header found 8-byte aligned in the image's first 32768 bytes
 * (3.1.1), its tags (3.1.3-3.1.13) checked, the kernel loaded from the
 * address tag's fields or else from its ELF program headers, the modules
 * page-aligned above it, and the boot information (3.6) in one page: the
 * command line, the boot loader's name, each module with its string, the
 * basic memory sizes and the memory map, and copies of the firmware's ACPI
 * RSDP (old and new). The caller enters the kernel in 32-bit protected mode
 * with EAX = MULTIBOOT2_BOOTLOADER_MAGIC and EBX = the information's address
 * (3.3). Pure, unit-tested on the host.
 *
 * Tags the kernel may ask for: the information-request tag may name only
 * the information above (and the image load base) unless optional; the
 * console-flags, framebuffer and module-alignment tags are honoured by what
 * we always do or ignored (no display: the information has no framebuffer
 * tag, so the kernel can tell); EFI tags are refused unless optional, as
 * there is no EFI here.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "loader/multiboot_kernel.h"

#define MULTIBOOT2_BOOTLOADER_MAGIC 0x36d76289u    /* EAX at entry (3.3) */
#define MULTIBOOT2_RSDP_SIZE 36                    /* an ACPI 2.0 RSDP */

/* Whether `image` has a Multiboot2 header for i386: the magic at an 8-byte
 * aligned offset in its first 32768 bytes, architecture 0, a length that
 * fits, and a valid checksum. */
bool multiboot2_is_kernel(const void *image, size_t size);

/* Loads the kernel and modules and writes the information page. On failure
 * returns false with the reason in `why`. */
bool multiboot2_load(const void *image, size_t size, const struct multiboot_args *args,
                     guest_write_fn write, void *ctx, struct multiboot_result *out, char *why,
                     size_t why_size);
#endif
