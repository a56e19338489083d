/* The ACPI PM registers (dev/acpi_pm.c) and the platform clock's unit
 * conversion (dev/vclock.c): the PM timer's rate, 24-bit wrap and
 * monotonicity, TMR_STS, PM1 status/enable/control, SLP_EN. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "dev/acpi_pm.h"
#include "dev/platform.h"
#include "dev/vclock.h"

#define STS 0
#define EN  2
#define CNT (PLATFORM_ACPI_PM1_CNT - PLATFORM_ACPI_PM_BASE)
#define TMR (PLATFORM_ACPI_PM_TMR - PLATFORM_ACPI_PM_BASE)
#define SLP(typ) ((uint32_t)(typ) << ACPI_PM1_CNT_SLP_TYP_SHIFT)

static void scale_is_exact_and_does_not_overflow(void **state)
{
    (void)state;
    const uint64_t tsc_hz = 2999999999ull;
    assert_int_equal(vclock_scale(tsc_hz, tsc_hz, ACPI_PM_TIMER_HZ), ACPI_PM_TIMER_HZ);
    assert_int_equal(vclock_scale(tsc_hz - 1, tsc_hz, ACPI_PM_TIMER_HZ), ACPI_PM_TIMER_HZ - 1);
    assert_int_equal(vclock_scale(0, tsc_hz, NS_PER_SECOND), 0);
    /* a year of TSC ticks: ticks * to_hz would overflow 64 bits */
    uint64_t year = 365ull * 86400;
    assert_int_equal(vclock_scale(year * tsc_hz, tsc_hz, ACPI_PM_TIMER_HZ),
                     year * ACPI_PM_TIMER_HZ);
    assert_int_equal(vclock_scale(year * tsc_hz + tsc_hz / 2, tsc_hz, NS_PER_SECOND),
                     year * NS_PER_SECOND + 499999999);
}

/* One second of TSC is 3579545 PM timer ticks, and reads taken at rising
 * TSC values never go backwards (modulo the 24-bit wrap). */
static void pm_timer_rate_and_monotonic_wrap(void **state)
{
    (void)state;
    const uint64_t tsc_hz = 1234567000ull;
    struct acpi_pm pm = { 0 };
    uint32_t last = 0;
    uint64_t advanced = 0;
    for (uint64_t tsc = 0; tsc <= 6 * tsc_hz; tsc += tsc_hz / 1000 + 7) {
        uint64_t ticks = vclock_scale(tsc, tsc_hz, ACPI_PM_TIMER_HZ);
        uint32_t now = acpi_pm_read(&pm, TMR, 4, ticks);
        assert_true(now <= ACPI_PM_TIMER_MASK);
        uint32_t delta = (now - last) & ACPI_PM_TIMER_MASK;
        assert_true(delta < ACPI_PM_TIMER_HZ / 100);      /* small forward steps only */
        advanced += delta;
        last = now;
    }
    /* 6 s pass the 2^24 wrap (4.69 s) once */
    uint64_t expected = vclock_scale(6 * tsc_hz / (tsc_hz / 1000 + 7) * (tsc_hz / 1000 + 7),
                                     tsc_hz, ACPI_PM_TIMER_HZ);
    assert_int_equal(advanced, expected);
    assert_int_equal(acpi_pm_read(&pm, TMR, 4, 0x1000000), 0);
    assert_int_equal(acpi_pm_read(&pm, TMR, 4, 0x1abcdef), 0xabcdef);
    assert_int_equal(acpi_pm_read(&pm, TMR, 1, 0x1abcdef), 0xef);
    assert_int_equal(acpi_pm_read(&pm, TMR + 2, 2, 0x1abcdef), 0x00ab);
}

static void timer_is_read_only(void **state)
{
    (void)state;
    struct acpi_pm pm = { 0 };
    assert_int_equal(acpi_pm_write(&pm, TMR, 4, 0, 77), ACPI_PM_DROPPED);
    assert_int_equal(acpi_pm_read(&pm, TMR, 4, 77), 77);
    assert_int_equal(acpi_pm_write(&pm, 6, 2, 0, 77), ACPI_PM_DROPPED);
    assert_int_equal(acpi_pm_read(&pm, 6, 2, 77), 0xffff);
}

static void tmr_sts_follows_bit_23_and_clears_by_writing_one(void **state)
{
    (void)state;
    struct acpi_pm pm = { 0 };
    assert_int_equal(acpi_pm_read(&pm, STS, 2, 0x7fffff), 0);
    assert_int_equal(acpi_pm_read(&pm, STS, 2, 0x800000), ACPI_PM1_TMR_STS);
    assert_int_equal(acpi_pm_write(&pm, STS, 2, 0, 0x800001), ACPI_PM_DONE);   /* 0: no effect */
    assert_int_equal(acpi_pm_read(&pm, STS, 2, 0x800001), ACPI_PM1_TMR_STS);
    acpi_pm_write(&pm, STS, 2, ACPI_PM1_TMR_STS, 0x800001);
    assert_int_equal(acpi_pm_read(&pm, STS, 2, 0xffffff), 0);
    assert_int_equal(acpi_pm_read(&pm, STS, 1, 0x1000000), ACPI_PM1_TMR_STS); /* and on wrap */
}

static void enable_stores_its_bits(void **state)
{
    (void)state;
    struct acpi_pm pm = { 0 };
    acpi_pm_write(&pm, EN, 2, 0xffff, 0);
    assert_int_equal(acpi_pm_read(&pm, EN, 2, 0), 0x4721);
    acpi_pm_write(&pm, EN + 1, 1, 0x00, 0);
    assert_int_equal(acpi_pm_read(&pm, EN, 2, 0), 0x0021);
    /* a 32-bit access covers status and enable together */
    assert_int_equal(acpi_pm_read(&pm, STS, 4, 0), 0x00210000);
}

static void control_reads_sci_en_and_stores_slp_typ(void **state)
{
    (void)state;
    struct acpi_pm pm = { 0 };
    assert_int_equal(acpi_pm_read(&pm, CNT, 2, 0), ACPI_PM1_CNT_SCI_EN);
    assert_int_equal(acpi_pm_write(&pm, CNT, 2, SLP(3) | ACPI_PM1_CNT_GBL_RLS, 0), ACPI_PM_DONE);
    assert_int_equal(acpi_pm_read(&pm, CNT, 2, 0), SLP(3) | ACPI_PM1_CNT_SCI_EN);
}

static void slp_en_with_s5_powers_off(void **state)
{
    (void)state;
    struct acpi_pm pm = { 0 };
    assert_int_equal(acpi_pm_write(&pm, CNT, 2, SLP(PLATFORM_S5_SLP_TYP) | ACPI_PM1_CNT_SLP_EN, 0),
                     ACPI_PM_POWER_OFF);
    /* the same through the high byte alone, as an 8-bit OUT */
    struct acpi_pm pm2 = { 0 };
    assert_int_equal(acpi_pm_write(&pm2, CNT + 1, 1,
                                   (SLP(PLATFORM_S5_SLP_TYP) | ACPI_PM1_CNT_SLP_EN) >> 8, 0),
                     ACPI_PM_POWER_OFF);
    /* SLP_TYP set first, SLP_EN after: the stored type counts */
    struct acpi_pm pm3 = { 0 };
    acpi_pm_write(&pm3, CNT, 2, SLP(PLATFORM_S5_SLP_TYP), 0);
    assert_int_equal(acpi_pm_read(&pm3, CNT, 2, 0) & ACPI_PM1_CNT_SLP_EN, 0);
    assert_int_equal(acpi_pm_write(&pm3, CNT, 2, SLP(PLATFORM_S5_SLP_TYP) | ACPI_PM1_CNT_SLP_EN, 0),
                     ACPI_PM_POWER_OFF);
}

static void other_sleep_types_are_unsupported(void **state)
{
    (void)state;
    struct acpi_pm pm = { 0 };
    for (uint32_t typ = 0; typ < 8; typ++) {
        if (typ == PLATFORM_S5_SLP_TYP)
            continue;
        assert_int_equal(acpi_pm_write(&pm, CNT, 2, SLP(typ) | ACPI_PM1_CNT_SLP_EN, 0),
                         ACPI_PM_SLEEP_UNSUPPORTED);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scale_is_exact_and_does_not_overflow),
        cmocka_unit_test(pm_timer_rate_and_monotonic_wrap),
        cmocka_unit_test(timer_is_read_only),
        cmocka_unit_test(tmr_sts_follows_bit_23_and_clears_by_writing_one),
        cmocka_unit_test(enable_stores_its_bits),
        cmocka_unit_test(control_reads_sci_en_and_stores_slp_typ),
        cmocka_unit_test(slp_en_with_s5_powers_off),
        cmocka_unit_test(other_sleep_types_are_unsupported),
    };
    return cmocka_run_group_tests_name("acpi_pm", tests, NULL, NULL);
}
