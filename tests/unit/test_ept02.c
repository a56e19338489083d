/* The shadow EPT root cache (nested/ept02.c): lookup by L1's EPTP, LRU
 * eviction, INVEPT's drops, roots kept while vCPUs use them, the table
 * budget. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>
#include "nested/ept02.h"

static long pages_live, allocations_left;

static void *alloc_table(void)
{
    if (allocations_left == 0)
        return NULL;
    allocations_left--;
    void *p = aligned_alloc(4096, 4096);
    memset(p, 0, 4096);
    pages_live++;
    return p;
}

static void free_table(void *page)
{
    pages_live--;
    free(page);
}

static struct ept02_cache *cache;

static int setup(void **state)
{
    (void)state;
    pages_live = 0;
    allocations_left = -1;      /* no limit */
    cache = malloc(sizeof(*cache));
    ept02_cache_init(cache, alloc_table, free_table, 64);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ept02_cache_destroy(cache);
    assert_int_equal(pages_live, 0);
    free(cache);
    return 0;
}

#define EPTP(n) (0x1000000ull * (n) + 0x1e)     /* WB, 4 levels */

static void finds_roots_by_ep4ta(void **state)
{
    (void)state;
    struct ept02_root *a = ept02_get(cache, EPTP(1));
    assert_non_null(a);
    /* Another vCPU, same EP4TA with other flag bits: the same root. */
    assert_ptr_equal(ept02_get(cache, EPTP(1) | 0x40), a);
    assert_int_equal(a->users, 2);
    struct ept02_root *b = ept02_get(cache, EPTP(2));
    assert_ptr_not_equal(a, b);
    assert_int_equal(cache->stats.created, 2);
    assert_int_equal(cache->stats.reused, 1);
    ept02_put(cache, a);
    ept02_put(cache, a);
    /* Unused but live: found again with its tables. */
    assert_int_equal(ept02_map(cache, a, 0x5000, 0x9000, EPT_SIZE_4K, EPT_READ), EPT02_MAPPED);
    ept02_put(cache, b);
    assert_ptr_equal(ept02_get(cache, EPTP(1)), a);
    uint64_t hpa;
    assert_true(ept_translate(&a->ept, 0x5000, &hpa, NULL));
    ept02_put(cache, a);
}

/* A host page write-watched: every root loses the leaves that map it, a
 * stale root still in use too, and the EPTPs of those roots come back for
 * the flush; a root without one is left out. */
static void unmapping_a_host_page_reaches_every_root(void **state)
{
    (void)state;
    struct ept02_root *a = ept02_get(cache, EPTP(1));
    struct ept02_root *b = ept02_get(cache, EPTP(2));
    struct ept02_root *c = ept02_get(cache, EPTP(3));
    assert_int_equal(ept02_map(cache, a, 0x5000, 0x9000, EPT_SIZE_4K, EPT_RWX), EPT02_MAPPED);
    assert_int_equal(ept02_map(cache, b, 0x7000, 0x9000, EPT_SIZE_4K, EPT_RWX), EPT02_MAPPED);
    assert_int_equal(ept02_map(cache, c, 0x7000, 0xa000, EPT_SIZE_4K, EPT_RWX), EPT02_MAPPED);
    ept02_drop(cache, EPTP(2), false);      /* stale, b still its vCPU's */
    uint64_t eptps[EPT02_SLOTS];
    assert_int_equal(ept02_unmap_host_page(cache, 0x9000, eptps), 2);
    assert_true((eptps[0] == a->eptp && eptps[1] == b->eptp) || (eptps[0] == b->eptp && eptps[1] == a->eptp));
    uint64_t hpa, size;
    assert_false(ept_translate(&a->ept, 0x5000, &hpa, &size));
    assert_false(ept_translate(&b->ept, 0x7000, &hpa, &size));
    assert_true(ept_translate(&c->ept, 0x7000, &hpa, &size));
    assert_int_equal(ept02_unmap_host_page(cache, 0x9000, eptps), 0);
    ept02_put(cache, a);
    ept02_put(cache, b);
    ept02_put(cache, c);
}

static void evicts_the_least_recently_entered(void **state)
{
    (void)state;
    for (unsigned i = 1; i <= EPT02_LIVE_ROOTS; i++)
        ept02_put(cache, ept02_get(cache, EPTP(i)));
    ept02_put(cache, ept02_get(cache, EPTP(1)));    /* 2 is now the oldest */
    ept02_put(cache, ept02_get(cache, EPTP(100)));
    assert_int_equal(cache->stats.evicted, 1);
    assert_int_equal(cache->stats.created, EPT02_LIVE_ROOTS + 1);
    ept02_put(cache, ept02_get(cache, EPTP(1)));
    assert_int_equal(cache->stats.created, EPT02_LIVE_ROOTS + 1);
    ept02_put(cache, ept02_get(cache, EPTP(2)));
    assert_int_equal(cache->stats.created, EPT02_LIVE_ROOTS + 2);
    assert_int_equal(pages_live, EPT02_LIVE_ROOTS);     /* one PML4 each */
}

static void a_root_in_use_outlives_its_drop(void **state)
{
    (void)state;
    struct ept02_root *a = ept02_get(cache, EPTP(1));
    struct ept02_root *b = ept02_get(cache, EPTP(2));
    ept02_put(cache, b);
    ept02_drop(cache, EPTP(1), false);
    assert_true(a->stale);
    assert_false(b->stale);
    assert_int_equal(pages_live, 2);
    /* The next entry with that EPTP gets a fresh root. */
    struct ept02_root *fresh = ept02_get(cache, EPTP(1));
    assert_ptr_not_equal(fresh, a);
    ept02_put(cache, a);        /* its last user leaves: freed */
    assert_int_equal(pages_live, 2);
    ept02_drop(cache, 0, true);
    assert_int_equal(cache->stats.invalidated, 3);
    assert_true(fresh->stale);
    ept02_put(cache, fresh);
    assert_int_equal(pages_live, 0);
}

static void eviction_spares_roots_in_use(void **state)
{
    (void)state;
    struct ept02_root *held[EPT02_LIVE_ROOTS];
    for (unsigned i = 0; i < EPT02_LIVE_ROOTS; i++)
        held[i] = ept02_get(cache, EPTP(i + 1));
    struct ept02_root *extra = ept02_get(cache, EPTP(50));
    assert_non_null(extra);
    assert_true(held[0]->stale);    /* evicted, but vmcs02 still points at it */
    assert_int_equal(pages_live, EPT02_LIVE_ROOTS + 1);
    for (unsigned i = 0; i < EPT02_LIVE_ROOTS; i++)
        ept02_put(cache, held[i]);
    ept02_put(cache, extra);
    assert_int_equal(pages_live, EPT02_LIVE_ROOTS);
}

static void budget_frees_unused_roots_then_restarts(void **state)
{
    (void)state;
    /* An unused root holding tables: 4K pages 2 MiB apart, one PT each. */
    struct ept02_root *old = ept02_get(cache, EPTP(1));
    for (unsigned i = 0; i < 20; i++)
        assert_int_equal(ept02_map(cache, old, i * EPT_SIZE_2M, 0x9000, EPT_SIZE_4K, EPT_RWX),
                         EPT02_MAPPED);
    ept02_put(cache, old);
    uint64_t held = cache->tables;
    assert_int_equal(held, 1 + 1 + 1 + 20);
    struct ept02_root *r = ept02_get(cache, EPTP(2));
    unsigned mapped = 0;
    enum ept02_map_result result;
    while ((result = ept02_map(cache, r, mapped * EPT_SIZE_2M, 0x9000, EPT_SIZE_4K, EPT_RWX)) ==
           EPT02_MAPPED)
        mapped++;
    assert_int_equal(result, EPT02_RESTART);
    assert_int_equal(cache->stats.evicted, 1);      /* the unused root went first */
    assert_int_equal(cache->stats.over_budget, 1);
    assert_true(cache->tables <= cache->table_budget);
    assert_true(mapped > 20);
    assert_true(r->stale);
    ept02_put(cache, r);
    assert_int_equal(pages_live, 0);
    /* A fresh root maps at least one page whatever others hold. */
    r = ept02_get(cache, EPTP(2));
    assert_int_equal(ept02_map(cache, r, 0, 0x9000, EPT_SIZE_4K, EPT_RWX), EPT02_MAPPED);
    ept02_put(cache, r);
}

static void remaps_and_restarts_on_a_size_change(void **state)
{
    (void)state;
    struct ept02_root *r = ept02_get(cache, EPTP(1));
    assert_int_equal(ept02_map(cache, r, 0x200000, 0x400000, EPT_SIZE_2M, EPT_READ), EPT02_MAPPED);
    assert_int_equal(ept02_map(cache, r, 0x200000, 0x400000, EPT_SIZE_2M, EPT_RWX), EPT02_MAPPED);
    assert_int_equal(ept02_map(cache, r, 0x201000, 0x9000, EPT_SIZE_4K, EPT_RWX), EPT02_RESTART);
    assert_true(r->stale);
    ept02_put(cache, r);
    assert_int_equal(pages_live, 0);
}

static void reports_out_of_memory(void **state)
{
    (void)state;
    allocations_left = 0;
    assert_null(ept02_get(cache, EPTP(1)));
    allocations_left = 2;
    struct ept02_root *r = ept02_get(cache, EPTP(1));
    assert_non_null(r);
    assert_int_equal(ept02_map(cache, r, 0, 0x9000, EPT_SIZE_4K, EPT_RWX), EPT02_NO_MEMORY);
    ept02_put(cache, r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(finds_roots_by_ep4ta, setup, teardown),
        cmocka_unit_test_setup_teardown(evicts_the_least_recently_entered, setup, teardown),
        cmocka_unit_test_setup_teardown(a_root_in_use_outlives_its_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(eviction_spares_roots_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(budget_frees_unused_roots_then_restarts, setup, teardown),
        cmocka_unit_test_setup_teardown(remaps_and_restarts_on_a_size_change, setup, teardown),
        cmocka_unit_test_setup_teardown(reports_out_of_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(unmapping_a_host_page_reaches_every_root, setup, teardown),
    };
    return cmocka_run_group_tests_name("ept02", tests, NULL, NULL);
}
