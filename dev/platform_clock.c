/* The platform clock (dev/platform_clock.h). */
#include "dev/platform_clock.h"
#include "dev/vclock.h"
#include "arch/cmos.h"
#include "arch/cpu.h"
#include "arch/tsc.h"
#include "lib/printf.h"

#define DEFAULT_CENTURY 20

/* Written once, by the boot CPU, before any vCPU runs. */
static uint64_t clock_start_tsc;
static struct rtc_date start_date = { .dow = 7, .day = 1, .month = 1, .year = 2000 };
static bool clock_started;

/* The host's register values in the calendar form the VMs' RTCs keep. A
 * CMOS without a century byte (0 or nonsense) is taken to mean 20xx. */
static struct rtc_date host_date(const struct cmos_clock *c)
{
    uint8_t b = c->status_b;
    unsigned century = rtc_decode(c->century, b);
    if (century < 19 || century > 99)
        century = DEFAULT_CENTURY;
    return (struct rtc_date){
        .sec = rtc_decode(c->seconds, b), .min = rtc_decode(c->minutes, b),
        .hour = rtc_decode_hour(c->hours, b), .dow = rtc_decode(c->day_of_week, b),
        .day = rtc_decode(c->day, b), .month = rtc_decode(c->month, b),
        .year = (uint16_t)(century * 100 + rtc_decode(c->year, b)),
    };
}

void platform_clock_start(void)
{
    if (clock_started)
        return;
    struct cmos_clock c;
    bool read = cmos_read_clock(&c);
    clock_start_tsc = rdtsc();
    if (read)
        start_date = host_date(&c);
    kprintf("vm clocks: start at %04u-%02u-%02u %02u:%02u:%02u (%s)\n", start_date.year,
            start_date.month, start_date.day, start_date.hour, start_date.min, start_date.sec,
            read ? "the host's RTC" : "the host's RTC does not settle: a fixed date");
    clock_started = true;
}

uint64_t platform_clock_ticks(uint64_t hz)
{
    uint64_t now = rdtsc();
    /* another CPU's TSC may lag the one that started the clock a little */
    uint64_t elapsed = now > clock_start_tsc ? now - clock_start_tsc : 0;
    return vclock_scale(elapsed, tsc_khz() * 1000, hz);
}

const struct rtc_date *platform_clock_start_date(void)
{
    return &start_date;
}
