#ifndef ARCH_CMOS_H
#define ARCH_CMOS_H
/* The host's CMOS real-time clock (an MC146818 at ports 0x70/0x71), read
 * once so that the VMs' clocks start at the host's time. */
#include <stdint.h>
#include <stdbool.h>

/* The clock registers as the chip holds them: BCD or binary, 12- or
 * 24-hour, as status_b (register B) says; century from byte 0x32. */
struct cmos_clock {
    uint8_t seconds, minutes, hours, day_of_week, day, month, year, century;
    uint8_t status_b;
};

/* Reads the registers outside an update, until two reads agree. False if
 * the clock never settles (no CMOS there). */
bool cmos_read_clock(struct cmos_clock *out);
#endif
