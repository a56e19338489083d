#include "dev/platform_ports.h"
#include "virt/vm.h"

void platform_port_unclaimed(struct vm *vm, bool is_write, uint32_t *value)
{
    if (is_write) {
        __atomic_add_fetch(&vm->unhandled_writes, 1, __ATOMIC_RELAXED);
    } else {
        __atomic_add_fetch(&vm->unhandled_reads, 1, __ATOMIC_RELAXED);
        *value = 0xffffffffu;
    }
}
