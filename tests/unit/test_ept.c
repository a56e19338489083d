/* EPT table building and the huge-page choice. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "mmu/ept.h"

static int tables_allocated, tables_freed, allocations_allowed;

static void *alloc_table(void)
{
    if (allocations_allowed-- <= 0)
        return NULL;
    void *p = aligned_alloc(4096, 4096);
    memset(p, 0, 4096);
    tables_allocated++;
    return p;
}

static void free_table(void *p)
{
    tables_freed++;
    free(p);
}

static struct ept ept;

static int setup(void **state)
{
    (void)state;
    tables_allocated = tables_freed = 0;
    allocations_allowed = 1000;
    return ept_init(&ept, alloc_table, true) ? 0 : -1;
}

static uint64_t released_bytes, released_gpa_sum;

static void release_leaf(void *ctx, uint64_t gpa, uint64_t hpa, uint64_t size)
{
    (void)ctx;
    (void)hpa;
    released_bytes += size;
    released_gpa_sum += gpa;
}

static int teardown(void **state)
{
    (void)state;
    ept_destroy(&ept, free_table, release_leaf, NULL);
    return tables_allocated == tables_freed ? 0 : -1;
}

static void teardown_releases_every_leaf(void **state)
{
    (void)state;
    released_bytes = released_gpa_sum = 0;
    assert_int_equal(ept_map(&ept, 0x3000, 0x9000, EPT_SIZE_4K, EPT_RWX), EPT_OK);
    assert_int_equal(ept_map(&ept, 0x400000, 0x800000, EPT_SIZE_2M, EPT_RWX), EPT_OK);
    assert_int_equal(ept_map(&ept, 0x40000000, 0x40000000, EPT_SIZE_1G, EPT_RWX), EPT_OK);
    ept_destroy(&ept, free_table, release_leaf, NULL);
    assert_int_equal(released_bytes, EPT_SIZE_4K + EPT_SIZE_2M + EPT_SIZE_1G);
    assert_int_equal(released_gpa_sum, 0x3000 + 0x400000 + 0x40000000);
    assert_int_equal(tables_allocated, tables_freed);
    assert_true(ept_init(&ept, alloc_table, true));     /* for the teardown */
}

static void pointer_encodes_wb_4level_and_ad(void **state)
{
    (void)state;
    uint64_t eptp = ept_pointer(&ept);
    assert_int_equal(eptp & 7, 6);              /* write-back */
    assert_int_equal(eptp >> 3 & 7, 3);         /* 4-level walk */
    assert_int_equal(eptp >> 6 & 1, 1);         /* accessed/dirty flags */
    assert_int_equal(eptp & ~0xfffull, (uint64_t)(uintptr_t)ept.pml4);
}

static void maps_and_translates_each_size(void **state)
{
    (void)state;
    uint64_t hpa, size;
    assert_int_equal(ept_map(&ept, 0x1000, 0x7654000, EPT_SIZE_4K, EPT_RWX), EPT_OK);
    assert_int_equal(ept_map(&ept, 0x200000, 0x40000000, EPT_SIZE_2M, EPT_RWX), EPT_OK);
    assert_int_equal(ept_map(&ept, 0x80000000, 0x1c0000000, EPT_SIZE_1G, EPT_READ), EPT_OK);
    assert_true(ept_translate(&ept, 0x1abc, &hpa, &size));
    assert_int_equal(hpa, 0x7654abc);
    assert_int_equal(size, EPT_SIZE_4K);
    assert_true(ept_translate(&ept, 0x2fffff, &hpa, &size));
    assert_int_equal(hpa, 0x400fffff);
    assert_int_equal(size, EPT_SIZE_2M);
    assert_true(ept_translate(&ept, 0x80000000 + 0x12345678, &hpa, &size));
    assert_int_equal(hpa, 0x1c0000000 + 0x12345678);
    assert_int_equal(size, EPT_SIZE_1G);
    assert_false(ept_translate(&ept, 0x0, &hpa, &size));
    assert_false(ept_translate(&ept, 0x400000, &hpa, &size));
    assert_int_equal(ept.leaves[0], 1);
    assert_int_equal(ept.leaves[1], 1);
    assert_int_equal(ept.leaves[2], 1);
    /* PML4 + PDPT + PD (for 0-1G) + PT (for the 4K page) */
    assert_int_equal(ept.tables, 4);
}

static void leaf_entries_have_type_and_large_bit(void **state)
{
    (void)state;
    assert_int_equal(ept_map(&ept, 0x200000, 0x600000, EPT_SIZE_2M, EPT_RWX), EPT_OK);
    const uint64_t *pdpt = (const uint64_t *)(uintptr_t)(ept.pml4[0] & EPT_ADDR_MASK);
    const uint64_t *pd = (const uint64_t *)(uintptr_t)(pdpt[0] & EPT_ADDR_MASK);
    assert_int_equal(pd[1], 0x600000 | EPT_RWX | EPT_MEMTYPE_WB | EPT_LARGE);
    assert_int_equal(ept.pml4[0] & 7, 7);       /* tables grant all, leaves decide */
}

static void refuses_conflicts_and_bad_arguments(void **state)
{
    (void)state;
    assert_int_equal(ept_map(&ept, 0x200000, 0x600000, EPT_SIZE_2M, EPT_RWX), EPT_OK);
    assert_int_equal(ept_map(&ept, 0x201000, 0x9000, EPT_SIZE_4K, EPT_RWX), EPT_CONFLICT);
    assert_int_equal(ept_map(&ept, 0x200000, 0x800000, EPT_SIZE_2M, EPT_RWX), EPT_CONFLICT);
    assert_int_equal(ept_map(&ept, 0x5000, 0x9000, EPT_SIZE_4K, EPT_RWX), EPT_OK);
    assert_int_equal(ept_map(&ept, 0x0, 0xa00000, EPT_SIZE_2M, EPT_RWX), EPT_CONFLICT);
    assert_int_equal(ept_map(&ept, 0x0, 0x40000000, EPT_SIZE_1G, EPT_RWX), EPT_CONFLICT);
    assert_int_equal(ept_map(&ept, 0x1000, 0x1800, EPT_SIZE_4K, EPT_RWX), EPT_BAD_ARGUMENT);
    assert_int_equal(ept_map(&ept, 0x100000, 0x0, EPT_SIZE_2M, EPT_RWX), EPT_BAD_ARGUMENT);
    assert_int_equal(ept_map(&ept, 0x1000, 0x1000, 8192, EPT_RWX), EPT_BAD_ARGUMENT);
    assert_int_equal(ept_map(&ept, 0x1000, 0x1000, EPT_SIZE_4K, 0), EPT_BAD_ARGUMENT);
}

static void reports_out_of_memory(void **state)
{
    (void)state;
    allocations_allowed = 1;
    assert_int_equal(ept_map(&ept, 0x1000, 0x1000, EPT_SIZE_4K, EPT_RWX), EPT_NO_MEMORY);
    allocations_allowed = 10;
    assert_int_equal(ept_map(&ept, 0x1000, 0x1000, EPT_SIZE_4K, EPT_RWX), EPT_OK);
}

/* ept_remap replaces a leaf of the same size in place (new address and
 * permissions, counted once) and refuses what ept_map refuses otherwise. */
static void remap_replaces_a_leaf(void **state)
{
    (void)state;
    uint64_t hpa, size;
    assert_int_equal(ept_map(&ept, 0x5000, 0x9000, EPT_SIZE_4K, EPT_READ), EPT_OK);
    assert_int_equal(ept_remap(&ept, 0x5000, 0xa000, EPT_SIZE_4K, EPT_RWX), EPT_OK);
    assert_true(ept_translate(&ept, 0x5123, &hpa, &size));
    assert_int_equal(hpa, 0xa123);
    assert_int_equal(ept.leaves[0], 1);
    assert_int_equal(ept_remap(&ept, 0x7000, 0xb000, EPT_SIZE_4K, EPT_READ), EPT_OK);
    assert_int_equal(ept.leaves[0], 2);
    /* A table of 4K pages is not a 2M leaf; a 2M leaf does not take a 4K one. */
    assert_int_equal(ept_remap(&ept, 0x0, 0x200000, EPT_SIZE_2M, EPT_RWX), EPT_CONFLICT);
    assert_int_equal(ept_map(&ept, 0x400000, 0x600000, EPT_SIZE_2M, EPT_RWX), EPT_OK);
    assert_int_equal(ept_remap(&ept, 0x401000, 0x9000, EPT_SIZE_4K, EPT_RWX), EPT_CONFLICT);
    assert_int_equal(ept_remap(&ept, 0x400000, 0x800000, EPT_SIZE_2M, EPT_READ), EPT_OK);
    assert_true(ept_translate(&ept, 0x400008, &hpa, &size));
    assert_int_equal(hpa, 0x800008);
    assert_int_equal(ept.leaves[1], 1);
}

static void huge_page_choice(void **state)
{
    (void)state;
    const uint64_t mib = 1 << 20;
    /* A 3 GiB slot: 1G pages where a whole aligned GiB fits. */
    assert_int_equal(ept_choose_page_size(&ept, 5 * mib, 0, 3072 * mib, true, true), EPT_SIZE_1G);
    assert_int_equal(ept_choose_page_size(&ept, 5 * mib, 0, 3072 * mib, true, false), EPT_SIZE_2M);
    assert_int_equal(ept_choose_page_size(&ept, 5 * mib, 0, 3072 * mib, false, false), EPT_SIZE_4K);
    /* A 63 MiB slot: 2M below 62 MiB, 4K in the last partial 2M region. */
    assert_int_equal(ept_choose_page_size(&ept, 61 * mib, 0, 63 * mib, true, true), EPT_SIZE_2M);
    assert_int_equal(ept_choose_page_size(&ept, 62 * mib + 4096, 0, 63 * mib, true, true), EPT_SIZE_4K);
    /* A slot that starts off 2M alignment gets 4K pages at its head. */
    assert_int_equal(ept_choose_page_size(&ept, 1 * mib, 1 * mib, 64 * mib, true, true), EPT_SIZE_4K);
    assert_int_equal(ept_choose_page_size(&ept, 2 * mib, 1 * mib, 64 * mib, true, true), EPT_SIZE_2M);
    /* An existing 4K mapping in a 2M region forces 4K for the rest of it. */
    assert_int_equal(ept_map(&ept, 4 * mib, 0x1000000, EPT_SIZE_4K, EPT_RWX), EPT_OK);
    assert_int_equal(ept_choose_page_size(&ept, 5 * mib, 0, 64 * mib, true, true), EPT_SIZE_4K);
    assert_int_equal(ept_choose_page_size(&ept, 6 * mib, 0, 64 * mib, true, true), EPT_SIZE_2M);
}

static uint64_t leaves_seen, pages_seen;
static void count_leaf(void *ctx, uint64_t gpa, uint64_t size, uint64_t *entry)
{
    (void)ctx, (void)gpa;
    assert_true(*entry & EPT_RWX);
    leaves_seen++;
    pages_seen += size / EPT_SIZE_4K;
}

/* Splitting keeps every translation and its permissions, at 4 KiB. */
static void split_large_keeps_translations(void **state)
{
    (void)state;
    allocations_allowed = 1000;
    assert_true(ept_init(&ept, alloc_table, false));
    assert_int_equal(ept_map(&ept, 0x200000, 0x40000000, EPT_SIZE_2M, EPT_READ | EPT_EXEC), EPT_OK);
    assert_int_equal(ept_map(&ept, 0x40000000, 0x80000000, EPT_SIZE_1G, EPT_RWX), EPT_OK);
    assert_int_equal(ept_map(&ept, 0x1000, 0x5000, EPT_SIZE_4K, EPT_RWX), EPT_OK);
    assert_int_equal(ept_split_large(&ept), EPT_OK);
    assert_int_equal(ept.leaves[1], 0);
    assert_int_equal(ept.leaves[2], 0);
    assert_int_equal(ept.leaves[0], 1 + 512 + 512 * 512);
    uint64_t hpa, size;
    assert_true(ept_translate(&ept, 0x3ff123, &hpa, &size));
    assert_int_equal(hpa, 0x401ff123);
    assert_int_equal(size, EPT_SIZE_4K);
    assert_true(ept_translate(&ept, 0x7fffffff, &hpa, &size));
    assert_int_equal(hpa, 0xbfffffff);
    uint64_t *leaf = ept_leaf(&ept, 0x200000, &size);
    assert_non_null(leaf);
    assert_int_equal(*leaf & EPT_RWX, EPT_READ | EPT_EXEC);
    assert_int_equal(size, EPT_SIZE_4K);
    assert_null(ept_leaf(&ept, 0x10000000, &size));
    leaves_seen = pages_seen = 0;
    ept_for_each_leaf(&ept, count_leaf, NULL);
    assert_int_equal(leaves_seen, 1 + 512 + 512 * 512);
    assert_int_equal(pages_seen, leaves_seen);
    ept_destroy(&ept, free_table, NULL, NULL);
}

/* Splitting at one address: only the leaves on its way down, to 4 KiB; the
 * rest keeps its size, and every translation stays. */
static void split_at_splits_only_the_way_down(void **state)
{
    (void)state;
    allocations_allowed = 1000;
    assert_true(ept_init(&ept, alloc_table, false));
    assert_int_equal(ept_map(&ept, 0x200000, 0x40000000, EPT_SIZE_2M, EPT_READ | EPT_EXEC), EPT_OK);
    assert_int_equal(ept_map(&ept, 0x40000000, 0x80000000, EPT_SIZE_1G, EPT_RWX), EPT_OK);
    assert_int_equal(ept_split_at(&ept, 0x40345123), EPT_OK);
    assert_int_equal(ept.leaves[2], 0);
    assert_int_equal(ept.leaves[1], 1 + 511);
    assert_int_equal(ept.leaves[0], 512);
    uint64_t hpa, size, *leaf = ept_leaf(&ept, 0x40345000, &size);
    assert_non_null(leaf);
    assert_int_equal(size, EPT_SIZE_4K);
    assert_int_equal(*leaf & EPT_RWX, EPT_RWX);
    assert_true(ept_translate(&ept, 0x40345123, &hpa, &size));
    assert_int_equal(hpa, 0x80345123);
    assert_true(ept_translate(&ept, 0x7fe00000, &hpa, &size));
    assert_int_equal(size, EPT_SIZE_2M);
    assert_int_equal(hpa, 0xbfe00000);
    /* Already 4 KiB, or not mapped: nothing to do. */
    uint64_t tables = ept.tables;
    assert_int_equal(ept_split_at(&ept, 0x40345000), EPT_OK);
    assert_int_equal(ept_split_at(&ept, 0x10000000), EPT_OK);
    assert_int_equal(ept.tables, tables);
    assert_int_equal(ept.leaves[1], 1 + 511);
    /* Out of memory: an error, the leaf as it was. */
    allocations_allowed = 0;
    assert_int_equal(ept_split_at(&ept, 0x200000), EPT_NO_MEMORY);
    assert_non_null(ept_leaf(&ept, 0x200000, &size));
    assert_int_equal(size, EPT_SIZE_2M);
    ept_destroy(&ept, free_table, NULL, NULL);
}

/* Unmapping a host page: every leaf that maps it goes, a large one whole;
 * the others stay. */
static void unmap_host_page_removes_each_leaf_that_maps_it(void **state)
{
    (void)state;
    assert_int_equal(ept_map(&ept, 0x1000, 0x9000, EPT_SIZE_4K, EPT_RWX), EPT_OK);
    assert_int_equal(ept_map(&ept, 0x5000, 0x9000, EPT_SIZE_4K, EPT_READ), EPT_OK);   /* an alias */
    assert_int_equal(ept_map(&ept, 0x2000, 0xa000, EPT_SIZE_4K, EPT_RWX), EPT_OK);
    assert_int_equal(ept_map(&ept, 0x400000, 0x600000, EPT_SIZE_2M, EPT_RWX), EPT_OK);
    assert_int_equal(ept_unmap_host_page(&ept, 0x9000), 2);
    uint64_t hpa, size;
    assert_false(ept_translate(&ept, 0x1000, &hpa, &size));
    assert_false(ept_translate(&ept, 0x5000, &hpa, &size));
    assert_true(ept_translate(&ept, 0x2000, &hpa, &size));
    assert_int_equal(ept.leaves[0], 1);
    assert_int_equal(ept_unmap_host_page(&ept, 0x7ff000), 1);     /* inside the 2 MiB leaf */
    assert_false(ept_translate(&ept, 0x400000, &hpa, &size));
    assert_int_equal(ept.leaves[1], 0);
    assert_int_equal(ept_unmap_host_page(&ept, 0x9000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_large_keeps_translations),
        cmocka_unit_test(split_at_splits_only_the_way_down),
        cmocka_unit_test_setup_teardown(unmap_host_page_removes_each_leaf_that_maps_it, setup, teardown),
        cmocka_unit_test_setup_teardown(pointer_encodes_wb_4level_and_ad, setup, teardown),
        cmocka_unit_test_setup_teardown(maps_and_translates_each_size, setup, teardown),
        cmocka_unit_test_setup_teardown(leaf_entries_have_type_and_large_bit, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_conflicts_and_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(reports_out_of_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(remap_replaces_a_leaf, setup, teardown),
        cmocka_unit_test_setup_teardown(huge_page_choice, setup, teardown),
        cmocka_unit_test_setup_teardown(teardown_releases_every_leaf, setup, teardown),
    };
    return cmocka_run_group_tests_name("ept", tests, NULL, NULL);
}
