#include "exits/pio.h"
#include "virt/vm.h"
#include "dev/irq.h"
#include "dev/pic.h"
#include "dev/pit_access.h"
#include "dev/platform.h"
#include "dev/platform_ports.h"

static const struct {
    uint16_t first, count;
    pio_handler_fn handle;
} devices[] = {
    { UART_COM1_BASE, 8, uart_access },
    { DEBUG_EXIT_PORT, 1, debug_exit_access },
    { PLATFORM_PIC_MASTER, 2, pic_port_access },
    { PLATFORM_PIC_SLAVE, 2, pic_port_access },
    { PIC_ELCR_MASTER, 2, pic_port_access },
    { PLATFORM_PIT_BASE, 4, pit_port_access },
    { PLATFORM_PORT_61, 1, pit_port_access },
    { PLATFORM_KBC_CMD, 1, kbc_access },
    { PLATFORM_CMOS_INDEX, 2, rtc_port_access },
    { PLATFORM_FW_CFG_CTL, 2, fw_cfg_port_access },
    { PLATFORM_ACPI_PM_BASE, ACPI_PM_PORTS, acpi_pm_port_access },
    { PLATFORM_PCI_CONFIG_ADDR, 1, pci_config_access },    /* 32-bit CONFIG_ADDRESS */
    { PLATFORM_RESET_PORT, 1, reset_control_access },      /* its byte in between */
    { PLATFORM_PCI_CONFIG_DATA, 4, pci_config_access },
};

bool pio_access(struct vm *vm, uint16_t port, unsigned size, bool is_write, uint32_t *value)
{
    for (unsigned i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
        if (port >= devices[i].first && port < devices[i].first + devices[i].count)
            return devices[i].handle(vm, port, size, is_write, value);
    platform_port_unclaimed(vm, is_write, value);
    return true;
}
