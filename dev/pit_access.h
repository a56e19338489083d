#ifndef DEV_PIT_ACCESS_H
#define DEV_PIT_ACCESS_H
/* The VM's 8254 (dev/pit.h) on its ports 0x40-0x43 and 0x61, and channel
 * 0's interrupt in time: vCPU 0's run loop stops at the next one (or its
 * CPU's scheduler wakes it there while it halts), and whichever vCPU sees
 * it due raises ISA IRQ 0. */
#include <stdint.h>
#include <stdbool.h>
#include "dev/devices.h"
#include "virt/vm.h"

/* At VM creation and machine reset: the PIT at power-up, counting at the
 * TSC's rate. */
void pit_vm_init(struct vm *vm);
/* A exits/pio.c handler for PLATFORM_PIT_BASE..+3 and PLATFORM_PORT_61. */
bool pit_port_access(struct vm *vm, uint16_t port, unsigned size, bool is_write,
                     uint32_t *value);
/* Host TSC of the next PIT interrupt; 0 if none is coming. */
static inline uint64_t pit_deadline(const struct vm *vm)
{
    return __atomic_load_n(&vm->dev->pit_deadline, __ATOMIC_ACQUIRE);
}
/* Raises IRQ 0 if the PIT interrupt is due at host TSC `now` (any CPU). */
void pit_expire(struct vm *vm, uint64_t now);
#endif
