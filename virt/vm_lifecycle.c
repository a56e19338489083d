/* Stop, cont and reset (virt/vm_lifecycle.h): holding the vCPUs, waiting
 * for them to leave their CPUs, and when the reset happens; the rebuild
 * itself is vm_reboot's, the creation path. */
#include "virt/vm_lifecycle.h"
#include "sched/sched.h"
#include "virt/vm.h"
#include "arch/cpu.h"
#include "lib/printf.h"

/* Resets after these are shown at powers of two only (`info vms` has the
 * count). */
#define RESETS_ALWAYS_SHOWN 8

static bool worth_a_line(uint64_t n)
{
    return n <= RESETS_ALWAYS_SHOWN || !(n & (n - 1));
}

bool vm_next_reset_shown(const struct vm *vm)
{
    return worth_a_line(vm->resets + 1);
}

static void carry_out(struct vm *vm)
{
    char why[160];
    bool booted = vm_reboot(vm, why, sizeof(why));
    uint64_t n = __atomic_add_fetch(&vm->resets, 1, __ATOMIC_SEQ_CST);
    if (!booted) {
        klog("vm %s: reset failed: %s\n", vm->config.name, why);
        vm_end(vm, -1, "reset failed");
    } else if (worth_a_line(n)) {
        klog("vm %s: reset #%lu (%s)%s\n", vm->config.name, n, vm->reset_why,
             n == RESETS_ALWAYS_SHOWN ? "; further resets shown at powers of two" : "");
    }
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
        sched_hold(vm, VM_HOLD_RESET);
    }
    spin_unlock(&vm->lock);
    if (first)
        vm_reset_progress(vm);      /* its vCPUs may all be off their CPUs already */
    return running;
}

void vm_reset_progress(struct vm *vm)
{
    if (__atomic_load_n(&vm->reset_state, __ATOMIC_ACQUIRE) != VM_RESET_PENDING ||
        !sched_vm_off_cpus(vm))
        return;
    spin_lock(&vm->lock);
    bool mine = vm->reset_state == VM_RESET_PENDING;
    if (mine)
        vm->reset_state = VM_RESET_RUNNING;
    /* An end that came first wins: its vCPUs are being reaped. No end can
     * come later: every vCPU is off its CPU and held there. */
    bool running = vm->state == VM_RUNNING;
    spin_unlock(&vm->lock);
    if (!mine)
        return;
    if (running)
        carry_out(vm);
    spin_lock(&vm->lock);
    vm->reset_state = VM_RESET_NONE;
    sched_unhold(vm, VM_HOLD_RESET);    /* vCPU 0 runs, unless the VM is stopped */
    spin_unlock(&vm->lock);
}

const char *vm_stop(struct vm *vm)
{
    if (vm->state != VM_RUNNING)
        return "has ended";
    if (vm->hold & VM_HOLD_STOP)
        return "is already stopped";
    sched_hold(vm, VM_HOLD_STOP);
    /* They leave at their next entry check, an IPI away: once this returns
     * the VM uses no CPU time. */
    while (!sched_vm_off_cpus(vm))
        cpu_relax();
    return NULL;
}

const char *vm_cont(struct vm *vm)
{
    if (vm->state != VM_RUNNING)
        return "has ended";
    if (!(vm->hold & VM_HOLD_STOP))
        return "is not stopped";
    sched_unhold(vm, VM_HOLD_STOP);
    return NULL;
}

const char *vm_reset(struct vm *vm)
{
    if (!vm_request_reset(vm, "monitor"))
        return "has ended";
    /* Done by this CPU already, or by the CPU its last vCPU leaves. */
    while (__atomic_load_n(&vm->reset_state, __ATOMIC_ACQUIRE) != VM_RESET_NONE)
        cpu_relax();
    return vm->state == VM_RUNNING ? NULL : "has ended (the reset failed)";
}
