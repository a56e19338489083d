#include "dev/uart16550.h"

#define LCR_DLAB        0x80
#define IER_RX_DATA     0x01
#define IER_THRE        0x02
#define IER_LINE_STATUS 0x04
#define IER_MODEM       0x08
#define IIR_NONE        0x01
#define IIR_LINE_STATUS 0x06
#define IIR_RX_DATA     0x04
#define IIR_THRE        0x02
#define IIR_FIFO_ON     0xc0    /* both bits: a 16550A with working FIFOs */
#define FCR_ENABLE      0x01
#define FCR_CLEAR_RX    0x02
#define MCR_DTR         0x01
#define MCR_RTS         0x02
#define MCR_OUT1        0x04
#define MCR_OUT2        0x08
#define MCR_LOOP        0x10
#define LSR_DATA_READY  0x01
#define LSR_OVERRUN     0x02
#define LSR_THR_EMPTY   0x20
#define LSR_TX_IDLE     0x40
#define MSR_CTS         0x10
#define MSR_DSR         0x20
#define MSR_RI          0x40
#define MSR_DCD         0x80

void uart16550_reset(struct uart16550 *u)
{
    *u = (struct uart16550){ 0 };
}

static void push_rx(struct uart16550 *u, uint8_t byte)
{
    if (u->rx_count == UART_RX_FIFO_SIZE) {
        u->overrun = true;
        return;
    }
    u->rx[(u->rx_head + u->rx_count++) % UART_RX_FIFO_SIZE] = byte;
}

/* PC16550D Table IV: the highest-priority pending, enabled interrupt. */
static uint8_t pending_interrupt(const struct uart16550 *u)
{
    if ((u->ier & IER_LINE_STATUS) && u->overrun)
        return IIR_LINE_STATUS;
    if ((u->ier & IER_RX_DATA) && u->rx_count)
        return IIR_RX_DATA;
    if ((u->ier & IER_THRE) && u->thre_pending)
        return IIR_THRE;
    return IIR_NONE;    /* modem status never changes on a virtual line */
}

bool uart16550_irq(const struct uart16550 *u)
{
    return pending_interrupt(u) != IIR_NONE && (u->mcr & MCR_OUT2);
}

/* Modem status: a line with its partner always ready (CTS, DSR, DCD), or
 * in loopback the MCR outputs fed back (RTS→CTS, DTR→DSR, OUT1→RI,
 * OUT2→DCD), which is how drivers (Linux's 8250 autoconfig) probe for a UART. */
static uint8_t modem_status(const struct uart16550 *u)
{
    if (!(u->mcr & MCR_LOOP))
        return MSR_CTS | MSR_DSR | MSR_DCD;
    return (u->mcr & MCR_RTS ? MSR_CTS : 0) | (u->mcr & MCR_DTR ? MSR_DSR : 0) |
           (u->mcr & MCR_OUT1 ? MSR_RI : 0) | (u->mcr & MCR_OUT2 ? MSR_DCD : 0);
}

uint8_t uart16550_read(struct uart16550 *u, enum uart_register reg)
{
    bool dlab = u->lcr & LCR_DLAB;
    switch (reg) {
    case UART_REG_DATA:
        if (dlab)
            return u->dll;
        if (!u->rx_count)
            return 0;
        uint8_t byte = u->rx[u->rx_head];
        u->rx_head = (uint8_t)((u->rx_head + 1) % UART_RX_FIFO_SIZE);
        u->rx_count--;
        return byte;
    case UART_REG_IER:
        return dlab ? u->dlm : u->ier;
    case UART_REG_IIR_FCR: {
        uint8_t iir = pending_interrupt(u);
        if (iir == IIR_THRE)        /* reading IIR with THRE as the source clears it */
            u->thre_pending = false;
        return iir | (u->fcr & FCR_ENABLE ? IIR_FIFO_ON : 0);
    }
    case UART_REG_LCR:
        return u->lcr;
    case UART_REG_MCR:
        return u->mcr;
    case UART_REG_LSR: {
        uint8_t lsr = LSR_THR_EMPTY | LSR_TX_IDLE | (u->rx_count ? LSR_DATA_READY : 0) |
                      (u->overrun ? LSR_OVERRUN : 0);
        u->overrun = false;
        return lsr;
    }
    case UART_REG_MSR:
        return modem_status(u);
    case UART_REG_SCR:
        return u->scr;
    }
    return 0xff;
}

void uart16550_write(struct uart16550 *u, enum uart_register reg, uint8_t value, int *tx)
{
    bool dlab = u->lcr & LCR_DLAB;
    *tx = -1;
    switch (reg) {
    case UART_REG_DATA:
        if (dlab) {
            u->dll = value;
            break;
        }
        if (u->mcr & MCR_LOOP)
            push_rx(u, value);
        else
            *tx = value;
        /* Sent at once: THR is empty again, which interrupts if enabled. */
        u->thre_pending = true;
        break;
    case UART_REG_IER:
        if (dlab) {
            u->dlm = value;
            break;
        }
        /* Enabling THRE with the register empty raises the interrupt at once. */
        if ((value & IER_THRE) && !(u->ier & IER_THRE))
            u->thre_pending = true;
        u->ier = value & (IER_RX_DATA | IER_THRE | IER_LINE_STATUS | IER_MODEM);
        break;
    case UART_REG_IIR_FCR:
        if (value & FCR_CLEAR_RX)
            u->rx_count = 0;
        u->fcr = value & FCR_ENABLE;
        break;
    case UART_REG_LCR:
        u->lcr = value;
        break;
    case UART_REG_MCR:
        u->mcr = value & (MCR_DTR | MCR_RTS | MCR_OUT1 | MCR_OUT2 | MCR_LOOP);
        break;
    case UART_REG_SCR:
        u->scr = value;
        break;
    case UART_REG_LSR:
    case UART_REG_MSR:
        break;      /* read-only on the 16550 (factory test only) */
    }
}

bool uart16550_input_connected(const struct uart16550 *u)
{
    return !(u->mcr & MCR_LOOP);
}

bool uart16550_rx_room(const struct uart16550 *u)
{
    return u->rx_count < UART_RX_FIFO_SIZE;
}

bool uart16550_receive(struct uart16550 *u, uint8_t byte)
{
    bool room = uart16550_rx_room(u);
    push_rx(u, byte);
    return room;
}
