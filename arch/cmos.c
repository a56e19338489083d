#include "arch/cmos.h"
#include "arch/cpu.h"
#include "lib/string.h"

#define CMOS_INDEX      0x70        /* bit 7 left clear: NMIs stay enabled, as the BIOS left them */
#define CMOS_DATA       0x71
#define CMOS_STATUS_A   0x0a
#define CMOS_STATUS_B   0x0b
#define CMOS_CENTURY    0x32
#define STATUS_A_UIP    0x80
#define UIP_POLLS       1000000     /* UIP lasts about 2 ms; an absent chip reads 0xff forever */
#define READ_TRIES      10

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

/* One pass after UIP has cleared; the pass may still straddle an update,
 * which the caller's second read catches. */
static bool read_once(struct cmos_clock *c)
{
    unsigned polls = 0;
    while (cmos_read(CMOS_STATUS_A) & STATUS_A_UIP)
        if (++polls == UIP_POLLS)
            return false;
    *c = (struct cmos_clock){
        .seconds = cmos_read(0x00), .minutes = cmos_read(0x02), .hours = cmos_read(0x04),
        .day_of_week = cmos_read(0x06), .day = cmos_read(0x07), .month = cmos_read(0x08),
        .year = cmos_read(0x09), .century = cmos_read(CMOS_CENTURY),
        .status_b = cmos_read(CMOS_STATUS_B),
    };
    return true;
}

bool cmos_read_clock(struct cmos_clock *out)
{
    for (int i = 0; i < READ_TRIES; i++) {
        struct cmos_clock again;
        if (!read_once(out) || !read_once(&again))
            return false;
        if (!memcmp(out, &again, sizeof(again)))
            return true;
    }
    return false;
}
