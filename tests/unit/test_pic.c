/* The 8259A pair: initialisation sequence, masking, priorities and EOI,
 * the cascade, ELCR level inputs, spurious IRQ 7/15, auto-EOI, poll mode,
 * rotation and special mask mode (Intel 8259A datasheet; PIIX ELCR). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "dev/pic.h"
#include "dev/platform.h"

#define M_CMD   PLATFORM_PIC_MASTER
#define M_DATA  (PLATFORM_PIC_MASTER + 1)
#define S_CMD   PLATFORM_PIC_SLAVE
#define S_DATA  (PLATFORM_PIC_SLAVE + 1)
#define OCW3_READ_IRR 0x0a
#define OCW3_READ_ISR 0x0b
#define EOI           0x20

/* The sequence Linux's init_8259A uses: ICW1 edge + ICW4, vector bases,
 * cascade on IR2 / slave ID 2, 8086 mode (plus `icw4` bits); all unmasked. */
static void program_pair(struct vpic *p, uint8_t icw4)
{
    vpic_write(p, M_CMD, 0x11);
    vpic_write(p, M_DATA, 0x20);
    vpic_write(p, M_DATA, 0x04);
    vpic_write(p, M_DATA, 0x01 | icw4);
    vpic_write(p, S_CMD, 0x11);
    vpic_write(p, S_DATA, 0x28);
    vpic_write(p, S_DATA, 0x02);
    vpic_write(p, S_DATA, 0x01 | icw4);
}

static void init_pair(struct vpic *p, uint8_t icw4)
{
    memset(p, 0x5a, sizeof *p);     /* reset must not rely on zeroed memory */
    vpic_reset(p);
    program_pair(p, icw4);
}

static uint8_t isr(struct vpic *p, uint16_t cmd)
{
    vpic_write(p, cmd, OCW3_READ_ISR);
    uint8_t v = vpic_read(p, cmd);
    vpic_write(p, cmd, OCW3_READ_IRR);
    return v;
}

static void pulse(struct vpic *p, unsigned irq)
{
    vpic_set_irq(p, irq, true);
    vpic_set_irq(p, irq, false);
}

static void reset_state_is_firmware_like(void **state)
{
    (void)state;
    struct vpic p;
    memset(&p, 0x5a, sizeof p);
    vpic_reset(&p);
    assert_int_equal(vpic_read(&p, M_DATA), 0xff);
    assert_int_equal(vpic_read(&p, S_DATA), 0xff);
    pulse(&p, 1);
    assert_false(vpic_output(&p));      /* masked */
    vpic_write(&p, M_DATA, 0xfd);
    assert_true(vpic_output(&p));       /* the edge request was held in IRR */
    assert_int_equal(vpic_acknowledge(&p), 0x09);   /* BIOS base 0x08 */
}

static void icw_sequence_sets_vectors_and_clears_mask(void **state)
{
    (void)state;
    struct vpic p;
    init_pair(&p, 0);
    assert_int_equal(vpic_read(&p, M_DATA), 0);     /* ICW1 cleared IMR */
    assert_int_equal(vpic_read(&p, S_DATA), 0);
    vpic_write(&p, M_DATA, 0x5a);       /* now OCW1 */
    assert_int_equal(vpic_read(&p, M_DATA), 0x5a);
    vpic_write(&p, M_DATA, 0);
    pulse(&p, 3);
    assert_int_equal(vpic_acknowledge(&p), 0x23);
    pulse(&p, 12);
    vpic_write(&p, M_CMD, EOI);
    assert_int_equal(vpic_acknowledge(&p), 0x2c);
}

static void single_mode_without_icw4_skips_icw3_and_icw4(void **state)
{
    (void)state;
    struct vpic p;
    vpic_reset(&p);
    vpic_write(&p, M_CMD, 0x12);        /* single, no ICW4 */
    vpic_write(&p, M_DATA, 0x48);       /* ICW2 */
    vpic_write(&p, M_DATA, 0xfe);       /* already OCW1 */
    assert_int_equal(vpic_read(&p, M_DATA), 0xfe);
    pulse(&p, 0);
    assert_int_equal(vpic_acknowledge(&p), 0x48);
}

static void icw1_resets_edge_sense(void **state)
{
    (void)state;
    struct vpic p;
    vpic_reset(&p);
    vpic_set_irq(&p, 4, true);          /* high before initialisation */
    program_pair(&p, 0);
    vpic_set_irq(&p, 4, true);          /* stays high: no new edge */
    vpic_set_irq(&p, 4, true);
    assert_false(vpic_output(&p));
    vpic_set_irq(&p, 4, false);
    vpic_set_irq(&p, 4, true);
    assert_true(vpic_output(&p));
}

static void rising_edge_requests(void **state)
{
    (void)state;
    struct vpic p;
    init_pair(&p, 0);
    vpic_set_irq(&p, 6, true);
    assert_int_equal(vpic_acknowledge(&p), 0x26);
}

static void mask_holds_edge_request(void **state)
{
    (void)state;
    struct vpic p;
    init_pair(&p, 0);
    vpic_write(&p, M_DATA, 0x20);       /* mask IRQ 5 */
    pulse(&p, 5);
    assert_false(vpic_output(&p));
    vpic_write(&p, M_CMD, OCW3_READ_IRR);
    assert_int_equal(vpic_read(&p, M_CMD), 0x20);   /* IRR shows masked requests */
    vpic_write(&p, M_DATA, 0);
    assert_true(vpic_output(&p));
    assert_int_equal(vpic_acknowledge(&p), 0x25);
    assert_int_equal(vpic_read(&p, M_CMD), 0);      /* edge request consumed */
}

static void priorities_nest_and_eoi_clears_highest(void **state)
{
    (void)state;
    struct vpic p;
    init_pair(&p, 0);
    pulse(&p, 3);
    pulse(&p, 5);
    assert_int_equal(vpic_acknowledge(&p), 0x23);
    assert_false(vpic_output(&p));      /* 5 waits behind 3 in service */
    pulse(&p, 1);
    assert_true(vpic_output(&p));       /* 1 preempts 3 */
    assert_int_equal(vpic_acknowledge(&p), 0x21);
    assert_int_equal(isr(&p, M_CMD), 0x0a);
    vpic_write(&p, M_CMD, EOI);         /* non-specific: the highest, 1 */
    assert_int_equal(isr(&p, M_CMD), 0x08);
    assert_false(vpic_output(&p));
    vpic_write(&p, M_CMD, EOI);
    assert_true(vpic_output(&p));
    assert_int_equal(vpic_acknowledge(&p), 0x25);
}

static void specific_eoi(void **state)
{
    (void)state;
    struct vpic p;
    init_pair(&p, 0);
    pulse(&p, 6);
    assert_int_equal(vpic_acknowledge(&p), 0x26);
    pulse(&p, 4);
    assert_int_equal(vpic_acknowledge(&p), 0x24);
    vpic_write(&p, M_CMD, 0x60 | 6);    /* specific EOI of 6, not the highest */
    assert_int_equal(isr(&p, M_CMD), 0x10);
}

static void cascade_through_input_2(void **state)
{
    (void)state;
    struct vpic p;
    init_pair(&p, 0);
    pulse(&p, 10);
    assert_true(vpic_output(&p));
    assert_int_equal(vpic_acknowledge(&p), 0x2a);
    assert_int_equal(isr(&p, M_CMD), 0x04);
    assert_int_equal(isr(&p, S_CMD), 0x04);
    pulse(&p, 9);       /* higher priority on the slave, master's 2 in service */
    assert_false(vpic_output(&p));
    vpic_write(&p, S_CMD, EOI);
    vpic_write(&p, M_CMD, EOI);
    assert_true(vpic_output(&p));
    assert_int_equal(vpic_acknowledge(&p), 0x29);
    /* The master's mask on input 2 holds back the whole slave. */
    vpic_write(&p, S_CMD, EOI);
    vpic_write(&p, M_CMD, EOI);
    vpic_write(&p, M_DATA, 0x04);
    pulse(&p, 14);
    assert_false(vpic_output(&p));
    vpic_write(&p, M_DATA, 0);
    assert_int_equal(vpic_acknowledge(&p), 0x2e);
}

static void cascade_input_is_not_a_device_line(void **state)
{
    (void)state;
    struct vpic p;
    init_pair(&p, 0);
    pulse(&p, 2);
    assert_false(vpic_output(&p));
}

static void elcr_level_input(void **state)
{
    (void)state;
    struct vpic p;
    init_pair(&p, 0);
    vpic_write(&p, PIC_ELCR_MASTER, 0xff);
    vpic_write(&p, PIC_ELCR_SLAVE, 0xff);
    /* IRQ 0, 1, 2, 8 and 13 are edge-only */
    assert_int_equal(vpic_read(&p, PIC_ELCR_MASTER), 0xf8);
    assert_int_equal(vpic_read(&p, PIC_ELCR_SLAVE), 0xde);
    vpic_write(&p, PIC_ELCR_SLAVE, 0x04);   /* IRQ 10 level */
    vpic_set_irq(&p, 10, true);
    assert_int_equal(vpic_acknowledge(&p), 0x2a);
    vpic_write(&p, S_CMD, EOI);
    vpic_write(&p, M_CMD, EOI);
    assert_true(vpic_output(&p));       /* still high: requests again */
    assert_int_equal(vpic_acknowledge(&p), 0x2a);
    vpic_set_irq(&p, 10, false);        /* the handler quiets the device, then EOIs */
    vpic_write(&p, S_CMD, EOI);
    vpic_write(&p, M_CMD, EOI);
    assert_false(vpic_output(&p));
    vpic_write(&p, S_CMD, OCW3_READ_IRR);
    assert_int_equal(vpic_read(&p, S_CMD), 0);
}

static void spurious_irq7_when_request_vanishes(void **state)
{
    (void)state;
    struct vpic p;
    init_pair(&p, 0);
    vpic_write(&p, PIC_ELCR_MASTER, 0x20);  /* IRQ 5 level */
    vpic_set_irq(&p, 5, true);
    assert_true(vpic_output(&p));
    vpic_set_irq(&p, 5, false);         /* gone before the acknowledge */
    assert_int_equal(vpic_acknowledge(&p), 0x27);
    assert_int_equal(isr(&p, M_CMD), 0);    /* no in-service bit */
    /* Masking between INT and INTA has the same effect on an edge input. */
    pulse(&p, 4);
    vpic_write(&p, M_DATA, 0x10);
    assert_int_equal(vpic_acknowledge(&p), 0x27);
}

static void spurious_irq15_from_the_slave(void **state)
{
    (void)state;
    struct vpic p;
    init_pair(&p, 0);
    vpic_write(&p, PIC_ELCR_SLAVE, 0x08);   /* IRQ 11 level */
    vpic_set_irq(&p, 11, true);
    vpic_set_irq(&p, 11, false);        /* the master latched the cascade edge */
    assert_true(vpic_output(&p));
    assert_int_equal(vpic_acknowledge(&p), 0x2f);
    assert_int_equal(isr(&p, M_CMD), 0x04);     /* the OS must EOI the master */
    assert_int_equal(isr(&p, S_CMD), 0);
}

static void auto_eoi_sets_no_in_service_bit(void **state)
{
    (void)state;
    struct vpic p;
    init_pair(&p, 0x02);
    pulse(&p, 1);
    pulse(&p, 6);
    assert_int_equal(vpic_acknowledge(&p), 0x21);
    assert_int_equal(isr(&p, M_CMD), 0);
    assert_true(vpic_output(&p));       /* 6 is not held back */
    assert_int_equal(vpic_acknowledge(&p), 0x26);
}

static void poll_mode(void **state)
{
    (void)state;
    struct vpic p;
    init_pair(&p, 0);
    vpic_write(&p, M_CMD, 0x0c);        /* OCW3 poll */
    assert_int_equal(vpic_read(&p, M_CMD), 0);      /* nothing requesting */
    pulse(&p, 5);
    vpic_write(&p, M_CMD, 0x0c);
    assert_int_equal(vpic_read(&p, M_CMD), 0x85);
    assert_int_equal(isr(&p, M_CMD), 0x20);         /* acknowledged */
    assert_int_equal(vpic_read(&p, M_CMD), 0);      /* one read only: IRR again */
}

static void rotation(void **state)
{
    (void)state;
    struct vpic p;
    init_pair(&p, 0);
    pulse(&p, 0);
    assert_int_equal(vpic_acknowledge(&p), 0x20);
    vpic_write(&p, M_CMD, 0xa0);        /* rotate on non-specific EOI: 0 goes last */
    pulse(&p, 0);
    pulse(&p, 1);
    assert_int_equal(vpic_acknowledge(&p), 0x21);
    vpic_write(&p, M_CMD, 0xc0 | 4);    /* set priority: 4 lowest, 5 highest */
    pulse(&p, 3);
    pulse(&p, 6);
    assert_int_equal(vpic_acknowledge(&p), 0x26);   /* 6 outranks 1 in service now */
    vpic_write(&p, M_CMD, 0xe0 | 6);    /* rotate on specific EOI */
    vpic_write(&p, M_CMD, 0x60 | 1);
    assert_int_equal(vpic_acknowledge(&p), 0x20);   /* order 7, 0, 1, ... */
}

static void special_mask_mode(void **state)
{
    (void)state;
    struct vpic p;
    init_pair(&p, 0);
    pulse(&p, 1);
    assert_int_equal(vpic_acknowledge(&p), 0x21);
    pulse(&p, 4);
    assert_false(vpic_output(&p));
    vpic_write(&p, M_DATA, 0x02);       /* mask the level in service */
    vpic_write(&p, M_CMD, 0x68);        /* set special mask mode */
    assert_true(vpic_output(&p));
    assert_int_equal(vpic_acknowledge(&p), 0x24);
    vpic_write(&p, M_CMD, 0x48);        /* reset special mask mode */
    pulse(&p, 5);
    assert_false(vpic_output(&p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reset_state_is_firmware_like),
        cmocka_unit_test(icw_sequence_sets_vectors_and_clears_mask),
        cmocka_unit_test(single_mode_without_icw4_skips_icw3_and_icw4),
        cmocka_unit_test(icw1_resets_edge_sense),
        cmocka_unit_test(rising_edge_requests),
        cmocka_unit_test(mask_holds_edge_request),
        cmocka_unit_test(priorities_nest_and_eoi_clears_highest),
        cmocka_unit_test(specific_eoi),
        cmocka_unit_test(cascade_through_input_2),
        cmocka_unit_test(cascade_input_is_not_a_device_line),
        cmocka_unit_test(elcr_level_input),
        cmocka_unit_test(spurious_irq7_when_request_vanishes),
        cmocka_unit_test(spurious_irq15_from_the_slave),
        cmocka_unit_test(auto_eoi_sets_no_in_service_bit),
        cmocka_unit_test(poll_mode),
        cmocka_unit_test(rotation),
        cmocka_unit_test(special_mask_mode),
    };
    return cmocka_run_group_tests_name("pic", tests, NULL, NULL);
}
