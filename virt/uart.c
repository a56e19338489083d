/* The VM's COM1: enough of a 16550 for output (printed to the console a
 * line at a time, prefixed with the VM's name). Input and interrupts come
 * with the platform work. */
#include "virt/pio.h"
#include "virt/vm.h"
#include "arch/serial.h"

enum { REG_DATA = 0, REG_IER = 1, REG_IIR = 2, REG_LCR = 3, REG_MCR = 4, REG_LSR = 5,
       REG_MSR = 6, REG_SCRATCH = 7 };
#define LCR_DLAB        0x80
#define LSR_THR_EMPTY   0x20
#define LSR_TX_IDLE     0x40
#define IIR_NO_INTERRUPT 0x01

static void flush_line(struct vm *vm)
{
    console_guest_line(vm->config.name, vm->uart_line, vm->uart_len);
    vm->uart_len = 0;
}

static void transmit(struct vm *vm, char c)
{
    if (c == '\n') {
        flush_line(vm);
        return;
    }
    if (c == '\r')
        return;
    vm->uart_line[vm->uart_len++] = c;
    if (vm->uart_len == sizeof(vm->uart_line))
        flush_line(vm);
}

bool uart_access(struct vm *vm, uint16_t port, unsigned size, bool is_write, uint32_t *value)
{
    (void)size;
    unsigned reg = port - UART_COM1_BASE;
    bool dlab = vm->uart_lcr & LCR_DLAB;
    spin_lock(&vm->lock);
    if (is_write) {
        uint8_t v = (uint8_t)*value;
        switch (reg) {
        case REG_DATA: if (!dlab) transmit(vm, (char)v); break;
        case REG_IER: if (!dlab) vm->uart_ier = v & 0x0f; break;
        case REG_LCR: vm->uart_lcr = v; break;
        case REG_MCR: vm->uart_mcr = v & 0x1f; break;
        case REG_SCRATCH: vm->uart_scratch = v; break;
        default: break;     /* FCR, divisor latch: accepted, no effect on a virtual line */
        }
    } else {
        switch (reg) {
        case REG_DATA: *value = 0; break;
        case REG_IER: *value = dlab ? 0 : vm->uart_ier; break;
        case REG_IIR: *value = IIR_NO_INTERRUPT; break;
        case REG_LCR: *value = vm->uart_lcr; break;
        case REG_MCR: *value = vm->uart_mcr; break;
        case REG_LSR: *value = LSR_THR_EMPTY | LSR_TX_IDLE; break;
        case REG_SCRATCH: *value = vm->uart_scratch; break;
        default: *value = 0; break;
        }
    }
    spin_unlock(&vm->lock);
    return true;
}
