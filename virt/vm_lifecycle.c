/* Stop, cont and the asking for a reset (virt/vm_lifecycle.h): holding the
 * vCPUs and waiting for them to leave their CPUs; the reset itself is
 * machine/vm_reset.c's. */
#include "virt/vm_lifecycle.h"
#include "virt/vm.h"
#include "arch/cpu.h"
#include "lib/printf.h"


static bool worth_a_line(uint64_t n)
{
    return n <= RESETS_ALWAYS_SHOWN || !(n & (n - 1));
}

bool vm_next_reset_shown(const struct vm *vm)
{
    return worth_a_line(vm->resets + 1);
}

bool vm_request_reset(struct vm *vm, const char *why)
{
    /* The hold for the reset is taken and dropped under vm->lock with the
     * reset's state, so it means exactly "a reset is on its way". */
    spin_lock(&vm->lock);
    bool running = vm->state == VM_RUNNING;
    bool first = running && vm->reset_state == VM_RESET_NONE;
    if (first) {
        vm->reset_state = VM_RESET_PENDING;
        vm->reset_why = why;
        sched_hold(&vm->sched, VM_HOLD_RESET);
    }
    spin_unlock(&vm->lock);
    return running;
}

const char *vm_stop(struct vm *vm)
{
    if (vm->state != VM_RUNNING)
        return "has ended";
    if (vm->sched.hold & VM_HOLD_STOP)
        return "is already stopped";
    sched_hold(&vm->sched, VM_HOLD_STOP);
    /* They leave at their next entry check, an IPI away: once this returns
     * the VM uses no CPU time. */
    while (!sched_group_off_cpus(&vm->sched))
        cpu_relax();
    return NULL;
}

const char *vm_cont(struct vm *vm)
{
    if (vm->state != VM_RUNNING)
        return "has ended";
    if (!(vm->sched.hold & VM_HOLD_STOP))
        return "is not stopped";
    sched_unhold(&vm->sched, VM_HOLD_STOP);
    return NULL;
}
