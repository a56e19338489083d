/* QEMU's isa-debug-exit: a write of V ends the VM with status (V << 1) | 1,
 * as QEMU's process status would be, so test kernels written for QEMU work. */
#include "dev/platform_ports.h"
#include "virt/vm.h"

bool debug_exit_access(struct vm *vm, uint16_t port, unsigned size, bool is_write,
                       uint32_t *value)
{
    (void)port;
    (void)size;
    if (!is_write) {
        *value = 0xffffffffu;
        return true;
    }
    vm_end(vm, (int)((*value << 1) | 1) & 0xff, "isa-debug-exit");
    return false;
}
