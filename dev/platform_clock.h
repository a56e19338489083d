#ifndef DEV_PLATFORM_CLOCK_H
#define DEV_PLATFORM_CLOCK_H
/* The clock every VM's RTC and ACPI PM timer count in: it starts when the
 * host's RTC is read (once, when the first VM is created during boot), so
 * every VM's RTC starts from that reading plus the time since. */
#include <stdint.h>
#include "dev/rtc.h"

/* Reads the host's RTC and starts the clock, the first time only. */
void platform_clock_start(void);
/* The date at platform clock 0. */
const struct rtc_date *platform_clock_start_date(void);
/* The platform clock in ticks of `hz` (dev/vclock.h). */
uint64_t platform_clock_ticks(uint64_t hz);
#endif
