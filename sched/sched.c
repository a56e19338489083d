/* Run queues and the loop every CPU runs (the mechanism); the decisions are
 * sched/sched_policy.c's. One lock covers all run queues: decisions are rare
 * (slice ends, halts, steals) next to VM exits, and it keeps stealing simple. */
#include "sched/sched.h"
#include "arch/cpu.h"
#include "arch/interrupts.h"
#include "arch/lapic.h"
#include "arch/percpu.h"
#include "lib/printf.h"
#include "lib/spinlock.h"
#include "arch/platform.h"

static const struct sched_policy *policy = &sched_policy_fair;
static spinlock_t sched_lock = SPINLOCK_INIT;
static struct run_queue_state queues[MAX_CPUS];
static struct run_queue_state *queue_of[MAX_CPUS];  /* for the balancing policy */
static volatile bool cpu_idle[MAX_CPUS];
/* Set by kick() before its IPI and cleared by the CPU at the top of its
 * loop: a kick whose IPI lands before the CPU halts is not lost. */
static volatile bool resched[MAX_CPUS];
/* A time at which the CPU's work wants to run though nothing else wakes
 * the CPU (sched_cpu_wake_at), or 0. */
static volatile uint64_t work_wake_at[MAX_CPUS];
/* The slice of a vCPU that directed yield boosted: enough to take a lock,
 * run its critical section and release it; then the CPU picks again. With
 * the spin guard it ends as soon as the vCPU is past the lock (at most
 * this), and the spinner that lent its CPU gets it back. */
#define BOOST_SLICE_CYCLES 50000
/* An entity given the CPU runs at least this long, whatever its load took
 * or however soon a timer is due: a vCPU enters its guest at least once
 * on a CPU it was moved to. */
#define RUN_AT_LEAST_CYCLES 5000
/* The entity each CPU runs: a kick also puts a request on it, so a vCPU's
 * entry path tests one word (its requests) rather than this CPU's flag too. */
static struct sched_entity *volatile running_on[MAX_CPUS];
static struct sched_entity *last_run[MAX_CPUS];    /* the entity each CPU ran last */
/* Each CPU's loan (see lend_cpu): the borrower runs next, then, if it got
 * past its lock, the lender (`returning`). */
static struct cpu_loan {
    struct sched_entity *borrower, *lender;
    bool returning;
} loans[MAX_CPUS];
/* The layers above's work in every CPU's loop (sched_add_cpu_work). */
#define MAX_CPU_WORK 8
static struct {
    void (*work)(uint32_t cpu);
    bool (*pending)(uint32_t cpu);
} cpu_work[MAX_CPU_WORK];
static unsigned cpu_work_count;

static void reschedule_interrupt(struct trap_frame *frame)
{
    (void)frame;    /* waking the CPU (or making its guest exit) is the point */
}

static void notify_interrupt(struct trap_frame *frame)
{
    (void)frame;    /* the guest's exit is the point */
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
    interrupt_register(VECTOR_NOTIFY, notify_interrupt);
    interrupt_register(VECTOR_TIMER, timer_interrupt);
    for (uint32_t cpu = 0; cpu < MAX_CPUS; cpu++)
        queue_of[cpu] = &queues[cpu];
}

void sched_add_cpu_work(void (*work)(uint32_t cpu), bool (*pending)(uint32_t cpu))
{
    if (cpu_work_count == MAX_CPU_WORK)
        panic("sched: more than %u kinds of CPU work", MAX_CPU_WORK);
    cpu_work[cpu_work_count].work = work;
    cpu_work[cpu_work_count].pending = pending;
    cpu_work_count++;
}

bool sched_cpu_work_pending(uint32_t cpu)
{
    for (unsigned i = 0; i < cpu_work_count; i++)
        if (cpu_work[i].pending && cpu_work[i].pending(cpu))
            return true;
    return false;
}

bool sched_cpu_alone(uint32_t cpu)
{
    spin_lock(&sched_lock);
    bool alone = run_queue_runnable(&queues[cpu]) <= 1;
    spin_unlock(&sched_lock);
    return alone;
}

void sched_cpu_wake_at(uint32_t cpu, uint64_t tsc)
{
    __atomic_store_n(&work_wake_at[cpu], tsc, __ATOMIC_RELEASE);
    sched_poke(cpu);
}

void sched_poke(uint32_t cpu)
{
    if (cpu != this_cpu()->index)
        lapic_send_ipi(percpu[cpu].apic_id, ICR_FIXED | VECTOR_RESCHEDULE);
}

void sched_notify(uint32_t cpu)
{
    if (cpu != this_cpu()->index)
        lapic_send_ipi(percpu[cpu].apic_id, ICR_FIXED | VECTOR_NOTIFY);
}

/* Paired with run_slice's check of the flag after running_on is set: one
 * of the two sees the other. */
void sched_kick(uint32_t cpu)
{
    __atomic_store_n(&resched[cpu], true, __ATOMIC_SEQ_CST);
    struct sched_entity *e = __atomic_load_n(&running_on[cpu], __ATOMIC_SEQ_CST);
    if (e)
        e->ops->request_resched(e);
    sched_poke(cpu);
}

void sched_locked(void (*fn)(void *arg), void *arg)
{
    spin_lock(&sched_lock);
    fn(arg);
    spin_unlock(&sched_lock);
}

/* Blocked to waiting (under sched_lock). Whether the CPU's running entity
 * should give way to it (the policy decides; an idle CPU just wakes). */
static bool make_runnable(struct sched_entity *e)
{
    struct run_queue_state *q = &queues[e->cpu];
    e->runnable = true;
    policy->wake(q, e);
    e->ready_since = rdtsc();
    if (e->group->hold)
        return false;       /* it waits for sched_unhold; the next pick sees it held */
    for (uint32_t i = 0; i < q->count; i++)
        if (q->entities[i]->on_cpu)
            return policy->preempts(q, e, q->entities[i]);
    return true;
}

void sched_wake(struct sched_entity *e)
{
    spin_lock(&sched_lock);
    bool preempt = make_runnable(e);
    uint32_t cpu = e->cpu;
    spin_unlock(&sched_lock);
    if (preempt)
        sched_kick(cpu);
}

/* Moves a waiting entity to `cpu`'s queue, keeping its place relative to
 * the queue it joins (under sched_lock). False if that queue is full. */
static bool move_to(struct sched_entity *e, uint32_t cpu)
{
    struct run_queue_state *from = &queues[e->cpu], *to = &queues[cpu];
    if (to->count == SCHED_MAX_ENTITIES)
        return false;
    run_queue_remove(from, e);
    e->vruntime = e->vruntime > from->min_vruntime ? e->vruntime - from->min_vruntime : 0;
    e->vruntime += to->min_vruntime;
    run_queue_add(to, e);
    e->cpu = cpu;
    return true;
}

/* Whether a boosted entity may take `cpu` now (under sched_lock): it is
 * idle or runs another group's entity, which loses the rest of its slice
 * but not its place (the spinner pays for the boost, see sched_yield_to).
 * One of its own group is not pushed off: it may wait for the same lock. */
static bool free_for(const struct sched_entity *e, uint32_t cpu)
{
    const struct sched_entity *running = running_on[cpu];
    if (!percpu[cpu].online || !(e->affinity >> cpu & 1))
        return false;
    return cpu_idle[cpu] || (running && running->group != e->group);
}

/* Where a boosted entity should run (under sched_lock): its own CPU if that
 * is free for it (no move), another free one, else the spinner's CPU, which
 * the spinner gives up. */
static uint32_t boost_cpu(const struct sched_entity *me, const struct sched_entity *target)
{
    if (free_for(target, target->cpu))
        return target->cpu;
    for (uint32_t cpu = 0; cpu < cpu_count; cpu++)
        if (cpu != target->cpu && free_for(target, cpu))
            return cpu;
    return target->affinity >> me->cpu & 1 ? me->cpu : target->cpu;
}

/* The boosted vCPU goes just ahead of `cpu`'s queue (under sched_lock).
 * Zero-sum: the spinner pays for the head start it gives, so a VM whose
 * vCPUs boost one another gains nothing on other VMs. 1, or -1 if the
 * target is too far behind to be worth the credit. */
static int boost_paid(struct sched_entity *me, struct sched_entity *target, uint32_t cpu)
{
    uint64_t before = target->vruntime;
    if (!policy->boost(&queues[cpu], target))
        return -1;
    me->vruntime += before - target->vruntime;
    target->boosted = true;
    return 1;
}

/* A boost onto the spinner's own CPU with `lend` (the spin guard's) is a
 * loan of its time (under sched_lock): the borrower runs next on the
 * lender's account, leaving every virtual runtime as it was (paying for head
 * starts instead piles the payments of a convoy's many boosts on a few
 * entities until no boost fits the credit), and once past its lock gives
 * the CPU back. */
static void lend_cpu(uint32_t cpu, struct sched_entity *lender, struct sched_entity *borrower)
{
    loans[cpu] = (struct cpu_loan){ .borrower = borrower, .lender = lender };
    borrower->boosted = true;
}

int sched_yield_to(struct sched_entity *me, struct sched_entity *target, bool lend)
{
    spin_lock(&sched_lock);
    int result = sched_state_of(target) == SCHED_WAITING && !target->on_cpu ? 1 : 0;
    uint32_t cpu = target->cpu;
    if (result) {
        cpu = boost_cpu(me, target);
        if (cpu != target->cpu && !move_to(target, cpu))
            result = -1;        /* that queue is full */
    }
    if (result > 0 && cpu == me->cpu && lend)
        lend_cpu(cpu, me, target);
    else if (result > 0)
        result = boost_paid(me, target, cpu);
    spin_unlock(&sched_lock);
    if (result > 0 && cpu != me->cpu)
        sched_kick(cpu);    /* its CPU picks again; on this one, the caller reschedules */
    return result;
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

bool sched_place(struct sched_entity *e, const struct sched_entity_ops *ops,
                 struct sched_group *group, uint32_t weight)
{
    *e = (struct sched_entity){ .state = e->state, .weight = weight, .affinity = group->affinity,
                                .group = group, .ops = ops };
    spin_lock(&sched_lock);
    uint32_t best = least_loaded_cpu(e->affinity);
    if (best != MAX_CPUS) {
        e->cpu = best;
        run_queue_add(&queues[best], e);
        group->members[group->count++] = e;
        if (sched_state_of(e) == SCHED_WAITING)
            (void)make_runnable(e);     /* the kick below is for a new entity anyway */
    }
    spin_unlock(&sched_lock);
    if (best == MAX_CPUS)
        return false;
    sched_kick(best);
    return true;
}

void sched_hold(struct sched_group *group, uint32_t why)
{
    /* Under the lock: a pick made before this is on its CPU and is kicked
     * below; every pick after it sees the hold (refresh_runnable). */
    spin_lock(&sched_lock);
    group->hold |= why;
    spin_unlock(&sched_lock);
    for (uint32_t i = 0; i < group->count; i++)
        sched_kick(group->members[i]->cpu);
}

static bool waiting(const struct sched_entity *e)
{
    return sched_state_of(e) == SCHED_WAITING;
}

void sched_unhold(struct sched_group *group, uint32_t why)
{
    spin_lock(&sched_lock);
    group->hold &= ~why;
    bool free = !group->hold;
    /* Placed again as woken entities are: a long stop earns no head start. */
    for (uint32_t i = 0; free && i < group->count; i++)
        if (waiting(group->members[i]))
            (void)make_runnable(group->members[i]);
    spin_unlock(&sched_lock);
    for (uint32_t i = 0; free && i < group->count; i++)
        if (waiting(group->members[i]))
            sched_kick(group->members[i]->cpu);
}

bool sched_group_off_cpus(struct sched_group *group)
{
    bool off = true;
    spin_lock(&sched_lock);
    for (uint32_t i = 0; i < group->count; i++)
        off &= !group->members[i]->on_cpu;
    spin_unlock(&sched_lock);
    return off;
}

/* Releases this CPU's stopped entities. */
static void reap_stopped(struct run_queue_state *q)
{
    for (;;) {
        struct sched_entity *dead = NULL;
        spin_lock(&sched_lock);
        for (uint32_t i = 0; i < q->count && !dead; i++)
            if (sched_state_of(q->entities[i]) == SCHED_STOPPED &&
                !q->entities[i]->on_cpu)
                dead = q->entities[i];
        if (dead)
            run_queue_remove(q, dead);
        spin_unlock(&sched_lock);
        if (!dead)
            return;
        dead->ops->release(dead);
        sched_kick(0);      /* CPU 0 decides whether the hypervisor is done */
    }
}

/* Runnable = wants a CPU (waiting for one, or on one right now) and may
 * have one: its group is not held. */
static void refresh_runnable(struct run_queue_state *q)
{
    for (uint32_t i = 0; i < q->count; i++) {
        struct sched_entity *e = q->entities[i];
        enum sched_state s = sched_state_of(e);
        e->runnable = (s == SCHED_WAITING || s == SCHED_RUNNING) && !e->group->hold;
    }
}

/* Takes a waiting entity from a busier CPU if the policy says so (under
 * sched_lock). */
static struct sched_entity *steal(uint32_t me)
{
    for (uint32_t cpu = 0; cpu < cpu_count; cpu++)
        refresh_runnable(&queues[cpu]);
    struct sched_entity *e = sched_balance_pick(queue_of, cpu_count, me);
    if (!e)
        return NULL;
    return move_to(e, me) ? e : NULL;
}

/* Moves off this CPU the waiting entities whose affinity no longer
 * includes it (under sched_lock); returns a bit per CPU that received one. */
static uint64_t evict_disallowed(uint32_t me)
{
    struct run_queue_state *q = &queues[me];
    uint64_t kicked = 0;
    for (uint32_t i = 0; i < q->count;) {
        struct sched_entity *e = q->entities[i];
        /* Only entities that want to run move now: a blocked vCPU would
         * leave its VMCS active here with nothing to run it elsewhere. */
        bool movable = !(e->affinity >> me & 1) && !e->on_cpu && waiting(e);
        uint32_t to = movable ? least_loaded_cpu(e->affinity) : MAX_CPUS;
        if (to == MAX_CPUS) {
            i++;
            continue;
        }
        run_queue_remove(q, e);
        e->vruntime = queues[to].min_vruntime;
        run_queue_add(&queues[to], e);
        e->cpu = to;
        kicked |= 1ull << to;
    }
    return kicked;
}

bool sched_set_affinity(struct sched_group *group, uint64_t affinity)
{
    spin_lock(&sched_lock);
    bool possible = least_loaded_cpu(affinity) != MAX_CPUS;
    if (possible) {
        group->affinity = affinity;
        for (uint32_t i = 0; i < group->count; i++)
            group->members[i]->affinity = affinity;
    }
    spin_unlock(&sched_lock);
    /* Each CPU holding one of its entities looks at its queue again. */
    for (uint32_t i = 0; possible && i < group->count; i++)
        sched_kick(group->members[i]->cpu);
    return possible;
}

/* Expires the due timers of this CPU's blocked entities and wakes those
 * they are for (under sched_lock: they cannot be picked meanwhile).
 * Returns the earliest deadline still ahead, or 0. */
static uint64_t expire_blocked_timers(struct run_queue_state *q, uint64_t now)
{
    uint64_t next = 0;
    for (uint32_t i = 0; i < q->count; i++) {
        struct sched_entity *e = q->entities[i];
        if (sched_state_of(e) == SCHED_BLOCKED && e->ops->expire_timers(e, now, &next))
            (void)make_runnable(e);     /* this CPU is about to pick anyway */
    }
    return next;
}

/* Whether `e` can run on `cpu` now (under sched_lock). */
static bool ready_here(struct sched_entity *e, uint32_t cpu)
{
    return e->runnable && !e->on_cpu && e->cpu == cpu;
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

/* Who pays for `e`'s run on `cpu`: the lender if `e` borrowed the time. A
 * borrower that got past its lock gives the CPU back; one that spun on does
 * not, or two spinners could hand the CPU to each other for ever past the
 * entity they wait for (under sched_lock). */
static struct sched_entity *settle_loan(struct sched_entity *e, uint32_t cpu)
{
    struct cpu_loan *loan = &loans[cpu];
    if (loan->borrower != e || loan->returning)
        return e;
    struct sched_entity *lender = loan->lender;
    loan->returning = e->ops->boost_got_past(e);
    if (!loan->returning)
        *loan = (struct cpu_loan){ 0 };
    return lender;
}

/* The next entity for this CPU, marked on_cpu, and its slice; NULL if
 * there is none. */
static struct sched_entity *pick_next(uint32_t me, uint64_t *slice, bool *boosted,
                                      uint64_t *next_timer)
{
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
        /* Stop in time for the next timer of an entity blocked here. */
        if (*next_timer && (int64_t)(*next_timer - now) < (int64_t)*slice)
            *slice = (int64_t)(*next_timer - now) > 0 ? *next_timer - now : 0;
    }
    /* More waiting here than this CPU can run: let an idle CPU come and take. */
    bool crowded = run_queue_runnable(q) > 1;
    spin_unlock(&sched_lock);
    for (uint32_t cpu = 0; receivers; cpu++, receivers >>= 1)
        if (receivers & 1)
            sched_kick(cpu);
    for (uint32_t cpu = 0; crowded && cpu < cpu_count; cpu++)
        if (cpu_idle[cpu] && cpu != me)
            sched_kick(cpu);
    return e;
}

static void run_slice(struct sched_entity *e, uint32_t me, uint64_t slice, bool boosted)
{
    uint64_t start = rdtsc();
    e->wait_cycles += start - e->ready_since;
    if (e->ops->load(e, last_run[me] != e)) {
        last_run[me] = e;
        __atomic_store_n(&running_on[me], e, __ATOMIC_SEQ_CST);
        /* The slice ends when it was decided it would (in time for the
         * timer of an entity blocked here): a load that took long (a
         * vCPU's first VMCS set up; when this hypervisor is itself a VM,
         * dozens of VMWRITE exits) comes out of it. */
        uint64_t loading = rdtsc() - start;
        slice = slice > loading + RUN_AT_LEAST_CYCLES ? slice - loading : RUN_AT_LEAST_CYCLES;
        if (!__atomic_load_n(&resched[me], __ATOMIC_SEQ_CST))
            e->ops->run(e, slice, boosted);
        __atomic_store_n(&running_on[me], NULL, __ATOMIC_SEQ_CST);
        e->ops->put(e);
    }
    uint64_t end = rdtsc();
    e->run_cycles += end - start;
    spin_lock(&sched_lock);
    policy->charge(&queues[me], settle_loan(e, me), end - start);
    e->on_cpu = false;
    e->ready_since = end;
    spin_unlock(&sched_lock);
    if (e->group->hold)
        e->ops->held_off_cpu(e);
}

void cpu_loop(void)
{
    uint32_t me = this_cpu()->index;
    for (;;) {
        __atomic_store_n(&resched[me], false, __ATOMIC_RELEASE);
        reap_stopped(&queues[me]);
        for (unsigned i = 0; i < cpu_work_count; i++)
            cpu_work[i].work(me);
        uint64_t slice = 0, next_timer = 0;
        bool boosted = false;
        struct sched_entity *e = pick_next(me, &slice, &boosted, &next_timer);
        if (e) {
            run_slice(e, me, slice, boosted);
            continue;
        }
        /* Idle: sleep until an interrupt, at the latest the next timer of an
         * entity blocked here. */
        irq_disable();
        uint64_t work_timer = __atomic_load_n(&work_wake_at[me], __ATOMIC_ACQUIRE);
        if (work_timer && (!next_timer || (int64_t)(work_timer - next_timer) < 0))
            next_timer = work_timer;
        if (next_timer)     /* with interrupts off: a timer already due stays pending */
            lapic_timer_arm(next_timer);
        cpu_idle[me] = true;
        if (!__atomic_load_n(&resched[me], __ATOMIC_ACQUIRE) && !sched_cpu_work_pending(me))
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
            char name[48];
            q->entities[i]->ops->describe(q->entities[i], name, sizeof(name));
            kprintf(" %s%s", name, q->entities[i]->on_cpu ? "*" : "");
        }
        kprintf("\n");
    }
    spin_unlock(&sched_lock);
}
