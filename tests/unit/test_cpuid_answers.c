#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "virt/cpuid_answers.h"

static struct cpuid_answers answers;

static int clear(void **state)
{
    (void)state;
    memset(&answers, 0, sizeof(answers));
    return 0;
}

static void starts_with_none(void **state)
{
    (void)state;
    for (uint32_t leaf = 0; leaf < CPUID_ANSWER_LEAVES; leaf++)
        for (uint32_t subleaf = 0; subleaf < CPUID_ANSWER_SUBLEAVES; subleaf++)
            assert_null(cpuid_answer_find(&answers, leaf, subleaf));
}

static void gives_back_what_it_kept_zero_extended(void **state)
{
    (void)state;
    cpuid_answer_keep(&answers, 4, 2, (struct cpuid_regs){ 0xffffffffu, 2, 3, 0x80000000u });
    const struct cpuid_answer *a = cpuid_answer_find(&answers, 4, 2);
    assert_non_null(a);
    assert_int_equal(a->rax, 0xffffffffull);
    assert_int_equal(a->rbx, 2);
    assert_int_equal(a->rcx, 3);
    assert_int_equal(a->rdx, 0x80000000ull);
    /* Its neighbours are other slots. */
    assert_null(cpuid_answer_find(&answers, 4, 1));
    assert_null(cpuid_answer_find(&answers, 4, 3));
    assert_null(cpuid_answer_find(&answers, 3, 2));
    assert_null(cpuid_answer_find(&answers, 5, 2));
}

static void every_slot_is_its_own(void **state)
{
    (void)state;
    for (uint32_t leaf = 0; leaf < CPUID_ANSWER_LEAVES; leaf++)
        for (uint32_t subleaf = 0; subleaf < CPUID_ANSWER_SUBLEAVES; subleaf++)
            cpuid_answer_keep(&answers, leaf, subleaf, (struct cpuid_regs){ leaf, subleaf, 0, 0 });
    for (uint32_t leaf = 0; leaf < CPUID_ANSWER_LEAVES; leaf++)
        for (uint32_t subleaf = 0; subleaf < CPUID_ANSWER_SUBLEAVES; subleaf++) {
            const struct cpuid_answer *a = cpuid_answer_find(&answers, leaf, subleaf);
            assert_non_null(a);
            assert_int_equal(a->rax, leaf);
            assert_int_equal(a->rbx, subleaf);
        }
}

/* Leaves and subleaves past the table are never kept, so never found: the
 * exit computes them each time. */
static void keeps_nothing_outside_the_table(void **state)
{
    (void)state;
    const uint32_t outside[][2] = {
        { CPUID_ANSWER_LEAVES, 0 }, { 0x40000000u, 0 }, { 0x80000001u, 0 },
        { 0, CPUID_ANSWER_SUBLEAVES }, { 7, 0xffffffffu }, { 0xffffffffu, 0 },
    };
    for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
        cpuid_answer_keep(&answers, outside[i][0], outside[i][1], (struct cpuid_regs){ 1, 1, 1, 1 });
        assert_null(cpuid_answer_find(&answers, outside[i][0], outside[i][1]));
    }
    starts_with_none(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(starts_with_none, clear),
        cmocka_unit_test_setup(gives_back_what_it_kept_zero_extended, clear),
        cmocka_unit_test_setup(every_slot_is_its_own, clear),
        cmocka_unit_test_setup(keeps_nothing_outside_the_table, clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
