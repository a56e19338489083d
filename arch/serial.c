/* 16550 UART on COM1: the hypervisor's console. */
#include "arch/serial.h"
#include "arch/cpu.h"
#include "lib/printf.h"
#include "lib/spinlock.h"
#include <stdarg.h>

enum {
    UART_DATA = 0, UART_IER = 1, UART_FCR = 2, UART_LCR = 3, UART_MCR = 4, UART_LSR = 5,
    UART_DLL = 0, UART_DLM = 1,
};
#define LSR_DATA_READY  0x01
#define LSR_THR_EMPTY   0x20
#define LSR_TX_IDLE     0x40    /* holding register and shift register empty */
#define RX_BUFFER_SIZE  256
#define LCR_DLAB        0x80
#define LCR_8N1         0x03
#define IER_RX_AVAILABLE 0x01
#define MCR_DTR_RTS_OUT2 0x0b   /* OUT2 gates the UART's interrupt line on PCs */

#include "arch/percpu.h"

/* The console lock may be held across several writes (console_hold) so a
 * multi-line report stays together; the holder's own writes go through. */
static spinlock_t console_lock = SPINLOCK_INIT;
static volatile int console_owner = -1;
static unsigned console_depth;

static uint64_t console_acquire(void)
{
    uint64_t flags = irq_save();
    int me = (int)this_cpu()->index;
    if (console_owner != me) {
        spin_lock(&console_lock);
        console_owner = me;
    }
    console_depth++;
    return flags;
}

static void console_release(uint64_t flags)
{
    if (--console_depth == 0) {
        console_owner = -1;
        spin_unlock(&console_lock);
    }
    irq_restore(flags);
}

void console_take_over(void)
{
    int me = (int)this_cpu()->index;
    if (console_owner != me) {
        /* Take a ticket and make it the owner in one go: whoever held the
         * lock or waited for it has been stopped. */
        uint16_t ticket = __atomic_fetch_add(&console_lock.next, 1, __ATOMIC_ACQ_REL);
        __atomic_store_n(&console_lock.owner, ticket, __ATOMIC_RELEASE);
        console_owner = me;
        console_depth = 0;
    }
}

void console_guest_line(const char *name, const char *text, size_t len)
{
    char clean[256];
    if (len > sizeof(clean))
        len = sizeof(clean);
    for (size_t i = 0; i < len; i++)
        clean[i] = text[i] >= ' ' && text[i] <= '~' ? text[i] : '.';
    klog("[%s] %.*s\n", name, (int)len, clean);
}

/* Interrupt state from before the outermost hold; inner ones run with
 * interrupts already off, so they restore nothing. */
static uint64_t held_flags;

void console_hold(void)
{
    uint64_t flags = console_acquire();
    if (console_depth == 1)
        held_flags = flags;
}

void console_unhold(void)
{
    console_release(console_depth == 1 ? held_flags : 0);
}

void serial_init(void)
{
    outb(COM1_PORT + UART_IER, 0);
    outb(COM1_PORT + UART_LCR, LCR_DLAB);
    outb(COM1_PORT + UART_DLL, 1);      /* 115200 baud */
    outb(COM1_PORT + UART_DLM, 0);
    outb(COM1_PORT + UART_LCR, LCR_8N1);
    outb(COM1_PORT + UART_FCR, 0xc7);   /* enable and clear FIFOs, 14-byte threshold */
    outb(COM1_PORT + UART_MCR, MCR_DTR_RTS_OUT2);
    printf_set_output(console_write);
}

void serial_enable_rx_interrupt(void)
{
    outb(COM1_PORT + UART_IER, IER_RX_AVAILABLE);
}

/* Bytes that arrived while we were busy transmitting: the UART's FIFO is
 * small, and typed input must not be lost while the console prints. Only the
 * console's holder fills it and CPU 0's monitor drains it (under the lock). */
static char rx_buffer[RX_BUFFER_SIZE];
static unsigned rx_head, rx_tail;

static void take_pending_input(uint8_t lsr)
{
    while (lsr & LSR_DATA_READY) {
        char c = (char)inb(COM1_PORT + UART_DATA);
        if (rx_head - rx_tail < RX_BUFFER_SIZE)
            rx_buffer[rx_head++ % RX_BUFFER_SIZE] = c;
        lsr = inb(COM1_PORT + UART_LSR);
    }
}

static void serial_putc(char c)
{
    uint8_t lsr;
    while (!((lsr = inb(COM1_PORT + UART_LSR)) & LSR_THR_EMPTY)) {
        take_pending_input(lsr);
        cpu_relax();
    }
    take_pending_input(lsr);
    outb(COM1_PORT + UART_DATA, (uint8_t)c);
}

void serial_flush(void)
{
    while (!(inb(COM1_PORT + UART_LSR) & LSR_TX_IDLE))
        cpu_relax();
}

static bool mid_line;   /* the last character written was not a newline */

void console_write(const char *s, size_t n)
{
    uint64_t flags = console_acquire();
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            serial_putc('\r');
        serial_putc(s[i]);
    }
    if (n)
        mid_line = s[n - 1] != '\n';
    console_release(flags);
}

void console_start_line(void)
{
    uint64_t flags = console_acquire();
    if (mid_line)
        console_write("\n", 1);
    console_release(flags);
}

bool serial_input_ready(void)
{
    return rx_head != rx_tail || (inb(COM1_PORT + UART_LSR) & LSR_DATA_READY);
}

int serial_try_getc(void)
{
    uint64_t flags = console_acquire();
    int c = -1;
    take_pending_input(inb(COM1_PORT + UART_LSR));
    if (rx_head != rx_tail)
        c = (unsigned char)rx_buffer[rx_tail++ % RX_BUFFER_SIZE];
    console_release(flags);
    return c;
}

int klog(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    console_hold();
    console_start_line();
    int n = vkprintf(fmt, ap);
    console_unhold();
    va_end(ap);
    return n;
}
