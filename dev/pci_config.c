/* PCI configuration mechanism #1 (PCI Local Bus Specification 3.0, section
 * 3.2.2.3.2) with nothing behind it: CONFIG_ADDRESS at 0xcf8 latches 32-bit
 * writes and reads them back, so an OS finds the mechanism; CONFIG_DATA at
 * 0xcfc-0xcff then reads all-ones for every bus/device/function, as a
 * master abort on an empty slot does, and writes go nowhere (counted). Byte
 * and word accesses to 0xcf8 are not CONFIG_ADDRESS (the host bridge claims
 * only doubleword ones); they reach no device. */
#include "dev/devices.h"
#include "dev/platform_ports.h"
#include "dev/platform.h"
#include "virt/vm.h"

bool pci_config_access(struct vm *vm, uint16_t port, unsigned size, bool is_write,
                       uint32_t *value)
{
    if (port != PLATFORM_PCI_CONFIG_ADDR) {
        if (is_write)
            platform_port_unclaimed(vm, is_write, value);   /* counted: it went nowhere */
        else
            *value = 0xffffffffu;   /* "no device", uncounted: see dev/platform_ports.h */
    } else if (size != 4) {
        platform_port_unclaimed(vm, is_write, value);
    } else if (is_write) {
        __atomic_store_n(&vm->dev->pci_config_address, *value, __ATOMIC_RELAXED);
    } else {
        *value = __atomic_load_n(&vm->dev->pci_config_address, __ATOMIC_RELAXED);
    }
    return true;
}
