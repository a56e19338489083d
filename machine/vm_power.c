/* A VM's power cycle (machine/vm_power.h): built (devices, guest memory with
 * the image and the firmware's tables, vCPUs), built again at a machine
 * reset, torn down once every vCPU has stopped. */
#include "machine/vm_power.h"
#include "virt/dirty_log.h"
#include "virt/vm.h"
#include "virt/vcpu.h"
#include "virt/guest_mem.h"
#include "virt/vcpu_msrs.h"
#include "virt/vm_lifecycle.h"
#include "dev/devices.h"
#include "dev/apicv.h"
#include "dev/irq.h"
#include "dev/pit_access.h"
#include "dev/vclock.h"
#include "loader/guest_boot.h"
#include "loader/firmware.h"
#include "dev/platform_clock.h"
#include "exits/exit_pause.h"
#include "nested/nested.h"
#include "nested/nested_ept.h"
#include "vmx/vmx_cpu.h"
#include "vmx/vpid.h"
#include "arch/percpu.h"
#include "arch/serial.h"
#include "lib/page_alloc.h"
#include "lib/printf.h"
#include "lib/string.h"

static struct vpid_pool vpid_pool;

void vm_power_init(void)
{
    vpid_pool_init(&vpid_pool, VPID_COUNT);
}

static void *alloc_table_page(void) { return page_alloc(1); }

/* Frees guest memory, bitmaps and VPIDs; the vCPU array stays with the slot
 * so that `info` may still read a VM that has just ended. */
static void vm_free(struct vm *vm)
{
    for (uint32_t i = 0; vm->vcpus && i < vm->vcpu_count; i++) {
        vpid_free(&vpid_pool, vm->vcpus[i].vpid);
        vpid_free(&vpid_pool, vm->vcpus[i].vpid02);
    }
    nested_ept_vm_free(vm);
    dirty_log_free(vm);
    guest_mem_destroy(vm);
    apicv_vm_free(vm);
    mem_unreserve(&vm->mem);
    if (vm->io_bitmaps)
        page_free(vm->io_bitmaps, 2);
    if (vm->msr_bitmap)
        page_free(vm->msr_bitmap, 1);
    vm->io_bitmaps = vm->msr_bitmap = NULL;
}

static size_t pages_for(size_t bytes)
{
    return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

static size_t vcpu_array_pages(uint32_t vcpus)
{
    return pages_for(sizeof(struct vcpu) * vcpus);
}

/* The devices at power-on, at creation and at every machine reset. */
static void vm_devices_reset(struct vm *vm)
{
    uart_init(vm);
    vm_irq_init(vm);
    pit_vm_init(vm);
    spin_lock(&vm->dev->platform_lock);
    rtc_reset_line(&vm->dev->rtc, platform_clock_ticks(NS_PER_SECOND));
    vm->dev->fw_cfg = (struct fw_cfg){ 0 };
    vm->dev->acpi_pm = (struct acpi_pm){ 0 };
    vm->dev->reset_control = 0;
    vm->dev->pci_config_address = 0;
    spin_unlock(&vm->dev->platform_lock);
}

/* A vCPU at power-on: vCPU 0 starts at the image's entry; the others wait
 * for INIT-SIPI-SIPI from the guest, as application processors do. The
 * struct is rebuilt so that every architectural field starts afresh; what
 * the vCPU has done so far stays: its statistics, its place in a run
 * queue, its VMCS bookkeeping and VPID. Its VMCS and FPU state are made on
 * its next load (vcpu_load), as for a new vCPU. Runs under the scheduler's
 * lock (sched_locked): other CPUs may be looking at the vCPU. */
static void vcpu_power_on(void *arg)
{
    struct vcpu *v = arg;
    const struct vcpu was = *v;
    *v = (struct vcpu){ .vm = was.vm, .id = was.id,
                        .waiting_for_sipi = was.id != 0, .sipi_vector = -1,
                        .lv = was.lv, .vmcs = &v->lv, .vpid = was.vpid, .vpid02 = was.vpid02, .se = was.se, .apic = was.apic,
                        .stats = was.stats, .ple = was.ple };
    v->se.state = v->id ? VCPU_WAIT_SIPI : VCPU_RUNNABLE;
    vcpu_msrs_reset(v);
    vlapic_reset(v->apic, v->id);
    if (v->id == 0)
        vlapic_virtual_wire(v->apic);      /* the firmware's part, done before the image runs */
}

/* Everything a boot starts from, at creation and at every machine reset:
 * devices, guest memory with the image and the firmware's tables, vCPUs.
 * One VM at a time: the firmware's table buffer and the loaders' scratch
 * serve every VM, and a VM may reset on another CPU while later ones are
 * still being created. */
static bool vm_boot(struct vm *vm, char *why, size_t why_size)
{
    static spinlock_t boot_lock = SPINLOCK_INIT;
    vm_devices_reset(vm);
    snprintf(why, why_size, "out of memory");
    spin_lock(&boot_lock);
    bool loaded = ept_init(&vm->ept, alloc_table_page, vmcs_config.ept_vpid_cap & EPT_CAP_AD) &&
                  apicv_vm_boot(vm) && firmware_boot(vm) && guest_boot_load(vm, why, why_size);
    spin_unlock(&boot_lock);
    for (uint32_t i = 0; loaded && i < vm->vcpu_count; i++)
        sched_locked(vcpu_power_on, &vm->vcpus[i]);
    return loaded;
}

bool vm_reboot(struct vm *vm, char *why, size_t why_size)
{
    /* VMCLEAR where active and drop the VMCS and FPU state: the next load
     * initialises a VMCS from the boot state and enters with VMLAUNCH. */
    for (uint32_t i = 0; i < vm->vcpu_count; i++) {
        nested_vcpu_free(&vm->vcpus[i]);
        vcpu_release(&vm->vcpus[i]);
    }
    nested_ept_vm_free(vm);
    uart_flush(vm);         /* the old boot's last words come before the new one's */
    /* RAM is dropped rather than kept: the image and tables are loaded
     * into fresh memory exactly as at creation, nothing of the old boot can
     * leak into the new one, and memory the guest touched goes back to the
     * host until it is touched again. */
    dirty_log_free(vm);
    guest_mem_destroy(vm);
    return vm_boot(vm, why, why_size);
}

/* What a VM needs beyond its RAM, at most: EPT tables for 4K pages over
 * all of it, per vCPU a VMCS, FPU state and bitmaps, with nested VMX each
 * vCPU's nested pages and the EPT02 budget, and the VM's own structures. */
static uint64_t overhead_pages(const struct vm_config *cfg)
{
    uint64_t ram_pages = cfg->memory / PAGE_SIZE;
    uint64_t pages = ram_pages / 512 + 8 + cfg->vcpus * 8 + vcpu_array_pages(cfg->vcpus) +
                     pages_for(sizeof(struct vm_devices)) + 5;
    if (cfg->nested)
        pages += cfg->vcpus * NESTED_VCPU_PAGES + nested_ept02_budget_pages(cfg->memory);
    return pages;
}

bool vm_create(struct vm *vm, const struct vm_config *cfg)
{
    memset(vm, 0, sizeof(*vm));
    char reason[200];
    if (!mem_reserve(&vm->mem, cfg->memory / PAGE_SIZE, overhead_pages(cfg), cfg->overcommit,
                     reason, sizeof(reason))) {
        klog("vm %s: cannot create: %s\n", cfg->name, reason);
        return false;
    }
    if (vm->mem.ram_pages < cfg->memory / PAGE_SIZE)
        klog("vm %s: overcommitted: %lu of its %lu MiB reserved\n", cfg->name,
             vm->mem.ram_pages * PAGE_SIZE >> 20, cfg->memory >> 20);
    vm->config = *cfg;
    vm->state = VM_RUNNING;
    vm->ram_size = cfg->memory;
    vm->allow_2m = vmcs_config.ept_vpid_cap & EPT_CAP_2M && cfg->hugepages;
    vm->allow_1g = vmcs_config.ept_vpid_cap & EPT_CAP_1G && cfg->hugepages;
    vm->io_bitmaps = page_alloc(2);
    vm->msr_bitmap = page_alloc(1);
    vm->vcpus = page_alloc(vcpu_array_pages(cfg->vcpus));
    vm->dev = page_alloc(pages_for(sizeof(*vm->dev)));
    char why[160] = "out of memory";
    if (!vm->io_bitmaps || !vm->msr_bitmap || !vm->vcpus || !vm->dev)
        goto fail;
    memset(vm->dev, 0, sizeof(*vm->dev));
    vm->vcpu_count = cfg->vcpus;
    for (uint32_t i = 0; i < vm->vcpu_count; i++)
        vm->vcpus[i] = (struct vcpu){ .vm = vm, .id = i, .apic = &vm->dev->apics[i],
                                      .vmcs = &vm->vcpus[i].lv };
    memset(vm->io_bitmaps, 0xff, 2 * PAGE_SIZE);   /* every port exits */
    msr_bitmap_init(vm->msr_bitmap);
    if (!apicv_vm_init(vm))
        goto fail;
    firmware_power_on(vm);
    if (!vm_boot(vm, why, sizeof(why)))
        goto fail;
    for (uint32_t i = 0; i < vm->vcpu_count; i++) {
        struct vcpu *v = &vm->vcpus[i];
        ple_vcpu_init(v);
        if (vmcs_config.ctl[VMX_CTL_PROC2] & PROC2_ENABLE_VPID) {
            v->vpid = vpid_alloc(&vpid_pool);
            if (cfg->nested)
                v->vpid02 = vpid_alloc(&vpid_pool);
        }
    }
    return true;
fail:
    klog("vm %s: cannot create: image '%s': %s\n", cfg->name, cfg->image, why);
    vm_free(vm);
    if (vm->vcpus)
        page_free(vm->vcpus, vcpu_array_pages(cfg->vcpus));
    if (vm->dev)
        page_free(vm->dev, pages_for(sizeof(*vm->dev)));
    vm->vcpus = NULL;
    vm->dev = NULL;
    return false;
}

/* The spin guard's loops at the end: how many it learned in all (a churning
 * table forgets what holding did), and those it still knows with their
 * scores (sched/spin_guard.h). */
static void print_spin_loops(const struct spin_sites *sites)
{
    kprintf("  spin guard: %u loops learned; kept:", sites->next);
    for (unsigned i = 0; i < SPIN_SITES; i++)
        if (sites->rip[i])
            kprintf(" %lx (score %d)", sites->rip[i], sites->score[i]);
    kprintf("\n");
}

static void vm_finish(struct vm *vm)
{
    console_hold();
    uart_flush(vm);
    vm_print_exits(vm);
    for (uint32_t i = 0; i < vm->vcpu_count; i++) {
        const struct vcpu *v = &vm->vcpus[i];
        kprintf("  vcpu %u: run %lu, wait %lu cycles; migrations %lu, VMPTRLD %lu, VMCLEAR %lu, "
                "VMLAUNCH %lu, VMRESUME %lu", v->id, v->se.run_cycles, v->se.wait_cycles,
                v->lv.migrations, v->lv.vmptrlds, v->lv.vmclears, v->stats.launches,
                exit_stats_entries(&v->stats) - v->stats.launches);
        if (vm->ple_enabled)
            kprintf("; PLE exits %lu, window %u-%u (grew %lu, shrank %lu), yields %lu (boosted "
                    "%lu); spin guard held %lu slice ends for %lu cycles", v->ple.exits,
                    v->ple.window_min, v->ple.window_max, v->ple.grows, v->ple.shrinks,
                    v->ple.yields, v->ple.yields_boosted, v->ple.held_slices,
                    v->ple.held_cycles);
        /* A line of its own: a console line of a vmxvisor in a VM has a length limit. */
        kprintf("\n  vcpu %u: %lu cycles in the guest\n", v->id, exit_stats_guest_cycles(&v->stats));
    }
    if (vm->ple_enabled && vm->config.spin_guard)
        print_spin_loops(&vm->spin_sites);
    klog("vm %s: ended (%s), status %d\n", vm->config.name,
            vm->end_reason, vm->exit_status);
    console_unhold();
    vm_free(vm);
    __atomic_store_n(&vm->finished, true, __ATOMIC_RELEASE);
}

void vm_vcpu_released(struct vm *vm)
{
    if (__atomic_add_fetch(&vm->vcpus_stopped, 1, __ATOMIC_ACQ_REL) == vm->vcpu_count)
        vm_finish(vm);
}