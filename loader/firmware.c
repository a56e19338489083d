#include "dev/devices.h"
#include "loader/firmware.h"
#include "loader/acpi.h"
#include "loader/smbios.h"
#include "virt/guest_layout.h"
#include "virt/guest_mem.h"
#include "dev/platform_clock.h"
#include "virt/vm.h"
#include "arch/cpu.h"
#include "lib/printf.h"

void firmware_power_on(struct vm *vm)
{
    platform_clock_start();
    /* The start date is the time at platform clock 0: the RTC catches up
     * on its first access. */
    rtc_reset(&vm->dev->rtc, platform_clock_start_date(), 0);
}

bool firmware_boot(struct vm *vm)
{
    /* 4 KiB hold the tables for ACPI_MAX_VCPUS; VMs boot (are created or
     * reset) one at a time (machine/vm_power.c's vm_boot), so one buffer serves
     * them all. */
    static uint8_t tables[4096];
    _Static_assert(sizeof(tables) <= GUEST_ACPI_END - GUEST_ACPI_GPA, "tables past the BIOS area");
    size_t len = acpi_build_tables(tables, sizeof(tables), GUEST_ACPI_GPA, vm->config.vcpus);
    if (!len || !guest_mem_write(vm, GUEST_ACPI_GPA, tables, len))
        return false;
    len = smbios_build(tables, sizeof(tables), GUEST_SMBIOS_GPA);
    if (!len || !guest_mem_write(vm, GUEST_SMBIOS_GPA, tables, len))
        return false;
    spin_lock(&vm->dev->platform_lock);
    uint64_t low = guest_low_ram_end(vm->ram_size);
    rtc_set_memory_sizes(&vm->dev->rtc, low, vm->ram_size - low);
    spin_unlock(&vm->dev->platform_lock);
    return true;
}
