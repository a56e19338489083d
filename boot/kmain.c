/* The order of bring-up: console, tables, memory, CPUs, VMX, monitor. */
#include "arch/acpi.h"
#include "arch/bootinfo.h"
#include "arch/cpu.h"
#include "arch/cpuid_cache.h"
#include "arch/interrupts.h"
#include "arch/ioapic.h"
#include "arch/lapic.h"
#include "arch/paging.h"
#include "arch/percpu.h"
#include "arch/platform.h"
#include "arch/serial.h"
#include "arch/smp.h"
#include "arch/traps.h"
#include "arch/tsc.h"
#include "lib/page_alloc.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mon/monitor.h"
#include "mon/console_mux.h"
#include "sched/sched.h"
#include "machine/machine.h"
#include "nested/nested.h"
#include "nested/switch.h"
#include "virt/vm.h"
#include "virt/vm_config.h"
#include "vmx/vmx_cpu.h"

#define LOW_MEMORY_END 0x100000     /* BIOS data, trampoline, option ROMs */

extern const char __image_start[], __image_end[], boot_stack_top[];

static void init_memory(void)
{
    for (size_t i = 0; i < bootinfo.ram_count; i++)
        page_alloc_add_ram(bootinfo.ram[i].base, bootinfo.ram[i].length);
    page_alloc_reserve(0, LOW_MEMORY_END);
    page_alloc_reserve((uint64_t)__image_start, __image_end - __image_start);
    page_alloc_reserve(bootinfo.info_start, bootinfo.info_end - bootinfo.info_start);
    for (size_t i = 0; i < bootinfo.module_count; i++)
        page_alloc_reserve(bootinfo.modules[i].start,
                           bootinfo.modules[i].end - bootinfo.modules[i].start);
    paging_init_host(page_alloc_ram_top());
    kprintf("memory: %lu MiB free of RAM up to 0x%lx\n",
            page_alloc_free_pages() * PAGE_SIZE >> 20, page_alloc_ram_top());
}

static void init_cpus(struct host_topology *topo)
{
    const char *why;
    if (!acpi_read_topology(bootinfo.acpi_rsdp, topo, &why)) {
        kprintf("smp: %s; running on the boot CPU only\n", why);
        topo->cpu_count = 0;
    }
    smp_init_bsp(topo);
    ioapic_init(topo);
    uint32_t online = smp_boot_aps(cpu_loop);
    kprintf("smp: %u of %u CPUs online\n", online, cpu_count);
}

static void enable_vmx_everywhere(void)
{
    vmx_setup_global();
    uint32_t failed = 0;
    for (uint32_t i = 0; i < cpu_count; i++) {
        if (!percpu[i].online)
            continue;
        smp_call_on(i, vmx_enable_this_cpu, NULL);
        const struct vmx_cpu_state *s = vmx_cpu_state(i);
        if (s->vmxon) {
            kprintf("cpu %u: apic %u, vmxon ok\n", i, percpu[i].apic_id);
        } else {
            kprintf("cpu %u: apic %u, vmxon FAILED: %s\n", i, percpu[i].apic_id, s->error);
            failed++;
        }
    }
    if (failed)
        panic_status(EXIT_UNSUPPORTED_CPU, "VMX could not be enabled on %u CPU(s)", failed);
    char line[160];
    vmcs_config_describe(&vmcs_config, line, sizeof(line));
    kprintf("%s\n", line);
}

#define VM_CONFIG_MODULE "vms.cfg"

static void report_config_problem(const char *message)
{
    kprintf("config: %s\n", message);
}

/* The VM configuration comes as the boot module "vms.cfg", or the one
 * `config=NAME` on the command line names (vmxvisor as a VM of vmxvisor
 * gets its own beside the outer one's); none means no VMs. */
static void create_vms(void)
{
    static struct vm_config_set set;
    char name[VM_IMAGE_MAX] = VM_CONFIG_MODULE;
    bool named = bootinfo_cmdline_value("config", name, sizeof(name));
    for (size_t i = 0; i < bootinfo.module_count; i++) {
        const struct boot_module *m = &bootinfo.modules[i];
        if (strcmp(m->name, name))
            continue;
        vm_config_parse(name, (const char *)m->start, m->end - m->start, &set,
                        report_config_problem);
        if (set.errors)
            kprintf("config: %u problem(s); VMs with errors are not started\n", set.errors);
        vms_create_from_config(&set);
        return;
    }
    if (named)
        kprintf("config: no boot module '%s' (config= on the command line)\n", name);
}

void kmain(uint32_t magic, uint64_t info);
void kmain(uint32_t magic, uint64_t info)
{
    uint64_t tsc_at_entry = rdtsc();
    percpu_activate(&percpu[0]);
    percpu[0].stack_top = (uint64_t)boot_stack_top;
    serial_init();
    gdt_load(&percpu[0].tables);
    idt_load();
    interrupt_set_fatal_handler(trap_fatal);
    kprintf("\nvmxvisor: a VT-x hypervisor\n");

    const char *why;
    if (!bootinfo_parse(magic, info, &why))
        panic_status(EXIT_BAD_BOOT, "%s", why);
    platform_init();
    kprintf("command line: %s\n", bootinfo.cmdline);
    init_memory();
    cpu_enable_xsave();
    cpuid_cache_init();     /* after CR4.OSXSAVE, which leaf 1 reports */
    lapic_init_cpu();
    kprintf("tsc: %lu kHz\n", tsc_calibrate());

    static struct host_topology topo;
    sched_init();       /* before the APs start: they go straight to cpu_loop */
    monitor_init();     /* the work in CPU 0's loop, then the VMs' in every CPU's */
    machine_init();
    init_cpus(&topo);
    enable_vmx_everywhere();
    nested_init();      /* what a VM with nested VMX sees, from the negotiated controls */
    nested_switch_init();

    ioapic_route_isa_irq(COM1_IRQ, VECTOR_SERIAL, percpu[0].apic_id);
    serial_enable_rx_interrupt();
    uint64_t now = rdtsc();
    kprintf("vmxvisor: ready: %lu TSC ticks since reset, %lu in the hypervisor\n", now,
            now - tsc_at_entry);
    create_vms();
    monitor_start();
    console_mux_init();
    cpu_loop();
}
