/* The cache of the VMCSs L1 left active (nested/vmcs12_cache.c): kept and
 * taken back without touching L1's memory, the checked flag, eviction that
 * spares the incoming VMCS, write-back at VMCLEAR and VMXOFF, no memory,
 * the shadow VMCS parked with its VMCS. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>
#include "nested/nested.h"
#include "nested/l1_regions.h"
#include "nested/vmcs12_cache.h"
#include "virt/vcpu.h"

/* L1's memory as the cache sees it: the regions it reached (to write a
 * VMCS back, or to compare one with its copy), by address, and how often. */
#define REGIONS 8
static struct { uint64_t gpa; struct vmcs12 data; unsigned reached; } memory[REGIONS];
static long allocations_left;

void *l1_region_host(struct vcpu *vcpu, uint64_t gpa)
{
    (void)vcpu;
    for (unsigned i = 0; i < REGIONS; i++) {
        if (memory[i].gpa == gpa || memory[i].gpa == 0) {
            memory[i].gpa = gpa;
            memory[i].reached++;
            return (uint8_t *)&memory[i].data;
        }
    }
    fail();
    return NULL;
}

/* The cache's writes into L1's memory, which L0 tells the write watch of
 * (virt/write_watch.h): each region written back. */
static unsigned watch_notes;
static uint64_t last_watch_note;
void write_watch_note(struct vm *vm, uint64_t gpa, size_t len)
{
    (void)vm;
    assert_int_equal(len, sizeof(struct vmcs12));
    watch_notes++;
    last_watch_note = gpa;
}

static struct vmcs12 *region_at(uint64_t gpa)
{
    for (unsigned i = 0; i < REGIONS; i++)
        if (memory[i].gpa == gpa)
            return &memory[i].data;
    fail();
    return NULL;
}

void *page_alloc_aligned(size_t pages, size_t align_pages)
{
    (void)align_pages;
    if (allocations_left == 0)
        return NULL;
    allocations_left--;
    return calloc(pages, 4096);
}

void page_free(void *p, size_t pages)
{
    (void)pages;
    free(p);
}

static struct vcpu vcpu;
static struct nested_vmx nested;

/* nested/shadow_vmcs.c's: a newer shadow's fields into vmcs12, as they
 * would be read from it (here: a mark). */
static unsigned settled;
void shadow_vmcs_settle(struct vcpu *v, struct nested_shadow_region *shadow, struct vmcs12 *v12)
{
    (void)v;
    if (!shadow->newer)
        return;
    v12->abort = 0x5e771ed;
    shadow->newer = false;
    settled++;
}

/* nested/shadow_vmcs.c's: the fields a copy took from its region, into
 * the shadow VMCS parked with it (here: remembered). */
static struct vmcs12_field_set refreshed;
static unsigned refreshes;
void shadow_vmcs_refresh(struct vcpu *v, const struct nested_shadow_region *shadow,
                         const struct vmcs12 *v12, const struct vmcs12_field_set *changed)
{
    (void)v, (void)shadow, (void)v12;
    refreshed = *changed;
    refreshes++;
}

void shadow_region_free(struct nested_shadow_region *shadow)
{
    free((void *)shadow->region);
    free(shadow->learnt);
    *shadow = (struct nested_shadow_region){ 0 };
}

/* How often the cache reached the region at `gpa`: each write-back, and
 * each VMPTRLD that compared it with a copy. */
static unsigned reached(uint64_t gpa)
{
    for (unsigned i = 0; i < REGIONS; i++)
        if (memory[i].gpa == gpa)
            return memory[i].reached;
    return 0;
}

/* L1 makes the VMCS at `gpa` current, its data marked by `mark`, its state
 * checked or not. */
static void make_current(uint64_t gpa, uint32_t mark, bool checked)
{
    nested.current_vmptr = gpa;
    nested.vmcs12->abort = mark;        /* a field L0 never uses: the data's mark */
    nested.written = (struct vmcs12_field_set){ 0 };
    nested.guest_state_checked = checked;
}

static int setup(void **state)
{
    (void)state;
    vmcs12_spans_init();
    settled = refreshes = 0;
    memset(memory, 0, sizeof(memory));
    allocations_left = -1;
    memset(&nested, 0, sizeof(nested));
    nested.vmcs12 = calloc(1, 4096);
    nested.segment_memo = &nested.segment_memos[0];
    for (unsigned i = 0; i < NESTED_CACHED_VMCS; i++) {
        nested.cached[i].vmptr = NESTED_NO_VMCS;
        nested.cached[i].segments = &nested.segment_memos[1 + i];
    }
    vcpu.nested = &nested;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vmcs12_cache_free(&vcpu);
    free(nested.vmcs12);
    return 0;
}

static void a_kept_vmcs_comes_back_without_memory(void **state)
{
    (void)state;
    make_current(0x1000, 0xa, true);
    assert_true(vmcs12_cache_keep(&vcpu, 0x2000));
    make_current(0x2000, 0xb, false);
    bool checked = false;
    assert_true(vmcs12_cache_take(&vcpu, 0x1000, &checked));
    assert_int_equal(nested.vmcs12->abort, 0xa);
    assert_true(checked);
    assert_int_equal(reached(0x1000), 0);
    /* taken: no longer cached */
    assert_false(vmcs12_cache_take(&vcpu, 0x1000, &checked));
}

/* A control or host field L1 wrote since the checks: checked again. */
static void unchecked_writes_keep_the_checks_pending(void **state)
{
    (void)state;
    make_current(0x1000, 0xa, true);
    vmcs12_field_set_add(&nested.written, PIN_BASED_VM_EXEC_CONTROL);
    assert_true(vmcs12_cache_keep(&vcpu, 0x2000));
    bool checked = true;
    assert_true(vmcs12_cache_take(&vcpu, 0x1000, &checked));
    assert_false(checked);
    make_current(0x1000, 0xa, true);
    vmcs12_field_set_add(&nested.written, HOST_RIP);
    assert_true(vmcs12_cache_keep(&vcpu, 0x2000));
    assert_true(vmcs12_cache_take(&vcpu, 0x1000, &checked));
    assert_false(checked);
}

/* With every slot taken, the next one goes back to memory, but never the
 * VMCS about to be made current. */
static void eviction_spares_the_incoming_vmcs(void **state)
{
    (void)state;
    for (unsigned i = 0; i < NESTED_CACHED_VMCS; i++) {
        make_current(0x1000 * (i + 1), i + 1, true);
        assert_true(vmcs12_cache_keep(&vcpu, 0x9000));
    }
    /* the round robin would take slot 0 (0x1000) next: it is incoming */
    make_current(0x5000, 5, true);
    assert_true(vmcs12_cache_keep(&vcpu, 0x1000));
    assert_int_equal(reached(0x1000), 0);
    assert_int_equal(reached(0x2000), 1);
    bool checked;
    assert_true(vmcs12_cache_take(&vcpu, 0x1000, &checked));
    assert_int_equal(nested.vmcs12->abort, 1);
    assert_false(vmcs12_cache_take(&vcpu, 0x2000, &checked));
    assert_true(vmcs12_cache_take(&vcpu, 0x5000, &checked));
    assert_int_equal(nested.vmcs12->abort, 5);
}

/* VMCLEAR: the data goes back with its launch state clear, and the VMCS
 * is no longer cached; VMXOFF: every one goes back. */
static void write_back_at_vmclear_and_vmxoff(void **state)
{
    (void)state;
    make_current(0x1000, 0xa, true);
    nested.vmcs12->launch_state = VMCS12_LAUNCHED;
    assert_true(vmcs12_cache_keep(&vcpu, 0x2000));
    assert_false(vmcs12_cache_write_back(&vcpu, 0x3000, true));
    unsigned notes = watch_notes;
    assert_true(vmcs12_cache_write_back(&vcpu, 0x1000, true));
    assert_int_equal(reached(0x1000), 1);
    assert_int_equal(watch_notes, notes + 1);      /* the write watch hears of the write */
    assert_int_equal(last_watch_note, 0x1000);
    assert_int_equal(memory[0].data.abort, 0xa);
    assert_int_equal(memory[0].data.launch_state, VMCS12_CLEAR);
    /* written back once: a second VMCLEAR has nothing cached to write */
    assert_false(vmcs12_cache_write_back(&vcpu, 0x1000, true));
    make_current(0x4000, 0xd, true);
    assert_true(vmcs12_cache_keep(&vcpu, 0x5000));
    make_current(0x6000, 0xe, true);
    assert_true(vmcs12_cache_keep(&vcpu, 0x5000));
    vmcs12_cache_write_back_all(&vcpu);
    assert_int_equal(reached(0x4000), 1);
    assert_int_equal(reached(0x6000), 1);
    assert_int_equal(reached(0x1000), 1);     /* a copy is never written */
}

/* A VMCS written back leaves a copy: a VMPTRLD compares it with the
 * region, takes it as it is if L1 left the region alone, and otherwise
 * takes what L1 changed there (its fields into the shadow VMCS parked
 * with it, the checks to be done again if it changed a field). */
static void a_copy_of_a_written_back_vmcs_follows_its_region(void **state)
{
    (void)state;
    make_current(0x1000, 0xa, true);
    vmcs12_set(nested.vmcs12, GUEST_RIP, 0x1234);
    assert_true(vmcs12_cache_keep(&vcpu, 0x2000));
    assert_true(vmcs12_cache_write_back(&vcpu, 0x1000, true));
    make_current(0x2000, 0xb, false);
    bool checked = false;
    assert_true(vmcs12_cache_take(&vcpu, 0x1000, &checked));
    assert_true(checked);
    assert_int_equal(vmcs12_get(nested.vmcs12, GUEST_RIP), 0x1234);
    assert_int_equal(nested.copies_compared, 1);
    assert_int_equal(nested.copies_unchanged, 1);
    assert_int_equal(refreshes, 0);
    /* taken: the copy is current again, its slot free */
    assert_false(vmcs12_cache_take(&vcpu, 0x1000, &checked));

    /* Current again, VMCLEARed: released into its region and a copy. */
    nested.current_vmptr = 0x1000;
    vmcs12_cache_release(&vcpu);
    assert_int_equal(reached(0x1000), 3);     /* written back, compared, written back */
    /* L1 changes the region while it is clear (a saved VMCS restored) */
    vmcs12_set(region_at(0x1000), GUEST_RIP, 0x5678);
    make_current(0x3000, 0xc, true);
    assert_true(vmcs12_cache_take(&vcpu, 0x1000, &checked));
    assert_false(checked);
    assert_int_equal(vmcs12_get(nested.vmcs12, GUEST_RIP), 0x5678);
    assert_int_equal(nested.vmcs12->abort, 0xa);
    assert_int_equal(refreshes, 1);
    assert_true(vmcs12_field_set_has(&refreshed, GUEST_RIP));
    assert_int_equal(nested.copies_unchanged, 1);

    /* A launch state cleared in the region, no field changed: the state
     * stays checked. */
    make_current(0x1000, 0xa, true);
    nested.vmcs12->launch_state = VMCS12_LAUNCHED;
    vmcs12_cache_release(&vcpu);
    region_at(0x1000)->launch_state = VMCS12_CLEAR;
    assert_true(vmcs12_cache_take(&vcpu, 0x1000, &checked));
    assert_true(checked);
    assert_int_equal(nested.vmcs12->launch_state, VMCS12_CLEAR);
    assert_int_equal(refreshes, 1);
}

/* The VMCS at `gpa`, checked, kept in the cache for a VMPTRLD of
 * `incoming` with a shadow newer than it (L1 wrote fields there since the
 * entry); the shadow's region. */
static uint64_t park_with_newer_shadow(uint64_t gpa, uint64_t incoming)
{
    uint64_t region = (uint64_t)calloc(1, 4096);
    make_current(gpa, 0xa, true);
    nested.shadow_vmcs = (struct nested_shadow_region){ .region = region, .holds_vmcs12 = true,
                                                        .newer = true };
    assert_true(vmcs12_cache_keep(&vcpu, incoming));
    return region;
}

/* A shadow newer than its parked vmcs12 holds what L1 wrote there since
 * the checks, which the settle before the write-back takes without
 * checking: the copy's state is unchecked, though the region stays as
 * written. */
static void a_copy_of_a_newer_shadow_is_unchecked(void **state)
{
    (void)state;
    uint64_t region = park_with_newer_shadow(0x1000, 0x2000);
    assert_true(vmcs12_cache_write_back(&vcpu, 0x1000, true));
    assert_int_equal(settled, 1);
    make_current(0x2000, 0xb, true);
    bool checked = true;
    assert_int_equal(nested.shadow_vmcs.region, 0);     /* the slot's, none yet */
    assert_true(vmcs12_cache_take(&vcpu, 0x1000, &checked));
    assert_false(checked);
    assert_int_equal(nested.copies_unchanged, 1);
    /* The same through a release (no slot to keep the current one in). */
    nested.current_vmptr = 0x1000;
    nested.guest_state_checked = true;
    nested.shadow_vmcs.newer = true;
    vmcs12_cache_release(&vcpu);
    assert_int_equal(settled, 2);
    make_current(0x2000, 0xb, true);
    checked = true;
    assert_true(vmcs12_cache_take(&vcpu, 0x1000, &checked));
    assert_false(checked);
    assert_int_equal(nested.shadow_vmcs.region, region);
    free((void *)nested.shadow_vmcs.region);
    nested.shadow_vmcs = (struct nested_shadow_region){ 0 };
}

/* Copies take the slots active VMCSs leave, and give way to them: a kept
 * VMCS takes a free slot first, then a copy's, but never the copy of the
 * VMCS about to be loaded; a released one never displaces an active one. */
static void copies_give_way_to_active_vmcss(void **state)
{
    (void)state;
    for (unsigned i = 0; i < NESTED_CACHED_VMCS; i++) {
        make_current(0x1000 * (i + 1), i + 1, true);
        vmcs12_cache_release(&vcpu);
    }
    make_current(0x5000, 5, true);
    vmcs12_cache_release(&vcpu);        /* into the first copy's slot */
    bool checked;
    make_current(0x9000, 9, true);
    assert_false(vmcs12_cache_take(&vcpu, 0x1000, &checked));
    assert_true(vmcs12_cache_take(&vcpu, 0x5000, &checked));
    /* Every slot active but one copy, of the incoming VMCS: the round
     * robin evicts an active one instead. */
    for (unsigned i = 0; i < NESTED_CACHED_VMCS - 1; i++) {
        make_current(0x10000 * (i + 1), i + 1, true);
        assert_true(vmcs12_cache_keep(&vcpu, 0x4000));
    }
    make_current(0x6000, 6, true);
    assert_true(vmcs12_cache_keep(&vcpu, 0x4000));
    make_current(0x7000, 7, true);
    assert_true(vmcs12_cache_take(&vcpu, 0x4000, &checked));
    assert_int_equal(nested.vmcs12->abort, 4);
    /* A release with every slot active keeps no copy. */
    make_current(0x8000, 8, true);
    assert_true(vmcs12_cache_keep(&vcpu, 0x9000));
    make_current(0x9000, 9, true);
    vmcs12_cache_release(&vcpu);
    assert_int_equal(reached(0x9000), 1);
    make_current(0xa000, 10, true);
    assert_false(vmcs12_cache_take(&vcpu, 0x9000, &checked));
}

/* No memory for a slot: not kept (the caller writes it back). */
static void no_memory_keeps_nothing(void **state)
{
    (void)state;
    allocations_left = 0;
    make_current(0x1000, 0xa, true);
    assert_false(vmcs12_cache_keep(&vcpu, 0x2000));
    bool checked;
    assert_false(vmcs12_cache_take(&vcpu, 0x1000, &checked));
    assert_int_equal(nested.vmcs12->abort, 0xa);
}

/* A VMCS's hardware shadow VMCS parks with it: taken back, the region
 * still holds its fields (a VMPTRLD relinks it); the incoming VMCS gets a
 * region that holds nothing; one written back holds nothing either. */
static void the_shadow_vmcs_parks_with_its_vmcs(void **state)
{
    (void)state;
    uint64_t region_a = (uint64_t)calloc(1, 4096), region_b = (uint64_t)calloc(1, 4096);
    make_current(0x1000, 0xa, true);
    nested.shadow_vmcs = (struct nested_shadow_region){ .region = region_a, .holds_vmcs12 = true };
    assert_true(vmcs12_cache_keep(&vcpu, 0x2000));
    assert_false(nested.shadow_vmcs.holds_vmcs12);
    assert_int_equal(nested.shadow_vmcs.region, 0);     /* a new slot's: none yet */
    make_current(0x2000, 0xb, true);
    nested.shadow_vmcs = (struct nested_shadow_region){ .region = region_b, .holds_vmcs12 = true };
    assert_true(vmcs12_cache_keep(&vcpu, 0x1000));
    bool checked;
    assert_true(vmcs12_cache_take(&vcpu, 0x1000, &checked));
    assert_int_equal(nested.shadow_vmcs.region, region_a);
    assert_true(nested.shadow_vmcs.holds_vmcs12);
    /* 0x2000 goes back to memory (VMCLEAR): its region stays with the
     * copy, holding its fields, until the slot serves an active VMCS; it
     * holds nothing then. */
    assert_true(vmcs12_cache_write_back(&vcpu, 0x2000, true));
    make_current(0x1000, 0xa, true);
    assert_true(vmcs12_cache_keep(&vcpu, 0x3000));      /* into the slot 0x1000 left */
    for (unsigned i = 3; i <= NESTED_CACHED_VMCS; i++) {   /* into the free ones */
        make_current(0x1000 * i, i, true);
        assert_int_equal(nested.shadow_vmcs.region, 0);
        assert_true(vmcs12_cache_keep(&vcpu, 0x1000 * (i + 1)));
    }
    make_current(0x1000 * (NESTED_CACHED_VMCS + 1), 0xd, true);
    assert_true(vmcs12_cache_keep(&vcpu, 0x9000));      /* into 0x2000's copy */
    assert_int_equal(nested.shadow_vmcs.region, region_b);
    assert_false(nested.shadow_vmcs.holds_vmcs12);
    make_current(0x9000, 0xe, true);
    assert_true(vmcs12_cache_take(&vcpu, 0x1000, &checked));
    assert_int_equal(nested.shadow_vmcs.region, region_a);
    assert_true(nested.shadow_vmcs.holds_vmcs12);
    free((void *)nested.shadow_vmcs.region);
}

/* A VMCS parked with a shadow newer than its vmcs12 (L1's writes not
 * taken back) gets them before it goes back to memory, at VMCLEAR as at
 * eviction; taken back from the cache, it keeps the shadow newer (the
 * entry takes the fields). */
static void a_newer_shadow_is_settled_before_write_back(void **state)
{
    (void)state;
    uint64_t region = park_with_newer_shadow(0x1000, 0x2000);
    assert_int_equal(settled, 0);
    assert_true(vmcs12_cache_write_back(&vcpu, 0x1000, true));
    assert_int_equal(settled, 1);
    assert_int_equal(memory[0].data.abort, 0x5e771ed);
    /* made current from its copy, kept again, then taken back: not
     * settled, still newer */
    bool checked;
    assert_true(vmcs12_cache_take(&vcpu, 0x1000, &checked));
    nested.shadow_vmcs.newer = true;
    assert_true(vmcs12_cache_keep(&vcpu, 0x2000));
    assert_true(vmcs12_cache_take(&vcpu, 0x1000, &checked));
    assert_int_equal(settled, 1);
    assert_true(nested.shadow_vmcs.newer);
    assert_int_equal(nested.shadow_vmcs.region, region);
    free((void *)region);
    nested.shadow_vmcs = (struct nested_shadow_region){ 0 };
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_kept_vmcs_comes_back_without_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(unchecked_writes_keep_the_checks_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(eviction_spares_the_incoming_vmcs, setup, teardown),
        cmocka_unit_test_setup_teardown(write_back_at_vmclear_and_vmxoff, setup, teardown),
        cmocka_unit_test_setup_teardown(no_memory_keeps_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(the_shadow_vmcs_parks_with_its_vmcs, setup, teardown),
        cmocka_unit_test_setup_teardown(a_newer_shadow_is_settled_before_write_back, setup, teardown),
        cmocka_unit_test_setup_teardown(a_copy_of_a_written_back_vmcs_follows_its_region, setup, teardown),
        cmocka_unit_test_setup_teardown(copies_give_way_to_active_vmcss, setup, teardown),
        cmocka_unit_test_setup_teardown(a_copy_of_a_newer_shadow_is_unchecked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
