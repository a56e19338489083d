/* Ports 0x510/0x511 onto the VM's fw_cfg (dev/fw_cfg.h). The selector
 * takes 16-bit writes and the data port byte reads, as QEMU documents the
 * traditional interface; other accesses reach no register (counted). Data
 * writes are ignored, as by QEMU; the DMA interface is not offered. */
#include "dev/devices.h"
#include "dev/platform_ports.h"
#include "dev/platform.h"
#include "virt/vm.h"

bool fw_cfg_port_access(struct vm *vm, uint16_t port, unsigned size, bool is_write,
                        uint32_t *value)
{
    const struct fw_cfg_machine machine = { .ram_size = vm->ram_size,
                                            .cpus = (uint16_t)vm->vcpu_count };
    if (port == PLATFORM_FW_CFG_CTL && is_write && size == 2) {
        spin_lock(&vm->dev->platform_lock);
        fw_cfg_select(&vm->dev->fw_cfg, (uint16_t)*value);
        spin_unlock(&vm->dev->platform_lock);
    } else if (port == PLATFORM_FW_CFG_DATA && !is_write && size == 1) {
        spin_lock(&vm->dev->platform_lock);
        *value = fw_cfg_read_byte(&vm->dev->fw_cfg, &machine);
        spin_unlock(&vm->dev->platform_lock);
    } else {
        platform_port_unclaimed(vm, is_write, value);
    }
    return true;
}
