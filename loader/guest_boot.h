#ifndef LOADER_GUEST_BOOT_H
#define LOADER_GUEST_BOOT_H
/*
 * Loading a VM's image and deciding how its vCPU 0 starts, by the image's
 * format (the firmware and boot loader's part of a PC):
 *   - a Linux bzImage: the boot protocol's 64-bit entry (loader/linux_boot.h);
 *   - a multiboot (v1) kernel: 32-bit protected mode with the multiboot
 *     information, the VM's `modules` loaded (loader/multiboot.h);
 *   - an ELF executable started in 64-bit mode with the hypervisor's identity
 *     map (the test guests: RDI = vCPU number, RSI = vCPU count, RDX = command
 *     line), or in real mode for `start = real`.
 * The other vCPUs wait for INIT-SIPI-SIPI whatever the format.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

struct vm;
struct boot_module;


/* The boot module named `name` (its Multiboot2 command line), or NULL. */
const struct boot_module *guest_boot_module(const char *name);

/* Writes the image (and initrd, boot structures) into the VM's memory and
 * fills vm->boot. On failure returns false with the reason in `why`. */
bool guest_boot_load(struct vm *vm, char *why, size_t why_size);
#endif
