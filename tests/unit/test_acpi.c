/* The VM's ACPI tables (loader/acpi.c), parsed back the way an OS reads them:
 * the RSDP, checksums and lengths, RSDT/XSDT pointers, the FADT's ports and
 * flags, the DSDT's \_S5 package, the MADT's entries for 1, 2, 64 and 255
 * vCPUs, and that they fit the BIOS area or fail cleanly when they do not. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "loader/acpi.h"
#include "virt/guest_layout.h"
#include "dev/platform.h"

#define AREA (GUEST_ACPI_END - GUEST_ACPI_GPA)

static uint8_t buf[AREA];
static size_t used;

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static uint8_t sum(const uint8_t *p, size_t len)
{
    uint8_t s = 0;
    for (size_t i = 0; i < len; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

static void build(uint32_t vcpus)
{
    memset(buf, 0xcc, sizeof(buf));
    used = acpi_build_tables(buf, sizeof(buf), GUEST_ACPI_GPA, vcpus);
    assert_true(used > 0);
}

/* The table at guest-physical `gpa`: inside what was built, with its
 * signature, a length that stays inside, and a checksum summing to 0. */
static const uint8_t *table_at(uint64_t gpa, const char *signature)
{
    assert_true(gpa >= GUEST_ACPI_GPA && gpa < GUEST_ACPI_GPA + used);
    const uint8_t *t = buf + (gpa - GUEST_ACPI_GPA);
    assert_memory_equal(t, signature, 4);
    uint32_t len = get32(t + 4);
    assert_true(len >= 36);
    assert_true(gpa + len <= GUEST_ACPI_GPA + used);
    assert_int_equal(sum(t, len), 0);
    return t;
}

static const uint8_t *rsdp(void) { return buf; }
static const uint8_t *xsdt(void) { return table_at(get64(rsdp() + 24), "XSDT"); }

/* The table an SDT's entry `i` names, RSDT (4-byte) or XSDT (8-byte). */
static uint64_t sdt_entry(const uint8_t *sdt, unsigned entry_size, unsigned i)
{
    const uint8_t *p = sdt + 36 + i * entry_size;
    return entry_size == 4 ? get32(p) : get64(p);
}

static const uint8_t *find(const char *signature)
{
    const uint8_t *x = xsdt();
    unsigned n = (get32(x + 4) - 36) / 8;
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *t = buf + (sdt_entry(x, 8, i) - GUEST_ACPI_GPA);
        if (!memcmp(t, signature, 4))
            return table_at(sdt_entry(x, 8, i), signature);
    }
    fail_msg("no %s in the XSDT", signature);
    return NULL;
}

static void rsdp_comes_first_with_both_checksums(void **state)
{
    (void)state;
    build(1);
    assert_memory_equal(rsdp(), "RSD PTR ", 8);
    assert_int_equal(sum(rsdp(), 20), 0);
    assert_int_equal(rsdp()[15], 2);
    assert_int_equal(get32(rsdp() + 20), 36);
    assert_int_equal(sum(rsdp(), 36), 0);
    assert_int_equal(GUEST_ACPI_GPA % 16, 0);
}

static void rsdt_and_xsdt_name_the_same_tables(void **state)
{
    (void)state;
    build(2);
    const uint8_t *r = table_at(get32(rsdp() + 16), "RSDT");
    const uint8_t *x = xsdt();
    assert_int_equal(get32(r + 4), 36 + 2 * 4);
    assert_int_equal(get32(x + 4), 36 + 2 * 8);
    for (unsigned i = 0; i < 2; i++)
        assert_int_equal(sdt_entry(r, 4, i), sdt_entry(x, 8, i));
    find("FACP");
    find("APIC");
}

/* A generic address structure naming an I/O port block of `bits`. */
static void assert_io_gas(const uint8_t *g, uint8_t bits, uint64_t port)
{
    assert_int_equal(g[0], 1);          /* system I/O */
    assert_int_equal(g[1], bits);
    assert_int_equal(g[2], 0);
    assert_int_equal(get64(g + 4), port);
}

static void fadt_ports_and_flags(void **state)
{
    (void)state;
    build(1);
    const uint8_t *f = find("FACP");
    assert_int_equal(f[8], 6);
    assert_int_equal(get32(f + 4), 276);
    assert_int_equal(get16(f + 46), PLATFORM_ACPI_SCI_IRQ);
    assert_int_equal(get32(f + 48), 0);                 /* SMI_CMD: ACPI mode already on */
    assert_int_equal(get32(f + 56), PLATFORM_ACPI_PM_BASE);
    assert_int_equal(get32(f + 64), PLATFORM_ACPI_PM1_CNT);
    assert_int_equal(get32(f + 76), PLATFORM_ACPI_PM_TMR);
    assert_int_equal(f[88], 4);
    assert_int_equal(f[89], 2);
    assert_int_equal(f[91], 4);
    assert_int_equal(get32(f + 60) | get32(f + 68) | get32(f + 72) | get32(f + 80), 0);
    assert_int_equal(f[108], 0x32);                     /* CMOS century index */
    assert_int_equal(get16(f + 109), 0x5);              /* legacy devices, no 8042, no VGA */
    uint32_t flags = get32(f + 112);
    assert_int_equal(flags, (1u << 0) | (1u << 2) | (1u << 5) | (1u << 10));
    assert_false(flags & (1u << 20));                   /* not HW-reduced */
    assert_false(flags & (1u << 8));                    /* 24-bit PM timer */
    assert_io_gas(f + 116, 8, PLATFORM_RESET_PORT);
    assert_int_equal(f[128], 0x06);
    assert_io_gas(f + 148, 32, PLATFORM_ACPI_PM_BASE);
    assert_io_gas(f + 172, 16, PLATFORM_ACPI_PM1_CNT);
    assert_io_gas(f + 208, 32, PLATFORM_ACPI_PM_TMR);
    assert_int_equal(get64(f + 160) | get64(f + 184) | get64(f + 196), 0);    /* no PM1b, PM2 */
}

static void fadt_points_at_facs_and_dsdt(void **state)
{
    (void)state;
    build(1);
    const uint8_t *f = find("FACP");
    assert_int_equal(get64(f + 132), get32(f + 36));
    assert_int_equal(get64(f + 140), get32(f + 40));
    uint32_t facs_gpa = get32(f + 36);
    assert_int_equal(facs_gpa % 64, 0);
    const uint8_t *facs = buf + (facs_gpa - GUEST_ACPI_GPA);
    assert_memory_equal(facs, "FACS", 4);
    assert_int_equal(get32(facs + 4), 64);
    assert_true(facs_gpa + 64 <= GUEST_ACPI_GPA + used);
    table_at(get32(f + 40), "DSDT");
}

static void dsdt_defines_s5(void **state)
{
    (void)state;
    build(1);
    const uint8_t *d = table_at(get32(find("FACP") + 40), "DSDT");
    const uint8_t expected[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
                                 0x0a, PLATFORM_S5_SLP_TYP, 0x0a, PLATFORM_S5_SLP_TYP, 0, 0 };
    assert_int_equal(get32(d + 4), 36 + sizeof(expected));
    assert_memory_equal(d + 36, expected, sizeof(expected));
}

/* Walks the MADT of a VM with `vcpus` vCPUs and checks every entry. */
static void check_madt(uint32_t vcpus)
{
    build(vcpus);
    const uint8_t *m = find("APIC");
    assert_int_equal(get32(m + 36), PLATFORM_LAPIC_GPA);
    assert_int_equal(get32(m + 40) & 1, 1);             /* PC-AT compatible */
    uint32_t lapics = 0, ioapics = 0, nmis = 0, len = get32(m + 4);
    int irq0_gsi = -1, sci_flags = -1;
    for (uint32_t off = 44; off < len; off += m[off + 1]) {
        const uint8_t *e = m + off;
        assert_true(e[1] >= 2 && off + e[1] <= len);
        switch (e[0]) {
        case 0:
            assert_int_equal(e[1], 8);
            assert_int_equal(e[2], lapics);             /* processor UID */
            assert_int_equal(e[3], lapics);             /* APIC ID */
            assert_int_equal(get32(e + 4), 1);          /* enabled */
            lapics++;
            break;
        case 1:
            assert_int_equal(e[1], 12);
            assert_int_equal(e[2], PLATFORM_IOAPIC_ID);
            assert_int_equal(get32(e + 4), PLATFORM_IOAPIC_GPA);
            assert_int_equal(get32(e + 8), 0);
            ioapics++;
            break;
        case 2:
            assert_int_equal(e[1], 10);
            assert_int_equal(e[2], 0);                  /* ISA */
            if (e[3] == 0) {
                irq0_gsi = (int)get32(e + 4);
                assert_int_equal(get16(e + 8), 0);
            } else {
                assert_int_equal(e[3], PLATFORM_ACPI_SCI_IRQ);
                assert_int_equal(get32(e + 4), PLATFORM_ACPI_SCI_IRQ);
                sci_flags = get16(e + 8);
            }
            break;
        case 4:
            assert_int_equal(e[1], 6);
            assert_int_equal(e[2], 0xff);               /* all processors */
            assert_int_equal(e[5], 1);                  /* LINT1 */
            nmis++;
            break;
        default:
            fail_msg("unexpected MADT entry type %u", e[0]);
        }
    }
    assert_int_equal(lapics, vcpus);
    assert_int_equal(ioapics, 1);
    assert_int_equal(nmis, 1);
    assert_int_equal(irq0_gsi, PLATFORM_GSI_PIT);
    assert_int_equal(sci_flags, 0xd);                   /* level, active high */
}

static void madt_one_vcpu(void **state) { (void)state; check_madt(1); }
static void madt_two_vcpus(void **state) { (void)state; check_madt(2); }
static void madt_64_vcpus(void **state) { (void)state; check_madt(64); }
static void madt_most_vcpus(void **state) { (void)state; check_madt(ACPI_MAX_VCPUS); }

static void fits_the_bios_area(void **state)
{
    (void)state;
    build(ACPI_MAX_VCPUS);
    assert_true(used <= AREA);
    for (size_t i = used; i < AREA; i++)
        assert_int_equal(buf[i], 0xcc);                 /* nothing written past the end */
}

/* Any buffer smaller than the tables fails without writing past its end. */
static void too_small_fails_cleanly(void **state)
{
    (void)state;
    build(2);
    size_t need = used;
    for (size_t size = 0; size < need; size++) {
        memset(buf, 0xcc, sizeof(buf));
        assert_int_equal(acpi_build_tables(buf, size, GUEST_ACPI_GPA, 2), 0);
        for (size_t i = size; i < sizeof(buf); i++)
            assert_int_equal(buf[i], 0xcc);
    }
    assert_int_equal(acpi_build_tables(buf, need, GUEST_ACPI_GPA, 2), need);
}

static void bad_vcpu_counts_and_places_fail(void **state)
{
    (void)state;
    assert_int_equal(acpi_build_tables(buf, sizeof(buf), GUEST_ACPI_GPA, 0), 0);
    assert_int_equal(acpi_build_tables(buf, sizeof(buf), GUEST_ACPI_GPA, ACPI_MAX_VCPUS + 1), 0);
    assert_int_equal(acpi_build_tables(buf, sizeof(buf), GUEST_ACPI_GPA + 16, 1), 0);
    assert_int_equal(acpi_build_tables(buf, sizeof(buf), 0xffff0000ull, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rsdp_comes_first_with_both_checksums),
        cmocka_unit_test(rsdt_and_xsdt_name_the_same_tables),
        cmocka_unit_test(fadt_ports_and_flags),
        cmocka_unit_test(fadt_points_at_facs_and_dsdt),
        cmocka_unit_test(dsdt_defines_s5),
        cmocka_unit_test(madt_one_vcpu),
        cmocka_unit_test(madt_two_vcpus),
        cmocka_unit_test(madt_64_vcpus),
        cmocka_unit_test(madt_most_vcpus),
        cmocka_unit_test(fits_the_bios_area),
        cmocka_unit_test(too_small_fails_cleanly),
        cmocka_unit_test(bad_vcpu_counts_and_places_fail),
    };
    return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
