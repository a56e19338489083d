/* The SMBIOS tables parsed back as a guest (Linux's dmi_scan) would: the
 * entry point's anchors and checksums, the table's place and length, the
 * structures and their strings, and a buffer too small. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "loader/smbios.h"

#define BASE 0xf0000u

static uint8_t buf[1024];

static uint64_t get(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;
    memcpy(&v, p, bytes);
    return v;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
    uint8_t s = 0;
    while (len--)
        s = (uint8_t)(s + *p++);
    return s;
}

/* The string `n` (1-based) of the structure at p. */
static const char *string_of(const uint8_t *p, unsigned n)
{
    const char *s = (const char *)p + p[1];
    while (--n)
        s += strlen(s) + 1;
    return s;
}

static const uint8_t *next_structure(const uint8_t *p)
{
    const uint8_t *s = p + p[1];
    while (s[0] || s[1])
        s++;
    return s + 2;
}

static void entry_point_and_structures(void **state)
{
    (void)state;
    memset(buf, 0xee, sizeof(buf));
    size_t len = smbios_build(buf, sizeof(buf), BASE);
    assert_true(len > 0x20);
    assert_memory_equal(buf, "_SM_", 4);
    assert_int_equal(buf[5], 0x1f);
    assert_int_equal(sum(buf, 0x1f), 0);
    assert_memory_equal(buf + 0x10, "_DMI_", 5);
    assert_int_equal(sum(buf + 0x10, 0x0f), 0);
    assert_int_equal(buf[6], 2);
    assert_int_equal(buf[7], 8);
    uint64_t table = get(buf + 0x18, 4);
    size_t table_len = get(buf + 0x16, 2);
    assert_int_equal(table % 16, 0);
    assert_true(table >= BASE + 0x1f);
    assert_int_equal(table - BASE + table_len, len);
    assert_int_equal(get(buf + 0x1c, 2), 3);

    const uint8_t *p = buf + (table - BASE), *end = buf + len;
    size_t largest = 0;
    assert_int_equal(p[0], 0);                              /* BIOS information */
    assert_string_equal(string_of(p, p[4]), "vmxvisor");
    const char *date = string_of(p, p[8]);
    assert_int_equal(strlen(date), 10);                     /* mm/dd/yyyy */
    assert_true(strcmp(date + 6, "2001") >= 0);             /* Linux's PCI check wants >= 2001 */
    const uint8_t *q = next_structure(p);
    largest = (size_t)(q - p);
    assert_int_equal(q[0], 1);                              /* system information */
    assert_string_equal(string_of(q, q[4]), "vmxvisor");
    assert_int_equal(get(q + 2, 2), 1);                     /* handles count up */
    const uint8_t *r = next_structure(q);
    if ((size_t)(r - q) > largest)
        largest = (size_t)(r - q);
    assert_int_equal(r[0], 127);                            /* end of table */
    assert_ptr_equal(next_structure(r), end);
    assert_int_equal(get(buf + 8, 2), largest);
}

static void refuses_what_does_not_fit(void **state)
{
    (void)state;
    size_t len = smbios_build(buf, sizeof(buf), BASE);
    for (size_t size = 0; size < len; size++)
        assert_int_equal(smbios_build(buf, size, BASE), 0);
    assert_int_equal(smbios_build(buf, sizeof(buf), BASE + 8), 0);  /* not 16-byte aligned */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(entry_point_and_structures),
        cmocka_unit_test(refuses_what_does_not_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
