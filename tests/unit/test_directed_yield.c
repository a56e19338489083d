/* Directed yield's choice of a vCPU to boost (sched/directed_yield.c) on
 * hand-built VM states: preempted vs halted vs spinning vCPUs, kernel mode,
 * the round-robin start, and giving up after failed tries. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "sched/directed_yield.h"

static uint32_t attempts[16], attempt_count;
static int results[16];         /* what boosting vCPU i returns */

static int fake_boost(void *ctx, uint32_t index)
{
    (void)ctx;
    attempts[attempt_count++] = index;
    return results[index];
}

static void reset(struct dy_vcpu *v, uint32_t n)
{
    memset(v, 0, n * sizeof(*v));
    attempt_count = 0;
    for (uint32_t i = 0; i < 16; i++)
        results[i] = 1;
}

static struct dy_vcpu preempted_kernel(void)
{
    return (struct dy_vcpu){ .preempted = true, .in_kernel = true };
}

static void boosts_a_preempted_vcpu(void **state)
{
    (void)state;
    struct dy_vcpu v[4];
    reset(v, 4);
    v[2] = preempted_kernel();
    uint32_t last = 0;
    assert_int_equal(directed_yield(v, 4, 0, &last, fake_boost, NULL), 2);
    assert_int_equal(last, 2);
    assert_int_equal(attempt_count, 1);
}

static void skips_running_halted_user_and_self(void **state)
{
    (void)state;
    struct dy_vcpu v[6];
    reset(v, 6);
    v[0] = preempted_kernel();                  /* self */
    v[1] = (struct dy_vcpu){ .in_kernel = true };   /* running, or halted */
    v[3] = preempted_kernel();
    v[3].in_kernel = false;                     /* preempted in user mode */
    uint32_t last = 5;
    assert_int_equal(directed_yield(v, 6, 0, &last, fake_boost, NULL), -1);
    assert_int_equal(attempt_count, 0);
    assert_int_equal(last, 5);
    v[2] = preempted_kernel();                  /* woken, or preempted */
    assert_int_equal(directed_yield(v, 6, 0, &last, fake_boost, NULL), 2);
}

static void starts_after_the_last_boosted_and_wraps(void **state)
{
    (void)state;
    struct dy_vcpu v[5];
    reset(v, 5);
    for (int i = 0; i < 5; i++)
        v[i] = preempted_kernel();
    uint32_t last = 2;
    assert_int_equal(directed_yield(v, 5, 0, &last, fake_boost, NULL), 3);
    assert_int_equal(directed_yield(v, 5, 0, &last, fake_boost, NULL), 4);
    assert_int_equal(directed_yield(v, 5, 0, &last, fake_boost, NULL), 1);  /* wrapped, 0 is self */
    assert_int_equal(directed_yield(v, 5, 0, &last, fake_boost, NULL), 2);
}

static void spinners_are_eligible_every_other_time(void **state)
{
    (void)state;
    struct dy_vcpu v[2];
    reset(v, 2);
    v[1] = preempted_kernel();
    v[1].in_spin_loop = true;                   /* also spinning, preempted in its yield */
    uint32_t last = 0;
    assert_int_equal(directed_yield(v, 2, 0, &last, fake_boost, NULL), -1);
    assert_int_equal(directed_yield(v, 2, 0, &last, fake_boost, NULL), 1);
    assert_int_equal(directed_yield(v, 2, 0, &last, fake_boost, NULL), -1);
    /* The spinner's own flags are left clear. */
    assert_false(v[0].in_spin_loop);
    assert_false(v[0].dy_eligible);
}

static void gives_up_after_three_failures(void **state)
{
    (void)state;
    struct dy_vcpu v[8];
    reset(v, 8);
    for (int i = 0; i < 8; i++) {
        v[i] = preempted_kernel();
        results[i] = -1;
    }
    results[7] = 1;
    uint32_t last = 0;
    assert_int_equal(directed_yield(v, 8, 0, &last, fake_boost, NULL), -1);
    assert_int_equal(attempt_count, 3);
    assert_int_equal(attempts[0], 1);
    assert_int_equal(attempts[2], 3);
    /* "Not possible now" does not count against the tries. */
    reset(v, 8);
    for (int i = 0; i < 8; i++) {
        v[i] = preempted_kernel();
        results[i] = 0;
    }
    results[7] = 1;
    assert_int_equal(directed_yield(v, 8, 0, &last, fake_boost, NULL), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(boosts_a_preempted_vcpu),
        cmocka_unit_test(skips_running_halted_user_and_self),
        cmocka_unit_test(starts_after_the_last_boosted_and_wraps),
        cmocka_unit_test(spinners_are_eligible_every_other_time),
        cmocka_unit_test(gives_up_after_three_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
