#include "dev/pit_access.h"
#include "dev/irq.h"
#include "dev/platform.h"
#include "sched/sched.h"
#include "arch/cpu.h"
#include "arch/tsc.h"

/* The PIT's clock is derived from the TSC (guest TSC = host TSC + the
 * vCPU's offset: the same rate), so the host TSC serves as its time. */
void pit_vm_init(struct vm *vm)
{
    /* Under the lock: at a machine reset another CPU's scheduler may be
     * looking at the PIT of a VM whose vCPU 0 halted there. */
    spin_lock(&vm->pit_lock);
    vpit_reset(&vm->pit, tsc_khz() * 1000);
    __atomic_store_n(&vm->pit_deadline, 0, __ATOMIC_RELEASE);
    spin_unlock(&vm->pit_lock);
}

/* Publishes the model's next interrupt time (under pit_lock); true if it
 * came earlier than the one published before, which someone may be
 * waiting on. */
static bool publish_deadline(struct vm *vm)
{
    uint64_t tsc, old = vm->pit_deadline, next = 0;
    if (vpit_irq_deadline(&vm->pit, &tsc))
        next = tsc ? tsc : 1;
    __atomic_store_n(&vm->pit_deadline, next, __ATOMIC_RELEASE);
    return next && (!old || (int64_t)(next - old) < 0);
}

bool pit_port_access(struct vm *vm, uint16_t port, unsigned size, bool is_write,
                     uint32_t *value)
{
    (void)size;     /* byte registers: a wider access sees the first */
    uint64_t now = rdtsc();
    spin_lock(&vm->pit_lock);
    if (port == PLATFORM_PORT_61) {
        if (is_write)
            vpit_port61_write(&vm->pit, (uint8_t)*value, now);
        else
            *value = vpit_port61_read(&vm->pit, now);
    } else if (is_write) {
        vpit_write(&vm->pit, port - PLATFORM_PIT_BASE, (uint8_t)*value, now);
    } else {
        *value = vpit_read(&vm->pit, port - PLATFORM_PIT_BASE, now);
    }
    bool sooner = publish_deadline(vm);
    spin_unlock(&vm->pit_lock);
    if (sooner) {
        /* vCPU 0 stops at the deadline: it computes its stop time again. */
        struct vcpu *v = &vm->vcpus[0];
        vcpu_request(v, REQ_TIMER);
        sched_timer_changed(v);
    }
    return true;
}

void pit_expire(struct vm *vm, uint64_t now)
{
    uint64_t deadline = pit_deadline(vm);
    if (!deadline || (int64_t)(now - deadline) < 0)
        return;
    spin_lock(&vm->pit_lock);
    bool due = vpit_irq_due(&vm->pit, now);
    publish_deadline(vm);
    spin_unlock(&vm->pit_lock);
    if (due)
        vm_pulse_irq(vm, PLATFORM_IRQ_PIT);
}
