/* Host memory reservations (virt/mem_reserve.c) over a fake allocator
 * whose free page count the tests set. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "virt/mem_reserve.h"

static size_t free_pages;
size_t page_alloc_free_pages(void) { return free_pages; }

#define MIB 256ull      /* pages */

static void refuses_what_does_not_fit(void **state)
{
    (void)state;
    free_pages = MEM_RESERVE_HOST_PAGES + 100 * MIB;
    struct mem_reservation a, b;
    char why[200];
    assert_true(mem_reserve(&a, 60 * MIB, 4 * MIB, false, why, sizeof(why)));
    assert_false(mem_reserve(&b, 40 * MIB, 1 * MIB, false, why, sizeof(why)));
    assert_string_equal(why, "needs 41 MiB of host memory (40 MiB of RAM, 1 MiB for its tables), "
                             "and 36 MiB are free and unreserved; give it less memory, or set "
                             "overcommit = on in [global]");
    /* Backing pages within the reservation changes nothing for others:
     * the free pages drop as the owed ones do. */
    assert_true(mem_charge(&a, 30 * MIB));
    free_pages -= 30 * MIB;
    assert_false(mem_reserve(&b, 40 * MIB, 1 * MIB, false, why, sizeof(why)));
    assert_true(mem_reserve(&b, 30 * MIB, 1 * MIB, false, why, sizeof(why)));
    struct mem_host_totals t;
    mem_host_totals(&t);
    assert_int_equal(t.owed_pages, (30 + 4 + 30 + 1) * MIB);
    mem_unreserve(&b);
    mem_uncharge(&a, 30 * MIB);
    free_pages += 30 * MIB;
    mem_unreserve(&a);
    mem_host_totals(&t);
    assert_int_equal(t.owed_pages, 0);
}

static void overcommit_stops_the_one_beyond_its_reservation(void **state)
{
    (void)state;
    free_pages = MEM_RESERVE_HOST_PAGES + 100 * MIB;
    struct mem_reservation small, hog;
    char why[200];
    assert_true(mem_reserve(&small, 30 * MIB, 0, true, why, sizeof(why)));
    assert_true(mem_reserve(&hog, 100 * MIB, 0, true, why, sizeof(why)));
    assert_int_equal(hog.ram_pages, 70 * MIB);       /* what was left */
    /* The hog backs its 70 MiB, then finds no unreserved page. */
    assert_true(mem_charge(&hog, 70 * MIB));
    free_pages -= 70 * MIB;
    assert_false(mem_charge(&hog, 1));
    /* The small VM's 30 MiB are still there for it. */
    assert_true(mem_charge(&small, 30 * MIB));
    free_pages -= 30 * MIB;
    /* A page given back beyond the reservations is anyone's again. */
    free_pages += MIB;
    assert_true(mem_charge(&hog, 1));
    assert_int_equal(hog.backed_pages, 70 * MIB + 1);
    mem_uncharge(&hog, 70 * MIB + 1);
    mem_uncharge(&small, 30 * MIB);
    mem_unreserve(&hog);
    mem_unreserve(&small);
    struct mem_host_totals t;
    mem_host_totals(&t);
    assert_int_equal(t.owed_pages, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refuses_what_does_not_fit),
        cmocka_unit_test(overcommit_stops_the_one_beyond_its_reservation),
    };
    return cmocka_run_group_tests_name("mem_reserve", tests, NULL, NULL);
}
