#ifndef SCHED_SPIN_GUARD_H
#define SCHED_SPIN_GUARD_H
/*
 * Lock-waiter preemption avoidance, learned from PAUSE-loop exits.
 *
 * Under a FIFO lock (a ticket spinlock) a vCPU preempted while it waits in
 * the queue stalls every vCPU behind it when its turn comes: nobody else may
 * take the lock until it runs again. Directed yield cannot undo that, since
 * the spinner that yields is itself a waiter taken off its CPU; in one VM
 * with more vCPUs than CPUs the stalls then feed each other (a convoy).
 *
 * PLE exits tell where a VM's vCPUs spin: the PAUSE's guest RIP. A slice
 * that ends while the vCPU is inside such a loop, or has just left one (it is
 * then likely in the critical section it waited for), is extended a little
 * at a time until the vCPU is past it, up to a limit. A vCPU boosted by
 * directed yield onto the spinner's CPU runs on the spinner's time, only
 * until it has got past its lock the same way, and then gives the CPU back
 * (sched/sched.c's loans).
 *
 * Not every loop is worth it. Where the lock's holder is itself off its CPU
 * (a queue whose head was preempted, a wait for a vCPU that is not
 * running), a held-over waiter only burns the CPU the holder needs. So each
 * loop keeps a score of what holding there did: a hold the vCPU got out of
 * the loop in paid, one that ran out with it still spinning did not. A loop
 * whose holds mostly do not pay is held at only now and then (a probe), to
 * see whether that has changed.
 * Pure logic, unit-tested on the host.
 */
#include <stdbool.h>
#include <stdint.h>

#define SPIN_SITES 8                /* PAUSE loops remembered per VM */
/* Loops whose site was given to another, remembered with their scores: a
 * loop that comes back starts from what holding there did before (Linux's
 * boot goes through some 50 PAUSE loops; re-learnt with a clean record,
 * one not worth holding at was held at again each time it came back). */
#define SPIN_SITES_EVICTED 16
/* Bytes either side of a loop's PAUSE taken as the loop: a PAUSE loop's body
 * (load, compare, branch) is a handful of instructions around it. */
#define SPIN_SITE_SPAN 16
/* How often a held-over slice looks again at where the vCPU is. */
#define SPIN_GUARD_RECHECK_CYCLES 100
/* After leaving a spin loop: long enough for a short critical section. */
#define SPIN_GUARD_GRACE_CYCLES 200
/* The most an ordinary slice is held over. */
#define SPIN_GUARD_MAX_CYCLES 20000
/* A loop's score: +1 per hold that paid, -1 per one that did not, within
 * +-SPIN_SCORE_MAX; under SPIN_SCORE_GIVE_UP only every SPIN_PROBE_EVERY-th
 * slice end in it is held over. */
#define SPIN_SCORE_MAX      16
#define SPIN_SCORE_GIVE_UP  (-4)
#define SPIN_PROBE_EVERY    8

struct spin_sites {
    uint64_t rip[SPIN_SITES];       /* 0: unused */
    int8_t score[SPIN_SITES];       /* what holding over there did */
    uint8_t passed[SPIN_SITES];     /* slice ends not held since the last probe */
    uint32_t next;                  /* the slot the next new site replaces */
    uint64_t evicted_rip[SPIN_SITES_EVICTED];      /* 0: unused */
    int8_t evicted_score[SPIN_SITES_EVICTED];
    uint32_t evicted_next;          /* the entry the next evicted loop replaces */
};

/* A PLE exit at `rip`: remember the loop (updated from any CPU of the VM;
 * a lost update only costs a site). */
void spin_sites_learn(struct spin_sites *sites, uint64_t rip);
/* Whether any loop was learned yet (a cheap test before reading the RIP). */
bool spin_sites_known(const struct spin_sites *sites);
/* Whether `rip` is inside a remembered loop; which one, or -1. */
bool spin_sites_contains(const struct spin_sites *sites, uint64_t rip);
int spin_sites_find(const struct spin_sites *sites, uint64_t rip);

struct spin_guard {
    uint64_t held;                  /* cycles this slice has been held over */
    uint64_t limit;                 /* the most it may be */
    uint64_t spinning_for;          /* held over spinning, without a break */
    bool was_spinning;              /* at the last look */
    bool left_loop;                 /* seen leaving a spin loop: got its lock */
    bool boosted_waiter;            /* boosted while it waited in a spin loop */
    int site;                       /* the loop a hold of a spinner is at, or -1 */
};

/* A slice starts. A vCPU boosted while it waited in a spin loop is on its
 * way through a lock (`in_lock`): it leaves once past it, or at the first
 * look if it still waits (its turn has not come). */
void spin_guard_start(struct spin_guard *guard, bool in_lock, uint64_t limit);
/* The slice is over and the vCPU is `spinning` or not: how many more cycles
 * to let it run before looking again, or 0 to preempt it now. */
uint64_t spin_guard_hold(struct spin_guard *guard, bool spinning);
/* The same at a slice end in loop `site` of `sites` (-1: in none), scored:
 * a hold of a spinner starts only at a loop worth holding at, and when it
 * ends tells the loop whether it paid. */
uint64_t spin_guard_hold_at(struct spin_guard *guard, struct spin_sites *sites, int site);
/* The slice ends without a look (the vCPU spun out): a hold in progress
 * did not pay. */
void spin_guard_give_up(struct spin_guard *guard, struct spin_sites *sites);
/* Whether the vCPU was seen getting past its lock (leaving a spin loop) in
 * this slice: a boost that did not is no loan to give back. */
bool spin_guard_got_past(const struct spin_guard *guard);
/* Whether the vCPU, held over, has spun for a whole PLE window: it waits for
 * a vCPU that is not running, and holding it on is no use. The hold's own
 * exits hide that from the CPU, since the first PAUSE after a VM entry
 * starts a new loop (SDM Vol. 3C 26.1.3): no PLE exit would come. */
bool spin_guard_spun_out(const struct spin_guard *guard, uint32_t window);
#endif
