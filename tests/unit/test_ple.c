/* The adaptive PAUSE-loop-exiting window (vmx/ple.c): KVM's grow and shrink
 * rules, defaults and the limits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "vmx/ple.h"

#define BASE 4096u

static void grow_with_kvm_defaults_doubles(void **state)
{
    (void)state;
    assert_int_equal(ple_window_grow(BASE, BASE, 2, UINT32_MAX), 8192);
    assert_int_equal(ple_window_grow(8192, BASE, 2, UINT32_MAX), 16384);
}

static void grow_modifier_zero_resets(void **state)
{
    (void)state;
    assert_int_equal(ple_window_grow(65536, BASE, 0, UINT32_MAX), BASE);
}

static void grow_modifier_at_least_base_adds(void **state)
{
    (void)state;
    assert_int_equal(ple_window_grow(BASE, BASE, BASE, UINT32_MAX), 2 * BASE);
    assert_int_equal(ple_window_grow(10000, BASE, 5000, UINT32_MAX), 15000);
}

static void grow_is_capped_without_overflow(void **state)
{
    (void)state;
    /* 3e9 * 2 overflows 32 bits: the product is taken in 64. */
    assert_int_equal(ple_window_grow(3000000000u, BASE, 2, UINT32_MAX), UINT32_MAX);
    assert_int_equal(ple_window_grow(UINT32_MAX, BASE, 2, UINT32_MAX), UINT32_MAX);
    assert_int_equal(ple_window_grow(UINT32_MAX - 10, BASE, 100000, UINT32_MAX), UINT32_MAX);
    assert_int_equal(ple_window_grow(40000, BASE, 2, 65536), 65536);
    assert_int_equal(ple_window_grow(65536, BASE, 2, 65536), 65536);
}

static void grow_modifier_one_keeps_the_window(void **state)
{
    (void)state;
    assert_int_equal(ple_window_grow(BASE, BASE, 1, UINT32_MAX), BASE);
}

static void shrink_modifier_zero_resets(void **state)
{
    (void)state;
    assert_int_equal(ple_window_shrink(1u << 20, BASE, 0), BASE);
}

static void shrink_divides_or_subtracts_floored_at_base(void **state)
{
    (void)state;
    assert_int_equal(ple_window_shrink(65536, BASE, 2), 32768);
    assert_int_equal(ple_window_shrink(6000, BASE, 2), BASE);      /* 3000 is below base */
    assert_int_equal(ple_window_shrink(20000, BASE, 5000), 15000);
    assert_int_equal(ple_window_shrink(6000, BASE, 5000), BASE);
    assert_int_equal(ple_window_shrink(3000, BASE, 5000), BASE);   /* no wrap below zero */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grow_with_kvm_defaults_doubles),
        cmocka_unit_test(grow_modifier_zero_resets),
        cmocka_unit_test(grow_modifier_at_least_base_adds),
        cmocka_unit_test(grow_is_capped_without_overflow),
        cmocka_unit_test(grow_modifier_one_keeps_the_window),
        cmocka_unit_test(shrink_modifier_zero_resets),
        cmocka_unit_test(shrink_divides_or_subtracts_floored_at_base),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
