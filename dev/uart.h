#ifndef DEV_UART_H
#define DEV_UART_H
/* A VM's COM1 (dev/uart.c) and its place in struct vm. */
#include <stdint.h>
#include <stdbool.h>
#include "dev/uart16550.h"
#include "dev/serial_line.h"
#include "lib/spinlock.h"

struct vm;

struct vm_uart {
    spinlock_t lock;
    struct uart16550 regs;
    struct serial_line input;   /* typed bytes waiting for room in the FIFO */
    bool irq_level;             /* what IRQ 4 was last driven to */
    char line[256];             /* output waiting for its end of line */
    uint32_t len;
    uint64_t created_tsc;       /* for console timestamps */
    volatile bool spoke;        /* the guest has sent something since then */
};

/* Whether guest lines carry the VM's emulated time (the hypervisor's
 * command-line word `console_timestamps`). */
extern bool console_timestamps;
/* Gives the console to `vm`'s COM1 (NULL: to nobody, the monitor): its
 * output passes through unchanged instead of in named lines. */
void uart_give_console(struct vm *vm);
/* The VM whose COM1 has the console, or NULL. Any CPU may ask. */
struct vm *uart_console_vm(void);

/* COM1 at power-on: at VM creation and machine reset (console timestamps
 * then count from the reset, the machine's uptime). */
void uart_init(struct vm *vm);
/* Whether the guest has sent anything on COM1 since power-on or reset, and
 * the TSC at that power-on. */
bool uart_has_spoken(const struct vm *vm);
uint64_t uart_power_on_tsc(const struct vm *vm);
/* Prints output still waiting for its end of line (the VM is ending). */
void uart_flush(struct vm *vm);
/* Typed input for the VM: it waits until the receive FIFO has room. False
 * if too much waits already (the byte is lost). */
bool uart_receive(struct vm *vm, char c);
#endif
