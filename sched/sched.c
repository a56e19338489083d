/* Run queues and the loop every CPU runs (the mechanism); the decisions are
 * sched/sched_policy.c's. One lock covers all run queues: decisions are rare
 * (slice ends, halts, steals) next to VM exits, and it keeps stealing simple. */
#include "sched/sched.h"
#include "virt/vcpu.h"
#include "exits/exit_pause.h"
#include "dev/irq.h"
#include "dev/pit_access.h"
#include "virt/vm_lifecycle.h"
#include "arch/bootinfo.h"
#include "arch/cpu.h"
#include "arch/interrupts.h"
#include "arch/lapic.h"
#include "arch/percpu.h"
#include "arch/platform.h"
#include "lib/printf.h"
#include "mon/monitor.h"

static const struct sched_policy *policy = &sched_policy_fair;
static spinlock_t sched_lock = SPINLOCK_INIT;
static struct run_queue_state queues[MAX_CPUS];
static struct run_queue_state *queue_of[MAX_CPUS];  /* for the balancing policy */
static volatile bool cpu_idle[MAX_CPUS];
/* Set by kick() before its IPI and cleared by the CPU at the top of its
 * loop: a kick whose IPI lands before the CPU halts is not lost. */
static volatile bool resched[MAX_CPUS];
/* The slice of a vCPU that directed yield boosted: enough to take a lock,
 * run its critical section and release it; then the CPU picks again. With
 * the spin guard it ends as soon as the vCPU is past the lock (at most
 * this), and the spinner that lent its CPU gets it back. */
#define BOOST_SLICE_CYCLES 50000
/* The vCPU each CPU runs: a kick also puts a request on it, so its entry
 * path tests one word (its requests) rather than this CPU's flag too. */
static struct vcpu *volatile running_on[MAX_CPUS];
static struct vcpu *last_run[MAX_CPUS];     /* the vCPU each CPU ran last */
/* Each CPU's loan (see lend_cpu): the borrower runs next, then, if it got
 * past its lock, the lender (`returning`). */
static struct cpu_loan {
    struct sched_entity *borrower, *lender;
    bool returning;
} loans[MAX_CPUS];
static bool exit_when_vms_end;      /* kernel command line "batch" */

static void reschedule_interrupt(struct trap_frame *frame)
{
    (void)frame;    /* waking the CPU (or making its guest exit) is the point */
}

/* The host LAPIC timer: a halted vCPU's timer is due, or (without the
 * VMX-preemption timer) a slice is over. */
static void timer_interrupt(struct trap_frame *frame)
{
    (void)frame;
    __atomic_store_n(&resched[this_cpu()->index], true, __ATOMIC_RELEASE);
}

void sched_init(void)
{
    interrupt_register(VECTOR_RESCHEDULE, reschedule_interrupt);
    interrupt_register(VECTOR_TIMER, timer_interrupt);
    exit_when_vms_end = bootinfo_cmdline_flag("batch");
    for (uint32_t cpu = 0; cpu < MAX_CPUS; cpu++)
        queue_of[cpu] = &queues[cpu];
}

/* Makes the CPU leave its guest, if it runs one, without asking it to
 * reschedule: the vCPU there looks at its events before entering again. */
static void poke(uint32_t cpu)
{
    if (cpu != this_cpu()->index)
        lapic_send_ipi(percpu[cpu].apic_id, ICR_FIXED | VECTOR_RESCHEDULE);
}

/* Makes the CPU look at its run queue. Paired with vcpu_run's check of
 * the flag after running_on is set: one of the two sees the other. */
static void kick(uint32_t cpu)
{
    __atomic_store_n(&resched[cpu], true, __ATOMIC_SEQ_CST);
    struct vcpu *v = __atomic_load_n(&running_on[cpu], __ATOMIC_SEQ_CST);
    if (v)
        vcpu_request(v, REQ_RESCHED);
    poke(cpu);
}

static bool vcpu_has_wake_event(struct vcpu *v, enum vcpu_state blocked_in)
{
    if (__atomic_load_n(&v->init_pending, __ATOMIC_SEQ_CST))
        return true;
    if (blocked_in == VCPU_WAIT_SIPI)
        return __atomic_load_n(&v->sipi_vector, __ATOMIC_SEQ_CST) >= 0;
    return v->halt_interruptible &&
           (vlapic_pending_vector(&v->apic) >= 0 || vm_extint_pending(v));
}

/* A blocked vCPU wakes: counted, so that a scan for "every vCPU blocked"
 * that raced with it can tell (end_vm_if_all_halted). */
static bool unblock(struct vcpu *v, enum vcpu_state from, enum vcpu_state to)
{
    if (!vcpu_transition(v, from, to))
        return false;
    __atomic_add_fetch(&v->vm->wakeups, 1, __ATOMIC_SEQ_CST);
    return true;
}

/* Blocked to runnable (under sched_lock). Whether the CPU's running vCPU
 * should give way to it (the policy decides; an idle CPU just wakes). */
static bool make_runnable(struct vcpu *v)
{
    struct run_queue_state *q = &queues[v->cpu];
    v->se.runnable = true;
    policy->wake(q, &v->se);
    v->ready_since = rdtsc();
    if (v->vm->hold)
        return false;       /* it waits for sched_unhold; the next pick sees it held */
    for (uint32_t i = 0; i < q->count; i++)
        if (q->entities[i]->on_cpu)
            return policy->preempts(q, &v->se, q->entities[i]);
    return true;
}

void sched_wake(struct vcpu *v)
{
    enum vcpu_state s = v->state;
    if (s == VCPU_RUNNING) {
        poke(v->cpu);
        return;
    }
    if ((s != VCPU_HALTED && s != VCPU_WAIT_SIPI) || !vcpu_has_wake_event(v, s) ||
        !unblock(v, s, VCPU_RUNNABLE))
        return;
    spin_lock(&sched_lock);
    bool preempt = make_runnable(v);
    uint32_t cpu = v->cpu;
    spin_unlock(&sched_lock);
    if (preempt)
        kick(cpu);
}

/* Moves a waiting vCPU to `cpu`'s queue, keeping its place relative to the
 * queue it joins (under sched_lock). False if that queue is full. */
static bool move_to(struct vcpu *v, uint32_t cpu)
{
    struct run_queue_state *from = &queues[v->cpu], *to = &queues[cpu];
    struct sched_entity *e = &v->se;
    if (to->count == SCHED_MAX_ENTITIES)
        return false;
    run_queue_remove(from, e);
    e->vruntime = e->vruntime > from->min_vruntime ? e->vruntime - from->min_vruntime : 0;
    e->vruntime += to->min_vruntime;
    run_queue_add(to, e);
    v->cpu = cpu;
    return true;
}

/* Whether a boosted vCPU of `vm` may take `cpu` now (under sched_lock): it
 * is idle or runs another VM's vCPU, which loses the rest of its slice but
 * not its place (the spinner pays for the boost, see sched_yield_to). A
 * vCPU of its own VM is not pushed off: it may wait for the same lock. */
static bool free_for(const struct vm *vm, const struct sched_entity *e, uint32_t cpu)
{
    const struct vcpu *running = running_on[cpu];
    if (!percpu[cpu].online || !(e->affinity >> cpu & 1))
        return false;
    return cpu_idle[cpu] || (running && running->vm != vm);
}

/* Where a boosted vCPU should run (under sched_lock): its own CPU if that
 * is free for it (no move), another free one, else the spinner's CPU, which
 * the spinner gives up. */
static uint32_t boost_cpu(const struct vcpu *me, const struct vcpu *target)
{
    if (free_for(me->vm, &target->se, target->cpu))
        return target->cpu;
    for (uint32_t cpu = 0; cpu < cpu_count; cpu++)
        if (cpu != target->cpu && free_for(me->vm, &target->se, cpu))
            return cpu;
    return target->se.affinity >> me->cpu & 1 ? me->cpu : target->cpu;
}

/* The boosted vCPU goes just ahead of `cpu`'s queue (under sched_lock).
 * Zero-sum: the spinner pays for the head start it gives, so a VM whose
 * vCPUs boost one another gains nothing on other VMs. 1, or -1 if the
 * target is too far behind to be worth the credit. */
static int boost_paid(struct vcpu *me, struct vcpu *target, uint32_t cpu)
{
    uint64_t before = target->se.vruntime;
    if (!policy->boost(&queues[cpu], &target->se))
        return -1;
    me->se.vruntime += before - target->se.vruntime;
    target->se.boosted = true;
    return 1;
}

/* With the spin guard, a boost onto the spinner's own CPU is a loan of its
 * time (under sched_lock): the borrower runs next on the lender's account,
 * leaving every virtual runtime as it was (paying for head starts instead
 * piles the payments of a convoy's many boosts on a few vCPUs until no boost
 * fits the credit), and once past its lock gives the CPU back. */
static void lend_cpu(uint32_t cpu, struct vcpu *lender, struct vcpu *borrower)
{
    loans[cpu] = (struct cpu_loan){ .borrower = &borrower->se, .lender = &lender->se };
    borrower->se.boosted = true;
}

int sched_yield_to(struct vcpu *me, struct vcpu *target)
{
    spin_lock(&sched_lock);
    int result = target->state == VCPU_RUNNABLE && !target->se.on_cpu ? 1 : 0;
    uint32_t cpu = target->cpu;
    if (result) {
        cpu = boost_cpu(me, target);
        if (cpu != target->cpu && !move_to(target, cpu))
            result = -1;        /* that queue is full */
    }
    if (result > 0 && cpu == me->cpu && spin_guard_on(me->vm))
        lend_cpu(cpu, me, target);
    else if (result > 0)
        result = boost_paid(me, target, cpu);
    spin_unlock(&sched_lock);
    if (result > 0 && cpu != me->cpu)
        kick(cpu);      /* its CPU picks again; on this one, the caller reschedules */
    return result;
}

bool vcpu_block(struct vcpu *v, enum vcpu_state blocked_in)
{
    if (!vcpu_transition(v, VCPU_RUNNING, blocked_in))
        return true;
    /* A waker that saw the vCPU still running only poked its CPU: look
     * again now that the state says blocked. */
    if (vcpu_has_wake_event(v, blocked_in) && unblock(v, blocked_in, VCPU_RUNNING))
        return false;
    return true;
}

static struct vcpu *vcpu_of(struct sched_entity *e)
{
    return e->owner;
}

/* The least-loaded online CPU in `affinity`, or MAX_CPUS (under sched_lock). */
static uint32_t least_loaded_cpu(uint64_t affinity)
{
    uint32_t best = MAX_CPUS;
    for (uint32_t cpu = 0; cpu < cpu_count; cpu++) {
        if (!percpu[cpu].online || !(affinity >> cpu & 1) ||
            queues[cpu].count == SCHED_MAX_ENTITIES)
            continue;
        if (best == MAX_CPUS || queues[cpu].count < queues[best].count)
            best = cpu;
    }
    return best;
}

void sched_place(struct vcpu *v)
{
    struct vm *vm = v->vm;
    v->se = (struct sched_entity){ .weight = vm->config.weight * WEIGHT_DEFAULT / 100,
                                   .affinity = vm->config.affinity, .owner = v };
    spin_lock(&sched_lock);
    uint32_t best = least_loaded_cpu(v->se.affinity);
    if (best != MAX_CPUS) {
        v->cpu = best;
        run_queue_add(&queues[best], &v->se);
        if (v->state == VCPU_RUNNABLE)
            (void)make_runnable(v);     /* the kick below is for a new vCPU anyway */
    }
    spin_unlock(&sched_lock);
    if (best == MAX_CPUS) {
        klog("vm %s: vcpu %u: no online CPU in its affinity; stopping the VM\n", vm->config.name,
             v->id);
        v->state = VCPU_STOPPED;
        vm_end(vm, -1, "no CPU to run on");
        vm_vcpu_released(vm);      /* never queued, so no CPU will reap it */
        return;
    }
    kick(best);
}

void sched_timer_changed(struct vcpu *v)
{
    enum vcpu_state s = v->state;
    if (s == VCPU_RUNNING)
        poke(v->cpu);       /* its run loop looks at its requests */
    else if (s == VCPU_HALTED)
        kick(v->cpu);       /* its CPU computes when to wake it */
}

void sched_stop_vcpu(struct vcpu *v)
{
    enum vcpu_state s = v->state;
    while (s != VCPU_STOPPED && !vcpu_transition(v, s, VCPU_STOPPED))
        s = v->state;
    vcpu_request(v, REQ_RESCHED);
    kick(v->cpu);
}

void sched_hold(struct vm *vm, uint32_t why)
{
    /* Under the lock: a pick made before this is on its CPU and is kicked
     * below; every pick after it sees the hold (refresh_runnable). */
    spin_lock(&sched_lock);
    vm->hold |= why;
    spin_unlock(&sched_lock);
    for (uint32_t i = 0; i < vm->vcpu_count; i++)
        kick(vm->vcpus[i].cpu);
}

void sched_power_on_vcpu(struct vcpu *v, void (*power_on)(struct vcpu *v))
{
    spin_lock(&sched_lock);
    power_on(v);
    spin_unlock(&sched_lock);
}

void sched_unhold(struct vm *vm, uint32_t why)
{
    spin_lock(&sched_lock);
    vm->hold &= ~why;
    bool free = !vm->hold;
    /* Placed again as woken vCPUs are: a long stop earns no head start. */
    for (uint32_t i = 0; free && i < vm->vcpu_count; i++)
        if (vm->vcpus[i].state == VCPU_RUNNABLE)
            (void)make_runnable(&vm->vcpus[i]);
    spin_unlock(&sched_lock);
    for (uint32_t i = 0; free && i < vm->vcpu_count; i++)
        if (vm->vcpus[i].state == VCPU_RUNNABLE)
            kick(vm->vcpus[i].cpu);
}

bool sched_vm_off_cpus(struct vm *vm)
{
    bool off = true;
    spin_lock(&sched_lock);
    for (uint32_t i = 0; i < vm->vcpu_count; i++)
        off &= !vm->vcpus[i].se.on_cpu;
    spin_unlock(&sched_lock);
    return off;
}

/* Releases this CPU's stopped vCPUs; the last one of a VM finishes it. */
static void reap_stopped(struct run_queue_state *q)
{
    for (;;) {
        struct vcpu *dead = NULL;
        spin_lock(&sched_lock);
        for (uint32_t i = 0; i < q->count && !dead; i++)
            if (vcpu_of(q->entities[i])->state == VCPU_STOPPED && !q->entities[i]->on_cpu)
                dead = vcpu_of(q->entities[i]);
        if (dead)
            run_queue_remove(q, &dead->se);
        spin_unlock(&sched_lock);
        if (!dead)
            return;
        vcpu_release(dead);
        vm_vcpu_released(dead->vm);
        kick(0);        /* CPU 0 decides whether the hypervisor is done */
    }
}

/* Runnable = wants a CPU (waiting for one, or on one right now) and may
 * have one: its VM is not held (stopped, or being reset). */
static void refresh_runnable(struct run_queue_state *q)
{
    for (uint32_t i = 0; i < q->count; i++) {
        const struct vcpu *v = vcpu_of(q->entities[i]);
        enum vcpu_state s = v->state;
        q->entities[i]->runnable = (s == VCPU_RUNNABLE || s == VCPU_RUNNING) && !v->vm->hold;
    }
}

/* Takes a waiting vCPU from a busier CPU if the policy says so (under
 * sched_lock). */
static struct sched_entity *steal(uint32_t me)
{
    for (uint32_t cpu = 0; cpu < cpu_count; cpu++)
        refresh_runnable(&queues[cpu]);
    struct sched_entity *e = sched_balance_pick(queue_of, cpu_count, me);
    if (!e)
        return NULL;
    return move_to(vcpu_of(e), me) ? e : NULL;
}

/* Moves off this CPU the waiting vCPUs whose affinity no longer includes it
 * (under sched_lock); returns a bit per CPU that received one. */
static uint64_t evict_disallowed(uint32_t me)
{
    struct run_queue_state *q = &queues[me];
    uint64_t kicked = 0;
    for (uint32_t i = 0; i < q->count;) {
        struct sched_entity *e = q->entities[i];
        /* Only vCPUs that want to run move now: a halted one would leave its
         * VMCS active here with nothing to run it elsewhere. */
        bool movable = !(e->affinity >> me & 1) && !e->on_cpu &&
                       vcpu_of(e)->state == VCPU_RUNNABLE;
        uint32_t to = movable ? least_loaded_cpu(e->affinity) : MAX_CPUS;
        if (to == MAX_CPUS) {
            i++;
            continue;
        }
        run_queue_remove(q, e);
        e->vruntime = queues[to].min_vruntime;
        run_queue_add(&queues[to], e);
        vcpu_of(e)->cpu = to;
        kicked |= 1ull << to;
    }
    return kicked;
}

bool sched_set_affinity(struct vm *vm, uint64_t affinity)
{
    spin_lock(&sched_lock);
    bool possible = least_loaded_cpu(affinity) != MAX_CPUS;
    if (possible) {
        vm->config.affinity = affinity;
        for (uint32_t i = 0; i < vm->vcpu_count; i++)
            vm->vcpus[i].se.affinity = affinity;
    }
    spin_unlock(&sched_lock);
    /* Each CPU holding one of its vCPUs looks at its queue again. */
    for (uint32_t i = 0; possible && i < vm->vcpu_count; i++)
        kick(vm->vcpus[i].cpu);
    return possible;
}

/* The VM's PIT interrupt is raised at its time by vCPU 0's run loop, or
 * by the CPU where vCPU 0 halts: its deadline if this is that vCPU, or 0. */
static uint64_t halted_pit_deadline(const struct vcpu *v)
{
    return v->id == 0 && v->state == VCPU_HALTED ? pit_deadline(v->vm) : 0;
}

/* Whether a blocked vCPU's own timer can still wake it: an interrupt it
 * could take (a timer it would not take only costs host wake-ups). */
static bool apic_timer_can_wake(const struct vcpu *v)
{
    return v->state == VCPU_HALTED && v->halt_interruptible && vlapic_timer_can_interrupt(&v->apic);
}

/* Its APIC timer, or for vCPU 0 the PIT, wherever its interrupt is routed. */
static bool timer_can_wake(const struct vcpu *v)
{
    return apic_timer_can_wake(v) || (v->halt_interruptible && halted_pit_deadline(v));
}

/* Raises the due PIT interrupts of the VMs whose vCPU 0 halts on this CPU
 * (not under sched_lock: raising one may wake vCPUs). */
static void expire_halted_pits(uint32_t me, uint64_t now)
{
    for (uint32_t i = 0; i < vm_count; i++) {
        struct vcpu *v = vms[i].vcpus;
        /* A VM being reset has its devices and vCPUs rebuilt: nothing of
         * the old boot may reach the new one. */
        if (!vm_has_finished(&vms[i]) && !(vms[i].hold & VM_HOLD_RESET) && v && v->cpu == me &&
            halted_pit_deadline(v))
            pit_expire(&vms[i], now);
    }
}

/* Every vCPU blocked with nothing that could wake it (no timer, and no
 * running vCPU to send an IPI): the VM is over. A wake-up during the scan
 * makes the scan worthless: the wake-up count says whether one happened. */
static void end_vm_if_all_halted(struct vm *vm)
{
    uint64_t wakeups = __atomic_load_n(&vm->wakeups, __ATOMIC_SEQ_CST);
    for (uint32_t i = 0; i < vm->vcpu_count; i++) {
        const struct vcpu *v = &vm->vcpus[i];
        if ((v->state != VCPU_HALTED && v->state != VCPU_WAIT_SIPI && v->state != VCPU_STOPPED) ||
            timer_can_wake(v))
            return;
    }
    if (__atomic_load_n(&vm->wakeups, __ATOMIC_SEQ_CST) == wakeups)
        vm_end(vm, 0, "all vCPUs halted");
}

/* Raises the due timer interrupts of this CPU's halted vCPUs and wakes them
 * (under sched_lock: they cannot be picked meanwhile). Returns the earliest
 * deadline still ahead, or 0. */
static uint64_t expire_blocked_timers(struct run_queue_state *q, uint64_t now)
{
    uint64_t next = 0;
    for (uint32_t i = 0; i < q->count; i++) {
        struct vcpu *v = vcpu_of(q->entities[i]);
        if (v->vm->hold & VM_HOLD_RESET)
            continue;   /* its vCPUs are being rebuilt (virt/vm_lifecycle.c) */
        uint64_t pit = halted_pit_deadline(v);
        if (pit && (!next || (int64_t)(pit - next) < 0))
            next = pit;
        if (!apic_timer_can_wake(v))
            continue;
        vlapic_timer_expire(&v->apic, now);
        if (vcpu_has_wake_event(v, VCPU_HALTED) && unblock(v, VCPU_HALTED, VCPU_RUNNABLE)) {
            vcpu_request(v, REQ_EVENT);
            (void)make_runnable(v);     /* this CPU is about to pick anyway */
        } else if (apic_timer_can_wake(v) &&
                   (!next || (int64_t)(v->apic.timer_deadline - next) < 0)) {
            next = v->apic.timer_deadline;
        }
    }
    return next;
}

/* Whether `e` can run on `cpu` now (under sched_lock). */
static bool ready_here(struct sched_entity *e, uint32_t cpu)
{
    return e->runnable && !e->on_cpu && vcpu_of(e)->cpu == cpu;
}

/* The entity this CPU's loan says runs next, if it still can (under
 * sched_lock). A lender taking its CPU back ends the loan; it is back for a
 * boost's time, to get past its own lock, and not for a fresh slice: picks
 * that skip the queue's order must not add up to more than the lender's
 * share, which other VMs on this CPU would pay for. */
static struct sched_entity *loan_pick(uint32_t cpu)
{
    struct cpu_loan *loan = &loans[cpu];
    struct sched_entity *next = loan->returning ? loan->lender : loan->borrower;
    if (!next || !ready_here(next, cpu)) {
        *loan = (struct cpu_loan){ 0 };
        return NULL;
    }
    if (loan->returning) {
        next->boosted = true;
        *loan = (struct cpu_loan){ 0 };
    }
    return next;
}

/* Who pays for `v`'s run on `cpu`: the lender if `v` borrowed the time. A
 * borrower that got past its lock gives the CPU back; one that spun on does
 * not, or two spinners could hand the CPU to each other for ever past the
 * vCPU they wait for (under sched_lock). */
static struct sched_entity *settle_loan(struct vcpu *v, uint32_t cpu)
{
    struct cpu_loan *loan = &loans[cpu];
    if (loan->borrower != &v->se || loan->returning)
        return &v->se;
    struct sched_entity *lender = loan->lender;
    loan->returning = ple_boost_got_past(v);
    if (!loan->returning)
        *loan = (struct cpu_loan){ 0 };
    return lender;
}

/* The next vCPU for this CPU, marked on_cpu, and its slice; NULL if there
 * is none. */
static struct vcpu *pick_next(uint32_t me, uint64_t *slice, bool *boosted,
                              uint64_t *next_timer)
{
    expire_halted_pits(me, rdtsc());
    spin_lock(&sched_lock);
    struct run_queue_state *q = &queues[me];
    uint64_t now = rdtsc();
    *next_timer = expire_blocked_timers(q, now);
    uint64_t receivers = evict_disallowed(me);
    struct sched_entity *stolen = steal(me);
    if (stolen)
        policy->wake(q, stolen);
    struct sched_entity *e = loan_pick(me);
    if (!e)
        e = policy->pick_next(q);
    if (e) {
        e->on_cpu = true;
        *slice = policy->slice(q, e);
        /* A boost is for getting past a lock, not a slice at others' expense. */
        *boosted = e->boosted;
        if (e->boosted && *slice > BOOST_SLICE_CYCLES)
            *slice = BOOST_SLICE_CYCLES;
        e->boosted = false;
        /* Stop in time for the next timer of a vCPU halted here. */
        if (*next_timer && (int64_t)(*next_timer - now) < (int64_t)*slice)
            *slice = (int64_t)(*next_timer - now) > 0 ? *next_timer - now : 0;
    }
    /* More waiting here than this CPU can run: let an idle CPU come and take. */
    bool crowded = run_queue_runnable(q) > 1;
    spin_unlock(&sched_lock);
    for (uint32_t cpu = 0; receivers; cpu++, receivers >>= 1)
        if (receivers & 1)
            kick(cpu);
    for (uint32_t cpu = 0; crowded && cpu < cpu_count; cpu++)
        if (cpu_idle[cpu] && cpu != me)
            kick(cpu);
    return e ? vcpu_of(e) : NULL;
}

static void run_slice(struct vcpu *v, uint32_t me, uint64_t slice, bool boosted)
{
    uint64_t start = rdtsc();
    v->wait_cycles += start - v->ready_since;
    if (vcpu_load(v)) {
        /* KVM's sched-in hook runs when a CPU switches to another task, not
         * when the same vCPU continues. */
        if (last_run[me] != v)
            ple_sched_in(v);
        last_run[me] = v;
        __atomic_store_n(&running_on[me], v, __ATOMIC_SEQ_CST);
        if (!__atomic_load_n(&resched[me], __ATOMIC_SEQ_CST))
            vcpu_run(v, slice, boosted);
        __atomic_store_n(&running_on[me], NULL, __ATOMIC_SEQ_CST);
        vcpu_put(v);
    }
    uint64_t end = rdtsc();
    v->run_cycles += end - start;
    /* Still on the CPU: a reset waits for that, so it never meets an end. */
    if (v->state == VCPU_HALTED)
        end_vm_if_all_halted(v->vm);
    spin_lock(&sched_lock);
    policy->charge(&queues[me], settle_loan(v, me), end - start);
    v->se.on_cpu = false;
    v->ready_since = end;
    spin_unlock(&sched_lock);
    if (v->vm->hold)
        vm_reset_progress(v->vm);
}

void cpu_loop(void)
{
    uint32_t me = this_cpu()->index;
    for (;;) {
        __atomic_store_n(&resched[me], false, __ATOMIC_RELEASE);
        reap_stopped(&queues[me]);
        if (me == 0) {
            monitor_poll();
            if (exit_when_vms_end && all_vms_ended())
                platform_exit(EXIT_OK);
        }
        uint64_t slice = 0, next_timer = 0;
        bool boosted = false;
        struct vcpu *v = pick_next(me, &slice, &boosted, &next_timer);
        if (v) {
            run_slice(v, me, slice, boosted);
            continue;
        }
        /* Idle: sleep until an interrupt, at the latest the next timer of a
         * vCPU halted here. */
        irq_disable();
        if (next_timer)     /* with interrupts off: a timer already due stays pending */
            lapic_timer_arm(next_timer);
        cpu_idle[me] = true;
        if (!__atomic_load_n(&resched[me], __ATOMIC_ACQUIRE) &&
            !(me == 0 && monitor_input_pending()))
            irq_enable_and_halt();
        cpu_idle[me] = false;
        irq_enable();
    }
}

void sched_print_queues(void)
{
    spin_lock(&sched_lock);
    for (uint32_t cpu = 0; cpu < cpu_count; cpu++) {
        struct run_queue_state *q = &queues[cpu];
        kprintf("cpu %u: %s, %u vCPU(s), min vruntime %lu:", cpu, cpu_idle[cpu] ? "idle" : "busy",
                q->count, q->min_vruntime);
        for (uint32_t i = 0; i < q->count; i++) {
            struct vcpu *v = vcpu_of(q->entities[i]);
            kprintf(" %s/%u%s", v->vm->config.name, v->id, q->entities[i]->on_cpu ? "*" : "");
        }
        kprintf("\n");
    }
    spin_unlock(&sched_lock);
}
