/* The CMOS real-time clock model (dev/rtc.c): date arithmetic (leap years,
 * month and year ends, day of week), BCD/binary and 12/24-hour register
 * forms, updates once a second, the UIP window, SET and the divider reset,
 * register C's flags, register D, NVRAM and the memory-size bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "dev/rtc.h"

#define MS      1000000ull
#define US      1000ull
#define SEC     1000000000ull
#define T0      (100 * SEC)     /* when the tests' clocks are reset */

/* Wednesday 2024-02-28 23:59:58 */
static const struct rtc_date start = { .sec = 58, .min = 59, .hour = 23, .dow = 4, .day = 28,
                                       .month = 2, .year = 2024 };

static struct rtc fresh(void)
{
    struct rtc r;
    rtc_reset(&r, &start, T0);
    return r;
}

static void assert_date(const struct rtc_date *d, unsigned year, unsigned month, unsigned day,
                        unsigned hour, unsigned min, unsigned sec, unsigned dow)
{
    assert_int_equal(d->year, year);
    assert_int_equal(d->month, month);
    assert_int_equal(d->day, day);
    assert_int_equal(d->hour, hour);
    assert_int_equal(d->min, min);
    assert_int_equal(d->sec, sec);
    assert_int_equal(d->dow, dow);
}

static void leap_years(void **state)
{
    (void)state;
    assert_true(rtc_leap_year(2000));
    assert_true(rtc_leap_year(2024));
    assert_false(rtc_leap_year(2023));
    assert_false(rtc_leap_year(1900));
    assert_false(rtc_leap_year(2100));
    assert_int_equal(rtc_days_in_month(2024, 2), 29);
    assert_int_equal(rtc_days_in_month(2100, 2), 28);
    assert_int_equal(rtc_days_in_month(2023, 4), 30);
    assert_int_equal(rtc_days_in_month(2023, 12), 31);
}

static void seconds_carry_into_dates(void **state)
{
    (void)state;
    struct rtc_date d = start;
    rtc_date_add_seconds(&d, 2);
    assert_date(&d, 2024, 2, 29, 0, 0, 0, 5);           /* leap day, Thursday */
    rtc_date_add_seconds(&d, 86400);
    assert_date(&d, 2024, 3, 1, 0, 0, 0, 6);
    d = (struct rtc_date){ .sec = 59, .min = 59, .hour = 23, .dow = 1, .day = 31, .month = 12,
                           .year = 2099 };
    rtc_date_add_seconds(&d, 1);
    assert_date(&d, 2100, 1, 1, 0, 0, 0, 2);
    d = (struct rtc_date){ .hour = 12, .dow = 7, .day = 28, .month = 2, .year = 2100 };
    rtc_date_add_seconds(&d, 86400);
    assert_date(&d, 2100, 3, 1, 12, 0, 0, 1);           /* 2100 is not a leap year */
    d = (struct rtc_date){ .dow = 2, .day = 1, .month = 1, .year = 2024 };
    rtc_date_add_seconds(&d, 366 * 86400ull + 3661);
    assert_date(&d, 2025, 1, 1, 1, 1, 1, 4);            /* 366 days: 2 weekdays on */
}

static void register_forms(void **state)
{
    (void)state;
    const uint8_t bcd24 = RTC_B_24H, bin24 = RTC_B_24H | RTC_B_DM_BINARY, bcd12 = 0,
                  bin12 = RTC_B_DM_BINARY;
    assert_int_equal(rtc_encode(59, bcd24), 0x59);
    assert_int_equal(rtc_encode(59, bin24), 59);
    assert_int_equal(rtc_decode(0x47, bcd24), 47);
    assert_int_equal(rtc_decode(47, bin24), 47);
    assert_int_equal(rtc_encode_hour(0, bcd12), 0x12);          /* midnight: 12 AM */
    assert_int_equal(rtc_encode_hour(11, bcd12), 0x11);
    assert_int_equal(rtc_encode_hour(12, bcd12), 0x92);         /* noon: 12 PM */
    assert_int_equal(rtc_encode_hour(23, bcd12), 0x91);
    assert_int_equal(rtc_encode_hour(13, bin12), 0x81);
    assert_int_equal(rtc_encode_hour(23, bcd24), 0x23);
    for (uint8_t h = 0; h < 24; h++) {
        assert_int_equal(rtc_decode_hour(rtc_encode_hour(h, bcd12), bcd12), h);
        assert_int_equal(rtc_decode_hour(rtc_encode_hour(h, bin12), bin12), h);
        assert_int_equal(rtc_decode_hour(rtc_encode_hour(h, bcd24), bcd24), h);
    }
}

static void reads_the_time_in_bcd_then_binary(void **state)
{
    (void)state;
    struct rtc r = fresh();
    assert_int_equal(rtc_read(&r, RTC_SECONDS, T0), 0x58);
    assert_int_equal(rtc_read(&r, RTC_MINUTES, T0), 0x59);
    assert_int_equal(rtc_read(&r, RTC_HOURS, T0), 0x23);
    assert_int_equal(rtc_read(&r, RTC_DAY_OF_WEEK, T0), 4);
    assert_int_equal(rtc_read(&r, RTC_DAY, T0), 0x28);
    assert_int_equal(rtc_read(&r, RTC_MONTH, T0), 0x02);
    assert_int_equal(rtc_read(&r, RTC_YEAR, T0), 0x24);
    assert_int_equal(rtc_read(&r, RTC_CENTURY, T0), 0x20);
    rtc_write(&r, RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY, T0);
    assert_int_equal(rtc_read(&r, RTC_SECONDS, T0), 58);
    assert_int_equal(rtc_read(&r, RTC_YEAR, T0), 24);
    assert_int_equal(rtc_read(&r, RTC_CENTURY, T0), 20);
    rtc_write(&r, RTC_REG_B, RTC_B_DM_BINARY, T0);              /* 12-hour */
    assert_int_equal(rtc_read(&r, RTC_HOURS, T0), 0x80 | 11);
}

static void power_on_registers(void **state)
{
    (void)state;
    struct rtc r = fresh();
    assert_int_equal(rtc_read(&r, RTC_REG_A, T0), 0x26);
    assert_int_equal(rtc_read(&r, RTC_REG_B, T0), 0x02);
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0), 0);
    assert_int_equal(rtc_read(&r, RTC_REG_D, T0), 0x80);
    rtc_write(&r, RTC_REG_D, 0, T0);
    rtc_write(&r, RTC_REG_C, 0xff, T0);
    assert_int_equal(rtc_read(&r, RTC_REG_D, T0), 0x80);
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0), 0);
}

static void counts_whole_seconds(void **state)
{
    (void)state;
    struct rtc r = fresh();
    assert_int_equal(rtc_read(&r, RTC_SECONDS, T0 + SEC - 1), 0x58);
    assert_int_equal(rtc_read(&r, RTC_SECONDS, T0 + SEC), 0x59);
    assert_int_equal(rtc_read(&r, RTC_SECONDS, T0 + 2 * SEC + 500 * MS), 0x00);
    assert_int_equal(rtc_read(&r, RTC_DAY, T0 + 2 * SEC + 500 * MS), 0x29);
    assert_int_equal(rtc_read(&r, RTC_DAY_OF_WEEK, T0 + 2 * SEC + 500 * MS), 5);
    /* an hour later, read once */
    assert_int_equal(rtc_read(&r, RTC_HOURS, T0 + 3602 * SEC), 0x01);
}

static bool uip(struct rtc *r, uint64_t now)
{
    return rtc_read(r, RTC_REG_A, now) & RTC_A_UIP;
}

/* UIP rises 244 us before each update and falls with it. */
static void uip_window(void **state)
{
    (void)state;
    struct rtc r = fresh();
    uint64_t update = T0 + 5 * SEC;
    assert_false(uip(&r, update - 300 * US));
    assert_true(uip(&r, update - 240 * US));
    assert_true(uip(&r, update - 1));
    assert_int_equal(rtc_read(&r, RTC_SECONDS, update - 1), 0x02);  /* still the old second */
    assert_false(uip(&r, update));
    assert_int_equal(rtc_read(&r, RTC_SECONDS, update), 0x03);
    assert_false(uip(&r, update + 500 * MS));
}

/* Linux's mc146818_get_time polls register A until UIP is clear: with time
 * moving on, that takes at most the 244 us window. */
static void polling_uip_ends(void **state)
{
    (void)state;
    struct rtc r = fresh();
    uint64_t now = T0 + 3 * SEC - 200 * US;
    unsigned polls = 0;
    while (uip(&r, now)) {
        now += 10 * US;
        assert_true(++polls < 100);
    }
    assert_true(polls >= 19 && polls <= 21);
}

static void set_freezes_the_time(void **state)
{
    (void)state;
    struct rtc r = fresh();
    rtc_write(&r, RTC_REG_B, RTC_B_24H | RTC_B_SET | RTC_B_UIE, T0);
    assert_int_equal(rtc_read(&r, RTC_REG_B, T0) & RTC_B_UIE, 0);  /* SET clears UIE */
    assert_false(uip(&r, T0 + SEC - 1));                             /* no updates: no UIP */
    assert_int_equal(rtc_read(&r, RTC_SECONDS, T0 + 5 * SEC), 0x58);
    rtc_write(&r, RTC_HOURS, 0x09, T0 + 5 * SEC);
    rtc_write(&r, RTC_MINUTES, 0x30, T0 + 5 * SEC);
    rtc_write(&r, RTC_SECONDS, 0x00, T0 + 5 * SEC);
    rtc_write(&r, RTC_CENTURY, 0x19, T0 + 5 * SEC);
    rtc_write(&r, RTC_YEAR, 0x99, T0 + 5 * SEC);
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + 5 * SEC + 1) & RTC_C_UF, 0);
    rtc_write(&r, RTC_REG_B, RTC_B_24H, T0 + 5 * SEC + 200 * MS);
    assert_int_equal(rtc_read(&r, RTC_SECONDS, T0 + 5 * SEC + 900 * MS), 0x00);
    /* the divider kept its phase: the next update is on the old boundary */
    assert_int_equal(rtc_read(&r, RTC_SECONDS, T0 + 6 * SEC), 0x01);
    assert_int_equal(rtc_read(&r, RTC_HOURS, T0 + 6 * SEC), 0x09);
    assert_int_equal(rtc_read(&r, RTC_YEAR, T0 + 6 * SEC), 0x99);
    assert_int_equal(rtc_read(&r, RTC_CENTURY, T0 + 6 * SEC), 0x19);
}

static void divider_reset_holds_then_restarts_half_a_second_later(void **state)
{
    (void)state;
    struct rtc r = fresh();
    rtc_write(&r, RTC_REG_A, 0x70 | 0x06, T0 + 100 * MS);
    assert_int_equal(rtc_read(&r, RTC_SECONDS, T0 + 10 * SEC), 0x58);
    assert_false(uip(&r, T0 + SEC - 1));
    rtc_write(&r, RTC_REG_A, 0x26, T0 + 10 * SEC);
    assert_int_equal(rtc_read(&r, RTC_SECONDS, T0 + 10 * SEC + 499 * MS), 0x58);
    assert_int_equal(rtc_read(&r, RTC_SECONDS, T0 + 10 * SEC + 500 * MS), 0x59);
}

static void update_and_alarm_flags(void **state)
{
    (void)state;
    struct rtc r = fresh();
    rtc_write(&r, RTC_REG_A, 0x20, T0);                    /* no periodic ticks */
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + 500 * MS), 0);
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + SEC), RTC_C_UF);     /* UIE off: no IRQF */
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + SEC + 1), 0);        /* read clears */
    rtc_write(&r, RTC_REG_B, RTC_B_24H | RTC_B_UIE, T0 + SEC + 1);
    /* midnight matches the power-on alarm bytes (00:00:00); AIE is off */
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + 2 * SEC), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
    /* alarm at 00:00:02: two updates away */
    rtc_write(&r, RTC_SECONDS_ALARM, 0x02, T0 + 2 * SEC);
    rtc_write(&r, RTC_MINUTES_ALARM, 0x00, T0 + 2 * SEC);
    rtc_write(&r, RTC_HOURS_ALARM, 0x00, T0 + 2 * SEC);
    rtc_write(&r, RTC_REG_B, RTC_B_24H | RTC_B_AIE, T0 + 2 * SEC);
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + 3 * SEC), RTC_C_UF);
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + 4 * SEC + 10 * MS),
                     RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + 5 * SEC), RTC_C_UF);
    /* don't-care hours and minutes: every minute at :02, seen across a gap */
    rtc_write(&r, RTC_MINUTES_ALARM, 0xc0, T0 + 5 * SEC);
    rtc_write(&r, RTC_HOURS_ALARM, 0xff, T0 + 5 * SEC);
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + 60 * SEC) & RTC_C_AF, 0);
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + 64 * SEC) & RTC_C_AF, RTC_C_AF);
    /* and after days without a look */
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + 5 * 86400 * SEC) & RTC_C_AF, RTC_C_AF);
}

static void periodic_flag(void **state)
{
    (void)state;
    struct rtc r = fresh();
    rtc_write(&r, RTC_REG_A, 0x2f, T0);                    /* RS 15: every 500 ms */
    rtc_read(&r, RTC_REG_C, T0);
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + 499 * MS), 0);
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + 500 * MS), RTC_C_PF);    /* PIE off */
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + 999 * MS), 0);
    rtc_write(&r, RTC_REG_B, RTC_B_24H | RTC_B_PIE, T0 + 999 * MS);
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + SEC), RTC_C_IRQF | RTC_C_PF | RTC_C_UF);
    rtc_write(&r, RTC_REG_A, 0x23, T0 + SEC);               /* RS 3: 8192 Hz, 122 us */
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + SEC + 100 * US) & RTC_C_PF, 0);
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + SEC + 130 * US) & RTC_C_PF, RTC_C_PF);
    rtc_write(&r, RTC_REG_A, 0x20, T0 + SEC + 130 * US);    /* RS 0: off */
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + SEC + 400 * MS) & RTC_C_PF, 0);
    rtc_write(&r, RTC_REG_A, 0x21, T0 + 2 * SEC);           /* RS 1: 256 Hz, 3.90625 ms */
    rtc_read(&r, RTC_REG_C, T0 + 2 * SEC);
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + 2 * SEC + 3800 * US) & RTC_C_PF, 0);
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + 2 * SEC + 3950 * US) & RTC_C_PF, RTC_C_PF);
}

static void nvram_and_memory_sizes(void **state)
{
    (void)state;
    struct rtc r = fresh();
    rtc_write(&r, 0x40, 0xa5, T0);
    rtc_write(&r, 0x7f, 0x5a, T0);
    assert_int_equal(rtc_read(&r, 0x40, T0), 0xa5);
    assert_int_equal(rtc_read(&r, 0x7f, T0), 0x5a);
    rtc_set_memory_sizes(&r, 64ull << 20, 0);
    const uint8_t small[][2] = { { 0x15, 0x80 }, { 0x16, 0x02 }, { 0x17, 0x00 }, { 0x18, 0xfc },
                                 { 0x30, 0x00 }, { 0x31, 0xfc }, { 0x34, 0x00 }, { 0x35, 0x03 },
                                 { 0x5b, 0 }, { 0x5c, 0 }, { 0x5d, 0 } };
    for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++)
        assert_int_equal(rtc_read(&r, small[i][0], T0), small[i][1]);
    rtc_set_memory_sizes(&r, 3ull << 30, 1ull << 30);       /* 4 GiB: 3 below, 1 above 4G */
    const uint8_t big[][2] = { { 0x17, 0xff }, { 0x18, 0xff }, { 0x34, 0x00 }, { 0x35, 0xbf },
                               { 0x5b, 0x00 }, { 0x5c, 0x40 }, { 0x5d, 0x00 } };
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
        assert_int_equal(rtc_read(&r, big[i][0], T0), big[i][1]);
}

/* A machine reset pulls the chip's RESET line: enables and flags go, the
 * clock and the NVRAM stay. */
static void reset_line_keeps_time_and_nvram(void **state)
{
    (void)state;
    struct rtc r = fresh();
    rtc_write(&r, 0x40, 0xa5, T0);
    rtc_write(&r, RTC_REG_B, RTC_B_24H | RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE, T0);
    rtc_reset_line(&r, T0 + 3 * SEC + 10 * MS);     /* three updates happened: UF was set */
    assert_int_equal(rtc_read(&r, RTC_REG_B, T0 + 3 * SEC + 10 * MS), RTC_B_24H);
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + 3 * SEC + 10 * MS), 0);
    assert_int_equal(rtc_read(&r, 0x40, T0 + 3 * SEC + 10 * MS), 0xa5);
    assert_int_equal(rtc_read(&r, RTC_REG_A, T0 + 3 * SEC + 10 * MS) & ~RTC_A_UIP, 0x26);
    assert_date(&r.now, 2024, 2, 29, 0, 0, 1, 5);      /* three seconds on */
    /* and the clock goes on: the next update sets UF again */
    assert_int_equal(rtc_read(&r, RTC_REG_C, T0 + 4 * SEC + 10 * MS) & RTC_C_UF, RTC_C_UF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leap_years),
        cmocka_unit_test(seconds_carry_into_dates),
        cmocka_unit_test(register_forms),
        cmocka_unit_test(reads_the_time_in_bcd_then_binary),
        cmocka_unit_test(power_on_registers),
        cmocka_unit_test(counts_whole_seconds),
        cmocka_unit_test(uip_window),
        cmocka_unit_test(polling_uip_ends),
        cmocka_unit_test(set_freezes_the_time),
        cmocka_unit_test(divider_reset_holds_then_restarts_half_a_second_later),
        cmocka_unit_test(update_and_alarm_flags),
        cmocka_unit_test(periodic_flag),
        cmocka_unit_test(nvram_and_memory_sizes),
        cmocka_unit_test(reset_line_keeps_time_and_nvram),
    };
    return cmocka_run_group_tests_name("rtc", tests, NULL, NULL);
}
