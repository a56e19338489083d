#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "vmx/vpid.h"

static struct vpid_pool pool;

static void never_hands_out_zero(void **state)
{
    (void)state;
    vpid_pool_init(&pool, VPID_COUNT);
    assert_int_equal(vpid_alloc(&pool), 1);
    assert_int_equal(vpid_alloc(&pool), 2);
}

static void reuses_freed_vpids_lowest_first(void **state)
{
    (void)state;
    vpid_pool_init(&pool, VPID_COUNT);
    for (int i = 1; i <= 5; i++)
        assert_int_equal(vpid_alloc(&pool), i);
    vpid_free(&pool, 2);
    vpid_free(&pool, 4);
    assert_int_equal(vpid_alloc(&pool), 2);
    assert_int_equal(vpid_alloc(&pool), 4);
    assert_int_equal(vpid_alloc(&pool), 6);
}

static void exhaustion_gives_zero_then_recovers(void **state)
{
    (void)state;
    vpid_pool_init(&pool, 4);           /* VPIDs 1..3 */
    assert_int_equal(vpid_alloc(&pool), 1);
    assert_int_equal(vpid_alloc(&pool), 2);
    assert_int_equal(vpid_alloc(&pool), 3);
    assert_int_equal(vpid_alloc(&pool), 0);
    vpid_free(&pool, 0);                /* freeing "no VPID" is a no-op */
    assert_int_equal(vpid_alloc(&pool), 0);
    vpid_free(&pool, 3);
    assert_int_equal(vpid_alloc(&pool), 3);
}

static void full_sixteen_bit_space(void **state)
{
    (void)state;
    vpid_pool_init(&pool, VPID_COUNT);
    for (uint32_t i = 1; i < VPID_COUNT; i++)
        assert_int_equal(vpid_alloc(&pool), i);
    assert_int_equal(vpid_alloc(&pool), 0);
    vpid_free(&pool, 65535);
    assert_int_equal(vpid_alloc(&pool), 65535);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(never_hands_out_zero),
        cmocka_unit_test(reuses_freed_vpids_lowest_first),
        cmocka_unit_test(exhaustion_gives_zero_then_recovers),
        cmocka_unit_test(full_sixteen_bit_space),
    };
    return cmocka_run_group_tests_name("vpid", tests, NULL, NULL);
}
