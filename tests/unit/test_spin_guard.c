/* The spin guard (sched/spin_guard.c): spin loops learned from PLE exits, and
 * when a slice that ends in or just after one is held over. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "sched/spin_guard.h"

#define PAUSE_RIP 0x100100ull

static void a_learned_loop_covers_the_bytes_around_its_pause(void **state)
{
    (void)state;
    struct spin_sites sites = { 0 };
    assert_false(spin_sites_contains(&sites, PAUSE_RIP));
    spin_sites_learn(&sites, PAUSE_RIP);
    assert_true(spin_sites_contains(&sites, PAUSE_RIP));
    assert_true(spin_sites_contains(&sites, PAUSE_RIP + 2));        /* after the PAUSE */
    assert_true(spin_sites_contains(&sites, PAUSE_RIP - SPIN_SITE_SPAN));
    assert_true(spin_sites_contains(&sites, PAUSE_RIP + SPIN_SITE_SPAN - 1));
    assert_false(spin_sites_contains(&sites, PAUSE_RIP + SPIN_SITE_SPAN));
    assert_false(spin_sites_contains(&sites, PAUSE_RIP - SPIN_SITE_SPAN - 1));
    assert_false(spin_sites_contains(&sites, 0x200000));
}

static void learning_a_known_loop_again_takes_no_slot(void **state)
{
    (void)state;
    struct spin_sites sites = { 0 };
    spin_sites_learn(&sites, PAUSE_RIP);
    spin_sites_learn(&sites, PAUSE_RIP);
    spin_sites_learn(&sites, PAUSE_RIP + 4);        /* the same loop */
    assert_int_equal(sites.next, 1);
}

static void the_oldest_loop_makes_room(void **state)
{
    (void)state;
    struct spin_sites sites = { 0 };
    for (uint64_t i = 0; i < SPIN_SITES + 1; i++)
        spin_sites_learn(&sites, 0x1000 * (i + 1));
    assert_false(spin_sites_contains(&sites, 0x1000));             /* replaced */
    for (uint64_t i = 1; i < SPIN_SITES + 1; i++)
        assert_true(spin_sites_contains(&sites, 0x1000 * (i + 1)));
}

static void a_slice_ending_outside_any_loop_ends(void **state)
{
    (void)state;
    struct spin_guard guard;
    spin_guard_start(&guard, false, SPIN_GUARD_MAX_CYCLES);
    assert_int_equal(spin_guard_hold(&guard, false), 0);
}

/* Spinning: held, looked at again and again; once out of the loop, a grace
 * for the critical section; then preempted outside the lock. */
static void a_waiter_is_held_until_past_its_critical_section(void **state)
{
    (void)state;
    struct spin_guard guard;
    spin_guard_start(&guard, false, SPIN_GUARD_MAX_CYCLES);
    assert_int_equal(spin_guard_hold(&guard, true), SPIN_GUARD_RECHECK_CYCLES);
    assert_int_equal(spin_guard_hold(&guard, true), SPIN_GUARD_RECHECK_CYCLES);
    assert_int_equal(spin_guard_hold(&guard, false), SPIN_GUARD_GRACE_CYCLES);
    assert_int_equal(spin_guard_hold(&guard, false), 0);
    assert_int_equal(guard.held, 2 * SPIN_GUARD_RECHECK_CYCLES + SPIN_GUARD_GRACE_CYCLES);
}

static void holding_over_is_bounded(void **state)
{
    (void)state;
    struct spin_guard guard;
    spin_guard_start(&guard, false, SPIN_GUARD_MAX_CYCLES);
    uint64_t looks = 0;
    while (spin_guard_hold(&guard, true))
        looks++;
    assert_int_equal(looks, SPIN_GUARD_MAX_CYCLES / SPIN_GUARD_RECHECK_CYCLES);
    assert_true(guard.held <= SPIN_GUARD_MAX_CYCLES);
}

/* Held over and spinning for a whole PLE window: it waits for a vCPU that is
 * not running. Leaving the loop starts the count again. */
static void spinning_a_whole_window_is_seen(void **state)
{
    (void)state;
    struct spin_guard guard;
    spin_guard_start(&guard, false, SPIN_GUARD_MAX_CYCLES);
    const uint32_t window = 10 * SPIN_GUARD_RECHECK_CYCLES;
    for (int i = 0; i < 9; i++)
        (void)spin_guard_hold(&guard, true);
    assert_false(spin_guard_spun_out(&guard, window));
    (void)spin_guard_hold(&guard, false);           /* got the lock */
    assert_int_equal(guard.spinning_for, 0);
    for (int i = 0; i < 10; i++)
        (void)spin_guard_hold(&guard, true);
    assert_true(spin_guard_spun_out(&guard, window));
}

/* A boosted vCPU found outside any loop (preempted holding the lock) gets
 * the grace to finish its critical section before it goes. */
static void a_boosted_vcpu_gets_past_its_lock(void **state)
{
    (void)state;
    struct spin_guard guard;
    spin_guard_start(&guard, true, 50000);
    assert_int_equal(spin_guard_hold(&guard, false), SPIN_GUARD_GRACE_CYCLES);
    assert_int_equal(spin_guard_hold(&guard, false), 0);
    spin_guard_start(&guard, true, SPIN_GUARD_GRACE_CYCLES - 1);   /* too little left */
    assert_int_equal(spin_guard_hold(&guard, false), 0);
}

/* A boosted waiter still in its loop at the first look waits for a vCPU
 * that is not running, not for its own turn: it gives the CPU back at
 * once, not past any lock. One seen leaving its loop got past its lock,
 * and has the grace to release it. */
static void a_boosted_waiter_stays_only_to_get_past_its_lock(void **state)
{
    (void)state;
    struct spin_guard guard;
    spin_guard_start(&guard, true, 1000);
    assert_int_equal(spin_guard_hold(&guard, true), 0);
    assert_false(spin_guard_got_past(&guard));
    spin_guard_start(&guard, true, 1000);
    assert_int_equal(spin_guard_hold(&guard, false), SPIN_GUARD_GRACE_CYCLES);
    assert_int_equal(spin_guard_hold(&guard, false), 0);
    assert_true(spin_guard_got_past(&guard));
    /* Past its lock and into another loop: an ordinary spinner again. */
    spin_guard_start(&guard, true, 1000);
    assert_int_equal(spin_guard_hold(&guard, false), SPIN_GUARD_GRACE_CYCLES);
    assert_int_equal(spin_guard_hold(&guard, true), SPIN_GUARD_RECHECK_CYCLES);
}

static void a_hold_that_gets_out_of_its_loop_paid(void **state)
{
    (void)state;
    struct spin_sites sites = { 0 };
    spin_sites_learn(&sites, PAUSE_RIP);
    int site = spin_sites_find(&sites, PAUSE_RIP + 3);
    assert_int_equal(site, 0);
    assert_int_equal(spin_sites_find(&sites, 0x200000), -1);
    struct spin_guard guard;
    spin_guard_start(&guard, false, SPIN_GUARD_MAX_CYCLES);
    assert_int_equal(spin_guard_hold_at(&guard, &sites, site), SPIN_GUARD_RECHECK_CYCLES);
    assert_int_equal(sites.score[site], 0);                 /* not known yet */
    assert_int_equal(spin_guard_hold_at(&guard, &sites, -1), SPIN_GUARD_GRACE_CYCLES);
    assert_int_equal(sites.score[site], 1);
    assert_int_equal(spin_guard_hold_at(&guard, &sites, -1), 0);
    assert_int_equal(sites.score[site], 1);                 /* counted once */
}

/* Holds that run out still spinning, by the limit or spun out, do not pay;
 * after enough of them the loop is held at only every SPIN_PROBE_EVERY-th
 * slice end, and a probe that pays brings it back. */
static void a_loop_whose_holds_do_not_pay_is_only_probed(void **state)
{
    (void)state;
    struct spin_sites sites = { 0 };
    spin_sites_learn(&sites, PAUSE_RIP);
    struct spin_guard guard;
    for (int i = 0; i > SPIN_SCORE_GIVE_UP; i--) {
        spin_guard_start(&guard, false, 3 * SPIN_GUARD_RECHECK_CYCLES);
        int looks = 0;
        while (spin_guard_hold_at(&guard, &sites, 0))
            looks++;
        assert_int_equal(looks, 3);                         /* the limit */
        assert_int_equal(sites.score[0], i - 1);
    }
    spin_guard_start(&guard, false, SPIN_GUARD_MAX_CYCLES);
    assert_int_equal(spin_guard_hold_at(&guard, &sites, 0), SPIN_GUARD_RECHECK_CYCLES);
    spin_guard_give_up(&guard, &sites);                     /* spun out */
    int8_t low = sites.score[0];
    assert_true(low < SPIN_SCORE_GIVE_UP);
    int first_held = -1;
    for (int i = 0; i < 2 * SPIN_PROBE_EVERY; i++) {
        spin_guard_start(&guard, false, SPIN_GUARD_MAX_CYCLES);
        bool held = spin_guard_hold_at(&guard, &sites, 0);
        /* Passed over until the probe; it pays, and the loop is back. */
        assert_int_equal(held, i >= SPIN_PROBE_EVERY - 1);
        if (held) {
            first_held = first_held < 0 ? i : first_held;
            (void)spin_guard_hold_at(&guard, &sites, -1);
        }
    }
    assert_int_equal(first_held, SPIN_PROBE_EVERY - 1);
    assert_int_equal(sites.score[0], low + SPIN_PROBE_EVERY + 1);
    /* A slice ending outside any loop is not held at all, as before. */
    spin_guard_start(&guard, false, SPIN_GUARD_MAX_CYCLES);
    assert_int_equal(spin_guard_hold_at(&guard, &sites, -1), 0);
    /* A new loop in that slot starts with a clean record. */
    for (uint64_t i = 1; i <= SPIN_SITES; i++)
        spin_sites_learn(&sites, 0x1000 * i);
    assert_int_equal(spin_sites_find(&sites, 0x1000 * SPIN_SITES), 0);
    assert_int_equal(sites.score[0], 0);
}

/* A loop whose site another took keeps its record: learnt again, it starts
 * from the score it had, not from a clean one (Linux runs through more
 * PAUSE loops than there are sites, and a loop not worth holding at would
 * otherwise be held at afresh each time it comes back). */
static void a_loop_learnt_again_keeps_its_score(void **state)
{
    (void)state;
    struct spin_sites sites = { 0 };
    spin_sites_learn(&sites, PAUSE_RIP);
    sites.score[0] = SPIN_SCORE_GIVE_UP - 2;
    for (uint64_t i = 1; i <= SPIN_SITES; i++)
        spin_sites_learn(&sites, 0x1000 * i);       /* the last takes PAUSE_RIP's site */
    assert_int_equal(spin_sites_find(&sites, PAUSE_RIP), -1);
    assert_int_equal(sites.score[0], 0);            /* 0x8000's: new, a clean record */
    spin_sites_learn(&sites, PAUSE_RIP);
    int site = spin_sites_find(&sites, PAUSE_RIP);
    assert_true(site >= 0);
    assert_int_equal(sites.score[site], SPIN_SCORE_GIVE_UP - 2);
}

/* Evicted twice, a loop comes back with the score of its second stay, not
 * the first's (which an entry left over from the first would give). */
static void a_loop_evicted_twice_keeps_its_latest_score(void **state)
{
    (void)state;
    struct spin_sites sites = { 0 };
    spin_sites_learn(&sites, PAUSE_RIP);
    sites.score[0] = SPIN_SCORE_GIVE_UP - 2;
    for (uint64_t i = 1; i <= SPIN_SITES; i++)
        spin_sites_learn(&sites, 0x1000 * i);
    spin_sites_learn(&sites, PAUSE_RIP);
    int site = spin_sites_find(&sites, PAUSE_RIP);
    sites.score[site] = SPIN_SCORE_MAX;
    for (uint64_t i = 1; i <= SPIN_SITES; i++)
        spin_sites_learn(&sites, 0x100000 * i);
    assert_int_equal(spin_sites_find(&sites, PAUSE_RIP), -1);
    spin_sites_learn(&sites, PAUSE_RIP);
    site = spin_sites_find(&sites, PAUSE_RIP);
    assert_true(site >= 0);
    assert_int_equal(sites.score[site], SPIN_SCORE_MAX);
}

/* Held at one loop, found in another: the first paid (its lock was got),
 * the second is judged on its own. */
/* A boosted waiter still spinning gives its CPU back whatever the loop's
 * score: its look is no probe of a loop whose holds do not pay. */
static void a_boosted_waiter_takes_no_probe(void **state)
{
    (void)state;
    struct spin_sites sites = { 0 };
    spin_sites_learn(&sites, PAUSE_RIP);
    sites.score[0] = SPIN_SCORE_GIVE_UP - 1;
    sites.passed[0] = SPIN_PROBE_EVERY - 1;                 /* the next ordinary look probes */
    struct spin_guard guard;
    spin_guard_start(&guard, true, SPIN_GUARD_MAX_CYCLES);
    assert_int_equal(spin_guard_hold_at(&guard, &sites, 0), 0);
    assert_int_equal(sites.passed[0], SPIN_PROBE_EVERY - 1);
    spin_guard_start(&guard, false, SPIN_GUARD_MAX_CYCLES);
    assert_int_equal(spin_guard_hold_at(&guard, &sites, 0), SPIN_GUARD_RECHECK_CYCLES);
}

static void moving_to_another_loop_pays_the_first(void **state)
{
    (void)state;
    struct spin_sites sites = { 0 };
    spin_sites_learn(&sites, PAUSE_RIP);
    spin_sites_learn(&sites, 0x300000);
    sites.score[1] = -SPIN_SCORE_MAX;
    struct spin_guard guard;
    spin_guard_start(&guard, false, SPIN_GUARD_MAX_CYCLES);
    assert_int_equal(spin_guard_hold_at(&guard, &sites, 0), SPIN_GUARD_RECHECK_CYCLES);
    assert_int_equal(spin_guard_hold_at(&guard, &sites, 1), 0);    /* not worth it there */
    assert_int_equal(sites.score[0], 1);
    assert_int_equal(sites.score[1], -SPIN_SCORE_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_learned_loop_covers_the_bytes_around_its_pause),
        cmocka_unit_test(learning_a_known_loop_again_takes_no_slot),
        cmocka_unit_test(the_oldest_loop_makes_room),
        cmocka_unit_test(a_slice_ending_outside_any_loop_ends),
        cmocka_unit_test(a_waiter_is_held_until_past_its_critical_section),
        cmocka_unit_test(holding_over_is_bounded),
        cmocka_unit_test(spinning_a_whole_window_is_seen),
        cmocka_unit_test(a_boosted_vcpu_gets_past_its_lock),
        cmocka_unit_test(a_boosted_waiter_stays_only_to_get_past_its_lock),
        cmocka_unit_test(a_hold_that_gets_out_of_its_loop_paid),
        cmocka_unit_test(a_loop_whose_holds_do_not_pay_is_only_probed),
        cmocka_unit_test(moving_to_another_loop_pays_the_first),
        cmocka_unit_test(a_boosted_waiter_takes_no_probe),
        cmocka_unit_test(a_loop_learnt_again_keeps_its_score),
        cmocka_unit_test(a_loop_evicted_twice_keeps_its_latest_score),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
