#include "virt/pio.h"
#include "virt/vm.h"

static const struct {
    uint16_t first, count;
    pio_handler_fn handle;
} devices[] = {
    { UART_COM1_BASE, 8, uart_access },
    { DEBUG_EXIT_PORT, 1, debug_exit_access },
};

bool pio_access(struct vm *vm, uint16_t port, unsigned size, bool is_write, uint32_t *value)
{
    for (unsigned i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
        if (port >= devices[i].first && port < devices[i].first + devices[i].count)
            return devices[i].handle(vm, port, size, is_write, value);
    if (is_write) {
        __atomic_add_fetch(&vm->unhandled_writes, 1, __ATOMIC_RELAXED);
    } else {
        __atomic_add_fetch(&vm->unhandled_reads, 1, __ATOMIC_RELAXED);
        *value = 0xffffffffu;
    }
    return true;
}
