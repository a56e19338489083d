/* The MC146818A model (datasheet: "Motorola MC146818A Real-Time Clock Plus
 * RAM"). Time advances in whole-second updates at next_update_ns; between
 * them the registers hold still, so a guest never sees a half-updated time.
 * The update itself is instantaneous here; UIP warns of it for the 244 us
 * before, as the datasheet's timing diagram does. */
#include "dev/rtc.h"
#include "dev/vclock.h"
#include "lib/le.h"
#include "lib/string.h"

#define DIVIDER_HZ          32768ull            /* the time base the divider counts */
#define UIP_CYCLES          8                   /* UIP rises 244 us (8 cycles) before an update */
#define HALF_SECOND_NS      (NS_PER_SECOND / 2)
#define SECONDS_PER_DAY     86400ull
#define ALARM_DONT_CARE     0xc0                /* an alarm byte 11xxxxxx matches any value */

/* NVRAM memory sizes (IBM AT CMOS layout, as QEMU fills it for SeaBIOS). */
#define CMOS_BASE_MEM_LO    0x15
#define CMOS_EXT_MEM_LO     0x17
#define CMOS_EXT_MEM2_LO    0x30                /* the same value again, for the BIOS POST */
#define CMOS_MEM_ABOVE_16M  0x34
#define CMOS_MEM_ABOVE_4G   0x5b                /* three bytes */
#define BASE_MEMORY_K       640
#define KB                  1024ull
#define MB                  (1024 * KB)

bool rtc_leap_year(unsigned year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned rtc_days_in_month(unsigned year, unsigned month)
{
    static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (month < 1 || month > 12)
        return 31;          /* a guest may store nonsense; count it like a long month */
    return days[month - 1] + (month == 2 && rtc_leap_year(year));
}

static void add_days(struct rtc_date *d, uint64_t days)
{
    d->dow = (uint8_t)((d->dow + 6 + days % 7) % 7 + 1);
    while (days) {
        unsigned dim = rtc_days_in_month(d->year, d->month);
        unsigned left = d->day < dim ? dim - d->day : 0;    /* days after today in this month */
        if (days <= left) {
            d->day = (uint8_t)(d->day + days);
            return;
        }
        days -= left + 1;
        d->day = 1;
        if (++d->month > 12) {
            d->month = 1;
            d->year++;
        }
    }
}

void rtc_date_add_seconds(struct rtc_date *d, uint64_t seconds)
{
    uint64_t t = d->sec + 60ull * d->min + 3600ull * d->hour + seconds;
    d->sec = (uint8_t)(t % 60);
    d->min = (uint8_t)(t / 60 % 60);
    d->hour = (uint8_t)(t / 3600 % 24);
    add_days(d, t / SECONDS_PER_DAY);
}

uint8_t rtc_encode(uint8_t value, uint8_t b)
{
    return b & RTC_B_DM_BINARY ? value : (uint8_t)((value / 10) << 4 | value % 10);
}

uint8_t rtc_decode(uint8_t reg, uint8_t b)
{
    return b & RTC_B_DM_BINARY ? reg : (uint8_t)((reg >> 4) * 10 + (reg & 0x0f));
}

/* 12-hour mode: 1-12, bit 7 set for PM (12 AM is midnight). */
uint8_t rtc_encode_hour(uint8_t hour, uint8_t b)
{
    if (b & RTC_B_24H)
        return rtc_encode(hour, b);
    uint8_t h12 = hour % 12 ? hour % 12 : 12;
    return (uint8_t)(rtc_encode(h12, b) | (hour >= 12 ? 0x80 : 0));
}

uint8_t rtc_decode_hour(uint8_t reg, uint8_t b)
{
    if (b & RTC_B_24H)
        return rtc_decode(reg, b);
    return (uint8_t)(rtc_decode(reg & 0x7f, b) % 12 + (reg & 0x80 ? 12 : 0));
}

/* Divider in reset (DV = 11x): no updates, no periodic ticks. */
static bool divider_running(const struct rtc *r)
{
    return (r->ram[RTC_REG_A] & 0x60) != 0x60;
}

static bool updating(const struct rtc *r)
{
    return divider_running(r) && !(r->ram[RTC_REG_B] & RTC_B_SET);
}

/* The periodic rate in divider cycles (datasheet table "Periodic Interrupt
 * Rate"): RS 1 and 2 tap the chain at 256 and 128 Hz, RS 3-15 at
 * 32768 >> (RS - 1) Hz; RS 0 is off. */
static uint64_t periodic_cycles(const struct rtc *r)
{
    unsigned rs = r->ram[RTC_REG_A] & RTC_A_RS_MASK;
    if (!rs)
        return 0;
    return rs <= 2 ? 1ull << (rs + 6) : 1ull << (rs - 1);
}

static uint8_t time_reg(const struct rtc *r, uint8_t reg)
{
    uint8_t b = r->ram[RTC_REG_B];
    switch (reg) {
    case RTC_SECONDS: return rtc_encode(r->now.sec, b);
    case RTC_MINUTES: return rtc_encode(r->now.min, b);
    case RTC_HOURS: return rtc_encode_hour(r->now.hour, b);
    default: return 0;
    }
}

/* The alarm fires at an update whose seconds, minutes and hours match the
 * alarm bytes, each compared in register form or a don't-care. */
static bool alarm_matches(const struct rtc *r)
{
    static const uint8_t pairs[3][2] = {
        { RTC_SECONDS, RTC_SECONDS_ALARM }, { RTC_MINUTES, RTC_MINUTES_ALARM },
        { RTC_HOURS, RTC_HOURS_ALARM },
    };
    for (int i = 0; i < 3; i++) {
        uint8_t alarm = r->ram[pairs[i][1]];
        if ((alarm & ALARM_DONT_CARE) != ALARM_DONT_CARE && alarm != time_reg(r, pairs[i][0]))
            return false;
    }
    return true;
}

/* `updates` whole-second updates happen: the time moves on, UF is set and
 * AF if one of them matched the alarm. Any alarm that can match at all does
 * so within a day, so only the last day's updates need looking at. */
static void run_updates(struct rtc *r, uint64_t updates)
{
    uint64_t skip = updates > SECONDS_PER_DAY ? updates - SECONDS_PER_DAY : 0;
    rtc_date_add_seconds(&r->now, skip);
    for (uint64_t i = skip; i < updates; i++) {
        rtc_date_add_seconds(&r->now, 1);
        if (!(r->flags & RTC_C_AF) && alarm_matches(r))
            r->flags |= RTC_C_AF;
    }
    r->flags |= RTC_C_UF;
}

/* Whether a periodic edge fell in (seen, now]. Edges lie a whole number of
 * periods before each update (the rate divides the second), so measured
 * back from `next` (> now): the last edge at or before now is
 * (-(next - now)) mod period before now. Computed in units of 1/32768 ns so
 * that periods are whole numbers. */
static bool periodic_edge(uint64_t period_cycles, uint64_t next, uint64_t seen, uint64_t now)
{
    uint64_t period = period_cycles * NS_PER_SECOND;
    if (now - seen >= NS_PER_SECOND)
        return true;        /* periods are at most half a second */
    uint64_t to_next = (next - now) * DIVIDER_HZ % period;
    uint64_t since_edge = (period - to_next) % period;
    return since_edge < (now - seen) * DIVIDER_HZ;
}

/* Brings the clock and the flags up to `now`. */
static void catch_up(struct rtc *r, uint64_t now)
{
    if (now <= r->seen_ns)
        return;
    if (!divider_running(r)) {
        r->seen_ns = now;
        return;
    }
    uint64_t updates = 0;
    if (now >= r->next_update_ns) {
        updates = (now - r->next_update_ns) / NS_PER_SECOND + 1;
        r->next_update_ns += updates * NS_PER_SECOND;
    }
    uint64_t period = periodic_cycles(r);
    if (period && periodic_edge(period, r->next_update_ns, r->seen_ns, now))
        r->flags |= RTC_C_PF;
    if (updates && !(r->ram[RTC_REG_B] & RTC_B_SET))
        run_updates(r, updates);
    r->seen_ns = now;
}

void rtc_reset(struct rtc *rtc, const struct rtc_date *start, uint64_t now_ns)
{
    memset(rtc, 0, sizeof(*rtc));
    rtc->now = *start;
    rtc->next_update_ns = now_ns + NS_PER_SECOND;
    rtc->seen_ns = now_ns;
    rtc->ram[RTC_REG_A] = RTC_A_DV_32K | 0x06;
    rtc->ram[RTC_REG_B] = RTC_B_24H;
}

void rtc_reset_line(struct rtc *rtc, uint64_t now_ns)
{
    catch_up(rtc, now_ns);      /* flags raised before the reset are dropped with it */
    rtc->ram[RTC_REG_B] &= (uint8_t)~(RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE);
    rtc->flags = 0;
}

uint8_t rtc_read(struct rtc *rtc, uint8_t reg, uint64_t now_ns)
{
    catch_up(rtc, now_ns);
    uint8_t b = rtc->ram[RTC_REG_B];
    switch (reg) {
    case RTC_SECONDS:
    case RTC_MINUTES:
    case RTC_HOURS:
        return time_reg(rtc, reg);
    case RTC_DAY_OF_WEEK: return rtc_encode(rtc->now.dow, b);
    case RTC_DAY: return rtc_encode(rtc->now.day, b);
    case RTC_MONTH: return rtc_encode(rtc->now.month, b);
    case RTC_YEAR: return rtc_encode((uint8_t)(rtc->now.year % 100), b);
    case RTC_CENTURY: return rtc_encode((uint8_t)(rtc->now.year / 100 % 100), b);
    case RTC_REG_A: {
        /* UIP: an update is due within 8 divider cycles (catch_up left
         * next_update_ns in the future). */
        bool uip = updating(rtc) && (rtc->next_update_ns - now_ns) * DIVIDER_HZ <=
                                        UIP_CYCLES * NS_PER_SECOND;
        return (uint8_t)(rtc->ram[RTC_REG_A] | (uip ? RTC_A_UIP : 0));
    }
    case RTC_REG_C: {
        /* Reading C clears it (and so acknowledges the interrupt). */
        uint8_t c = rtc->flags;
        if (c & b & (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE))
            c |= RTC_C_IRQF;
        rtc->flags = 0;
        return c;
    }
    case RTC_REG_D: return RTC_D_VRT;
    default: return rtc->ram[reg & RTC_INDEX_MASK];
    }
}

static void write_time(struct rtc *r, uint8_t reg, uint8_t value)
{
    uint8_t b = r->ram[RTC_REG_B];
    struct rtc_date *d = &r->now;
    switch (reg) {
    case RTC_SECONDS: d->sec = rtc_decode(value, b); break;
    case RTC_MINUTES: d->min = rtc_decode(value, b); break;
    case RTC_HOURS: d->hour = rtc_decode_hour(value, b); break;
    case RTC_DAY_OF_WEEK: d->dow = rtc_decode(value, b); break;
    case RTC_DAY: d->day = rtc_decode(value, b); break;
    case RTC_MONTH: d->month = rtc_decode(value, b); break;
    case RTC_YEAR: d->year = (uint16_t)(d->year / 100 * 100 + rtc_decode(value, b)); break;
    case RTC_CENTURY: d->year = (uint16_t)(rtc_decode(value, b) * 100 + d->year % 100); break;
    }
}

void rtc_write(struct rtc *rtc, uint8_t reg, uint8_t value, uint64_t now_ns)
{
    catch_up(rtc, now_ns);
    switch (reg) {
    case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
    case RTC_DAY: case RTC_MONTH: case RTC_YEAR: case RTC_CENTURY:
        write_time(rtc, reg, value);
        break;
    case RTC_REG_A: {
        bool was_running = divider_running(rtc);
        rtc->ram[RTC_REG_A] = value & ~RTC_A_UIP;
        /* Out of divider reset, the first update comes half a second later. */
        if (!was_running && divider_running(rtc))
            rtc->next_update_ns = now_ns + HALF_SECOND_NS;
        break;
    }
    case RTC_REG_B:
        /* Setting SET clears UIE: no update-ended interrupts while the
         * time is being set. */
        if (value & RTC_B_SET)
            value &= (uint8_t)~RTC_B_UIE;
        rtc->ram[RTC_REG_B] = value;
        break;
    case RTC_REG_C:
    case RTC_REG_D:
        break;              /* read-only */
    default:
        rtc->ram[reg & RTC_INDEX_MASK] = value;
        break;
    }
}

static uint64_t at_most(uint64_t v, uint64_t max) { return v < max ? v : max; }

void rtc_set_memory_sizes(struct rtc *rtc, uint64_t low_ram, uint64_t high_ram)
{
    uint64_t ext_k = low_ram > MB ? at_most((low_ram - MB) / KB, 0xffff) : 0;
    uint64_t above_16m = low_ram > 16 * MB ? at_most((low_ram - 16 * MB) / (64 * KB), 0xffff) : 0;
    le_put(rtc->ram + CMOS_BASE_MEM_LO, BASE_MEMORY_K, 2);
    le_put(rtc->ram + CMOS_EXT_MEM_LO, ext_k, 2);
    le_put(rtc->ram + CMOS_EXT_MEM2_LO, ext_k, 2);
    le_put(rtc->ram + CMOS_MEM_ABOVE_16M, above_16m, 2);
    le_put(rtc->ram + CMOS_MEM_ABOVE_4G, high_ram / (64 * KB), 3);
}
