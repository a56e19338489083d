/* The top of the VM layers (machine/machine.h): the wiring of the layers
 * below, and the VMs of the configuration. */
#include "machine/machine.h"
#include "machine/vcpu_entity.h"
#include "machine/vm_power.h"
#include "machine/vcpu_inspect.h"
#include "virt/vm.h"
#include "virt/vcpu_state.h"
#include "dev/irq.h"
#include "dev/apicv.h"
#include "loader/guest_boot.h"
#include "vmx/vmx_cpu.h"
#include "arch/percpu.h"
#include "arch/platform.h"
#include "arch/bootinfo.h"
#include "lib/string.h"
#include "sched/sched.h"
#include "dev/uart.h"
#include "virt/exit_stats.h"
#include "arch/tsc.h"
#include "arch/serial.h"
#include "lib/printf.h"

/* While a VM has said nothing on its console, CPU 0 says every
 * SILENT_REPORT_SECONDS that it runs, so that a user watching a Linux
 * kernel decompress (a minute and more in an emulator) sees it is alive. */
#define SILENT_REPORT_SECONDS 10
static uint64_t silent_reported_at[VM_CONFIG_MAX_VMS];

static void report_silent_vms(uint32_t cpu)
{
    static uint64_t next_look;      /* once a second is often enough */
    uint64_t now = rdtsc();
    if (cpu != 0 || (int64_t)(now - next_look) < 0)
        return;
    next_look = now + tsc_khz() * 1000ull;
    uint64_t period = SILENT_REPORT_SECONDS * tsc_khz() * 1000ull;
    for (uint32_t i = 0; i < vm_count; i++) {
        struct vm *vm = &vms[i];
        if (vm_has_finished(vm) || vm->state != VM_RUNNING || vm->sched.hold ||
            uart_has_spoken(vm))
            continue;
        uint64_t since = uart_power_on_tsc(vm);
        if (silent_reported_at[i] < since)
            silent_reported_at[i] = since;
        if (now - silent_reported_at[i] < period)
            continue;
        silent_reported_at[i] = now;
        uint64_t exits = 0;
        for (uint32_t v = 0; v < vm->vcpu_count; v++)
            exits += exit_stats_entries(&vm->vcpus[v].stats);
        klog("vm %s: running for %lu s, %lu exits, nothing on its console yet%s\n",
             vm->config.name, (uint64_t)((now - since) / (tsc_khz() * 1000ull)), exits,
             vm->boot.image_kind[0] == 'L' ? " (a Linux kernel decompresses and starts "
                                             "before it prints)" : "");
    }
}

/* Kernel command line "batch": CPU 0 ends the hypervisor once every VM has
 * ended, with the status their ends make (vms_batch_status). */
static void end_with_the_vms(uint32_t cpu)
{
    if (cpu == 0 && all_vms_ended())
        platform_exit(vms_batch_status());
}

void machine_init(void)
{
    vm_power_init();
    vcpu_entity_init();
    vcpu_set_interrupt_source(vcpu_interrupt_waiting, vcpu_interrupt_waiting_loaded);
    if (bootinfo_cmdline_flag("batch"))
        sched_add_cpu_work(end_with_the_vms, NULL);
    sched_add_cpu_work(report_silent_vms, NULL);
    vcpu_inspect_init();
}

static uint64_t online_cpus(void)
{
    uint64_t mask = 0;
    for (uint32_t cpu = 0; cpu < cpu_count; cpu++)
        if (percpu[cpu].online)
            mask |= 1ull << cpu;
    return mask;
}

/* VMs of the configuration that were not started: errors in their
 * section, no image, or vm_create failed. */
static uint32_t vms_not_started;

int vms_batch_status(void)
{
    char how[16];
    if (bootinfo_cmdline_value("vm_status", how, sizeof(how)) && !strcmp(how, "ignore"))
        return EXIT_OK;
    if (vms_not_started)
        return EXIT_VM_NOT_STARTED;
    for (uint32_t i = 0; i < vm_count; i++) {
        int status = vms[i].exit_status;
        if (status > 0 && status <= 255)
            return status;
        if (status)
            return EXIT_VM_FAILED;
    }
    return EXIT_OK;
}

uint32_t vms_create_from_config(const struct vm_config_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        const struct vm_config *cfg = &set->vms[i];
        vms_not_started++;      /* until it is placed below */
        if (!cfg->valid) {
            /* A bad [global] spoils every VM (vm_config.c): say it was there. */
            kprintf("vm %s: not started: %s has errors\n", cfg->name,
                    set->global.valid ? "its configuration" : "the [global] section");
            continue;
        }
        if (!guest_boot_module(cfg->image)) {
            kprintf("vm %s: not started: image '%s' is not among the boot modules\n", cfg->name,
                    cfg->image);
            continue;
        }
        struct vm *vm = &vms[vm_count];
        if (!vm_create(vm, cfg))
            continue;
        vms_not_started--;
        /* PAUSE-loop exiting where the CPU has it, unless switched off, or
         * left on "auto" for a VM whose vCPUs have CPUs of their own. A gap
         * of 0 makes every PAUSE start a new loop: PLE off, as in KVM. The
         * decision is made once: a later `affinity` does not change it. */
        vm->ple_enabled = (vmcs_config.ctl[VMX_CTL_PROC2] & PROC2_PAUSE_LOOP_EXITING) &&
                          cfg->ple_params.gap != 0 &&
                          (cfg->ple == PLE_ON ||
                           (cfg->ple == PLE_AUTO && !vm_config_has_dedicated_cpus(set, i, online_cpus())));
        vm->index = vm_count++;
        kprintf("vm %s: %u vCPU(s), %lu MiB, image %s (%s), PLE %s, APICv %s\n", cfg->name,
                cfg->vcpus, cfg->memory >> 20, cfg->image, vm->boot.image_kind,
                vm->ple_enabled ? "on" : "off", apicv_mode_name(vm));
        vm->sched.affinity = cfg->affinity;
        for (uint32_t v = 0; v < vm->vcpu_count; v++)
            vcpu_place(&vm->vcpus[v]);
    }
    return vm_count;
}

