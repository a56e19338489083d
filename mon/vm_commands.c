/* Monitor commands that act on VMs. */
#include "mon/monitor.h"
#include "virt/sched.h"
#include "virt/vm.h"
#include "virt/vm_config.h"
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
    } else if (!sched_set_affinity(vm, mask)) {
        kprintf("affinity: no online CPU in '%s'\n", list);
    } else {
        kprintf("vm %s: affinity %s\n", vm->config.name, list);
    }
}
