#include "dev/devices.h"
#include "virt/vcpu_state.h"
#include "dev/pit_access.h"
#include "dev/irq.h"
#include "dev/platform.h"
#include "arch/cpu.h"
#include "arch/tsc.h"

/* The PIT's clock is derived from the TSC (guest TSC = host TSC + the
 * vCPU's offset: the same rate), so the host TSC serves as its time. */
void pit_vm_init(struct vm *vm)
{
    /* Under the lock: at a machine reset another CPU's scheduler may be
     * looking at the PIT of a VM whose vCPU 0 halted there. */
    spin_lock(&vm->dev->pit_lock);
    vpit_reset(&vm->dev->pit, tsc_khz() * 1000);
    __atomic_store_n(&vm->dev->pit_deadline, 0, __ATOMIC_RELEASE);
    spin_unlock(&vm->dev->pit_lock);
}

/* Publishes the model's next interrupt time (under pit_lock); true if it
 * came earlier than the one published before, which someone may be
 * waiting on. */
static bool publish_deadline(struct vm *vm)
{
    uint64_t tsc, old = vm->dev->pit_deadline, next = 0;
    if (vpit_irq_deadline(&vm->dev->pit, &tsc))
        next = tsc ? tsc : 1;
    __atomic_store_n(&vm->dev->pit_deadline, next, __ATOMIC_RELEASE);
    return next && (!old || (int64_t)(next - old) < 0);
}

bool pit_port_access(struct vm *vm, uint16_t port, unsigned size, bool is_write,
                     uint32_t *value)
{
    (void)size;     /* byte registers: a wider access sees the first */
    uint64_t now = rdtsc();
    spin_lock(&vm->dev->pit_lock);
    if (port == PLATFORM_PORT_61) {
        if (is_write)
            vpit_port61_write(&vm->dev->pit, (uint8_t)*value, now);
        else
            *value = vpit_port61_read(&vm->dev->pit, now);
    } else if (is_write) {
        vpit_write(&vm->dev->pit, port - PLATFORM_PIT_BASE, (uint8_t)*value, now);
    } else {
        *value = vpit_read(&vm->dev->pit, port - PLATFORM_PIT_BASE, now);
    }
    bool sooner = publish_deadline(vm);
    spin_unlock(&vm->dev->pit_lock);
    if (sooner) {
        /* vCPU 0 stops at the deadline: it computes its stop time again. */
        struct vcpu *v = &vm->vcpus[0];
        vcpu_request(v, REQ_TIMER);
        vcpu_timer_changed(v);
    }
    return true;
}

void pit_expire(struct vm *vm, uint64_t now)
{
    uint64_t deadline = pit_deadline(vm);
    if (!deadline || (int64_t)(now - deadline) < 0)
        return;
    spin_lock(&vm->dev->pit_lock);
    bool due = vpit_irq_due(&vm->dev->pit, now);
    publish_deadline(vm);
    spin_unlock(&vm->dev->pit_lock);
    if (due)
        vm_pulse_irq(vm, PLATFORM_IRQ_PIT);
}
