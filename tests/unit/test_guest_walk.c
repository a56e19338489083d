/* Guest page walks over a small fake guest memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "virt/guest_walk.h"

static uint8_t mem[0x10000];

static bool read_mem(void *ctx, uint64_t gpa, void *dst, unsigned len)
{
    (void)ctx;
    if (gpa + len > sizeof(mem))
        return false;
    memcpy(dst, mem + gpa, len);
    return true;
}

static void put64(uint64_t gpa, uint64_t v) { memcpy(mem + gpa, &v, 8); }
static void put32(uint64_t gpa, uint32_t v) { memcpy(mem + gpa, &v, 4); }

static uint64_t translate(const struct guest_paging *p, uint64_t linear, bool *ok)
{
    uint64_t gpa = 0;
    *ok = guest_translate(p, linear, read_mem, NULL, &gpa);
    return gpa;
}

static void no_paging_is_identity(void **state)
{
    (void)state;
    struct guest_paging p = { .cr0 = 1 };
    bool ok;
    assert_int_equal(translate(&p, 0xfee00030, &ok), 0xfee00030);
    assert_true(ok);
}

static void four_level_with_each_page_size(void **state)
{
    (void)state;
    memset(mem, 0, sizeof(mem));
    struct guest_paging p = { .cr0 = 0x80000001, .cr3 = 0x1000, .cr4 = 0x20, .efer = 0x500 };
    put64(0x1000, 0x2000 | 3);                          /* PML4[0] */
    put64(0x2000 + 3 * 8, 0x40000000ull * 7 | 0x83);    /* PDPT[3]: 1G page -> 7 GiB */
    put64(0x2000, 0x3000 | 3);                          /* PDPT[0] */
    put64(0x3000 + 8, 0x12e00000 | 0x83);               /* PD[1]: 2M page */
    put64(0x3000, 0x4000 | 3);                          /* PD[0] -> PT */
    put64(0x4000 + 5 * 8, 0xabcde000 | 3);              /* PT[5] */
    bool ok;
    assert_int_equal(translate(&p, 0x5123, &ok), 0xabcde123);
    assert_true(ok);
    assert_int_equal(translate(&p, 0x212345, &ok), 0x12e12345);
    assert_true(ok);
    assert_int_equal(translate(&p, 0xc0001234, &ok), 0x1c0001234ull);
    assert_true(ok);
    translate(&p, 0x6000, &ok);                         /* PT[6] not present */
    assert_false(ok);
    translate(&p, 0x8000000000ull, &ok);                /* PML4[1] not present */
    assert_false(ok);
}

static void pae_and_32bit(void **state)
{
    (void)state;
    memset(mem, 0, sizeof(mem));
    struct guest_paging pae = { .cr0 = 0x80000001, .cr3 = 0x1020, .cr4 = 0x20 };
    put64(0x1020 + 3 * 8, 0x2000 | 1);                  /* PDPTE3 */
    put64(0x2000 + 510 * 8, 0x3000 | 3);                /* PD[510] */
    put64(0x3000 + 0x1ee * 8, 0xfee00000 | 3);          /* PT for 0xffdee000 */
    bool ok;
    assert_int_equal(translate(&pae, 0xffdee010, &ok), 0xfee00010);
    assert_true(ok);

    struct guest_paging legacy = { .cr0 = 0x80000001, .cr3 = 0x5000, .cr4 = 0x10 };
    put32(0x5000 + 0x3fb * 4, 0xfec00000 | 0x83);       /* 4M page */
    put32(0x5000 + 1 * 4, 0x6000 | 3);
    put32(0x6000 + 2 * 4, 0x00777000 | 3);
    assert_int_equal(translate(&legacy, 0xfec01234, &ok), 0xfec01234);
    assert_true(ok);
    assert_int_equal(translate(&legacy, 0x402abc, &ok), 0x777abc);
    assert_true(ok);
    translate(&legacy, 0x800000, &ok);
    assert_false(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_paging_is_identity),
        cmocka_unit_test(four_level_with_each_page_size),
        cmocka_unit_test(pae_and_32bit),
    };
    return cmocka_run_group_tests_name("guest_walk", tests, NULL, NULL);
}
