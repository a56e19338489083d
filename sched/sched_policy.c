#include "sched/sched_policy.h"

#define SLICE_TARGET_CYCLES 2000000ull      /* spread over the runnable entities */
#define SLICE_MIN_CYCLES    250000ull
/* A vCPU that blocked (HLT) and wakes is placed this much before the queue
 * minimum, so it runs before the entities that kept computing: an interrupt
 * for it is handled now, not a slice later (CFS's sleeper credit). It cannot
 * bank more than this, however long it slept. */
#define WAKEUP_CREDIT       (SLICE_TARGET_CYCLES / 2)
/* A woken entity preempts only one this far ahead of it: frequent wake-ups
 * (IPIs to a halted vCPU) must not keep interrupting the others. */
#define WAKEUP_GRANULARITY  (SLICE_MIN_CYCLES / 2)

bool run_queue_add(struct run_queue_state *rq, struct sched_entity *e)
{
    if (rq->count == SCHED_MAX_ENTITIES)
        return false;
    rq->entities[rq->count++] = e;
    return true;
}

void run_queue_remove(struct run_queue_state *rq, struct sched_entity *e)
{
    for (uint32_t i = 0; i < rq->count; i++) {
        if (rq->entities[i] == e) {
            rq->entities[i] = rq->entities[--rq->count];
            return;
        }
    }
}

uint32_t run_queue_runnable(const struct run_queue_state *rq)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < rq->count; i++)
        n += rq->entities[i]->runnable;
    return n;
}

static struct sched_entity *fair_pick_next(struct run_queue_state *rq)
{
    struct sched_entity *best = NULL;
    for (uint32_t i = 0; i < rq->count; i++) {
        struct sched_entity *e = rq->entities[i];
        if (e->runnable && (!best || e->vruntime < best->vruntime))
            best = e;
    }
    if (best && best->vruntime > rq->min_vruntime)
        rq->min_vruntime = best->vruntime;
    return best;
}

static void fair_charge(struct run_queue_state *rq, struct sched_entity *e, uint64_t cycles)
{
    (void)rq;
    e->vruntime += cycles * WEIGHT_DEFAULT / (e->weight ? e->weight : 1);
}

static void fair_wake(struct run_queue_state *rq, struct sched_entity *e)
{
    uint64_t floor = rq->min_vruntime > WAKEUP_CREDIT ? rq->min_vruntime - WAKEUP_CREDIT : 0;
    if (e->vruntime < floor)
        e->vruntime = floor;
}

static bool fair_preempts(const struct run_queue_state *rq, const struct sched_entity *woken,
                          const struct sched_entity *running)
{
    (void)rq;
    return woken->vruntime + WAKEUP_GRANULARITY < running->vruntime;
}

/* Just ahead of every other runnable entity, if it is no further behind
 * the first than a woken entity may be put ahead (WAKEUP_CREDIT): picked
 * next, for a bounded credit. */
static bool fair_boost(struct run_queue_state *rq, struct sched_entity *e)
{
    uint64_t target = e->vruntime;
    for (uint32_t i = 0; i < rq->count; i++) {
        const struct sched_entity *other = rq->entities[i];
        if (other != e && other->runnable && other->vruntime <= target)
            target = other->vruntime ? other->vruntime - 1 : 0;
    }
    if (e->vruntime - target > WAKEUP_CREDIT)
        return false;
    e->vruntime = target;
    return true;
}

/* Each runnable entity gets its weighted share of the target latency. */
static uint64_t fair_slice(const struct run_queue_state *rq, const struct sched_entity *e)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < rq->count; i++)
        if (rq->entities[i]->runnable)
            total += rq->entities[i]->weight;
    if (!total)
        return SLICE_TARGET_CYCLES;
    uint64_t slice = SLICE_TARGET_CYCLES * e->weight / total;
    return slice < SLICE_MIN_CYCLES ? SLICE_MIN_CYCLES : slice;
}

const struct sched_policy sched_policy_fair = {
    .name = "fair",
    .pick_next = fair_pick_next,
    .charge = fair_charge,
    .wake = fair_wake,
    .preempts = fair_preempts,
    .boost = fair_boost,
    .slice = fair_slice,
};

struct sched_entity *sched_balance_pick(struct run_queue_state *const queues[], uint32_t ncpus,
                                        uint32_t cpu)
{
    uint32_t busiest = ncpus, most = run_queue_runnable(queues[cpu]) + 1;
    for (uint32_t c = 0; c < ncpus; c++) {
        uint32_t n = run_queue_runnable(queues[c]);
        if (c != cpu && n > most) {
            most = n;
            busiest = c;
        }
    }
    if (busiest == ncpus)
        return NULL;
    struct run_queue_state *rq = queues[busiest];
    struct sched_entity *choice = NULL;
    for (uint32_t i = 0; i < rq->count; i++) {
        struct sched_entity *e = rq->entities[i];
        /* The one that has waited longest for the CPU: the least vruntime. */
        if (e->runnable && !e->on_cpu && (e->affinity >> cpu & 1) &&
            (!choice || e->vruntime < choice->vruntime))
            choice = e;
    }
    return choice;
}
