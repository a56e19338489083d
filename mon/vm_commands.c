/* Monitor commands that act on VMs. */
#include "mon/monitor.h"
#include "virt/dirty_log.h"
#include "arch/tsc.h"
#include "sched/sched.h"
#include "machine/machine.h"
#include "dev/apic_access.h"
#include "virt/event_inject.h"
#include "virt/vm.h"
#include "virt/vm_config.h"
#include "virt/vm_lifecycle.h"
#include "lib/printf.h"
#include "lib/string.h"

void cmd_affinity(const char *args)
{
    const char *name_end = args;
    while (*name_end && *name_end != ' ')
        name_end++;
    const char *list = name_end;
    while (*list == ' ')
        list++;
    struct vm *vm = vm_find_live(args, (size_t)(name_end - args));
    uint64_t mask;
    if (!vm) {
        kprintf("affinity: no running VM named '%.*s'\n", (int)(name_end - args), args);
    } else if (!vm_config_parse_cpu_list(list, list + strlen(list), &mask)) {
        kprintf("affinity: '%s' is not a CPU list such as 0-3 or 0,2\n", list);
    } else if (!sched_set_affinity(&vm->sched, mask)) {
        kprintf("affinity: no online CPU in '%s'\n", list);
    } else {
        kprintf("vm %s: affinity %s\n", vm->config.name, list);
    }
}

/* The VM a lifecycle command names (its whole argument), or NULL after
 * saying why not. */
static struct vm *named_vm(const char *command, const char *args)
{
    size_t len = strlen(args);
    while (len && (args[len - 1] == ' ' || args[len - 1] == '\t'))
        len--;
    struct vm *vm = len ? vm_find(args, len) : NULL;
    if (!len)
        kprintf("%s: which VM? (usage: %s VM)\n", command, command);
    else if (!vm)
        kprintf("%s: no VM named '%.*s'\n", command, (int)len, args);
    return vm;
}

/* Runs one of vm_stop, vm_cont, vm_reset and reports what came of it. */
static void lifecycle_command(const char *command, const char *args,
                              const char *(*act)(struct vm *vm), const char *done)
{
    struct vm *vm = named_vm(command, args);
    if (!vm)
        return;
    const char *problem = act(vm);
    if (problem)
        kprintf("%s: vm %s %s\n", command, vm->config.name, problem);
    else
        kprintf("vm %s: %s\n", vm->config.name, done);
}

void cmd_stop(const char *args)
{
    lifecycle_command("stop", args, vm_stop, "stopped");
}

void cmd_cont(const char *args)
{
    lifecycle_command("cont", args, vm_cont, "running");
}

/* A stopped VM stays stopped (`info vms` says so), as in QEMU. */
void cmd_reset(const char *args)
{
    lifecycle_command("reset", args, vm_reset, "reset done");
}

/* QEMU's `nmi`: an edge on every vCPU's LINT1, the NMI line of a PC. */
void cmd_nmi(const char *args)
{
    struct vm *vm = named_vm("nmi", args);
    if (!vm)
        return;
    if (vm_has_finished(vm)) {
        kprintf("nmi: vm %s has ended\n", vm->config.name);
        return;
    }
    if (!nmis_virtualised()) {
        kprintf("nmi: this CPU cannot give guests NMIs (no virtual NMIs)\n");
        return;
    }
    unsigned nmis = 0;
    for (uint32_t i = 0; i < vm->vcpu_count; i++)
        nmis += apic_lint1_edge(&vm->vcpus[i]);
    kprintf("vm %s: NMI to %u of %u vCPU(s) (LINT1)\n", vm->config.name, nmis, vm->vcpu_count);
}

/* A number from 1 to `max` at *s (then past it and its spaces), or 0. */
static uint64_t small_number(const char **s, uint64_t max)
{
    uint64_t n = 0;
    const char *c = *s;
    for (; *c && *c != ' ' && *c != '\t'; c++) {
        if (*c < '0' || *c > '9' || n > max)
            return 0;
        n = n * 10 + (uint64_t)(*c - '0');
    }
    while (*c == ' ' || *c == '\t')
        c++;
    *s = c;
    return n >= 1 && n <= max ? n : 0;
}

/* QEMU's calc_dirty_rate: how fast the VM writes its memory, measured for
 * SECONDS (default 1, at most 60) of time, PERIODS times in a row (default
 * 1, at most DIRTY_LOG_PERIODS_MAX); each period's result comes when it
 * ends (virt/dirty_log.h), and `info dirty_rate VM` shows them again with
 * the last period's dirty pages. */
void cmd_dirty_rate(const char *args)
{
    const char *name = args, *end = args;
    while (*end && *end != ' ' && *end != '\t')
        end++;
    if (end == name) {
        kprintf("dirty_rate: which VM? (usage: dirty_rate VM [SECONDS [PERIODS]])\n");
        return;
    }
    struct vm *vm = vm_find(name, (size_t)(end - name));
    if (!vm || vm_has_finished(vm)) {
        kprintf("dirty_rate: no running VM named '%.*s'\n", (int)(end - name), name);
        return;
    }
    while (*end == ' ' || *end == '\t')
        end++;
    uint64_t seconds = 1, periods = 1;
    const char *arg = end;
    if (*arg && !(seconds = small_number(&arg, 60))) {
        kprintf("dirty_rate: '%s' is not a number of seconds from 1 to 60\n", end);
        return;
    }
    const char *count = arg;
    if (*arg && !(periods = small_number(&arg, DIRTY_LOG_PERIODS_MAX))) {
        kprintf("dirty_rate: '%s' is not a number of periods from 1 to %u\n", count,
                DIRTY_LOG_PERIODS_MAX);
        return;
    }
    char why[64];
    if (!dirty_log_start(vm, seconds * tsc_khz() * 1000, (uint32_t)periods, why, sizeof(why))) {
        kprintf("dirty_rate: vm %s: %s\n", vm->config.name, why);
        return;
    }
    kprintf("vm %s: measuring the dirty-page rate for %lu s%s (%s)\n", vm->config.name, seconds,
            periods > 1 ? " per period" : "", vm->dirty_log.pml ? "PML" : "write protection");
}
