#ifndef DEV_PLATFORM_PORTS_H
#define DEV_PLATFORM_PORTS_H
/* The port handlers of the PC platform devices (exits/pio.h's signature),
 * at the ports dev/platform.h names. */
#include <stdint.h>
#include <stdbool.h>

struct vm;

/* An access that reaches no register: reads all-ones, writes go nowhere;
 * both counted in the VM's unclaimed-access statistics. pio_access uses it
 * for ports no device claims, the devices for bytes or sizes of their ports
 * that reach no register. The one exception: reads of PCI CONFIG_DATA
 * (dev/pci_config.c) return all-ones uncounted, because on an empty bus
 * that is the answer ("no device"), which every OS probe asks for, not an
 * access gone astray; writes there are counted. */
void platform_port_unclaimed(struct vm *vm, bool is_write, uint32_t *value);

/* CMOS/RTC: index at 0x70, data at 0x71 (dev/rtc_port.c). */
bool rtc_port_access(struct vm *vm, uint16_t port, unsigned size, bool is_write, uint32_t *value);
/* ACPI PM1 registers and PM timer, ACPI_PM_PORTS from 0x600 (dev/acpi_pm_port.c). */
bool acpi_pm_port_access(struct vm *vm, uint16_t port, unsigned size, bool is_write,
                         uint32_t *value);
/* QEMU's fw_cfg: selector 0x510, data 0x511 (dev/fw_cfg_port.c). */
bool fw_cfg_port_access(struct vm *vm, uint16_t port, unsigned size, bool is_write,
                        uint32_t *value);
/* PCI configuration mechanism #1: CONFIG_ADDRESS at 0xcf8, CONFIG_DATA at
 * 0xcfc-0xcff (dev/pci_config.c). */
bool pci_config_access(struct vm *vm, uint16_t port, unsigned size, bool is_write,
                       uint32_t *value);
/* Resets: the reset control register 0xcf9 and the keyboard controller's
 * command port 0x64 (dev/reset.c). */
bool reset_control_access(struct vm *vm, uint16_t port, unsigned size, bool is_write,
                          uint32_t *value);
bool kbc_access(struct vm *vm, uint16_t port, unsigned size, bool is_write, uint32_t *value);
/* COM1 (dev/uart.c) and QEMU's isa-debug-exit (dev/debug_exit.c). */
#define UART_COM1_BASE 0x3f8
#define DEBUG_EXIT_PORT 0xf4
bool uart_access(struct vm *vm, uint16_t port, unsigned size, bool is_write, uint32_t *value);
bool debug_exit_access(struct vm *vm, uint16_t port, unsigned size, bool is_write,
                       uint32_t *value);
#endif
