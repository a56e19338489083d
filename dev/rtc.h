#ifndef DEV_RTC_H
#define DEV_RTC_H
/*
 * A VM's CMOS real-time clock, the Motorola MC146818A of the PC (datasheet
 * names): time and calendar registers in BCD or binary and 12- or 24-hour
 * form as register B says, the alarm, registers A-D with the update-in-
 * progress window and the interrupt flags, and the rest of the 128 bytes as
 * NVRAM. Time comes from the platform clock (dev/vclock.h) in nanoseconds:
 * the model is pure, so the unit tests drive it with any time they like.
 * dev/rtc_port.c connects it to ports 0x70/0x71.
 *
 * Interrupts: the register C flags (periodic, alarm, update-ended) are
 * computed from time arithmetic whenever the guest looks, but IRQ 8 is not
 * raised: that needs a hypervisor timer that fires with no guest access,
 * which the VM does not have yet. Guests that poll register C (or wait for
 * UIP, as Linux does to read the time) work; ones that sleep on IRQ 8 wait.
 */
#include <stdint.h>
#include <stdbool.h>

enum rtc_reg {
    RTC_SECONDS = 0x00, RTC_SECONDS_ALARM = 0x01, RTC_MINUTES = 0x02, RTC_MINUTES_ALARM = 0x03,
    RTC_HOURS = 0x04, RTC_HOURS_ALARM = 0x05, RTC_DAY_OF_WEEK = 0x06, RTC_DAY = 0x07,
    RTC_MONTH = 0x08, RTC_YEAR = 0x09,
    RTC_REG_A = 0x0a, RTC_REG_B = 0x0b, RTC_REG_C = 0x0c, RTC_REG_D = 0x0d,
    RTC_CENTURY = 0x32,     /* PC convention (IBM AT); the FADT's CENTURY field names it */
};
#define RTC_REGS            128
#define RTC_INDEX_MASK      0x7f        /* port 0x70 bit 7 is the NMI mask, not the index */

#define RTC_A_UIP           0x80        /* update in progress, or about to be (read-only) */
#define RTC_A_DV_MASK       0x70        /* divider: 010 = 32.768 kHz time base, 11x = reset */
#define RTC_A_DV_32K        0x20
#define RTC_A_RS_MASK       0x0f        /* periodic rate select */
#define RTC_B_SET           0x80        /* stop updates while the time is set */
#define RTC_B_PIE           0x40
#define RTC_B_AIE           0x20
#define RTC_B_UIE           0x10
#define RTC_B_SQWE          0x08        /* square-wave output */
#define RTC_B_DM_BINARY     0x04        /* data mode: binary, else BCD */
#define RTC_B_24H           0x02
#define RTC_C_IRQF          0x80        /* an enabled flag below is set */
#define RTC_C_PF            0x40        /* periodic */
#define RTC_C_AF            0x20        /* alarm */
#define RTC_C_UF            0x10        /* update ended */
#define RTC_D_VRT           0x80        /* valid RAM and time: the battery is good */

/* A calendar time, in binary, 24-hour. */
struct rtc_date {
    uint8_t sec, min, hour;
    uint8_t dow;                /* day of week 1-7 (Sunday = 1); the chip just counts it */
    uint8_t day, month;         /* 1-based */
    uint16_t year;              /* full year: century * 100 + year register */
};

struct rtc {
    uint8_t ram[RTC_REGS];      /* alarms, A, B and NVRAM; the time is kept in `now` */
    uint8_t index;              /* the register port 0x70 selected */
    struct rtc_date now;        /* the time since the last update */
    uint64_t next_update_ns;    /* when the next update (second) comes */
    uint64_t seen_ns;           /* flags are accounted up to here */
    uint8_t flags;              /* register C's PF/AF/UF, until read */
};

/* Power-on state: the time `start` at `now_ns`, the next update a second
 * later; register A 0x26 (32.768 kHz, 1024 Hz periodic rate), B 0x02
 * (24-hour, BCD), C 0, D VRT; the NVRAM zero. */
void rtc_reset(struct rtc *rtc, const struct rtc_date *start, uint64_t now_ns);
/* The chip's RESET input, which a PC drives on a machine reset (datasheet:
 * RESET): the interrupt and square-wave enables of register B and the
 * flags of register C are cleared at `now_ns`; the time keeps running and
 * the alarm, register A and the NVRAM are kept, as the battery keeps them. */
void rtc_reset_line(struct rtc *rtc, uint64_t now_ns);
uint8_t rtc_read(struct rtc *rtc, uint8_t reg, uint64_t now_ns);
void rtc_write(struct rtc *rtc, uint8_t reg, uint8_t value, uint64_t now_ns);
/* The NVRAM memory-size bytes as SeaBIOS expects them from QEMU: base
 * memory (640K), extended memory above 1M in K (to 64M), memory from 16M to
 * `low_ram` (below 4G) in 64K units, memory above 4G in 64K units. */
void rtc_set_memory_sizes(struct rtc *rtc, uint64_t low_ram, uint64_t high_ram);

/* Date arithmetic and the register formats (exported for the host RTC's
 * reading and the unit tests). */
bool rtc_leap_year(unsigned year);
unsigned rtc_days_in_month(unsigned year, unsigned month);
void rtc_date_add_seconds(struct rtc_date *d, uint64_t seconds);
/* A value 0-99 (hours 0-23) as a register holds it under register B `b`,
 * and back. */
uint8_t rtc_encode(uint8_t value, uint8_t b);
uint8_t rtc_decode(uint8_t reg, uint8_t b);
uint8_t rtc_encode_hour(uint8_t hour, uint8_t b);
uint8_t rtc_decode_hour(uint8_t reg, uint8_t b);
#endif
