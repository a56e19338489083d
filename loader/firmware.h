#ifndef LOADER_FIRMWARE_H
#define LOADER_FIRMWARE_H
/*
 * What a PC's firmware leaves a new VM: the ACPI and SMBIOS tables in the
 * BIOS area (GUEST_ACPI_GPA, GUEST_SMBIOS_GPA), and the CMOS: its clock set to the host's time and the
 * memory sizes in its NVRAM, its clock from the platform clock's start
 * (dev/platform_clock.h).
 */
#include <stdint.h>
#include <stdbool.h>

struct vm;

/* The CMOS at power-on: the clock at the host's time, the NVRAM empty
 * (once, at VM creation; a machine reset keeps both). */
void firmware_power_on(struct vm *vm);
/* What the firmware does on every boot, power-on or reset: the ACPI and
 * SMBIOS tables into guest memory and the memory sizes into the NVRAM. False if guest
 * memory could not be written. */
bool firmware_boot(struct vm *vm);
#endif
