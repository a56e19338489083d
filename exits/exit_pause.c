/* PAUSE-loop exiting, like KVM's handle_pause / grow_ple_window /
 * shrink_ple_window / kvm_vcpu_on_spin: a vCPU that spins in a PAUSE loop
 * longer than its window exits; its window grows (so a vCPU that spins for
 * good reason exits less and less) and it offers its CPU to a preempted vCPU
 * of its VM, likely the lock holder it waits for. When the vCPU is
 * scheduled in again, its window shrinks (by default: back to the base).
 * Also the spin guard's hooks (sched/spin_guard.h): PLE exits teach it where
 * the VM spins; slice starts and ends consult it. */
#include "exits/exit_pause.h"
#include "exits/exits.h"
#include "sched/sched.h"
#include "virt/vm.h"
#include "vmx/vmcs.h"
#include "virt/trace.h"

static void set_window(struct vcpu *v, uint32_t window, enum trace_event why)
{
    if (window == v->ple.window)
        return;             /* the VMCS field is written only on a change */
    trace_record(v, why, v->ple.window, window);
    if (why == TRACE_PLE_GROW)
        v->ple.grows++;
    else
        v->ple.shrinks++;
    v->ple.window = window;
    vmcs_write(PLE_WINDOW, window);
    if (window < v->ple.window_min)
        v->ple.window_min = window;
    if (window > v->ple.window_max)
        v->ple.window_max = window;
}

void ple_vcpu_init(struct vcpu *v)
{
    uint32_t base = v->vm->config.ple_params.window;
    v->ple.window = v->ple.window_min = v->ple.window_max = base;
}

void ple_sched_in(struct vcpu *v)
{
    const struct ple_params *p = &v->vm->config.ple_params;
    if (v->vm->ple_enabled)
        set_window(v, ple_window_shrink(v->ple.window, p->window, p->shrink), TRACE_PLE_SHRINK);
}

/* SS.DPL is the CPL (SDM Vol. 3C 25.4.1). */
static bool guest_in_kernel(void)
{
    return (vmcs_read(GUEST_SS_AR_BYTES) >> 5 & 3) == 0;
}

/* Whether the VM's spin guard acts: it works from PLE exits, so only where
 * they happen. */
static bool spin_guard_on(const struct vm *vm)
{
    return vm->ple_enabled && vm->config.spin_guard;
}

/* The loop PLE exits have shown that the vCPU is in, or -1. PLE watches
 * PAUSE at CPL 0 only (SDM Vol. 3C 26.1.3), so every site is a kernel
 * address: user code at the same address is not that loop. */
static int spin_loop_at(const struct vcpu *v)
{
    const struct spin_sites *sites = &v->vm->spin_sites;
    if (!spin_guard_on(v->vm) || !spin_sites_known(sites) || !guest_in_kernel())
        return -1;
    return spin_sites_find(sites, vmcs_read(GUEST_RIP));
}

void ple_slice_start(struct vcpu *v, bool boosted, uint64_t *slice)
{
    /* Running again: no longer a spinner that gave up its CPU. */
    v->vm->dy[v->id].in_spin_loop = false;
    if (!spin_guard_on(v->vm))
        return;
    /* A boost of a vCPU preempted in a spin loop lasts until it is past its
     * lock (first looked at after SPIN_GUARD_RECHECK_CYCLES), at most the
     * slice. One preempted outside any spin loop (the holder the spinner
     * waits for, or the target of its IPI) runs the slice it was lent:
     * where it releases the lock cannot be seen, and cutting its slice
     * short sends the spinner straight back into its loop. */
    bool waiter = boosted && v->ple.preempted_spinning;
    spin_guard_start(&v->ple.guard, waiter, boosted ? *slice : SPIN_GUARD_MAX_CYCLES);
    if (waiter && *slice > SPIN_GUARD_RECHECK_CYCLES)
        *slice = SPIN_GUARD_RECHECK_CYCLES;
}

bool ple_boost_got_past(const struct vcpu *v)
{
    return spin_guard_on(v->vm) && spin_guard_got_past(&v->ple.guard);
}

uint64_t ple_slice_end(struct vcpu *v)
{
    if (!spin_guard_on(v->vm))
        return 0;
    int site = spin_loop_at(v);
    if (site >= 0 && spin_guard_spun_out(&v->ple.guard, v->ple.window)) {
        /* It waits for a vCPU that is not running: holding it is no use. */
        spin_guard_give_up(&v->ple.guard, &v->vm->spin_sites);
        return 0;
    }
    bool first = v->ple.guard.held == 0;
    uint64_t more = spin_guard_hold_at(&v->ple.guard, &v->vm->spin_sites, site);
    if (more) {
        v->ple.held_slices += first;
        v->ple.held_cycles += more;
    }
    return more;
}

void ple_sched_out(struct vcpu *v)
{
    v->ple.preempted_in_kernel = guest_in_kernel();
    v->ple.preempted_spinning = spin_loop_at(v) >= 0;
}

static int boost(void *ctx, uint32_t index)
{
    struct vcpu *spinner = ctx;
    return sched_yield_to(&spinner->se, &spinner->vm->vcpus[index].se, spin_guard_on(spinner->vm));
}

/* KVM's kvm_vcpu_on_spin: refresh the VM's view of its vCPUs, then look for
 * one to boost. Returns whether it runs next on this CPU. */
static bool yield_to_preempted(struct vcpu *v)
{
    struct vm *vm = v->vm;
    for (uint32_t i = 0; i < vm->vcpu_count; i++) {
        const struct vcpu *c = &vm->vcpus[i];
        /* A halted vCPU with an interrupt to take is made runnable when it
         * arrives, so "preempted" covers KVM's "blocked with events" too. */
        vm->dy[i].preempted = c->se.state == VCPU_RUNNABLE && !c->se.on_cpu;
        vm->dy[i].in_kernel = c->ple.preempted_in_kernel;
    }
    v->ple.yields++;
    int boosted = directed_yield(vm->dy, vm->vcpu_count, v->id, &vm->last_boosted_vcpu, boost, v);
    bool here = boosted >= 0 && vm->vcpus[boosted].se.cpu == v->se.cpu;
    /* Giving up its CPU, the spinner remains a spinner until it runs again:
     * others boost it only every other time they look (KVM: preempted in
     * its own yield, still in its spin loop). */
    vm->dy[v->id].in_spin_loop = here;
    if (boosted >= 0)
        v->ple.yields_boosted++;
    else
        v->ple.yields_failed++;
    trace_record(v, TRACE_YIELD, boosted, here);
    return here;
}

enum exit_action handle_pause(struct vcpu *v, struct vm_exit exit)
{
    (void)exit;
    struct vm *vm = v->vm;
    const struct ple_params *p = &vm->config.ple_params;
    v->ple.exits++;
    if (spin_guard_on(vm))
        spin_sites_learn(&vm->spin_sites, vmcs_read(GUEST_RIP));   /* the PAUSE */
    skip_instruction(v);
    set_window(v, ple_window_grow(v->ple.window, p->window, p->grow, p->max), TRACE_PLE_GROW);
    if (!vm->config.directed_yield)
        return EXIT_RESCHEDULE;     /* a plain yield: whoever the scheduler picks */
    return yield_to_preempted(v) ? EXIT_RESCHEDULE : EXIT_RESUME;
}
