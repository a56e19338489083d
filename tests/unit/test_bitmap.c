#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "lib/bitmap.h"

static void finds_first_clear_run(void **state)
{
    (void)state;
    uint64_t map[2] = { 0, 0 };
    assert_int_equal(bitmap_find_clear_run(map, 128, 3, 1), 0);
    bitmap_set(map, 1);
    assert_int_equal(bitmap_find_clear_run(map, 128, 3, 1), 2);
    assert_int_equal(bitmap_find_clear_run(map, 128, 1, 1), 0);
}

static void honours_alignment(void **state)
{
    (void)state;
    uint64_t map[2] = { 0, 0 };
    bitmap_set(map, 0);
    assert_int_equal(bitmap_find_clear_run(map, 128, 2, 8), 8);
    bitmap_set(map, 9);
    assert_int_equal(bitmap_find_clear_run(map, 128, 2, 8), 16);
}

static void skips_full_words_and_crosses_word_boundaries(void **state)
{
    (void)state;
    uint64_t map[3] = { ~0ull, 0x8000000000000000ull, 0 };
    assert_int_equal(bitmap_find_clear_run(map, 192, 1, 1), 64);
    map[1] = ~0ull >> 4;                /* bits 124..127 clear */
    assert_int_equal(bitmap_find_clear_run(map, 192, 6, 1), 124);
}

static void reports_no_room(void **state)
{
    (void)state;
    uint64_t map[1] = { ~0ull & ~1ull };
    assert_int_equal(bitmap_find_clear_run(map, 64, 2, 1), 64);
    assert_int_equal(bitmap_find_clear_run(map, 64, 0, 1), 64);
    assert_true(bitmap_test(map, 5));
    bitmap_clear(map, 5);
    assert_false(bitmap_test(map, 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finds_first_clear_run),
        cmocka_unit_test(honours_alignment),
        cmocka_unit_test(skips_full_words_and_crosses_word_boundaries),
        cmocka_unit_test(reports_no_room),
    };
    return cmocka_run_group_tests_name("bitmap", tests, NULL, NULL);
}
