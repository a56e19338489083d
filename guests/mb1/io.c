/* The console on COM1 (a 16550, polled) and the test's verdict, reported
 * the kvm-unit-tests way: PASS/FAIL lines, a summary, and isa-debug-exit. */
#include <stdarg.h>
#include "guests/mb1/mb1.h"

#define COM1            0x3f8
#define UART_THR        0
#define UART_LSR        5
#define LSR_THR_EMPTY   0x20
/* QEMU's isa-debug-exit: writing V ends the machine with status (V << 1) | 1. */
#define DEBUG_EXIT_PORT 0xf4

static unsigned tests, failures;

static void putc(char c)
{
    while (!(inb(COM1 + UART_LSR) & LSR_THR_EMPTY))
        ;
    outb(COM1 + UART_THR, (uint8_t)c);
}

static void puts_n(const char *s, size_t n)
{
    while (n-- && *s)
        putc(*s++);
}

static void put_number(uint32_t v, unsigned base)
{
    char digits[11];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (n)
        putc(digits[--n]);
}

/* %s, %.*s, %u, %x, %c and %%: what the kernel prints. */
static void vprint(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            putc(*fmt);
            continue;
        }
        size_t precision = (size_t)-1;
        if (fmt[1] == '.' && fmt[2] == '*') {
            precision = (size_t)va_arg(ap, int);
            fmt += 2;
        }
        switch (*++fmt) {
        case 's': puts_n(va_arg(ap, const char *), precision); break;
        case 'u': put_number(va_arg(ap, unsigned), 10); break;
        case 'x': put_number(va_arg(ap, unsigned), 16); break;
        case 'c': putc((char)va_arg(ap, int)); break;
        case '%': putc('%'); break;
        default: return;
        }
    }
}

void printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint(fmt, ap);
    va_end(ap);
}

void report(bool pass, const char *fmt, ...)
{
    va_list ap;
    tests++;
    failures += !pass;
    printf("%s: ", pass ? "PASS" : "FAIL");
    va_start(ap, fmt);
    vprint(fmt, ap);
    va_end(ap);
    putc('\n');
}

void report_summary_and_exit(void)
{
    printf("SUMMARY: %u tests, %u unexpected failures\n", tests, failures);
    outb(DEBUG_EXIT_PORT, failures ? 1 : 0);
    for (;;)    /* without the device (not QEMU-like), stop here */
        __asm__ volatile("cli; hlt");
}
