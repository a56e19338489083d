/* The 8254 model (Intel 82C54 datasheet): counter values and OUT in each
 * mode at given times, lobyte/hibyte/word access, the counter latch, the
 * read-back status byte, the gate through port 0x61, channel 0's interrupt
 * times and their coalescing, and the TSC-derived clock. Unless a test says
 * otherwise the TSC runs at the PIT's rate, so times are PIT clocks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "dev/pit.h"

#define MODE_PORT   PIT_MODE_PORT
#define STATUS_OUT  0x80
#define STATUS_NULL 0x40

static struct vpit make(uint64_t tsc_hz)
{
    struct vpit p;
    memset(&p, 0x5a, sizeof p);     /* reset must not rely on zeroed memory */
    vpit_reset(&p, tsc_hz);
    return p;
}

/* Control word for `channel`: lo/hi access, `mode`, then the count. */
static void program(struct vpit *p, unsigned channel, unsigned mode, uint16_t count,
                    uint64_t now)
{
    vpit_write(p, MODE_PORT, (uint8_t)(channel << 6 | 0x30 | mode << 1), now);
    vpit_write(p, channel, (uint8_t)count, now);
    vpit_write(p, channel, (uint8_t)(count >> 8), now);
}

/* Counter latch command, then the two bytes. */
static uint16_t latched(struct vpit *p, unsigned channel, uint64_t now)
{
    vpit_write(p, MODE_PORT, (uint8_t)(channel << 6), now);
    uint16_t lo = vpit_read(p, channel, now + 1000);
    return (uint16_t)(lo | vpit_read(p, channel, now + 2000) << 8);
}

/* Read-back of the status byte alone. */
static uint8_t status(struct vpit *p, unsigned channel, uint64_t now)
{
    vpit_write(p, MODE_PORT, (uint8_t)(0xe0 | 2u << channel), now);
    return vpit_read(p, channel, now);
}

static bool out2(struct vpit *p, uint64_t now)
{
    return vpit_port61_read(p, now) & PORT61_OUT2;
}

static void mode0_interrupt_on_terminal_count(void **state)
{
    (void)state;
    struct vpit p = make(PIT_HZ);
    program(&p, 0, 0, 16, 100);
    /* The count reaches the counting element on the next clock. */
    assert_int_equal(status(&p, 0, 100), STATUS_NULL | 0x30);
    assert_int_equal(latched(&p, 0, 101), 16);
    assert_int_equal(status(&p, 0, 101), 0x30);
    assert_int_equal(latched(&p, 0, 110), 7);
    assert_int_equal(latched(&p, 0, 116), 1);
    assert_int_equal(status(&p, 0, 116) & STATUS_OUT, 0);
    assert_int_equal(latched(&p, 0, 117), 0);
    assert_int_equal(status(&p, 0, 117), STATUS_OUT | 0x30);    /* N + 1 clocks after */
    assert_int_equal(latched(&p, 0, 118), 0xffff);      /* counts on; OUT stays high */
    assert_int_equal(status(&p, 0, 1000), STATUS_OUT | 0x30);
    uint64_t deadline;
    assert_true(vpit_irq_deadline(&p, &deadline));
    assert_int_equal(deadline, 117);
    assert_false(vpit_irq_due(&p, 116));
    assert_true(vpit_irq_due(&p, 117));
    assert_false(vpit_irq_deadline(&p, &deadline));     /* one shot */
}

static void mode2_rate_generator(void **state)
{
    (void)state;
    struct vpit p = make(PIT_HZ);
    program(&p, 1, 2, 10, 0);
    uint16_t expect[] = { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 9 };
    for (unsigned i = 0; i < 12; i++) {
        assert_int_equal(latched(&p, 1, 1 + i), expect[i]);
        /* OUT low for the clock the counter holds 1 */
        assert_int_equal(status(&p, 1, 1 + i) & STATUS_OUT, expect[i] == 1 ? 0 : STATUS_OUT);
    }
    /* Channel 0: an interrupt per period, at each rising edge. */
    program(&p, 0, 2, 20000, 0);
    uint64_t deadline;
    assert_true(vpit_irq_deadline(&p, &deadline));
    assert_int_equal(deadline, 20001);
    assert_true(vpit_irq_due(&p, 20001));
    assert_true(vpit_irq_deadline(&p, &deadline));
    assert_int_equal(deadline, 40001);
}

static void mode3_square_wave(void **state)
{
    (void)state;
    struct vpit p = make(PIT_HZ);
    program(&p, 2, 3, 8, 0);
    vpit_port61_write(&p, PORT61_GATE2, 0);     /* gate high: reloads, counts from clock 1 */
    uint16_t even[] = { 8, 6, 4, 2, 8, 6, 4, 2, 8 };
    for (unsigned i = 0; i < 9; i++) {
        assert_int_equal(latched(&p, 2, 1 + i), even[i]);
        assert_int_equal(out2(&p, 1 + i), i % 8 < 4);
    }
    program(&p, 2, 3, 5, 100);      /* odd: high 3 clocks, low 2 */
    bool odd[] = { true, true, true, false, false, true };
    for (unsigned i = 0; i < 6; i++)
        assert_int_equal(out2(&p, 101 + i), odd[i]);
    /* Channel 0: interrupts at each rising edge, one per period. */
    program(&p, 0, 3, 30000, 0);
    uint64_t deadline;
    assert_true(vpit_irq_deadline(&p, &deadline));
    assert_int_equal(deadline, 30001);
}

static void mode4_software_strobe(void **state)
{
    (void)state;
    struct vpit p = make(PIT_HZ);
    program(&p, 0, 4, 5, 0);
    assert_true(status(&p, 0, 5) & STATUS_OUT);
    assert_false(status(&p, 0, 6) & STATUS_OUT);        /* count 0: one clock low */
    assert_true(status(&p, 0, 7) & STATUS_OUT);
    assert_int_equal(latched(&p, 0, 7), 0xffff);
    uint64_t deadline;
    assert_true(vpit_irq_deadline(&p, &deadline));
    assert_int_equal(deadline, 7);
}

static void modes_1_and_5_wait_for_the_gate(void **state)
{
    (void)state;
    struct vpit p = make(PIT_HZ);
    program(&p, 2, 1, 4, 0);
    assert_true(out2(&p, 50));          /* no trigger yet */
    assert_true(status(&p, 2, 50) & STATUS_NULL);
    vpit_port61_write(&p, PORT61_GATE2, 100);   /* trigger */
    assert_false(out2(&p, 101));
    assert_int_equal(latched(&p, 2, 102), 3);
    assert_false(out2(&p, 104));
    assert_true(out2(&p, 105));
    vpit_port61_write(&p, 0, 106);      /* gate low does not stop it */
    vpit_port61_write(&p, PORT61_GATE2, 107);   /* retrigger */
    assert_false(out2(&p, 108));
    assert_true(out2(&p, 112));
    program(&p, 2, 5, 3, 200);          /* mode 5: a strobe after the trigger */
    assert_true(out2(&p, 210));
    vpit_port61_write(&p, 0, 210);
    vpit_port61_write(&p, PORT61_GATE2, 211);
    assert_true(out2(&p, 214));
    assert_false(out2(&p, 215));
    assert_true(out2(&p, 216));
}

static void gate_suspends_mode0_and_reloads_mode2(void **state)
{
    (void)state;
    struct vpit p = make(PIT_HZ);
    program(&p, 2, 0, 100, 0);          /* gate 2 low at reset */
    assert_int_equal(latched(&p, 2, 500), 100);
    vpit_port61_write(&p, PORT61_GATE2, 1000);
    assert_int_equal(latched(&p, 2, 1040), 60);
    vpit_port61_write(&p, 0, 1040);
    assert_int_equal(latched(&p, 2, 5000), 60);
    vpit_port61_write(&p, PORT61_GATE2, 6000);
    assert_false(out2(&p, 6059));
    assert_true(out2(&p, 6060));
    assert_int_equal(vpit_port61_read(&p, 6060) & 3, PORT61_GATE2);
    /* Mode 2: a low gate forces OUT high; the rising gate restarts the period. */
    program(&p, 2, 2, 10, 7000);
    vpit_port61_write(&p, 0, 7005);
    assert_true(out2(&p, 7010));        /* would be the low clock */
    vpit_port61_write(&p, PORT61_GATE2, 8000);
    assert_int_equal(latched(&p, 2, 8001), 10);
    assert_false(out2(&p, 8010));
}

static void byte_access_modes(void **state)
{
    (void)state;
    struct vpit p = make(PIT_HZ);
    vpit_write(&p, MODE_PORT, 0x10, 0);     /* ch0, low byte only, mode 0 */
    vpit_write(&p, 0, 0x40, 0);
    assert_int_equal(vpit_read(&p, 0, 1), 0x40);
    assert_int_equal(vpit_read(&p, 0, 17), 0x30);
    vpit_write(&p, MODE_PORT, 0x20, 100);   /* high byte only */
    vpit_write(&p, 0, 0x02, 100);           /* 0x200 */
    assert_int_equal(vpit_read(&p, 0, 101), 0x02);
    assert_int_equal(vpit_read(&p, 0, 101 + 0x101), 0x00);
    /* Word access read live: low byte then high byte, each read now. */
    program(&p, 0, 0, 0x1234, 1000);
    assert_int_equal(vpit_read(&p, 0, 1001), 0x34);
    assert_int_equal(vpit_read(&p, 0, 1001), 0x12);
    /* Count 0 is 65536. */
    program(&p, 0, 0, 0, 2000);
    assert_int_equal(latched(&p, 0, 2002), 0xffff);
}

static void mode0_first_byte_stops_counting(void **state)
{
    (void)state;
    struct vpit p = make(PIT_HZ);
    program(&p, 0, 0, 50, 0);
    vpit_write(&p, 0, 0x10, 21);        /* first byte: counting stops, OUT low */
    assert_int_equal(latched(&p, 0, 40), 30);
    assert_false(status(&p, 0, 60) & STATUS_OUT);
    uint64_t deadline;
    assert_false(vpit_irq_deadline(&p, &deadline));
    vpit_write(&p, 0, 0, 100);          /* second byte: 16 from the next clock */
    assert_int_equal(latched(&p, 0, 101), 16);
    assert_true(vpit_irq_deadline(&p, &deadline));
    assert_int_equal(deadline, 117);
}

static void latch_holds_until_read(void **state)
{
    (void)state;
    struct vpit p = make(PIT_HZ);
    program(&p, 0, 0, 1000, 0);
    vpit_write(&p, MODE_PORT, 0x00, 101);       /* latch: 900 */
    vpit_write(&p, MODE_PORT, 0x00, 201);       /* ignored: not read yet */
    assert_int_equal(vpit_read(&p, 0, 301), 900 & 0xff);
    assert_int_equal(vpit_read(&p, 0, 401), 900 >> 8);
    assert_int_equal(vpit_read(&p, 0, 501), 500 & 0xff);   /* live again */
}

static void read_back_status_and_count(void **state)
{
    (void)state;
    struct vpit p = make(PIT_HZ);
    vpit_write(&p, MODE_PORT, 0x74, 0);     /* ch1, word, mode 2 */
    assert_int_equal(status(&p, 1, 0), STATUS_OUT | STATUS_NULL | 0x34);
    vpit_write(&p, 1, 0x00, 0);
    vpit_write(&p, 1, 0x01, 0);             /* 256 */
    vpit_write(&p, MODE_PORT, 0xc4, 11);    /* read-back count and status of ch1 */
    assert_int_equal(vpit_read(&p, 1, 50), STATUS_OUT | 0x34);      /* status first */
    assert_int_equal(vpit_read(&p, 1, 50), 246 & 0xff);
    assert_int_equal(vpit_read(&p, 1, 50), 0);
    /* Mode 6 is mode 2; the status byte repeats the bits as written; the
     * BCD bit is kept (counting stays binary). */
    vpit_write(&p, MODE_PORT, 0x1d, 100);   /* ch0, low byte, mode 6, BCD */
    assert_int_equal(status(&p, 0, 100), STATUS_OUT | STATUS_NULL | 0x1d);
    vpit_write(&p, 0, 4, 100);
    assert_false(status(&p, 0, 104) & STATUS_OUT);      /* mode 2's low clock */
    /* A new mode 2 count waits for the end of the period (null count). */
    vpit_write(&p, 0, 8, 105);
    assert_true(status(&p, 0, 105) & STATUS_NULL);
    assert_int_equal(vpit_read(&p, 0, 106), 3);
    assert_int_equal(vpit_read(&p, 0, 109), 8);
    assert_false(status(&p, 0, 109) & STATUS_NULL);
    assert_false(status(&p, 0, 116) & STATUS_OUT);
}

static void port61_bits(void **state)
{
    (void)state;
    struct vpit p = make(PIT_HZ);
    vpit_port61_write(&p, 0xff, 0);
    assert_int_equal(vpit_port61_read(&p, 0) & 0x0f, 0x0f);     /* bits 3:0 as written */
    assert_int_equal(vpit_port61_read(&p, 0) & 0xc0, 0);
    /* The refresh bit toggles every 18 clocks. */
    assert_int_equal(vpit_port61_read(&p, 17) & PORT61_REFRESH, 0);
    assert_int_equal(vpit_port61_read(&p, 18) & PORT61_REFRESH, PORT61_REFRESH);
    assert_int_equal(vpit_port61_read(&p, 36) & PORT61_REFRESH, 0);
    assert_int_equal(vpit_read(&p, MODE_PORT, 0), 0xff);    /* write-only */
}

static void interrupts_coalesce(void **state)
{
    (void)state;
    struct vpit p = make(PIT_HZ);
    program(&p, 0, 2, 20000, 0);
    /* Far behind: one interrupt, then the next edge after now (and after
     * the minimum interval). */
    assert_true(vpit_irq_due(&p, 1000000));
    assert_false(vpit_irq_due(&p, 1000001));
    uint64_t deadline;
    assert_true(vpit_irq_deadline(&p, &deadline));
    assert_int_equal(deadline, 1020001);
    /* A channel faster than the minimum interval: one per interval. */
    program(&p, 0, 2, 100, 2000000);
    assert_true(vpit_irq_due(&p, 2000101));
    assert_true(vpit_irq_deadline(&p, &deadline));
    assert_true(deadline > 2000101 + PIT_MIN_IRQ_INTERVAL);
    assert_true(deadline <= 2000101 + PIT_MIN_IRQ_INTERVAL + 100);
    /* Unprogrammed channel, or a new control word: nothing coming. */
    vpit_write(&p, MODE_PORT, 0x34, 2000200);
    assert_false(vpit_irq_deadline(&p, &deadline));
}

static void tsc_clock_conversion(void **state)
{
    (void)state;
    const uint64_t hz = 2999999999ull;      /* not a multiple of the PIT's */
    struct vpit p = make(hz);
    uint64_t t0 = 123456789012345ull;
    program(&p, 0, 2, 1193, t0);            /* about 1 kHz */
    uint64_t deadline;
    assert_true(vpit_irq_deadline(&p, &deadline));
    /* 1194 clocks after the last clock at or before t0, give or take one */
    uint64_t lo = t0 + (1193 * hz) / PIT_HZ, hi = t0 + (1195 * hz) / PIT_HZ + 1;
    assert_true(deadline >= lo && deadline <= hi);
    assert_false(vpit_irq_due(&p, deadline - 1));
    assert_true(vpit_irq_due(&p, deadline));
    uint64_t second;
    assert_true(vpit_irq_deadline(&p, &second));
    assert_true(second - deadline >= 1193 * hz / PIT_HZ);
    assert_true(second - deadline <= 1193 * hz / PIT_HZ + 1);
    /* One second of TSC is PIT_HZ clocks: the 16-bit counter of a mode 0
     * count of 0 has moved by PIT_HZ mod 65536. */
    program(&p, 2, 0, 0, t0);
    vpit_port61_write(&p, PORT61_GATE2, t0);
    uint16_t a = latched(&p, 2, t0 + hz);
    uint16_t b = latched(&p, 2, t0 + 2 * hz);
    assert_int_equal((uint16_t)(a - b), PIT_HZ % 65536);
}

/* Firmware and Linux calibrate the TSC this way: channel 2 in mode 0 with
 * the gate low, gate up, poll port 0x61 until OUT2 rises. */
static void channel2_calibration_loop(void **state)
{
    (void)state;
    const uint64_t hz = 50000000;
    struct vpit p = make(hz);
    uint64_t now = 777777;
    vpit_port61_write(&p, 0, now);
    program(&p, 2, 0, (uint16_t)(PIT_HZ / 100), now);   /* 10 ms */
    vpit_port61_write(&p, PORT61_GATE2, now += 20);
    uint64_t start = now;
    while (!out2(&p, now))
        now += 37;
    uint64_t khz = (now - start) / 10;
    assert_true(khz > hz / 1000 - 50 && khz < hz / 1000 + 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mode0_interrupt_on_terminal_count),
        cmocka_unit_test(mode2_rate_generator),
        cmocka_unit_test(mode3_square_wave),
        cmocka_unit_test(mode4_software_strobe),
        cmocka_unit_test(modes_1_and_5_wait_for_the_gate),
        cmocka_unit_test(gate_suspends_mode0_and_reloads_mode2),
        cmocka_unit_test(byte_access_modes),
        cmocka_unit_test(mode0_first_byte_stops_counting),
        cmocka_unit_test(latch_holds_until_read),
        cmocka_unit_test(read_back_status_and_count),
        cmocka_unit_test(port61_bits),
        cmocka_unit_test(interrupts_coalesce),
        cmocka_unit_test(tsc_clock_conversion),
        cmocka_unit_test(channel2_calibration_loop),
    };
    return cmocka_run_group_tests_name("pit", tests, NULL, NULL);
}
