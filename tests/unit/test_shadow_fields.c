/* The shadow-VMCS field lists, their bitmaps and the sync rule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "nested/shadow_fields.h"
#include "lib/bitmap.h"

static bool every_field(void *ctx, uint32_t encoding)
{
    (void)ctx, (void)encoding;
    return true;
}

/* A processor without the preemption-timer value and TPR threshold
 * fields (as a Bochs model without those features fails their VMREAD). */
static bool no_timer_no_tpr(void *ctx, uint32_t encoding)
{
    (void)ctx;
    return encoding != VMX_PREEMPTION_TIMER_VALUE && encoding != TPR_THRESHOLD;
}

static bool has(const struct vmcs12_place *list, unsigned count, uint32_t encoding)
{
    for (unsigned i = 0; i < count; i++)
        if (list[i].encoding == encoding)
            return true;
    return false;
}

static void the_table_classes_make_the_lists(void **state)
{
    (void)state;
    struct shadow_fields f;
    shadow_fields_select(&f, every_field, NULL, true);
    unsigned rw = 0, ro = 0;
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        rw += vmcs_field_table[i].shadow == VMCS_SHADOW_RW;
        ro += vmcs_field_table[i].shadow == VMCS_SHADOW_RO;
    }
    assert_int_equal(f.rw_count, rw);
    assert_int_equal(f.ro_count, ro);
    assert_true(has(f.rw, f.rw_count, GUEST_RIP));
    assert_true(has(f.ro, f.ro_count, VM_EXIT_REASON));
    assert_false(has(f.rw, f.rw_count, VM_INSTRUCTION_ERROR));   /* L0 writes it on VMfail */
    assert_false(has(f.ro, f.ro_count, VM_INSTRUCTION_ERROR));
    assert_false(has(f.rw, f.rw_count, VMCS_LINK_POINTER));
}

static void fields_the_processor_lacks_are_left_out(void **state)
{
    (void)state;
    struct shadow_fields f;
    shadow_fields_select(&f, no_timer_no_tpr, NULL, true);
    assert_false(has(f.rw, f.rw_count, VMX_PREEMPTION_TIMER_VALUE));
    assert_false(has(f.rw, f.rw_count, TPR_THRESHOLD));
    assert_true(has(f.rw, f.rw_count, GUEST_RSP));
}

static void read_only_data_needs_vmwrite_to_any_field(void **state)
{
    (void)state;
    struct shadow_fields f;
    shadow_fields_select(&f, every_field, NULL, false);
    assert_false(has(f.ro, f.ro_count, VM_EXIT_REASON));
    assert_false(has(f.ro, f.ro_count, EXIT_QUALIFICATION));
    assert_false(has(f.ro, f.ro_count, GUEST_PHYSICAL_ADDRESS));
    /* guest-state fields read through the shadow stay: L0 may write them */
    assert_true(has(f.ro, f.ro_count, GUEST_CS_AR_BYTES));
}

/* After a nested exit the shadow gets what the exit may have changed:
 * exit information, guest state, the entry's interruption information;
 * not the controls and host state, which the entry took from it. */
static bool after_exit_has(const struct shadow_fields *f, uint32_t encoding)
{
    return vmcs12_field_set_has(&f->after_exit, encoding);
}

static void after_exit_is_what_an_exit_changes(void **state)
{
    (void)state;
    struct shadow_fields f;
    shadow_fields_select(&f, every_field, NULL, true);
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        const struct vmcs_field_info *info = &vmcs_field_table[i];
        enum vmcs_field_type type = vmcs_field_type(info->encoding);
        bool expected = info->shadow != VMCS_SHADOW_NO &&
                        (type == VMCS_TYPE_READ_ONLY || type == VMCS_TYPE_GUEST ||
                         info->encoding == VM_ENTRY_INTR_INFO);
        assert_int_equal(after_exit_has(&f, info->encoding), expected);
    }
    assert_true(after_exit_has(&f, VM_EXIT_REASON));
    assert_true(after_exit_has(&f, GUEST_RIP));
    assert_true(after_exit_has(&f, GUEST_CR3));
    assert_true(after_exit_has(&f, GUEST_CS_AR_BYTES));
    assert_true(after_exit_has(&f, VMX_PREEMPTION_TIMER_VALUE));
    assert_true(after_exit_has(&f, VM_ENTRY_INTR_INFO));
    assert_false(after_exit_has(&f, CPU_BASED_VM_EXEC_CONTROL));
    assert_false(after_exit_has(&f, VM_ENTRY_EXCEPTION_ERROR_CODE));
    assert_false(after_exit_has(&f, EXCEPTION_BITMAP));   /* RO control */
    assert_false(after_exit_has(&f, HOST_FS_BASE));
    /* read-only data the CPU would not let L0 write: in no list */
    shadow_fields_select(&f, every_field, NULL, false);
    assert_false(after_exit_has(&f, VM_EXIT_REASON));
    assert_false(has(f.ro, f.ro_count, VM_EXIT_REASON));
    assert_true(after_exit_has(&f, GUEST_RIP));
}

/* The precomputed place of a field reads what vmcs12_get reads. */
static void a_field_reads_as_vmcs12_get(void **state)
{
    (void)state;
    struct shadow_fields f;
    shadow_fields_select(&f, every_field, NULL, true);
    static struct vmcs12 v12;
    memset(&v12, 0xa5, sizeof(v12));
    for (unsigned i = 0; i < f.rw_count; i++)
        assert_true(vmcs12_place_get(&v12, &f.rw[i]) == vmcs12_get(&v12, f.rw[i].encoding));
    for (unsigned i = 0; i < f.ro_count; i++)
        assert_true(vmcs12_place_get(&v12, &f.ro[i]) == vmcs12_get(&v12, f.ro[i].encoding));
}

static void bitmaps_let_through_exactly_the_lists(void **state)
{
    (void)state;
    struct shadow_fields f;
    static uint8_t rd[SHADOW_BITMAP_BYTES], wr[SHADOW_BITMAP_BYTES];
    shadow_fields_select(&f, every_field, NULL, true);
    shadow_bitmaps_build(&f, rd, wr);
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        const struct vmcs_field_info *info = &vmcs_field_table[i];
        bool rw = info->shadow == VMCS_SHADOW_RW, ro = info->shadow == VMCS_SHADOW_RO;
        assert_int_equal(shadow_bitmap_passes(rd, info->encoding), rw || ro);
        assert_int_equal(shadow_bitmap_passes(wr, info->encoding), rw);
    }
    /* the high half of a 64-bit field goes with it (GUEST_PHYSICAL_ADDRESS_HIGH) */
    assert_true(shadow_bitmap_passes(rd, GUEST_PHYSICAL_ADDRESS | 1));
    assert_false(shadow_bitmap_passes(wr, GUEST_PHYSICAL_ADDRESS | 1));
    /* an encoding nothing has, and one beyond the bitmap, exit */
    assert_false(shadow_bitmap_passes(rd, 0x7ffe));
    assert_false(shadow_bitmap_passes(rd, 0x10000 | GUEST_RIP));
    /* the bit of field n is bit n%8 of byte n/8 (SDM Vol. 3C 25.6.15) */
    assert_int_equal(rd[GUEST_RIP >> 3] >> (GUEST_RIP & 7) & 1, 0);
    assert_int_equal(wr[VM_EXIT_REASON >> 3] >> (VM_EXIT_REASON & 7) & 1, 1);
}

/* An L2's merged bitmap: a field passes only if L0's bitmap and L1's both
 * let it; L1's bitmap where L1 has no memory passes nothing; the words
 * L0 lets nothing through are never written. */
static void merged_bitmap_passes_what_both_let_through(void **state)
{
    (void)state;
    struct shadow_fields f;
    static uint8_t rd[SHADOW_BITMAP_BYTES], wr[SHADOW_BITMAP_BYTES];
    static uint64_t l1[SHADOW_BITMAP_WORDS], merged[SHADOW_BITMAP_WORDS];
    static uint16_t words[SHADOW_BITMAP_WORDS];
    shadow_fields_select(&f, every_field, NULL, true);
    shadow_bitmaps_build(&f, rd, wr);
    unsigned count = (unsigned)bitmap_words_with_clear_bits((const uint64_t *)rd, SHADOW_BITMAP_WORDS, words);
    assert_true(count > 0 && count < 32);
    for (unsigned i = 0; i < count; i++)
        assert_true(((const uint64_t *)rd)[words[i]] != ~0ull);
    /* L1 lets every field through but GUEST_RIP */
    memset(l1, 0, sizeof(l1));
    l1[GUEST_RIP >> 6] |= 1ull << (GUEST_RIP & 63);
    memset(merged, 0xff, sizeof(merged));
    shadow_bitmap_merge(merged, (const uint64_t *)rd, l1, words, count);
    const uint8_t *m = (const uint8_t *)merged;
    assert_false(shadow_bitmap_passes(m, GUEST_RIP));
    assert_true(shadow_bitmap_passes(m, GUEST_RSP));
    assert_true(shadow_bitmap_passes(m, VM_EXIT_REASON));
    assert_false(shadow_bitmap_passes(m, VM_ENTRY_MSR_LOAD_COUNT));   /* L0 does not shadow it */
    assert_false(shadow_bitmap_passes(m, 0x7ffe));
    /* no L1 bitmap: everything exits */
    shadow_bitmap_merge(merged, (const uint64_t *)rd, NULL, words, count);
    assert_false(shadow_bitmap_passes(m, GUEST_RSP));
    assert_false(shadow_bitmap_passes(m, VM_EXIT_REASON));
}

static void take_marks_only_what_changed(void **state)
{
    (void)state;
    static struct vmcs12 v12;
    memset(&v12, 0, sizeof(v12));
    vmcs12_set(&v12, GUEST_RIP, 0x1000);
    vmcs12_set(&v12, GUEST_INTERRUPTIBILITY_INFO, 1);
    assert_false(shadow_field_take(&v12, GUEST_RIP, 0x1000));
    assert_true(shadow_field_take(&v12, GUEST_RIP, 0x1003));
    assert_int_equal(vmcs12_get(&v12, GUEST_RIP), 0x1003);
    /* applied: the same value changes nothing */
    assert_false(shadow_field_take(&v12, GUEST_RIP, 0x1003));
    /* a 32-bit field compares at its width, as VMREAD returns it */
    assert_true(shadow_field_take(&v12, GUEST_INTERRUPTIBILITY_INFO, 0));
    assert_int_equal(vmcs12_get(&v12, GUEST_INTERRUPTIBILITY_INFO), 0);
    assert_int_equal(vmcs12_get(&v12, GUEST_RIP), 0x1003);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_table_classes_make_the_lists),
        cmocka_unit_test(fields_the_processor_lacks_are_left_out),
        cmocka_unit_test(read_only_data_needs_vmwrite_to_any_field),
        cmocka_unit_test(after_exit_is_what_an_exit_changes),
        cmocka_unit_test(a_field_reads_as_vmcs12_get),
        cmocka_unit_test(bitmaps_let_through_exactly_the_lists),
        cmocka_unit_test(merged_bitmap_passes_what_both_let_through),
        cmocka_unit_test(take_marks_only_what_changed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
