#ifndef ARCH_SERIAL_H
#define ARCH_SERIAL_H
#include <stddef.h>
#include <stdbool.h>

#define COM1_PORT 0x3f8
#define COM1_IRQ  4

/* Sets up COM1 and makes console_write kprintf's output. */
void serial_init(void);
/* Writes under the console lock; "\n" becomes "\r\n" on the wire. */
void console_write(const char *s, size_t n);
/* Next received byte, or -1 when none is waiting. */
/* For the way out, after the other CPUs were stopped: makes the console this
 * CPU's whoever held it. */
void console_take_over(void);
/* Prints "[name] text" on a line of its own, with any character of the text
 * that is not printable ASCII shown as '.': guest output cannot start lines
 * of its own or send terminal controls. */
void console_guest_line(const char *name, const char *text, size_t len);
/* Ends a partial line (a prompt, typed input) so what follows starts a line. */
void console_start_line(void);
/* Keeps the console for this CPU across several writes (nestable), so a
 * multi-line report is not interleaved with other CPUs' output. */
void console_hold(void);
void console_unhold(void);
int serial_try_getc(void);
bool serial_input_ready(void);
/* Raises an interrupt when a byte arrives (the IOAPIC routes it). */
void serial_enable_rx_interrupt(void);
/* Waits until everything written has left the UART. */
void serial_flush(void);
/* For output that comes at any time (VM consoles, VM lifecycle): starts on
 * a line of its own even if the monitor's prompt is showing. */
int klog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#endif
