#ifndef SCHED_SCHED_H
#define SCHED_SCHED_H
/*
 * Placing schedulable entities on physical CPUs and the loop each CPU runs:
 * per-CPU run queues ordered by the policy (sched/sched_policy.h), time
 * slices, idle CPUs taking waiting entities from busy ones, directed-yield
 * boosts and loans. The scheduler knows nothing of what it runs: an entity
 * (a vCPU: virt/vcpu_state.h) is run, asked for its state and told of its
 * timers through its sched_entity_ops, as Linux's scheduler runs KVM's vCPU
 * threads without knowing KVM.
 */
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "sched/sched_policy.h"

#define SCHED_GROUP_MAX 64      /* entities in a group */

/* What the scheduler asks of an entity's state. */
enum sched_state {
    SCHED_WAITING,      /* wants a CPU and is not on one */
    SCHED_RUNNING,      /* on its CPU */
    SCHED_BLOCKED,      /* waits for an event (its timers may end the wait) */
    SCHED_STOPPED,      /* for good: to be released */
};

struct sched_entity_ops {
    /* What each of the owner's state values means to the scheduler: a table
     * rather than a call, because picks look at every entity's state. */
    const enum sched_state *state_class;
    /* Makes the entity's state current on this CPU; `switched_in`: another
     * entity ran here since it last did. False if it cannot run (it has
     * stopped itself). */
    bool (*load)(struct sched_entity *e, bool switched_in);
    /* Runs it until it blocks, stops, is asked to leave (request_resched),
     * or `slice` cycles have passed; `boosted`: a directed-yield boost. */
    void (*run)(struct sched_entity *e, uint64_t slice, bool boosted);
    /* After run (or after a load without a run): saves its state. */
    void (*put)(struct sched_entity *e);
    /* An entity of a held group (sched_hold) is off its CPU and charged
     * (not under the scheduler's lock): what waits for that may go on. */
    void (*held_off_cpu)(struct sched_entity *e);
    /* Asks the running entity to come back to its CPU's loop before it
     * runs on (the IPI that follows makes it look). Any CPU. */
    void (*request_resched)(struct sched_entity *e);
    /* A blocked entity's timers at `now` (under the scheduler's lock): true
     * if one woke it (it is waiting now); else lowers *next to its earliest
     * deadline still ahead, if it has one that may wake it. */
    bool (*expire_timers)(struct sched_entity *e, uint64_t now, uint64_t *next);
    /* After a boost on a loan: whether it got past what it was boosted for,
     * so the lender should have its CPU back. */
    bool (*boost_got_past)(const struct sched_entity *e);
    /* A stopped entity leaves its queue: free what it holds on this CPU. */
    void (*release)(struct sched_entity *e);
    /* Its name for `info sched`. */
    void (*describe)(const struct sched_entity *e, char *buf, size_t size);
};

/* Entities placed, held and given an affinity together (a VM's vCPUs). A
 * boosted entity never pushes another of its group off a CPU: it may wait
 * for the same lock. */
struct sched_group {
    volatile uint32_t hold;     /* reasons (the owner's bits) to keep them off the CPUs */
    uint64_t affinity;          /* CPUs they may run on */
    uint32_t count;
    struct sched_entity *members[SCHED_GROUP_MAX];
};

void sched_init(void);
/* Work each CPU's loop does before it picks (`work`), and whether work is
 * waiting that should bring the CPU out of a guest or an idle halt
 * (`pending`, may be NULL); `cpu` is the calling CPU. Registered at start-up,
 * before the APs start, by the layers above (the monitor's console on
 * CPU 0, the VMs' timers on every CPU). */
void sched_add_cpu_work(void (*work)(uint32_t cpu), bool (*pending)(uint32_t cpu));
/* Whether the CPU has such work waiting. */
bool sched_cpu_work_pending(uint32_t cpu);
/* Whether nothing but the entity running on `cpu` can run there now. */
bool sched_cpu_alone(uint32_t cpu);

/* What `e`'s state means to the scheduler. */
static inline enum sched_state sched_state_of(const struct sched_entity *e)
{
    return e->ops->state_class[e->state];
}
/* Joins `group` and the least-loaded online CPU its affinity allows,
 * runnable if its state (set before) says it waits. False if no CPU is
 * allowed. */
bool sched_place(struct sched_entity *e, const struct sched_entity_ops *ops,
                 struct sched_group *group, uint32_t weight);
/* A blocked entity became waiting (its owner changed its state): it goes
 * back on its queue, and its CPU is made to pick if it should run now. */
void sched_wake(struct sched_entity *e);
/* Makes the CPU leave its guest, if it runs one, without asking it to pick
 * again: the entity there looks at its events before running on. */
void sched_poke(uint32_t cpu);
/* The same for the running entity's sake alone (it has events to look
 * at): the CPU's loop has no new work, so the exit need not look for
 * any (VECTOR_NOTIFY; the external-interrupt fastpath, exits/exit_dispatch.c). */
void sched_notify(uint32_t cpu);
/* The CPU's loop runs its work by `tsc` at the latest, even if it would
 * otherwise sleep on: for work that waits for a time (the monitor's). One
 * time per CPU, until replaced; 0 takes it back. */
void sched_cpu_wake_at(uint32_t cpu, uint64_t tsc);
/* Makes the CPU look at its run queue (and its running entity leave). */
void sched_kick(uint32_t cpu);
/* Runs fn(arg) under the scheduler's lock: state changes that picks on
 * other CPUs must see whole. */
void sched_locked(void (*fn)(void *arg), void *arg);

/* Keeps the group's entities off the CPUs for `why`: none is picked from
 * now on and those on a CPU are made to leave. Any CPU may call. */
void sched_hold(struct sched_group *group, uint32_t why);
/* Drops `why`; with no reason left, its waiting entities get CPUs again. */
void sched_unhold(struct sched_group *group, uint32_t why);
/* Whether none of the group's entities is on a CPU. */
bool sched_group_off_cpus(struct sched_group *group);
/* Changes the CPUs the group may run on; entities on a CPU no longer
 * allowed move at their next scheduling point. False if no online CPU is
 * in `affinity`. */
bool sched_set_affinity(struct sched_group *group, uint64_t affinity);

/* Directed yield: `target` (of `me`'s group, waiting) runs next, for a
 * short slice, on a CPU where it pushes off none of its group if there is
 * one, else on `me`'s. Onto `me`'s own CPU and with `lend`, the time is
 * lent: `target` runs on `me`'s account and, once past what it was boosted
 * for, gives the CPU back; otherwise `me` pays for the head start. 1 if
 * boosted, 0 if it was not waiting after all, -1 if it could not be moved. */
int sched_yield_to(struct sched_entity *me, struct sched_entity *target, bool lend);

/* Every CPU ends up here after bring-up: run entities, else halt. */
__attribute__((noreturn)) void cpu_loop(void);
/* `info sched`: each CPU's queue. */
void sched_print_queues(void);
#endif
