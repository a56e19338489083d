#include "mon/console_mux.h"
#include "dev/uart.h"
#include "virt/vm.h"
#include "sched/sched.h"
#include "arch/bootinfo.h"
#include "arch/serial.h"
#include "lib/printf.h"
#include "lib/string.h"

static bool escape_pending;
static struct vm *drop_reported;
/* The monitor (mon/monitor.c): where keys go while no VM has the console,
 * and what it does when the console comes back to it. */
static void (*to_monitor)(char c);
static void (*monitor_resumes)(void);

/* The VM that has the console, or NULL for the monitor. */
static struct vm *console_mux_focus(void)
{
    struct vm *vm = uart_console_vm();
    return vm && !vm_has_finished(vm) ? vm : NULL;
}

static void give_to(struct vm *vm)
{
    uart_give_console(vm);
    if (vm) {
        klog("console: vm %s%s (Ctrl-A c: next VM or the monitor)\n", vm->config.name,
             vm->sched.hold & VM_HOLD_STOP ? ", stopped: `cont` in the monitor resumes it" : "");
    } else {
        klog("console: monitor\n");
        monitor_resumes();
    }
}

/* The next running VM after the current one; NULL (the monitor) after the last. */
static struct vm *next_focus(void)
{
    struct vm *now = console_mux_focus();
    for (uint32_t i = now ? now->index + 1 : 0; i < vm_count; i++)
        if (!vm_has_finished(&vms[i]))
            return &vms[i];
    return NULL;
}

void console_mux_init(void)
{
    console_timestamps = bootinfo_cmdline_flag("console_timestamps");
    char name[VM_NAME_MAX];
    if (!bootinfo_cmdline_value("console", name, sizeof(name)))
        return;
    struct vm *vm = vm_find_live(name, strlen(name));
    if (vm)
        give_to(vm);
    else
        klog("console: no running VM '%s' to give the console to\n", name);
}

static void deliver(char c)
{
    struct vm *vm = console_mux_focus();
    if (!vm) {
        to_monitor(c);
    } else if (!uart_receive(vm, c) && vm != drop_reported) {
        /* More than its serial line holds: the guest reads no input. Say so once per VM. */
        drop_reported = vm;
        klog("console: vm %s does not read its COM1: typed keys are lost\n", vm->config.name);
    }
}

static void console_mux_key(char c)
{
    if (!escape_pending) {
        if (c == CONSOLE_MUX_ESCAPE)
            escape_pending = true;
        else
            deliver(c);
        return;
    }
    escape_pending = false;
    if (c == CONSOLE_MUX_SWITCH) {
        give_to(next_focus());
    } else if (c == CONSOLE_MUX_ESCAPE) {
        deliver(c);
    } else {
        deliver(CONSOLE_MUX_ESCAPE);    /* not ours: both keys go through */
        deliver(c);
    }
}

/* The VM that had the console has ended: the console says so and goes back
 * to the monitor, prompt and all, rather than silently taking keys there. */
static bool focus_ended(void)
{
    struct vm *vm = uart_console_vm();
    return vm && vm_has_finished(vm);
}

/* CPU 0's loop serves the console: typed keys are taken there, and a key
 * waiting brings CPU 0 out of its guest or its halt. */
static void poll_console(uint32_t cpu)
{
    if (cpu != 0)
        return;
    if (focus_ended()) {
        klog("console: vm %s has ended\n", uart_console_vm()->config.name);
        give_to(NULL);
    }
    int c;
    while ((c = serial_try_getc()) >= 0)
        console_mux_key((char)c);
}

static bool console_work_pending(uint32_t cpu)
{
    return cpu == 0 && (serial_input_ready() || focus_ended());
}

void console_mux_attach(void (*key)(char c), void (*resume)(void))
{
    to_monitor = key;
    monitor_resumes = resume;
    sched_add_cpu_work(poll_console, console_work_pending);
}
