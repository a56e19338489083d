/* The VM's COM1: a 16550A (dev/uart16550.c) at 0x3f8 on ISA IRQ 4. What the
 * guest sends goes to the console, a line at a time with the VM's name in
 * front, or byte by byte, unchanged, while the console is switched to this
 * VM (mon/console_mux.c), whose typed input then arrives here. */
#include "dev/devices.h"
#include "dev/uart.h"
#include "dev/irq.h"
#include "dev/platform_ports.h"
#include "dev/platform.h"
#include "virt/vm.h"
#include "arch/serial.h"
#include "arch/tsc.h"
#include "arch/cpu.h"
#include "lib/printf.h"

bool console_timestamps;
/* The VM whose COM1 has the console (the console multiplexer's choice,
 * mon/console_mux.c), or NULL. */
static struct vm *console_vm;

void uart_give_console(struct vm *vm)
{
    __atomic_store_n(&console_vm, vm, __ATOMIC_RELEASE);
}

struct vm *uart_console_vm(void)
{
    return __atomic_load_n(&console_vm, __ATOMIC_ACQUIRE);
}

void uart_init(struct vm *vm)
{
    /* Under the lock: at a machine reset typed input may be arriving. */
    spin_lock(&vm->dev->uart.lock);
    uart16550_reset(&vm->dev->uart.regs);
    serial_line_reset(&vm->dev->uart.input);   /* typed for the old boot */
    vm->dev->uart.irq_level = false;     /* the reset interrupt controllers see the line low */
    vm->dev->uart.created_tsc = rdtsc();
    vm->dev->uart.spoke = false;
    spin_unlock(&vm->dev->uart.lock);
}

static void flush_line(struct vm *vm)
{
    struct vm_uart *u = &vm->dev->uart;
    if (console_timestamps) {
        /* Emulated time since the VM was made: seconds and microseconds. */
        uint64_t us = (rdtsc() - u->created_tsc) * 1000 / tsc_khz();
        char name[VM_NAME_MAX + 24];
        snprintf(name, sizeof(name), "%s +%lu.%06lu", vm->config.name, us / 1000000,
                  us % 1000000);
        console_guest_line(name, u->line, u->len);
    } else {
        console_guest_line(vm->config.name, u->line, u->len);
    }
    u->len = 0;
}

void uart_flush(struct vm *vm)
{
    spin_lock(&vm->dev->uart.lock);
    if (vm->dev->uart.len)
        flush_line(vm);
    spin_unlock(&vm->dev->uart.lock);
}

bool uart_has_spoken(const struct vm *vm)
{
    return vm->dev->uart.spoke;
}

uint64_t uart_power_on_tsc(const struct vm *vm)
{
    return vm->dev->uart.created_tsc;
}

static void transmit(struct vm *vm, char c)
{
    struct vm_uart *u = &vm->dev->uart;
    u->spoke = true;
    if (uart_console_vm() == vm) {
        if (u->len)
            flush_line(vm);
        console_write(&c, 1);
        return;
    }
    if (c == '\n') {
        flush_line(vm);
        return;
    }
    if (c == '\r')
        return;
    u->line[u->len++] = c;
    if (u->len == sizeof(u->line))
        flush_line(vm);
}

/* Called with the UART's lock held, so that line changes reach the
 * interrupt controllers in the order they happened. */
static void update_irq(struct vm *vm)
{
    bool level = uart16550_irq(&vm->dev->uart.regs);
    if (level != vm->dev->uart.irq_level) {
        vm->dev->uart.irq_level = level;
        vm_set_irq(vm, PLATFORM_IRQ_COM1, level);
    }
}

bool uart_access(struct vm *vm, uint16_t port, unsigned size, bool is_write, uint32_t *value)
{
    (void)size;     /* byte registers: a wider access touches the first only */
    enum uart_register reg = (enum uart_register)(port - UART_COM1_BASE);
    struct vm_uart *u = &vm->dev->uart;
    spin_lock(&u->lock);
    if (is_write) {
        int tx;
        uart16550_write(&u->regs, reg, (uint8_t)*value, &tx);
        if (tx >= 0)
            transmit(vm, (char)tx);
    } else {
        *value = uart16550_read(&u->regs, reg);
    }
    serial_line_drain(&u->input, &u->regs);    /* a read or a FIFO reset made room */
    update_irq(vm);
    spin_unlock(&u->lock);
    return true;
}

bool uart_receive(struct vm *vm, char c)
{
    struct vm_uart *u = &vm->dev->uart;
    spin_lock(&u->lock);
    bool taken = serial_line_send(&u->input, &u->regs, (uint8_t)c);
    update_irq(vm);
    spin_unlock(&u->lock);
    return taken;
}
