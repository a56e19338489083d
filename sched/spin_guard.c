#include "sched/spin_guard.h"

/* The site in `slot` goes: its loop's score is kept among the evicted. */
static void keep_evicted(struct spin_sites *sites, uint32_t slot)
{
    uint64_t rip = __atomic_load_n(&sites->rip[slot], __ATOMIC_RELAXED);
    if (!rip)
        return;
    uint32_t e = __atomic_fetch_add(&sites->evicted_next, 1, __ATOMIC_RELAXED) % SPIN_SITES_EVICTED;
    __atomic_store_n(&sites->evicted_score[e], __atomic_load_n(&sites->score[slot], __ATOMIC_RELAXED),
                     __ATOMIC_RELAXED);
    __atomic_store_n(&sites->evicted_rip[e], rip, __ATOMIC_RELAXED);
}

/* The score the loop at `rip` had when its site went, or 0 (new), taken
 * out of the evicted: a loop has one entry there at most, so a second
 * eviction cannot leave an older score to be found first. */
static int8_t take_evicted_score(struct spin_sites *sites, uint64_t rip)
{
    for (unsigned e = 0; e < SPIN_SITES_EVICTED; e++)
        if (__atomic_load_n(&sites->evicted_rip[e], __ATOMIC_RELAXED) == rip) {
            __atomic_store_n(&sites->evicted_rip[e], 0, __ATOMIC_RELAXED);
            return __atomic_load_n(&sites->evicted_score[e], __ATOMIC_RELAXED);
        }
    return 0;
}

void spin_sites_learn(struct spin_sites *sites, uint64_t rip)
{
    if (!rip || spin_sites_contains(sites, rip))
        return;
    uint32_t slot = __atomic_fetch_add(&sites->next, 1, __ATOMIC_RELAXED) % SPIN_SITES;
    keep_evicted(sites, slot);
    __atomic_store_n(&sites->score[slot], take_evicted_score(sites, rip), __ATOMIC_RELAXED);
    __atomic_store_n(&sites->passed[slot], 0, __ATOMIC_RELAXED);
    __atomic_store_n(&sites->rip[slot], rip, __ATOMIC_RELAXED);
}

bool spin_sites_known(const struct spin_sites *sites)
{
    return __atomic_load_n(&sites->next, __ATOMIC_RELAXED) != 0;
}

int spin_sites_find(const struct spin_sites *sites, uint64_t rip)
{
    for (int i = 0; i < SPIN_SITES; i++) {
        uint64_t site = __atomic_load_n(&sites->rip[i], __ATOMIC_RELAXED);
        /* rip in [site - SPAN, site + SPAN), without wrapping below 0. */
        if (site && rip - site + SPIN_SITE_SPAN < 2 * SPIN_SITE_SPAN)
            return i;
    }
    return -1;
}

bool spin_sites_contains(const struct spin_sites *sites, uint64_t rip)
{
    return spin_sites_find(sites, rip) >= 0;
}

/* Scores are updated from any CPU of the VM: a lost update only blurs one. */
static void score(struct spin_sites *sites, int site, bool paid)
{
    int s = __atomic_load_n(&sites->score[site], __ATOMIC_RELAXED) + (paid ? 1 : -1);
    s = s > SPIN_SCORE_MAX ? SPIN_SCORE_MAX : s < -SPIN_SCORE_MAX ? -SPIN_SCORE_MAX : s;
    __atomic_store_n(&sites->score[site], (int8_t)s, __ATOMIC_RELAXED);
}

static bool worth_holding_at(struct spin_sites *sites, int site)
{
    if (__atomic_load_n(&sites->score[site], __ATOMIC_RELAXED) >= SPIN_SCORE_GIVE_UP)
        return true;
    uint8_t passed = __atomic_load_n(&sites->passed[site], __ATOMIC_RELAXED) + 1;
    bool probe = passed >= SPIN_PROBE_EVERY;
    __atomic_store_n(&sites->passed[site], probe ? 0 : passed, __ATOMIC_RELAXED);
    return probe;
}

void spin_guard_start(struct spin_guard *guard, bool in_lock, uint64_t limit)
{
    *guard = (struct spin_guard){ .limit = limit, .was_spinning = in_lock, .boosted_waiter = in_lock,
                                  .site = -1 };
}

/* A boosted waiter that has not got past its lock: it waits, like the
 * spinner that boosted it, for a vCPU that is not running. */
static bool waits_its_turn(const struct spin_guard *guard, bool spinning)
{
    return spinning && guard->boosted_waiter && !guard->left_loop;
}

uint64_t spin_guard_hold(struct spin_guard *guard, bool spinning)
{
    uint64_t more = 0;
    if (waits_its_turn(guard, spinning))
        more = 0;                               /* still not its turn: give the CPU back */
    else if (spinning)
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

uint64_t spin_guard_hold_at(struct spin_guard *guard, struct spin_sites *sites, int site)
{
    bool spinning = site >= 0;
    if (guard->site >= 0 && guard->site != site) {
        score(sites, guard->site, true);        /* out of the loop it was held in */
        guard->site = -1;
    }
    /* A boosted waiter's look is none of the loop's (it is given up
     * whatever the score): it must not take a probe. */
    if (spinning && guard->site < 0 && !waits_its_turn(guard, spinning) &&
        !worth_holding_at(sites, site))
        return 0;
    uint64_t more = spin_guard_hold(guard, spinning);
    if (spinning && more)
        guard->site = site;
    else if (spinning)
        spin_guard_give_up(guard, sites);       /* held over as long as it may be */
    return more;
}

void spin_guard_give_up(struct spin_guard *guard, struct spin_sites *sites)
{
    if (guard->site >= 0)
        score(sites, guard->site, false);
    guard->site = -1;
}

bool spin_guard_got_past(const struct spin_guard *guard)
{
    return guard->left_loop;
}

bool spin_guard_spun_out(const struct spin_guard *guard, uint32_t window)
{
    return guard->spinning_for >= window;
}
