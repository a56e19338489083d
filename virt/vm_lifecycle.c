/* Stop, cont, the asking for a reset and the end (virt/vm_lifecycle.h):
 * holding the vCPUs, waiting for them to leave their CPUs, stopping them;
 * the reset itself is machine/vm_reset.c's. */
#include "virt/vm_lifecycle.h"
#include "virt/vm.h"
#include "virt/vcpu_state.h"
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

void vm_end(struct vm *vm, int status, const char *reason)
{
    spin_lock(&vm->lock);
    bool first = vm->state == VM_RUNNING;
    if (first) {
        vm->state = VM_ENDED;
        vm->exit_status = status;
        snprintf(vm->end_reason, sizeof(vm->end_reason), "%s", reason);
    }
    spin_unlock(&vm->lock);
    if (!first)
        return;
    for (uint32_t i = 0; i < vm->vcpu_count; i++)
        vcpu_stop(&vm->vcpus[i]);
}

/* on_reboot = reset (QEMU's default) resets the machine and the guest boots
 * again; on_reboot = stop ends the VM with status 0 and "guest reset via
 * HOW", as QEMU's -no-reboot does. */
void vm_guest_reset(struct vm *vm, const char *how)
{
    spin_lock(&vm->lock);
    /* Not while a reset is already on its way: its cause is in the buffer. */
    if (vm->state == VM_RUNNING && vm->reset_state == VM_RESET_NONE)
        snprintf(vm->reset_reason, sizeof(vm->reset_reason), "guest reset via %s", how);
    spin_unlock(&vm->lock);
    if (vm->config.on_reboot == ON_REBOOT_RESET)
        vm_request_reset(vm, vm->reset_reason);
    else
        vm_end(vm, 0, vm->reset_reason);
}
