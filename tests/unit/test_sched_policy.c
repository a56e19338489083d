/* The fair policy and the balancing decision on hand-built run queues. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "sched/sched_policy.h"

static const struct sched_policy *policy = &sched_policy_fair;

static struct sched_entity entity(uint32_t weight)
{
    return (struct sched_entity){ .weight = weight, .affinity = ~0ull, .runnable = true };
}

/* Runs the queue for `rounds` slices; returns cycles each entity got. */
static void simulate(struct run_queue_state *rq, int rounds, uint64_t *got)
{
    for (int r = 0; r < rounds; r++) {
        struct sched_entity *e = policy->pick_next(rq);
        assert_non_null(e);
        uint64_t slice = policy->slice(rq, e);
        policy->charge(rq, e, slice);
        for (uint32_t i = 0; i < rq->count; i++)
            if (rq->entities[i] == e)
                got[i] += slice;
    }
}

static void equal_weights_share_equally(void **state)
{
    (void)state;
    struct sched_entity a = entity(WEIGHT_DEFAULT), b = entity(WEIGHT_DEFAULT),
                        c = entity(WEIGHT_DEFAULT);
    struct run_queue_state rq = { 0 };
    run_queue_add(&rq, &a);
    run_queue_add(&rq, &b);
    run_queue_add(&rq, &c);
    uint64_t got[3] = { 0 };
    simulate(&rq, 300, got);
    assert_int_equal(got[0], got[1]);
    assert_int_equal(got[1], got[2]);
}

static void weights_give_proportional_shares(void **state)
{
    (void)state;
    struct sched_entity heavy = entity(2 * WEIGHT_DEFAULT), light = entity(WEIGHT_DEFAULT);
    struct run_queue_state rq = { 0 };
    run_queue_add(&rq, &heavy);
    run_queue_add(&rq, &light);
    uint64_t got[2] = { 0 };
    simulate(&rq, 600, got);
    /* within one slice of exactly 2:1 */
    uint64_t diff = got[0] > 2 * got[1] ? got[0] - 2 * got[1] : 2 * got[1] - got[0];
    assert_true(diff <= 2 * policy->slice(&rq, &light));
}

static void halted_entities_are_skipped_and_do_not_bank_time(void **state)
{
    (void)state;
    struct sched_entity a = entity(WEIGHT_DEFAULT), b = entity(WEIGHT_DEFAULT);
    struct run_queue_state rq = { 0 };
    run_queue_add(&rq, &a);
    run_queue_add(&rq, &b);
    b.runnable = false;                     /* halted */
    uint64_t got[2] = { 0 };
    simulate(&rq, 50, got);
    assert_int_equal(got[1], 0);
    assert_int_equal(policy->pick_next(&rq), &a);
    b.runnable = true;      /* woken: runs first, but with a bounded head start */
    policy->wake(&rq, &b);
    assert_true(b.vruntime < a.vruntime);
    assert_true(b.vruntime + 2 * policy->slice(&rq, &a) >= rq.min_vruntime);
    assert_ptr_equal(policy->pick_next(&rq), &b);
    uint64_t after[2] = { 0 };
    simulate(&rq, 100, after);
    uint64_t diff = after[0] > after[1] ? after[0] - after[1] : after[1] - after[0];
    assert_true(diff <= 2 * policy->slice(&rq, &a));  /* no catch-up burst */
}

/* A woken entity takes the CPU only from one clearly ahead of it. */
static void wakeup_preemption_needs_a_clear_lead(void **state)
{
    (void)state;
    struct sched_entity running = entity(WEIGHT_DEFAULT), woken = entity(WEIGHT_DEFAULT);
    struct run_queue_state rq = { 0 };
    run_queue_add(&rq, &running);
    run_queue_add(&rq, &woken);
    running.vruntime = 10000000;
    woken.vruntime = running.vruntime - 1000;           /* barely behind */
    assert_false(policy->preempts(&rq, &woken, &running));
    woken.vruntime = running.vruntime - 5000000;        /* slept a long time */
    assert_true(policy->preempts(&rq, &woken, &running));
    assert_false(policy->preempts(&rq, &running, &woken));
}

/* Directed yield's boost: the entity runs next on its queue. */
static void boost_runs_next(void **state)
{
    (void)state;
    struct sched_entity e[3] = { entity(WEIGHT_DEFAULT), entity(WEIGHT_DEFAULT),
                                 entity(WEIGHT_DEFAULT) };
    struct run_queue_state rq = { 0 };
    for (int i = 0; i < 3; i++)
        run_queue_add(&rq, &e[i]);
    e[0].vruntime = 5000;
    e[1].vruntime = 9000;
    e[2].vruntime = 20000;
    assert_true(policy->boost(&rq, &e[2]));
    assert_int_equal(e[2].vruntime, 4999);
    assert_ptr_equal(policy->pick_next(&rq), &e[2]);
    e[2].vruntime = 6000;
    assert_true(policy->boost(&rq, &e[0]));     /* already first: unchanged */
    assert_int_equal(e[0].vruntime, 5000);
    /* Far behind (it ran much more): no boost, which would be a big gift. */
    e[1].vruntime = 5000 + 10000000;
    assert_false(policy->boost(&rq, &e[1]));
    assert_int_equal(e[1].vruntime, 5000 + 10000000);
}

static void nothing_runnable(void **state)
{
    (void)state;
    struct sched_entity a = entity(WEIGHT_DEFAULT);
    a.runnable = false;
    struct run_queue_state rq = { 0 };
    run_queue_add(&rq, &a);
    assert_null(policy->pick_next(&rq));
    run_queue_remove(&rq, &a);
    assert_int_equal(rq.count, 0);
}

static void balance_takes_from_the_busiest_allowed_queue(void **state)
{
    (void)state;
    struct sched_entity e[5];
    for (int i = 0; i < 5; i++)
        e[i] = entity(WEIGHT_DEFAULT);
    struct run_queue_state q0 = { 0 }, q1 = { 0 }, q2 = { 0 };
    run_queue_add(&q1, &e[0]);
    run_queue_add(&q1, &e[1]);
    run_queue_add(&q1, &e[2]);
    run_queue_add(&q2, &e[3]);
    run_queue_add(&q2, &e[4]);
    struct run_queue_state *const queues[3] = { &q0, &q1, &q2 };
    e[0].on_cpu = true;                     /* running: not movable */
    e[1].vruntime = 500;
    e[2].vruntime = 100;                    /* waited longest */
    assert_ptr_equal(sched_balance_pick(queues, 3, 0), &e[2]);
    e[2].affinity = 1ull << 1;              /* pinned to CPU 1 */
    assert_ptr_equal(sched_balance_pick(queues, 3, 0), &e[1]);
    e[1].affinity = 1ull << 1;
    assert_null(sched_balance_pick(queues, 3, 0));  /* nothing CPU 0 may take */
}

static void balance_leaves_lone_vcpus_alone(void **state)
{
    (void)state;
    struct sched_entity a = entity(WEIGHT_DEFAULT), b = entity(WEIGHT_DEFAULT);
    struct run_queue_state q0 = { 0 }, q1 = { 0 }, q2 = { 0 };
    run_queue_add(&q1, &a);
    run_queue_add(&q2, &b);
    struct run_queue_state *const queues[3] = { &q0, &q1, &q2 };
    assert_null(sched_balance_pick(queues, 3, 0));
    b.runnable = false;
    run_queue_add(&q1, &b);
    assert_null(sched_balance_pick(queues, 3, 0));  /* one runnable + one halted */
}

static void balance_evens_out_busy_queues(void **state)
{
    (void)state;
    struct sched_entity e[5];
    for (int i = 0; i < 5; i++)
        e[i] = entity(WEIGHT_DEFAULT);
    struct run_queue_state q0 = { 0 }, q1 = { 0 };
    run_queue_add(&q0, &e[0]);
    for (int i = 1; i < 5; i++)
        run_queue_add(&q1, &e[i]);
    struct run_queue_state *const queues[2] = { &q0, &q1 };
    /* 1 here, 4 there: take one */
    struct sched_entity *taken = sched_balance_pick(queues, 2, 0);
    assert_non_null(taken);
    run_queue_remove(&q1, taken);
    run_queue_add(&q0, taken);
    /* 2 here, 3 there: balanced enough */
    assert_null(sched_balance_pick(queues, 2, 0));
    assert_null(sched_balance_pick(queues, 2, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(equal_weights_share_equally),
        cmocka_unit_test(weights_give_proportional_shares),
        cmocka_unit_test(halted_entities_are_skipped_and_do_not_bank_time),
        cmocka_unit_test(nothing_runnable),
        cmocka_unit_test(boost_runs_next),
        cmocka_unit_test(wakeup_preemption_needs_a_clear_lead),
        cmocka_unit_test(balance_takes_from_the_busiest_allowed_queue),
        cmocka_unit_test(balance_leaves_lone_vcpus_alone),
        cmocka_unit_test(balance_evens_out_busy_queues),
    };
    return cmocka_run_group_tests_name("sched_policy", tests, NULL, NULL);
}
