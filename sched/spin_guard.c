#include "sched/spin_guard.h"

void spin_sites_learn(struct spin_sites *sites, uint64_t rip)
{
    if (!rip || spin_sites_contains(sites, rip))
        return;
    uint32_t slot = __atomic_fetch_add(&sites->next, 1, __ATOMIC_RELAXED) % SPIN_SITES;
    __atomic_store_n(&sites->rip[slot], rip, __ATOMIC_RELAXED);
}

bool spin_sites_known(const struct spin_sites *sites)
{
    return __atomic_load_n(&sites->next, __ATOMIC_RELAXED) != 0;
}

bool spin_sites_contains(const struct spin_sites *sites, uint64_t rip)
{
    for (uint32_t i = 0; i < SPIN_SITES; i++) {
        uint64_t site = __atomic_load_n(&sites->rip[i], __ATOMIC_RELAXED);
        /* rip in [site - SPAN, site + SPAN), without wrapping below 0. */
        if (site && rip - site + SPIN_SITE_SPAN < 2 * SPIN_SITE_SPAN)
            return true;
    }
    return false;
}

void spin_guard_start(struct spin_guard *guard, bool in_lock, uint64_t limit)
{
    *guard = (struct spin_guard){ .limit = limit, .was_spinning = in_lock };
}

uint64_t spin_guard_hold(struct spin_guard *guard, bool spinning)
{
    uint64_t more = 0;
    if (spinning)
        more = SPIN_GUARD_RECHECK_CYCLES;       /* waiting in the queue */
    else if (guard->was_spinning)
        more = SPIN_GUARD_GRACE_CYCLES;         /* just got the lock */
    guard->left_loop |= guard->was_spinning && !spinning;
    if (guard->held + more > guard->limit)
        more = 0;                               /* held over enough: preempt anyway */
    guard->was_spinning = spinning;
    guard->held += more;
    guard->spinning_for = spinning ? guard->spinning_for + more : 0;
    return more;
}

bool spin_guard_got_past(const struct spin_guard *guard)
{
    return guard->left_loop;
}

bool spin_guard_spun_out(const struct spin_guard *guard, uint32_t window)
{
    return guard->spinning_for >= window;
}
