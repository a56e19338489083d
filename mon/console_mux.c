#include "mon/console_mux.h"
#include "mon/monitor.h"
#include "dev/uart.h"
#include "virt/vm.h"
#include "arch/bootinfo.h"
#include "lib/printf.h"
#include "lib/string.h"

static struct vm *focus;
static bool escape_pending;
static struct vm *drop_reported;

struct vm *console_mux_focus(void)
{
    struct vm *vm = __atomic_load_n(&focus, __ATOMIC_ACQUIRE);
    return vm && !vm_has_finished(vm) ? vm : NULL;
}

static void give_to(struct vm *vm)
{
    __atomic_store_n(&focus, vm, __ATOMIC_RELEASE);
    if (vm) {
        klog("console: vm %s (Ctrl-A c: next VM or the monitor)\n", vm->config.name);
    } else {
        klog("console: monitor\n");
        kprintf(MONITOR_PROMPT);
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
        monitor_key(c);
    } else if (!uart_receive(vm, c) && vm != drop_reported) {
        /* A real UART loses it too (overrun); say so once per VM. */
        drop_reported = vm;
        klog("console: vm %s does not read its COM1: typed keys are lost\n", vm->config.name);
    }
}

void console_mux_key(char c)
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
