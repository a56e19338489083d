/* HLT: the vCPU sleeps until an event ends the halt. Before it blocks it
 * polls a while when its CPU has nothing else to run (KVM's halt polling,
 * halt_poll_ns): a wake-up that comes soon (an IPI answered at once, a
 * timer due shortly) then costs no trip through the scheduler. The window
 * adapts as KVM's does: it grows while halts end within the limit and
 * shrinks when they outlast it. */
#include "exits/exits.h"
#include "dev/vlapic.h"
#include "nested/events.h"
#include "nested/nested.h"
#include "virt/vm.h"
#include "virt/vcpu_state.h"
#include "sched/sched.h"
#include "arch/cpu.h"
#include "arch/tsc.h"
#include "vmx/vmcs.h"

#define HALT_POLL_MAX_US      200     /* KVM's halt_poll_ns default */
#define HALT_POLL_START_US    10      /* KVM's halt_poll_ns_grow_start */
/* The CPU's own work (the monitor's, the console's: sched_cpu_work_pending)
 * is looked for this often while a vCPU polls: that work can wait so long,
 * and the look, a round of calls, kept out of most turns of the loop
 * shortens the wait for a wake-up. */
#define HALT_POLL_WORK_US     10

static uint64_t us_to_cycles(uint64_t us)
{
    return tsc_khz() * us / 1000;
}

void halt_poll_adapt(struct vcpu *v, uint64_t now)
{
    struct vcpu_halt_poll *p = &v->halt_poll;
    if (!p->halted_at)
        return;
    uint64_t halted = now - p->halted_at, max = us_to_cycles(HALT_POLL_MAX_US);
    p->halted_at = 0;
    if (halted <= p->window)
        return;
    if (halted > max)
        p->window = p->window / 2 < us_to_cycles(HALT_POLL_START_US) ? 0 : p->window / 2;
    else if (p->window < max)
        p->window = p->window ? (p->window * 2 > max ? max : p->window * 2)
                              : us_to_cycles(HALT_POLL_START_US);
}

/* Polls for an event that ends the halt until the window ends, the vCPU
 * must stop (slice end, its timers: run_stop) or something else asks for
 * the CPU (its own work looked for every HALT_POLL_WORK_US); its APIC
 * timer is fired when due. True if the halt is over. */
static bool poll_for_wake(struct vcpu *v)
{
    struct vcpu_halt_poll *p = &v->halt_poll;
    if (!p->window || nested_in_l2(v) || !sched_cpu_alone(v->se.cpu))
        return false;
    struct vlapic *apic = v->apic;
    uint64_t start = rdtsc(), end = start + p->window;
    uint64_t work_period = us_to_cycles(HALT_POLL_WORK_US), work_check = start;
    __atomic_store_n(&p->active, true, __ATOMIC_SEQ_CST);
    /* One look first: a waker that came before `active` poked, and one
     * after it may have counted before `seen` was read. */
    uint32_t seen = __atomic_load_n(&p->wakes, __ATOMIC_SEQ_CST);
    bool woken = vcpu_halt_wake_pending(v);
    while (!woken) {
        uint64_t now = rdtsc();
        if (apic->timer_armed && (int64_t)(now - apic->timer_deadline) >= 0 &&
            vlapic_timer_expire(apic, now) && vcpu_halt_wake_pending(v)) {
            woken = true;
            break;
        }
        uint32_t wakes = __atomic_load_n(&p->wakes, __ATOMIC_SEQ_CST);
        if (wakes != seen) {
            seen = wakes;
            if (vcpu_halt_wake_pending(v)) {
                woken = true;
                break;
            }
        }
        if ((int64_t)(now - end) >= 0 || (int64_t)(now - v->run_stop) >= 0 ||
            (__atomic_load_n(&v->requests, __ATOMIC_RELAXED) & ~(REQ_EVENT | REQ_TIMER)))
            break;
        if ((int64_t)(now - work_check) >= 0) {
            if (sched_cpu_work_pending(v->se.cpu))
                break;
            work_check = now + work_period;
        }
        cpu_relax();
    }
    __atomic_store_n(&p->active, false, __ATOMIC_SEQ_CST);
    return woken;
}

enum exit_action handle_hlt(struct vcpu *vcpu, struct vm_exit exit)
{
    (void)exit;
    uint64_t halted_at = rdtsc();
    skip_instruction(vcpu);
    /* The vCPU sleeps until an interrupt it can take (only with IF set, but
     * in L2 also one that exits to L1) or an INIT; an interrupt is taken
     * after the HLT, as on hardware. */
    bool exits_to_l1 = nested_in_l2(vcpu) && nested_l2_halts(vcpu);
    vcpu->halt_interruptible = (vmcs_read(GUEST_RFLAGS) & RFLAGS_IF) || exits_to_l1;
    if ((vcpu->halt_interruptible && vlapic_pending_vector(vcpu->apic) >= 0) ||
        poll_for_wake(vcpu)) {
        vcpu_request(vcpu, REQ_EVENT);
        return EXIT_RESUME;
    }
    bool blocked = vcpu_block(vcpu, VCPU_HALTED);
    vcpu->halt_poll.halted_at = halted_at;
    if (blocked)
        return EXIT_RESCHEDULE;
    /* Woken as it blocked: the halt outlasted the window all the same. */
    halt_poll_adapt(vcpu, rdtsc());
    return EXIT_RESUME;
}
