/* The vmcs12 layout and its VMREAD/VMWRITE semantics. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "nested/vmcs12.h"

static unsigned field_bytes(uint32_t encoding)
{
    switch (vmcs_field_width(encoding)) {
    case VMCS_WIDTH_16: return 2;
    case VMCS_WIDTH_32: return 4;
    default: return 8;
    }
}

static void every_field_lies_inside_the_region(void **state)
{
    (void)state;
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        uint32_t e = vmcs_field_table[i].encoding;
        int offset = vmcs12_field_offset(e);
        assert_true(offset >= (int)offsetof(struct vmcs12, data));
        assert_true(offset + field_bytes(e) <= VMCS12_SIZE);
    }
}

static void no_two_fields_overlap(void **state)
{
    (void)state;
    /* owner[b]: 1 + the table index of the field that holds byte b. */
    static unsigned owner[VMCS12_SIZE];
    memset(owner, 0, sizeof(owner));
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        uint32_t e = vmcs_field_table[i].encoding;
        int offset = vmcs12_field_offset(e);
        for (unsigned b = 0; b < field_bytes(e); b++) {
            if (owner[offset + b])
                fail_msg("%s overlaps %s at byte %u", vmcs_field_table[i].id,
                         vmcs_field_table[owner[offset + b] - 1].id, offset + b);
            owner[offset + b] = i + 1;
        }
    }
}

static void fields_are_naturally_aligned(void **state)
{
    (void)state;
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        uint32_t e = vmcs_field_table[i].encoding;
        assert_int_equal(vmcs12_field_offset(e) % field_bytes(e), 0);
    }
}

/* The frozen offsets of revision VMCS12_REVISION (also pinned at compile
 * time in nested/vmcs12.c): the first and last field of each group. */
static void offsets_are_pinned(void **state)
{
    (void)state;
    static const struct { uint32_t encoding; int offset; } pinned[] = {
        { VIRTUAL_PROCESSOR_ID, 16 },       { EPTP_INDEX, 20 },
        { GUEST_ES_SELECTOR, 144 },         { GUEST_PML_INDEX, 162 },
        { HOST_ES_SELECTOR, 208 },          { HOST_TR_SELECTOR, 220 },
        { IO_BITMAP_A, 272 },               { TSC_MULTIPLIER, 472 },
        { GUEST_PHYSICAL_ADDRESS, 656 },    { VMCS_LINK_POINTER, 1040 },
        { GUEST_PDPTE3, 1104 },             { HOST_IA32_PAT, 1424 },
        { HOST_IA32_PERF_GLOBAL_CTRL, 1440 }, { PIN_BASED_VM_EXEC_CONTROL, 1808 },
        { PLE_WINDOW, 1876 },               { VM_INSTRUCTION_ERROR, 1936 },
        { VMX_INSTRUCTION_INFO, 1964 },     { GUEST_ES_LIMIT, 2064 },
        { VMX_PREEMPTION_TIMER_VALUE, 2156 }, { HOST_IA32_SYSENTER_CS, 2192 },
        { CR0_GUEST_HOST_MASK, 2320 },      { CR3_TARGET_VALUE3, 2376 },
        { EXIT_QUALIFICATION, 2576 },       { GUEST_LINEAR_ADDRESS, 2616 },
        { GUEST_CR0, 2832 },                { GUEST_RIP, 2952 },
        { GUEST_SYSENTER_EIP, 2984 },       { HOST_CR0, 3088 },
        { HOST_RIP, 3176 },
    };
    for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++)
        assert_int_equal(vmcs12_field_offset(pinned[i].encoding), pinned[i].offset);
}

/* Every field keeps its own value: a distinct pattern written to each, all
 * read back afterwards, truncated to the field's width. */
static void every_field_keeps_its_value(void **state)
{
    (void)state;
    static struct vmcs12 v;
    memset(&v, 0, sizeof(v));
    for (unsigned i = 0; i < vmcs_field_count; i++)
        assert_true(vmcs12_write(&v, vmcs_field_table[i].encoding,
                                 0x0123456789abcdefull * (i + 1)));
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        uint32_t e = vmcs_field_table[i].encoding;
        uint64_t expect = 0x0123456789abcdefull * (i + 1), got;
        if (field_bytes(e) < 8)
            expect &= (1ull << (8 * field_bytes(e))) - 1;
        assert_true(vmcs12_read(&v, e, &got));
        assert_int_equal(got, expect);
    }
    assert_int_equal(v.revision, 0);
    assert_int_equal(v.abort, 0);
    assert_int_equal(v.launch_state, 0);
}

/* L0's inline accessors and the VMREAD/VMWRITE ones agree on every field:
 * each sees what the other wrote. */
static void l0_accessors_agree_with_vmread_and_vmwrite(void **state)
{
    (void)state;
    static struct vmcs12 v;
    memset(&v, 0, sizeof(v));
    for (unsigned i = 0; i < vmcs_field_count; i++)
        vmcs12_set(&v, vmcs_field_table[i].encoding, 0xfedcba9876543210ull ^ (i * 0x1111ull));
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        uint32_t e = vmcs_field_table[i].encoding;
        uint64_t got;
        assert_true(vmcs12_read(&v, e, &got));
        assert_int_equal(got, vmcs12_get(&v, e));
        assert_true(vmcs12_write(&v, e, ~got));
        uint64_t expect = ~got;
        if (field_bytes(e) < 8)
            expect &= (1ull << (8 * field_bytes(e))) - 1;
        assert_int_equal(vmcs12_get(&v, e), expect);
    }
}

/* A field set tells every field of the table from every other, and by type. */
static void field_sets_tell_fields_apart(void **state)
{
    (void)state;
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        struct vmcs12_field_set set = { 0 };
        uint32_t e = vmcs_field_table[i].encoding;
        vmcs12_field_set_add(&set, e);
        for (unsigned j = 0; j < vmcs_field_count; j++)
            assert_int_equal(vmcs12_field_set_has(&set, vmcs_field_table[j].encoding), i == j);
        for (unsigned type = 0; type < 4; type++)
            assert_int_equal(vmcs12_field_set_has_type(&set, type), type == vmcs_field_type(e));
        for (unsigned j = 0; j < vmcs_field_count; j++)
            assert_int_equal(vmcs12_field_set_type_is(&set, vmcs_field_table[j].encoding), i == j);
        vmcs12_field_set_clear_type(&set, vmcs_field_type(e));
        assert_false(vmcs12_field_set_has(&set, e));
        assert_false(vmcs12_field_set_has_type(&set, vmcs_field_type(e)));
    }
    /* Two fields of a type: neither is the type's only one. */
    struct vmcs12_field_set two = { 0 };
    vmcs12_field_set_add(&two, CPU_BASED_VM_EXEC_CONTROL);
    vmcs12_field_set_add(&two, VM_ENTRY_INTR_INFO);
    assert_false(vmcs12_field_set_type_is(&two, CPU_BASED_VM_EXEC_CONTROL));
    assert_false(vmcs12_field_set_type_is(&two, VM_ENTRY_INTR_INFO));
    vmcs12_field_set_clear_type(&two, VMCS_TYPE_CONTROL);
    vmcs12_field_set_add(&two, CPU_BASED_VM_EXEC_CONTROL);
    vmcs12_field_set_add(&two, TSC_OFFSET);         /* another width */
    assert_false(vmcs12_field_set_type_is(&two, CPU_BASED_VM_EXEC_CONTROL));
    struct vmcs12_field_set all;
    vmcs12_field_set_fill(&all);
    for (unsigned i = 0; i < vmcs_field_count; i++)
        assert_true(vmcs12_field_set_has(&all, vmcs_field_table[i].encoding));
}

/* A set's `words` names the words that hold its fields, and a walk of
 * them finds each field at its encoding and place: what the nested round
 * trip's copies rely on (nested/switch.c, nested/shadow_vmcs.c). */
static void field_set_words_lead_to_each_field(void **state)
{
    (void)state;
    static struct vmcs12 v;
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        uint32_t e = vmcs_field_table[i].encoding;
        struct vmcs12_field_set set = { 0 };
        vmcs12_field_set_add(&set, e);
        unsigned type = vmcs_field_type(e), width = vmcs_field_width(e);
        assert_int_equal(set.words, 1u << (4 * type + width));
        unsigned index = (unsigned)__builtin_ctzll(set.bits[type][width]);
        assert_int_equal(vmcs12_field_set_encoding(type, width, index), e);
        unsigned offset = vmcs12_field_set_word_offset(type, width) + index * field_bytes(e);
        assert_int_equal(offset, (unsigned)vmcs12_field_offset(e));
        memset(&v, 0x5a, sizeof(v));
        vmcs12_set(&v, e, 0x0123456789abcdefull);
        assert_int_equal(vmcs12_get_at(&v, width, offset), vmcs12_get(&v, e));
        vmcs12_field_set_clear_type(&set, type);
        assert_int_equal(set.words, 0);
    }
    struct vmcs12_field_set all;
    vmcs12_field_set_fill(&all);
    assert_int_equal(all.words, 0xffff);
}

/* vmcs12_set_noting names a field only when its value changed: a nested
 * exit that stores the value a field had marks nothing for the shadow. */
static void set_noting_marks_changes_only(void **state)
{
    (void)state;
    static struct vmcs12 v;
    memset(&v, 0, sizeof(v));
    struct vmcs12_field_set changed = { 0 };
    vmcs12_set_noting(&v, &changed, GUEST_RIP, 0);
    vmcs12_set_noting(&v, &changed, VM_EXIT_REASON, 0);
    assert_false(vmcs12_field_set_has(&changed, GUEST_RIP));
    assert_int_equal(changed.words, 0);
    vmcs12_set_noting(&v, &changed, GUEST_RIP, 0x1000);
    assert_true(vmcs12_field_set_has(&changed, GUEST_RIP));
    assert_false(vmcs12_field_set_has(&changed, VM_EXIT_REASON));
    assert_int_equal(vmcs12_get(&v, GUEST_RIP), 0x1000);
    /* Bits beyond a field's width are not part of its value. */
    vmcs12_set_noting(&v, &changed, VM_EXIT_REASON, 10);
    struct vmcs12_field_set again = { 0 };
    vmcs12_set_noting(&v, &again, VM_EXIT_REASON, 10);
    vmcs12_set_noting(&v, &again, GUEST_RIP, 0x1000);
    assert_int_equal(again.words, 0);
    assert_true(vmcs12_field_set_has(&changed, VM_EXIT_REASON));
}

static void narrow_fields_truncate_and_zero_extend(void **state)
{
    (void)state;
    static struct vmcs12 v;
    uint64_t got;
    memset(&v, 0xa5, sizeof(v));
    assert_true(vmcs12_write(&v, GUEST_CS_SELECTOR, 0xffffffffffff0008ull));
    assert_true(vmcs12_read(&v, GUEST_CS_SELECTOR, &got));
    assert_int_equal(got, 0x0008);
    /* Its neighbours keep their bytes. */
    assert_true(vmcs12_read(&v, GUEST_ES_SELECTOR, &got));
    assert_int_equal(got, 0xa5a5);
    assert_true(vmcs12_read(&v, GUEST_SS_SELECTOR, &got));
    assert_int_equal(got, 0xa5a5);

    assert_true(vmcs12_write(&v, VM_EXIT_REASON, 0xdeadbeef0000001eull));
    assert_true(vmcs12_read(&v, VM_EXIT_REASON, &got));
    assert_int_equal(got, 0x1e);
    assert_true(vmcs12_read(&v, VM_INSTRUCTION_ERROR, &got));
    assert_int_equal(got, 0xa5a5a5a5);

    assert_true(vmcs12_write(&v, GUEST_RIP, 0xffffffff81000000ull));
    assert_true(vmcs12_read(&v, GUEST_RIP, &got));
    assert_int_equal(got, 0xffffffff81000000ull);
    assert_true(vmcs12_write(&v, EPT_POINTER, 0x000000012345601eull));
    assert_true(vmcs12_read(&v, EPT_POINTER, &got));
    assert_int_equal(got, 0x000000012345601eull);
}

static void high_access_moves_bits_63_to_32(void **state)
{
    (void)state;
    static struct vmcs12 v;
    uint64_t got;
    memset(&v, 0, sizeof(v));
    assert_int_equal(vmcs12_field_offset(TSC_OFFSET | 1), vmcs12_field_offset(TSC_OFFSET) + 4);

    assert_true(vmcs12_write(&v, TSC_OFFSET, 0x1122334455667788ull));
    assert_true(vmcs12_read(&v, TSC_OFFSET | 1, &got));
    assert_int_equal(got, 0x11223344);

    /* A high write replaces bits 63:32 only, from bits 31:0 of the value. */
    assert_true(vmcs12_write(&v, TSC_OFFSET | 1, 0xffffffffaabbccddull));
    assert_true(vmcs12_read(&v, TSC_OFFSET, &got));
    assert_int_equal(got, 0xaabbccdd55667788ull);

    assert_true(vmcs12_write(&v, GUEST_PHYSICAL_ADDRESS | 1, 0x1));
    assert_true(vmcs12_read(&v, GUEST_PHYSICAL_ADDRESS, &got));
    assert_int_equal(got, 0x100000000ull);
}

static void bad_encodings_are_rejected(void **state)
{
    (void)state;
    static const uint32_t bad[] = {
        GUEST_RIP | 1,                  /* high access of a natural-width field */
        VM_EXIT_REASON | 1,             /* ... of a 32-bit field */
        GUEST_CS_SELECTOR | 1,          /* ... of a 16-bit field */
        GUEST_RIP | 0x1000,             /* reserved bit 12 */
        IO_BITMAP_A | 0x8000,           /* reserved bits 31:15 */
        PIN_BASED_VM_EXEC_CONTROL | 0x80000000u,
        0x0006,                         /* 16-bit control the table lacks */
        0x2034,                         /* 64-bit control the table lacks */
        0x2035,                         /* ... and its high half */
        0x0400,                         /* no 16-bit read-only fields exist */
        0x4c02,                         /* past the 32-bit host fields */
        0x6c18,                         /* past the natural-width host fields */
        0xffffffffu,
    };
    static struct vmcs12 v, before;
    memset(&v, 0x5a, sizeof(v));
    before = v;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t got = 7;
        assert_int_equal(vmcs12_field_offset(bad[i]), -1);
        assert_false(vmcs12_read(&v, bad[i], &got));
        assert_int_equal(got, 7);
        assert_false(vmcs12_write(&v, bad[i], 0));
    }
    assert_memory_equal(&v, &before, sizeof(v));
}

/* For IA32_VMX_VMCS_ENUM: the table's highest index is TSC_MULTIPLIER's. */
static void highest_index(void **state)
{
    (void)state;
    assert_int_equal(vmcs12_highest_index(), (TSC_MULTIPLIER >> 1) & 0x1ff);
    assert_int_equal(vmcs12_highest_index(), 25);
}

/* A placed field reads and writes as vmcs12_get/vmcs12_set, and a write
 * leaves the bytes around it alone. */
static void placed_fields_move_only_their_bytes(void **state)
{
    (void)state;
    static struct vmcs12 a, b;
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        uint32_t e = vmcs_field_table[i].encoding;
        struct vmcs12_place p = vmcs12_place_of(e);
        memset(&a, 0xa5, sizeof(a));
        memset(&b, 0xa5, sizeof(b));
        assert_true(vmcs12_place_get(&a, &p) == vmcs12_get(&a, e));
        vmcs12_place_set(&a, &p, 0x0123456789abcdefull);
        vmcs12_set(&b, e, 0x0123456789abcdefull);
        assert_memory_equal(&a, &b, sizeof(a));
    }
}

/* A copy refreshed from a changed region: equal to it after, every field
 * the change touched (and only those) noted, the header's bytes copied
 * without a field; nothing noted or copied where nothing differed. */
static void a_refreshed_copy_notes_each_changed_field(void **state)
{
    (void)state;
    vmcs12_spans_init();
    static struct vmcs12 copy, memory, before;
    memset(&memory, 0x3c, sizeof(memory));
    copy = memory;
    struct vmcs12_field_set changed = { 0 };
    assert_false(vmcs12_refresh(&copy, &memory, &changed));
    assert_int_equal(changed.words, 0);

    /* Fields of each width, neighbours in one quadword among them (the
     * 16-bit ES and CS selectors), the first field (encoding 0), the last
     * quadword of the fields, and the launch state in the header. */
    static const uint32_t touched[] = { VIRTUAL_PROCESSOR_ID, GUEST_ES_SELECTOR,
                                        GUEST_CS_SELECTOR, VMCS_LINK_POINTER,
                                        EXCEPTION_BITMAP, GUEST_RIP, HOST_RIP };
    for (size_t i = 0; i < sizeof(touched) / sizeof(touched[0]); i++)
        vmcs12_set(&memory, touched[i], 0x1122334455667788ull + i);
    memory.launch_state = VMCS12_LAUNCHED;
    assert_true(vmcs12_refresh(&copy, &memory, &changed));
    assert_memory_equal(&copy, &memory, VMCS12_USED_BYTES);
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        uint32_t e = vmcs_field_table[i].encoding;
        bool was_touched = false;
        for (size_t t = 0; t < sizeof(touched) / sizeof(touched[0]); t++)
            was_touched |= touched[t] == e;
        assert_int_equal(vmcs12_field_set_has(&changed, e), was_touched);
    }

    /* A neighbour in a changed quadword is noted only if it changed too. */
    changed = (struct vmcs12_field_set){ 0 };
    vmcs12_set(&memory, GUEST_SS_SELECTOR, 0x77);
    before = copy;
    assert_true(vmcs12_refresh(&copy, &memory, &changed));
    assert_true(vmcs12_field_set_has(&changed, GUEST_SS_SELECTOR));
    assert_false(vmcs12_field_set_has(&changed, GUEST_ES_SELECTOR));
    assert_false(vmcs12_field_set_has(&changed, GUEST_DS_SELECTOR));
    assert_memory_equal(&copy, &memory, VMCS12_USED_BYTES);
    assert_memory_not_equal(&copy, &before, VMCS12_USED_BYTES);

    /* The spare bytes after the fields, and places no field of the table
     * has (the 64-bit controls' index 47), are none of the spans'. */
    memory.data[VMCS12_SIZE - 17] ^= 1;
    ((uint8_t *)&memory)[VMCS12_FIELD_OFFSET(0x2000 | 47 << 1)] ^= 1;
    changed = (struct vmcs12_field_set){ 0 };
    assert_false(vmcs12_refresh(&copy, &memory, &changed));
    assert_int_equal(changed.words, 0);
}

/* The spans: in order, apart, whole quadwords, the header first; every
 * field of the table inside one; a third of the page or less. */
static void the_spans_hold_the_header_and_every_field(void **state)
{
    (void)state;
    vmcs12_spans_init();
    unsigned count, bytes = 0;
    const struct vmcs12_span *spans = vmcs12_spans(&count);
    assert_true(count >= 2 && count <= VMCS12_SPANS_MAX);
    assert_int_equal(spans[0].start, 0);
    assert_true(spans[0].end >= VMCS12_HEADER_BYTES);
    for (unsigned i = 0; i < count; i++) {
        assert_int_equal(spans[i].start % 8, 0);
        assert_int_equal(spans[i].end % 8, 0);
        assert_true(spans[i].start < spans[i].end);
        assert_true(spans[i].end <= VMCS12_USED_BYTES);
        if (i)
            assert_true(spans[i - 1].end < spans[i].start);
        bytes += spans[i].end - spans[i].start;
    }
    for (unsigned f = 0; f < vmcs_field_count; f++) {
        uint32_t e = vmcs_field_table[f].encoding;
        unsigned start = (unsigned)vmcs12_field_offset(e), end = start + field_bytes(e);
        bool inside = false;
        for (unsigned i = 0; i < count; i++)
            inside |= spans[i].start <= start && end <= spans[i].end;
        assert_true(inside);
    }
    assert_true(bytes <= VMCS12_SIZE / 3);
    /* A copy of the spans moves every field and leaves the rest. */
    static struct vmcs12 from, to;
    memset(&from, 0x11, sizeof(from));
    memset(&to, 0x22, sizeof(to));
    vmcs12_copy_spans(&to, &from);
    for (unsigned f = 0; f < vmcs_field_count; f++)
        assert_int_equal(vmcs12_get(&to, vmcs_field_table[f].encoding),
                         vmcs12_get(&from, vmcs_field_table[f].encoding));
    assert_int_equal(to.data[VMCS12_SIZE - 17], 0x22);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(placed_fields_move_only_their_bytes),
        cmocka_unit_test(every_field_lies_inside_the_region),
        cmocka_unit_test(no_two_fields_overlap),
        cmocka_unit_test(fields_are_naturally_aligned),
        cmocka_unit_test(offsets_are_pinned),
        cmocka_unit_test(every_field_keeps_its_value),
        cmocka_unit_test(l0_accessors_agree_with_vmread_and_vmwrite),
        cmocka_unit_test(field_sets_tell_fields_apart),
        cmocka_unit_test(field_set_words_lead_to_each_field),
        cmocka_unit_test(set_noting_marks_changes_only),
        cmocka_unit_test(narrow_fields_truncate_and_zero_extend),
        cmocka_unit_test(high_access_moves_bits_63_to_32),
        cmocka_unit_test(bad_encodings_are_rejected),
        cmocka_unit_test(highest_index),
        cmocka_unit_test(a_refreshed_copy_notes_each_changed_field),
        cmocka_unit_test(the_spans_hold_the_header_and_every_field),
    };
    return cmocka_run_group_tests_name("vmcs12", tests, NULL, NULL);
}
