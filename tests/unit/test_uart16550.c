/* The 16550A model: transmit, receive FIFO, interrupt identification and
 * priorities, the OUT2 gate, loopback as drivers probe it, divisor latch. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "dev/uart16550.h"
#include "dev/serial_line.h"

static struct uart16550 u;

static int setup(void **state)
{
    (void)state;
    uart16550_reset(&u);
    return 0;
}

static int write_reg(enum uart_register reg, uint8_t v)
{
    int tx;
    uart16550_write(&u, reg, v, &tx);
    return tx;
}

static void transmits_bytes_and_thr_is_always_empty(void **state)
{
    (void)state;
    assert_int_equal(write_reg(UART_REG_DATA, 'A'), 'A');
    assert_int_equal(uart16550_read(&u, UART_REG_LSR) & 0x60, 0x60);
    assert_int_equal(write_reg(UART_REG_IER, 0), -1);
}

static void receive_fifo_and_overrun(void **state)
{
    (void)state;
    assert_int_equal(uart16550_read(&u, UART_REG_LSR) & 1, 0);
    for (int i = 0; i < UART_RX_FIFO_SIZE; i++)
        assert_true(uart16550_receive(&u, (uint8_t)('a' + i)));
    assert_false(uart16550_receive(&u, 'z'));               /* full: lost */
    assert_int_equal(uart16550_read(&u, UART_REG_LSR) & 3, 3);  /* DR and OE */
    assert_int_equal(uart16550_read(&u, UART_REG_LSR) & 2, 0);  /* OE clears on read */
    for (int i = 0; i < UART_RX_FIFO_SIZE; i++)
        assert_int_equal(uart16550_read(&u, UART_REG_DATA), 'a' + i);
    assert_int_equal(uart16550_read(&u, UART_REG_LSR) & 1, 0);
}

/* Typed input beyond the FIFO waits on the line, in order, and moves in as
 * the guest reads; only a full line queue loses bytes. */
static void line_holds_input_until_the_fifo_has_room(void **state)
{
    (void)state;
    static struct serial_line line;
    serial_line_reset(&line);
    for (int i = 0; i < 40; i++)
        assert_true(serial_line_send(&line, &u, (uint8_t)i));
    assert_int_equal(u.rx_count, UART_RX_FIFO_SIZE);
    assert_int_equal(line.count, 40 - UART_RX_FIFO_SIZE);
    assert_int_equal(uart16550_read(&u, UART_REG_LSR) & 2, 0);     /* no overrun */
    for (int i = 0; i < 40; i++) {
        assert_int_equal(uart16550_read(&u, UART_REG_DATA), i);
        serial_line_drain(&line, &u);
    }
    assert_int_equal(uart16550_read(&u, UART_REG_LSR) & 1, 0);
    /* A FIFO reset (FCR bit 1) makes room as well. */
    for (int i = 0; i < UART_RX_FIFO_SIZE + 1; i++)
        serial_line_send(&line, &u, 'a');
    write_reg(UART_REG_IIR_FCR, 0x03);
    serial_line_drain(&line, &u);
    assert_int_equal(u.rx_count, 1);
    assert_int_equal(line.count, 0);
    /* Loopback disconnects the line: typed bytes wait, then come. */
    uart16550_read(&u, UART_REG_DATA);
    write_reg(UART_REG_MCR, 0x10);
    serial_line_send(&line, &u, 'L');
    assert_int_equal(u.rx_count, 0);
    write_reg(UART_REG_MCR, 0x00);
    serial_line_drain(&line, &u);
    assert_int_equal(uart16550_read(&u, UART_REG_DATA), 'L');
    /* Full: the queue keeps what it has and refuses more. */
    for (int i = 0; i < UART_RX_FIFO_SIZE + SERIAL_LINE_QUEUE_SIZE; i++)
        assert_true(serial_line_send(&line, &u, 'b'));
    assert_false(serial_line_send(&line, &u, 'c'));
    assert_int_equal(line.count, SERIAL_LINE_QUEUE_SIZE);
}

static void interrupts_by_priority_gated_by_out2(void **state)
{
    (void)state;
    assert_int_equal(uart16550_read(&u, UART_REG_IIR_FCR) & 0x0f, 0x01);   /* none */
    write_reg(UART_REG_IER, 0x03);          /* RX data and THRE */
    assert_false(uart16550_irq(&u));        /* pending, but OUT2 is clear */
    write_reg(UART_REG_MCR, 0x08);
    assert_true(uart16550_irq(&u));
    uart16550_receive(&u, 'x');
    assert_int_equal(uart16550_read(&u, UART_REG_IIR_FCR) & 0x0f, 0x04);   /* RX first */
    uart16550_read(&u, UART_REG_DATA);
    assert_int_equal(uart16550_read(&u, UART_REG_IIR_FCR) & 0x0f, 0x02);   /* then THRE */
    /* Reading IIR with THRE as the source cleared it. */
    assert_int_equal(uart16550_read(&u, UART_REG_IIR_FCR) & 0x0f, 0x01);
    assert_false(uart16550_irq(&u));
    write_reg(UART_REG_DATA, 'y');          /* THR empties again: THRE again */
    assert_true(uart16550_irq(&u));
    write_reg(UART_REG_IER, 0);
    assert_false(uart16550_irq(&u));
}

static void enabling_thre_with_empty_thr_interrupts(void **state)
{
    (void)state;
    write_reg(UART_REG_MCR, 0x08);
    write_reg(UART_REG_IER, 0x02);
    assert_true(uart16550_irq(&u));
}

static void line_status_interrupt_on_overrun(void **state)
{
    (void)state;
    write_reg(UART_REG_MCR, 0x08);
    write_reg(UART_REG_IER, 0x05);
    for (int i = 0; i <= UART_RX_FIFO_SIZE; i++)
        uart16550_receive(&u, 'q');
    assert_int_equal(uart16550_read(&u, UART_REG_IIR_FCR) & 0x0f, 0x06);
    uart16550_read(&u, UART_REG_LSR);
    assert_int_equal(uart16550_read(&u, UART_REG_IIR_FCR) & 0x0f, 0x04);
}

static void fifo_enable_shows_in_iir_and_clears(void **state)
{
    (void)state;
    write_reg(UART_REG_IIR_FCR, 0x01);
    assert_int_equal(uart16550_read(&u, UART_REG_IIR_FCR) & 0xc0, 0xc0);
    uart16550_receive(&u, 'x');
    write_reg(UART_REG_IIR_FCR, 0x03);      /* clear RX */
    assert_int_equal(uart16550_read(&u, UART_REG_LSR) & 1, 0);
    write_reg(UART_REG_IIR_FCR, 0x00);
    assert_int_equal(uart16550_read(&u, UART_REG_IIR_FCR) & 0xc0, 0);
}

static void loopback_as_linux_probes_it(void **state)
{
    (void)state;
    assert_int_equal(uart16550_read(&u, UART_REG_MSR) & 0xb0, 0xb0);   /* CTS DSR DCD */
    write_reg(UART_REG_MCR, 0x1a);          /* LOOP | OUT2 | RTS */
    assert_int_equal(uart16550_read(&u, UART_REG_MSR) & 0xf0, 0x90);
    write_reg(UART_REG_MCR, 0x15);          /* LOOP | OUT1 | DTR */
    assert_int_equal(uart16550_read(&u, UART_REG_MSR) & 0xf0, 0x60);
    assert_int_equal(write_reg(UART_REG_DATA, 'L'), -1);    /* not sent: looped back */
    assert_int_equal(uart16550_read(&u, UART_REG_DATA), 'L');
}

static void divisor_latch_and_scratch(void **state)
{
    (void)state;
    write_reg(UART_REG_IER, 0x01);
    write_reg(UART_REG_LCR, 0x83);
    write_reg(UART_REG_DATA, 0x0c);
    write_reg(UART_REG_IER, 0x00);
    assert_int_equal(uart16550_read(&u, UART_REG_DATA), 0x0c);
    assert_int_equal(uart16550_read(&u, UART_REG_IER), 0x00);
    write_reg(UART_REG_LCR, 0x03);
    assert_int_equal(uart16550_read(&u, UART_REG_IER), 0x01);   /* untouched by DLM */
    write_reg(UART_REG_SCR, 0x5a);
    assert_int_equal(uart16550_read(&u, UART_REG_SCR), 0x5a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(transmits_bytes_and_thr_is_always_empty, setup),
        cmocka_unit_test_setup(receive_fifo_and_overrun, setup),
        cmocka_unit_test_setup(line_holds_input_until_the_fifo_has_room, setup),
        cmocka_unit_test_setup(interrupts_by_priority_gated_by_out2, setup),
        cmocka_unit_test_setup(enabling_thre_with_empty_thr_interrupts, setup),
        cmocka_unit_test_setup(line_status_interrupt_on_overrun, setup),
        cmocka_unit_test_setup(fifo_enable_shows_in_iir_and_clears, setup),
        cmocka_unit_test_setup(loopback_as_linux_probes_it, setup),
        cmocka_unit_test_setup(divisor_latch_and_scratch, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
