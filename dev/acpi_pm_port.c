/* Ports PLATFORM_ACPI_PM_BASE.. onto the VM's ACPI PM registers
 * (dev/acpi_pm.h), with the PM timer counting the platform clock. */
#include "dev/devices.h"
#include "dev/platform_ports.h"
#include "dev/platform_clock.h"
#include "dev/platform.h"
#include "virt/vm.h"
#include "lib/printf.h"

bool acpi_pm_port_access(struct vm *vm, uint16_t port, unsigned size, bool is_write,
                         uint32_t *value)
{
    uint64_t ticks = platform_clock_ticks(ACPI_PM_TIMER_HZ);
    unsigned offset = port - PLATFORM_ACPI_PM_BASE;
    spin_lock(&vm->dev->platform_lock);
    if (!is_write) {
        *value = acpi_pm_read(&vm->dev->acpi_pm, offset, size, ticks);
        spin_unlock(&vm->dev->platform_lock);
        return true;
    }
    enum acpi_pm_result result = acpi_pm_write(&vm->dev->acpi_pm, offset, size, *value, ticks);
    uint16_t control = vm->dev->acpi_pm.control;
    spin_unlock(&vm->dev->platform_lock);
    switch (result) {
    case ACPI_PM_POWER_OFF:
        vm_end(vm, 0, "ACPI power off");
        return false;
    case ACPI_PM_SLEEP_UNSUPPORTED: {
        /* Sleep states S1-S4 would need the VM suspended and woken: not
         * offered (the DSDT names only \_S5). A guest that asks anyway
         * would wait for a wake-up that never comes: the VM ends, a
         * failure, saying why. */
        char why[96];
        snprintf(why, sizeof(why), "ACPI sleep with SLP_TYP %u: only soft-off (\\_S5) is offered",
                 (control & ACPI_PM1_CNT_SLP_TYP) >> ACPI_PM1_CNT_SLP_TYP_SHIFT);
        vm_end(vm, -1, why);
        return false;
    }
    case ACPI_PM_DROPPED:
        platform_port_unclaimed(vm, true, value);
        break;
    case ACPI_PM_DONE:
        break;
    }
    return true;
}
