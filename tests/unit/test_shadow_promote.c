/* Shadowed fields learnt per vmcs12: counting, windows, promotion. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "nested/shadow_promote.h"

#define WINDOW (1ull << SHADOW_PROMOTE_WINDOW_SHIFT)

static struct shadow_promotion p;

static int reset(void **state)
{
    (void)state;
    memset(&p, 0, sizeof(p));
    return 0;
}

/* The threshold-th exit within a window promotes, once. */
static void a_field_exiting_often_is_promoted_once(void **state)
{
    (void)state;
    for (unsigned i = 1; i < SHADOW_PROMOTE_THRESHOLD; i++)
        assert_false(shadow_promote_note(&p, GUEST_ES_SELECTOR, 3));
    assert_int_equal(p.count, 0);
    assert_true(shadow_promote_note(&p, GUEST_ES_SELECTOR, 5));
    assert_int_equal(p.count, 1);
    assert_int_equal(p.promoted[0].encoding, GUEST_ES_SELECTOR);
    assert_int_equal(p.promoted[0].offset, VMCS12_FIELD_OFFSET(GUEST_ES_SELECTOR));
    assert_true(vmcs12_field_set_has(&p.promoted_set, GUEST_ES_SELECTOR));
    for (unsigned i = 0; i < 3 * SHADOW_PROMOTE_THRESHOLD; i++)
        assert_false(shadow_promote_note(&p, GUEST_ES_SELECTOR, 6));
    assert_int_equal(p.count, 1);
}

/* Counts are per field and per window: exits spread over windows, or over
 * fields, promote nothing. */
static void counts_are_per_field_and_per_window(void **state)
{
    (void)state;
    uint64_t entries = 10 * WINDOW;
    for (unsigned round = 0; round < 4; round++) {
        for (unsigned i = 1; i < SHADOW_PROMOTE_THRESHOLD; i++) {
            assert_false(shadow_promote_note(&p, GUEST_GDTR_BASE, entries));
            assert_false(shadow_promote_note(&p, GUEST_IDTR_BASE, entries));
        }
        entries += WINDOW;      /* the next window starts from zero */
    }
    assert_int_equal(p.count, 0);
    /* same index, another width or type: another field */
    for (unsigned i = 1; i < SHADOW_PROMOTE_THRESHOLD; i++) {
        assert_false(shadow_promote_note(&p, GUEST_ES_SELECTOR, entries));
        assert_false(shadow_promote_note(&p, GUEST_ES_LIMIT, entries));
        assert_false(shadow_promote_note(&p, HOST_ES_SELECTOR, entries));
    }
    assert_true(shadow_promote_note(&p, GUEST_ES_LIMIT, entries + 1));
    assert_false(vmcs12_field_set_has(&p.promoted_set, GUEST_ES_SELECTOR));
}

/* A full list takes no more. */
static void a_full_list_promotes_nothing(void **state)
{
    (void)state;
    p.count = SHADOW_PROMOTED_MAX;
    for (unsigned i = 0; i < 2 * SHADOW_PROMOTE_THRESHOLD; i++)
        assert_false(shadow_promote_note(&p, GUEST_TR_BASE, 0));
    assert_false(vmcs12_field_set_has(&p.promoted_set, GUEST_TR_BASE));
}

static void promote(uint32_t encoding)
{
    for (unsigned i = 0; i < SHADOW_PROMOTE_THRESHOLD; i++)
        shadow_promote_note(&p, encoding, 1);
}

/* The promoted fields grouped by width, each group in promotion order, as
 * the list has them all. */
static void promoted_fields_are_grouped_by_width(void **state)
{
    (void)state;
    static const uint32_t order[] = { GUEST_RIP, GUEST_ES_SELECTOR, TSC_OFFSET, GUEST_ES_LIMIT,
                                      GUEST_CS_SELECTOR, GUEST_CS_BASE, VMCS_LINK_POINTER,
                                      GUEST_CS_LIMIT };
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        promote(order[i]);
    assert_int_equal(p.count, 8);
    assert_int_equal(p.width_start[0], 0);
    assert_int_equal(p.width_start[4], 8);
    static const uint32_t grouped[] = { GUEST_ES_SELECTOR, GUEST_CS_SELECTOR,     /* 16-bit */
                                        TSC_OFFSET, VMCS_LINK_POINTER,            /* 64-bit */
                                        GUEST_ES_LIMIT, GUEST_CS_LIMIT,           /* 32-bit */
                                        GUEST_RIP, GUEST_CS_BASE };               /* natural */
    static const unsigned starts[] = { 0, 2, 4, 6, 8 };
    for (unsigned w = 0; w <= 4; w++)
        assert_int_equal(p.width_start[w], starts[w]);
    for (unsigned i = 0; i < 8; i++) {
        assert_int_equal(p.by_width[i].encoding, grouped[i]);
        assert_int_equal(p.by_width[i].offset, VMCS12_FIELD_OFFSET(grouped[i]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(a_field_exiting_often_is_promoted_once, reset),
        cmocka_unit_test_setup(promoted_fields_are_grouped_by_width, reset),
        cmocka_unit_test_setup(counts_are_per_field_and_per_window, reset),
        cmocka_unit_test_setup(a_full_list_promotes_nothing, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
