#ifndef LOADER_SMBIOS_H
#define LOADER_SMBIOS_H
/*
 * The SMBIOS (DMI) tables a PC's firmware leaves in the BIOS area (DMTF
 * DSP0134 2.8): a 32-bit entry point that guests find by scanning
 * 0xf0000-0xfffff on 16-byte boundaries, and the structures it points to:
 * BIOS information (type 0, with a release date), system information
 * (type 1) and the end-of-table marker (type 127). Guests read the machine's
 * name and age from here; Linux, for one, trusts PCI configuration
 * mechanism 1 on a machine whose BIOS is from 2001 or later even when no
 * host bridge answers on bus 0. Pure, unit-tested on the host.
 */
#include <stdint.h>
#include <stddef.h>

/* Builds entry point and structures into buf for guest-physical `base`
 * (16-byte aligned, below 4 GiB); returns the length, 0 if it does not fit. */
size_t smbios_build(uint8_t *buf, size_t size, uint64_t base);
#endif
