/* The VMs: finding them, their exit tables. They are built, reset and torn
 * down by machine/vm_power.c, stopped and ended by virt/vm_lifecycle.c. */
#include "virt/vm.h"
#include "vmx/exit_reasons.h"
#include "arch/serial.h"
#include "lib/printf.h"
#include "lib/string.h"

struct vm vms[MAX_VMS];
uint32_t vm_count;

void exit_average_text(char text[EXIT_AVERAGE_TEXT], uint64_t cycles, uint64_t timed)
{
    if (timed)
        snprintf(text, EXIT_AVERAGE_TEXT, "%lu", cycles / timed);
    else
        snprintf(text, EXIT_AVERAGE_TEXT, "-");
}

/* The exit table of vCPUs [first, end) of the VM, titled for one vCPU or
 * the whole VM. */
static void print_exits(const struct vm *vm, uint32_t first, uint32_t end, bool one_vcpu)
{
    /* With nested VMX, how many came from L2 and how many of those went on
     * to L1 (the others L0 handled on L2's behalf). */
    bool nested = false;
    for (uint32_t v = first; v < end; v++)
        for (unsigned r = 0; r < EXIT_REASON_MAX && !nested; r++)
            nested = vm->vcpus[v].stats.from_l2[r] != 0;
    if (one_vcpu)
        klog("vm %s: vcpu %u: exits per reason:\n", vm->config.name, first);
    else
        klog("vm %s: exits per reason:\n", vm->config.name);
    kprintf("  %-36s %10s %10s%s\n", "exit reason", "count", "avg-cycles",
            nested ? "    from-L2      to-L1" : "");
    uint64_t fast[EXIT_REASON_MAX] = { 0 }, any_fast = 0;
    for (unsigned r = 0; r < EXIT_REASON_MAX; r++) {
        uint64_t count = 0, cycles = 0, from_l2 = 0, to_l1 = 0;
        for (uint32_t v = first; v < end; v++) {
            const struct exit_stats *s = &vm->vcpus[v].stats;
            count += s->count[r];
            fast[r] += s->fast[r];
            cycles += s->cycles[r];
            from_l2 += s->from_l2[r];
            to_l1 += s->to_l1[r];
        }
        if (!count)
            continue;
        any_fast += fast[r];
        char average[EXIT_AVERAGE_TEXT];
        exit_average_text(average, cycles, count - fast[r]);
        kprintf("  %-36s %10lu %10s", vmx_exit_reason_name(r), count, average);
        if (nested)
            kprintf(" %10lu %10lu", from_l2, to_l1);
        kprintf("\n");
    }
    kprintf("  unclaimed port/MMIO reads %lu, writes %lu\n", vm->unhandled_reads,
            vm->unhandled_writes);
    if (!any_fast)
        return;
    kprintf("  completed in the exit fastpath, not timed:");
    const char *separator = " ";
    for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
        if (fast[r]) {
            kprintf("%s%s %lu", separator, vmx_exit_reason_name(r), fast[r]);
            separator = ", ";
        }
    kprintf("\n");
}

void vm_print_exits(const struct vm *vm)
{
    print_exits(vm, 0, vm->vcpu_count, false);
}

void vcpu_print_exits(const struct vm *vm, uint32_t vcpu)
{
    print_exits(vm, vcpu, vcpu + 1, true);
}

bool all_vms_ended(void)
{
    for (uint32_t i = 0; i < vm_count; i++)
        if (!vm_has_finished(&vms[i]))
            return false;
    return true;
}

struct vm *vm_find(const char *name, size_t len)
{
    for (uint32_t i = 0; i < vm_count; i++)
        if (strlen(vms[i].config.name) == len && !strncmp(vms[i].config.name, name, len))
            return &vms[i];
    return NULL;
}

struct vm *vm_find_live(const char *name, size_t len)
{
    struct vm *vm = vm_find(name, len);     /* names are unique (vm_config) */
    return vm && !vm_has_finished(vm) ? vm : NULL;
}