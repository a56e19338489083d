/* Machine resets carried out (machine/vm_reset.h) and the monitor's
 * `reset` (machine/machine.h). */
#include "machine/machine.h"
#include "machine/vm_reset.h"
#include "machine/vm_power.h"
#include "virt/vm.h"
#include "virt/vm_lifecycle.h"
#include "arch/cpu.h"
#include "arch/serial.h"
#include "lib/printf.h"

static void carry_out(struct vm *vm)
{
    char why[160];
    bool shown = vm_next_reset_shown(vm);
    bool booted = vm_reboot(vm, why, sizeof(why));
    uint64_t n = __atomic_add_fetch(&vm->resets, 1, __ATOMIC_SEQ_CST);
    if (!booted) {
        klog("vm %s: reset failed: %s\n", vm->config.name, why);
        vm_end(vm, -1, "reset failed");
    } else if (shown) {
        klog("vm %s: reset #%lu (%s)%s\n", vm->config.name, n, vm->reset_why,
             n == RESETS_ALWAYS_SHOWN ? "; further resets shown at powers of two" : "");
    }
}

void vm_reset_progress(struct vm *vm)
{
    if (__atomic_load_n(&vm->reset_state, __ATOMIC_ACQUIRE) != VM_RESET_PENDING ||
        !sched_group_off_cpus(&vm->sched))
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
    sched_unhold(&vm->sched, VM_HOLD_RESET);    /* vCPU 0 runs, unless the VM is stopped */
    spin_unlock(&vm->lock);
}

const char *vm_reset(struct vm *vm)
{
    if (!vm_request_reset(vm, "monitor"))
        return "has ended";
    vm_reset_progress(vm);      /* its vCPUs may all be off their CPUs already */
    /* Done by this CPU already, or by the CPU its last vCPU leaves. */
    while (__atomic_load_n(&vm->reset_state, __ATOMIC_ACQUIRE) != VM_RESET_NONE)
        cpu_relax();
    return vm->state == VM_RUNNING ? NULL : "has ended (the reset failed)";
}
