#ifndef DEV_UART16550_H
#define DEV_UART16550_H
/*
 * A 16550A UART's registers (the National Semiconductor PC16550D data
 * sheet), as a pure model: the VM's COM1 (dev/uart.c) feeds it port
 * accesses and typed input, and takes transmitted bytes and the interrupt
 * line from it. The line is virtual, so transmission is instant: the
 * transmitter is always empty again by the next access.
 */
#include <stdint.h>
#include <stdbool.h>

#define UART_RX_FIFO_SIZE 16

enum uart_register {
    UART_REG_DATA = 0,      /* RBR/THR, or DLL with LCR.DLAB */
    UART_REG_IER = 1,       /* or DLM with LCR.DLAB */
    UART_REG_IIR_FCR = 2,
    UART_REG_LCR = 3,
    UART_REG_MCR = 4,
    UART_REG_LSR = 5,
    UART_REG_MSR = 6,
    UART_REG_SCR = 7,
};

struct uart16550 {
    uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
    uint8_t rx[UART_RX_FIFO_SIZE];
    uint8_t rx_head, rx_count;
    bool thre_pending;      /* the "transmitter holding register empty" interrupt */
    bool overrun;           /* a byte arrived with the FIFO full (LSR.OE) */
};

void uart16550_reset(struct uart16550 *u);
/* A register read; reading has side effects (RBR pops, IIR clears THRE,
 * LSR clears OE). */
uint8_t uart16550_read(struct uart16550 *u, enum uart_register reg);
/* A register write. A byte the guest transmits is returned in *tx (-1 if
 * none); in loopback mode it is received instead. */
void uart16550_write(struct uart16550 *u, enum uart_register reg, uint8_t value, int *tx);
/* A byte from outside (typed input); false, with OE set, if the FIFO was full. */
bool uart16550_receive(struct uart16550 *u, uint8_t byte);
/* Whether the receive FIFO can take another byte. */
bool uart16550_rx_room(const struct uart16550 *u);
/* Whether bytes from outside reach the receiver: not in loopback mode,
 * which disconnects the serial input (PC16550D, MCR bit 4). */
bool uart16550_input_connected(const struct uart16550 *u);
/* Whether the UART's interrupt output reaches the PC's IRQ line: an enabled
 * interrupt is pending and MCR.OUT2 (which gates the line on PCs) is set. */
bool uart16550_irq(const struct uart16550 *u);
#endif
