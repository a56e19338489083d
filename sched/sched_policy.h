#ifndef SCHED_SCHED_POLICY_H
#define SCHED_SCHED_POLICY_H
/*
 * Scheduling decisions, kept apart from the mechanism (sched/sched.c) so
 * that they are unit-tested on the host and another policy can be added
 * behind the same interface (ACRN has several behind one framework).
 *
 * The default policy is fair in the sense of Linux's CFS: every entity
 * accumulates virtual runtime, real time scaled by WEIGHT_DEFAULT / weight,
 * and the runnable entity with the least runs next, for a slice. A newly
 * runnable entity starts no further back than the queue's minimum, so a
 * vCPU that slept does not monopolise the CPU when it wakes.
 */
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#define WEIGHT_DEFAULT 1024
#define SCHED_MAX_ENTITIES 64       /* per run queue */

struct sched_group;
struct sched_entity_ops;

struct sched_entity {
    uint64_t vruntime;
    uint32_t weight;
    uint64_t affinity;      /* physical CPUs allowed, one bit each */
    bool runnable;          /* wants the CPU (not halted, not stopped) */
    bool on_cpu;            /* running right now: not to be migrated */
    bool boosted;           /* by directed yield: runs next, for a short slice */
    /* The mechanism's (sched/sched.h); the policy does not look at these. */
    volatile uint32_t state;    /* the owner's, which ops->state_class classifies */
    uint32_t cpu;           /* the CPU whose run queue holds it */
    struct sched_group *group;
    const struct sched_entity_ops *ops;
    uint64_t run_cycles, wait_cycles;   /* on a CPU / runnable but waiting */
    uint64_t ready_since;
};

struct run_queue_state {
    struct sched_entity *entities[SCHED_MAX_ENTITIES];
    uint32_t count;
    uint64_t min_vruntime;
};

struct sched_policy {
    const char *name;
    /* The entity to run next, or NULL if none is runnable. */
    struct sched_entity *(*pick_next)(struct run_queue_state *rq);
    /* Accounts `cycles` of real time to the entity. */
    void (*charge)(struct run_queue_state *rq, struct sched_entity *e, uint64_t cycles);
    /* Called when an entity joins the queue or becomes runnable again. */
    void (*wake)(struct run_queue_state *rq, struct sched_entity *e);
    /* Whether `woken`, just made runnable, should take the CPU from
     * `running` now rather than at the end of its slice. */
    bool (*preempts)(const struct run_queue_state *rq, const struct sched_entity *woken,
                     const struct sched_entity *running);
    /* Directed yield: the entity is to run next on its queue, if that takes
     * no more than a small head start (CFS honours its "next buddy" hint on
     * the same condition); false if it would take more. */
    bool (*boost)(struct run_queue_state *rq, struct sched_entity *e);
    /* How long the entity may run before the CPU looks again, in cycles. */
    uint64_t (*slice)(const struct run_queue_state *rq, const struct sched_entity *e);
};

extern const struct sched_policy sched_policy_fair;

bool run_queue_add(struct run_queue_state *rq, struct sched_entity *e);
void run_queue_remove(struct run_queue_state *rq, struct sched_entity *e);
uint32_t run_queue_runnable(const struct run_queue_state *rq);

/*
 * Load balancing, asked by `cpu` whenever it picks: the entity it should take
 * over, or NULL. It takes from the queue with the most runnable entities,
 * only if that queue has at least two more than `cpu`'s own (moving one
 * otherwise just moves the imbalance), only an entity not on its CPU, and
 * only one whose affinity allows `cpu`.
 */
struct sched_entity *sched_balance_pick(struct run_queue_state *const queues[], uint32_t ncpus,
                                        uint32_t cpu);
#endif
