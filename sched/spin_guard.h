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
 * Pure logic, unit-tested on the host.
 */
#include <stdbool.h>
#include <stdint.h>

#define SPIN_SITES 8                /* PAUSE loops remembered per VM */
/* Bytes either side of a loop's PAUSE taken as the loop: a PAUSE loop's body
 * (load, compare, branch) is a handful of instructions around it. */
#define SPIN_SITE_SPAN 16
/* How often a held-over slice looks again at where the vCPU is. */
#define SPIN_GUARD_RECHECK_CYCLES 100
/* After leaving a spin loop: long enough for a short critical section. */
#define SPIN_GUARD_GRACE_CYCLES 200
/* The most an ordinary slice is held over. */
#define SPIN_GUARD_MAX_CYCLES 20000

struct spin_sites {
    uint64_t rip[SPIN_SITES];       /* 0: unused */
    uint32_t next;                  /* the slot the next new site replaces */
};

/* A PLE exit at `rip`: remember the loop (updated from any CPU of the VM;
 * a lost update only costs a site). */
void spin_sites_learn(struct spin_sites *sites, uint64_t rip);
/* Whether any loop was learned yet (a cheap test before reading the RIP). */
bool spin_sites_known(const struct spin_sites *sites);
/* Whether `rip` is inside a remembered loop. */
bool spin_sites_contains(const struct spin_sites *sites, uint64_t rip);

struct spin_guard {
    uint64_t held;                  /* cycles this slice has been held over */
    uint64_t limit;                 /* the most it may be */
    uint64_t spinning_for;          /* held over spinning, without a break */
    bool was_spinning;              /* at the last look */
    bool left_loop;                 /* seen leaving a spin loop: got its lock */
};

/* A slice starts. A vCPU boosted while it waited in a spin loop is on its
 * way through a lock: it leaves once past it (`in_lock`). */
void spin_guard_start(struct spin_guard *guard, bool in_lock, uint64_t limit);
/* The slice is over and the vCPU is `spinning` or not: how many more cycles
 * to let it run before looking again, or 0 to preempt it now. */
uint64_t spin_guard_hold(struct spin_guard *guard, bool spinning);
/* Whether the vCPU was seen getting past its lock (leaving a spin loop) in
 * this slice: a boost that did not is no loan to give back. */
bool spin_guard_got_past(const struct spin_guard *guard);
/* Whether the vCPU, held over, has spun for a whole PLE window: it waits for
 * a vCPU that is not running, and holding it on is no use. The hold's own
 * exits hide that from the CPU, since the first PAUSE after a VM entry
 * starts a new loop (SDM Vol. 3C 26.1.3): no PLE exit would come. */
bool spin_guard_spun_out(const struct spin_guard *guard, uint32_t window);
#endif
