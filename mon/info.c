/* `info` subcommands: read-only views of hypervisor state. */
#include "dev/vlapic.h"
#include "mon/monitor.h"
#include "nested/nested.h"
#include "nested/ept02.h"
#include "nested/shadow_vmcs.h"
#include "virt/dirty_log.h"
#include "virt/trace.h"
#include "arch/cpu.h"
#include "arch/percpu.h"
#include "arch/tsc.h"
#include "sched/sched.h"
#include "virt/vm.h"
#include "vmx/exit_reasons.h"
#include "vmx/vmx_cpu.h"
#include "lib/printf.h"
#include "lib/string.h"

static void info_cpus(const char *args)
{
    (void)args;
    kprintf("cpu apic online vmx  vmxon-region        (TSC %lu kHz)\n", tsc_khz());
    for (uint32_t i = 0; i < cpu_count; i++) {
        const struct vmx_cpu_state *v = vmx_cpu_state(i);
        kprintf("%3u %4u %-6s %-4s ", i, percpu[i].apic_id, percpu[i].online ? "yes" : "no",
                v->vmxon ? "on" : "off");
        if (v->vmxon)
            kprintf("0x%016lx\n", v->vmxon_region);
        else
            kprintf("%s\n", v->error ? v->error : "-");
    }
}

static void print_controls(enum vmx_control_class cls, uint32_t word)
{
    kprintf("  %s controls 0x%08x:", vmx_control_class_name(cls), word);
    for (unsigned bit = 0; bit < 32; bit++) {
        if (!(word >> bit & 1))
            continue;
        const char *name = vmx_control_name(cls, bit);
        if (name)
            kprintf(" [%s]", name);
        else
            kprintf(" [bit %u]", bit);
    }
    kprintf("\n");
}

static void print_capability_msrs(void)
{
    struct vmx_capability_msrs c;
    vmx_read_capability_msrs(&c);
    const struct { const char *name; uint64_t value; } msrs[] = {
        { "IA32_VMX_BASIC", c.basic }, { "IA32_VMX_PINBASED_CTLS", c.pinbased },
        { "IA32_VMX_PROCBASED_CTLS", c.procbased }, { "IA32_VMX_EXIT_CTLS", c.exit },
        { "IA32_VMX_ENTRY_CTLS", c.entry }, { "IA32_VMX_MISC", c.misc },
        { "IA32_VMX_CR0_FIXED0", c.cr0_fixed0 }, { "IA32_VMX_CR0_FIXED1", c.cr0_fixed1 },
        { "IA32_VMX_CR4_FIXED0", c.cr4_fixed0 }, { "IA32_VMX_CR4_FIXED1", c.cr4_fixed1 },
        { "IA32_VMX_VMCS_ENUM", c.vmcs_enum }, { "IA32_VMX_PROCBASED_CTLS2", c.procbased2 },
        { "IA32_VMX_EPT_VPID_CAP", c.ept_vpid_cap },
        { "IA32_VMX_TRUE_PINBASED_CTLS", c.true_pinbased },
        { "IA32_VMX_TRUE_PROCBASED_CTLS", c.true_procbased },
        { "IA32_VMX_TRUE_EXIT_CTLS", c.true_exit }, { "IA32_VMX_TRUE_ENTRY_CTLS", c.true_entry },
        { "IA32_VMX_VMFUNC", c.vmfunc },
    };
    for (size_t i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++)
        kprintf("  %-30s 0x%016lx\n", msrs[i].name, msrs[i].value);
}

static void info_vmx(const char *args)
{
    if (!strcmp(args, "msrs")) {
        print_capability_msrs();
        return;
    }
    char line[160];
    vmcs_config_describe(&vmcs_config, line, sizeof(line));
    kprintf("%s\n", line);
    kprintf("  VMCS revision %u, region size %u bytes\n", vmcs_config.revision_id,
            vmcs_config.region_size);
    for (int cls = 0; cls < VMX_CTL_CLASSES; cls++)
        print_controls(cls, vmcs_config.ctl[cls]);
    uint64_t cap = vmcs_config.ept_vpid_cap;
    kprintf("  EPT: 4-level walk, WB%s%s%s, INVEPT%s%s\n", cap & EPT_CAP_2M ? ", 2M pages" : "",
            cap & EPT_CAP_1G ? ", 1G pages" : "", cap & EPT_CAP_AD ? ", accessed/dirty" : "",
            cap & EPT_CAP_INVEPT_SINGLE ? " single-context" : "",
            cap & EPT_CAP_INVEPT_ALL ? " all-context" : "");
    if (cap & VPID_CAP_INVVPID)
        kprintf("  VPID: INVVPID%s%s%s%s\n", cap & VPID_CAP_INVVPID_ADDRESS ? " address" : "",
                cap & VPID_CAP_INVVPID_SINGLE ? " single-context" : "",
                cap & VPID_CAP_INVVPID_ALL ? " all-context" : "",
                cap & VPID_CAP_INVVPID_SINGLE_NONGLOBAL ? " single-context-retaining-globals" : "");
    else
        kprintf("  VPID: not used\n");
    uint64_t misc = vmcs_config.misc;
    kprintf("  activity states:%s%s%s; VMWRITE to exit-information fields: %s\n",
            misc & VMX_MISC_ACTIVITY_HLT ? " HLT" : "",
            misc & VMX_MISC_ACTIVITY_SHUTDOWN ? " shutdown" : "",
            misc & VMX_MISC_ACTIVITY_WAIT_SIPI ? " wait-for-SIPI" : "",
            misc & VMX_MISC_VMWRITE_ANY_FIELD ? "yes" : "no");
}

static const char *const vcpu_state_names[] = {
    [VCPU_RUNNABLE] = "runnable", [VCPU_RUNNING] = "running", [VCPU_HALTED] = "blocked",
    [VCPU_WAIT_SIPI] = "wait-sipi", [VCPU_STOPPED] = "stopped",
};

static void info_vms(const char *args)
{
    (void)args;
    kprintf("vm               vcpus memory    state    resets image\n");
    for (uint32_t i = 0; i < vm_count; i++) {
        const struct vm *vm = &vms[i];
        bool ended = vm->state == VM_ENDED;
        const char *state = ended ? "ended" : vm->sched.hold & VM_HOLD_STOP ? "stopped"
                                   : vm->sched.hold & VM_HOLD_RESET ? "resetting" : "running";
        kprintf("%-16s %5u %5lu MiB %-9s %6lu %s", vm->config.name, vm->vcpu_count,
                vm->config.memory >> 20, state, vm->resets, vm->config.image);
        if (ended)
            kprintf(" (%s, status %d)", vm->end_reason, vm->exit_status);
        kprintf("\n");
    }
}

static void info_vcpus(const char *args)
{
    (void)args;
    kprintf("vm           vcpu cpu state     vpid   run-cycles  wait-cycles migr vmptrld "
            "vmclear   entries launches  irqs timer  ipis   ple\n");
    for (uint32_t i = 0; i < vm_count; i++) {
        const struct vm *vm = &vms[i];
        if (!!vm_has_finished(vm))
            continue;
        for (uint32_t v = 0; v < vm->vcpu_count; v++) {
            const struct vcpu *c = &vm->vcpus[v];
            /* A stopped VM's vCPUs are off their CPUs whatever they wait for. */
            const char *where = c->se.state == VCPU_RUNNING ? "running"
                                : vm->sched.hold & VM_HOLD_STOP ? "stopped"
                                : vcpu_state_names[c->se.state];
            kprintf("%-12s %4u %3u %-9s %4u %12lu %12lu %4lu %7lu %7lu %9lu %8lu %5lu %5lu %5lu "
                    "%5lu%s%s\n",
                    vm->config.name, c->id, c->se.cpu, where, c->vpid, c->se.run_cycles,
                    c->se.wait_cycles, c->lv.migrations, c->lv.vmptrlds, c->lv.vmclears,
                    exit_stats_entries(&c->stats), c->stats.launches,
                    c->stats.interrupts_injected, c->apic->timer_fired, c->stats.ipis_sent,
                    c->ple.exits, c->stats.ipis_dropped ? " (SMI IPIs dropped)" : "",
                    nested_in_l2(c) ? " (in L2)" : c->nested ? " (L1 in VMX operation)" : "");
        }
    }
}

static void info_ple(const char *args)
{
    (void)args;
    kprintf("vm           vcpu ple    exits   window      min        max   yields  boosted "
            "failed     held\n");
    for (uint32_t i = 0; i < vm_count; i++) {
        const struct vm *vm = &vms[i];
        if (vm_has_finished(vm))
            continue;
        for (uint32_t v = 0; v < vm->vcpu_count; v++) {
            const struct vcpu *c = &vm->vcpus[v];
            kprintf("%-12s %4u %-3s %8lu %10u %10u %10u %8lu %8lu %6lu %8lu\n", vm->config.name,
                    c->id, vm->ple_enabled ? "on" : "off", c->ple.exits, c->ple.window,
                    c->ple.window_min, c->ple.window_max, c->ple.yields, c->ple.yields_boosted,
                    c->ple.yields_failed, c->ple.held_slices);
        }
    }
}

static void info_trace(const char *args)
{
    uint32_t count = 0;
    for (const char *c = args; *c >= '0' && *c <= '9'; c++)
        count = count * 10 + (uint32_t)(*c - '0');
    trace_print(count ? count : 20);
}

static void info_sched(const char *args)
{
    (void)args;
    sched_print_queues();
}

/* The vCPU `word` names in `vm` (its number); false, having said why, if
 * it names none. */
static bool vcpu_number(const struct vm *vm, const char *word, uint32_t *id)
{
    uint32_t n = 0;
    const char *c = word;
    for (; *c >= '0' && *c <= '9' && n < VM_MAX_VCPUS; c++)
        n = n * 10 + (uint32_t)(*c - '0');
    if (*c || c == word || n >= vm->vcpu_count) {
        kprintf("vm %s has vCPUs 0 to %u, not '%s'\n", vm->config.name, vm->vcpu_count - 1, word);
        return false;
    }
    *id = n;
    return true;
}

static void info_exits(const char *args)
{
    char trimmed[64];
    size_t len = strlen(args);
    while (len && args[len - 1] == ' ')
        len--;
    snprintf(trimmed, sizeof(trimmed), "%.*s", (int)len, args);
    args = trimmed;
    size_t name_len = 0;
    while (args[name_len] && args[name_len] != ' ')
        name_len++;
    const char *vcpu = args + name_len;
    while (*vcpu == ' ')
        vcpu++;
    if (*vcpu) {
        struct vm *vm = vm_find_live(args, name_len);
        uint32_t id;
        if (!vm)
            kprintf("no running VM named '%.*s'\n", (int)name_len, args);
        else if (vcpu_number(vm, vcpu, &id))
            vcpu_print_exits(vm, id);
        return;
    }
    bool shown = false;
    for (uint32_t i = 0; i < vm_count; i++) {
        if (!!vm_has_finished(&vms[i]) || (*args && strcmp(args, vms[i].config.name)))
            continue;
        vm_print_exits(&vms[i]);
        shown = true;
    }
    if (!shown)
        kprintf(*args ? "no running VM named '%s'\n" : "no running VMs%s\n", args);
}

/* Hardware VMCS shadowing as the vCPU uses it (nested/shadow_vmcs.h,
 * nested/shadow_vmcs02.h): the fields learnt to shadow beyond the static
 * lists for the current vmcs12, four to a line, and L2's shadow02. */
static void print_shadowing(const struct nested_vmx *n)
{
    /* Without a current VMCS the region holds another's leftovers. */
    const struct shadow_promotion *p = n->current_vmptr != NESTED_NO_VMCS && n->shadow_vmcs.learnt
                                           ? &n->shadow_vmcs.learnt->promotion : NULL;
    kprintf("  VMCS shadowing: vmcs01 %s; %u field(s) learnt%s",
            n->vmcs02_shadow != VMCS02_NOT_SHADOW ? "links vmcs02 as its shadow VMCS"
            : n->shadow_linked                    ? "links a shadow VMCS"
                                                  : "links no shadow VMCS",
            p ? p->count : 0, p && p->count ? ":" : "");
    for (unsigned i = 0; p && i < p->count; i++)
        kprintf("%s%s", i % 4 ? ", " : "\n    ", vmcs_field_lookup(p->promoted[i].encoding)->name);
    kprintf("\n  L1's shadow VMCSs: linked at %lu VMPTRLDs, %lu of them loading every field "
            "(the others relinked the one parked with the cached VMCS)",
            n->shadow_attaches, n->shadow_attach_loads);
    kprintf("\n  vmcs02 as L1's shadow VMCS: after %lu nested exits; %lu entries took it back, "
            "%lu times it stopped before one (L1 went on to another VMCS, or %lu times made "
            "VMREADs and VMWRITEs that exit at half its exits or more); it shows CR0, CR4 and "
            "EFER after the exit reasons of mask 0x%lx (bit: reason mod 64)",
            n->vmcs02_shadow_parks, n->vmcs02_shadow_takes, n->vmcs02_shadow_leaves,
            n->vmcs02_shadow_steps_aside, n->vmcs02_swap_reasons);
    kprintf("\n  L1's VMCSs L0 wrote back: %lu VMPTRLDs compared one's region with L0's copy, "
            "%lu of them finding it unchanged",
            n->copies_compared, n->copies_unchanged);
    kprintf("\n  L2's shadow VMCS: ");
    if (n->shadow02_of == NESTED_NO_VMCS)
        kprintf("holds none");
    else
        kprintf("holds L1's at 0x%lx", n->shadow02_of);
    kprintf(", %s\n", n->shadow02_linked ? "linked from vmcs02" : "not linked");
}

/* One vCPU's VMX operation as L1 left it in its current vmcs12 (the cached
 * copy: read without stopping the vCPU, so a moment's view; what L1 wrote
 * through the shadow VMCS since its last VMLAUNCH/VMRESUME is not in it
 * yet, nor the rarely read guest state since the last nested exit:
 * nested/switch.h). */
static void print_nested_vcpu(const struct vcpu *c)
{
    const struct nested_vmx *n = c->nested;
    if (!n) {
        kprintf("vcpu %u: not in VMX operation\n", c->id);
        return;
    }
    kprintf("vcpu %u: VMX operation, VMXON region 0x%lx, running %s\n", c->id, n->vmxon_ptr,
            c->in_l2 ? "L2" : "L1");
    print_shadowing(n);
    kprintf("  VMLAUNCH/VMRESUME %lu in all; since VMXON the entry checked in full the controls "
            "and host state %lu, the guest state %lu times, alone the event windows %lu, an event "
            "to inject %lu times, wrote vmcs02's entry state %lu times, merged L1's MSR bitmap "
            "%lu times\n",
            c->stats.count[EXIT_REASON_VMLAUNCH] + c->stats.count[EXIT_REASON_VMRESUME],
            n->entry_work.full_controls, n->entry_work.full_guest_state, n->entry_work.windows,
            n->entry_work.injections, n->entry_work.entry_state, n->entry_work.msr_bitmap_merges);
    if (n->current_vmptr == NESTED_NO_VMCS) {
        kprintf("  no current VMCS\n");
        return;
    }
    const struct vmcs12 *v12 = n->vmcs12;
    kprintf("  current vmcs12 0x%lx, launch state %s, VM-instruction error %lu\n",
            n->current_vmptr, v12->launch_state == VMCS12_LAUNCHED ? "launched" : "clear",
            vmcs12_get(v12, VM_INSTRUCTION_ERROR));
    print_controls(VMX_CTL_PIN, (uint32_t)vmcs12_get(v12, PIN_BASED_VM_EXEC_CONTROL));
    print_controls(VMX_CTL_PROC, (uint32_t)vmcs12_get(v12, CPU_BASED_VM_EXEC_CONTROL));
    print_controls(VMX_CTL_PROC2, (uint32_t)vmcs12_get(v12, SECONDARY_VM_EXEC_CONTROL));
    print_controls(VMX_CTL_EXIT, (uint32_t)vmcs12_get(v12, VM_EXIT_CONTROLS));
    print_controls(VMX_CTL_ENTRY, (uint32_t)vmcs12_get(v12, VM_ENTRY_CONTROLS));
    kprintf("  guest RIP 0x%lx RSP 0x%lx RFLAGS 0x%lx CR0 0x%lx CR3 0x%lx CR4 0x%lx EFER 0x%lx\n",
            vmcs12_get(v12, GUEST_RIP), vmcs12_get(v12, GUEST_RSP),
            vmcs12_get(v12, GUEST_RFLAGS), vmcs12_get(v12, GUEST_CR0),
            vmcs12_get(v12, GUEST_CR3), vmcs12_get(v12, GUEST_CR4),
            vmcs12_get(v12, GUEST_IA32_EFER));
    if (n->adjusted_pending)
        kprintf("  (CR0, CR4 and EFER as L1 last saw them: L1 has not read L2's since the "
                "last exit)\n");
    uint32_t reason = (uint32_t)vmcs12_get(v12, VM_EXIT_REASON);
    const char *name = vmx_exit_reason_name(reason & 0xffff);
    kprintf("  last exit to L1: reason %u (%s%s), qualification 0x%lx\n", reason & 0xffff,
            name ? name : "unknown", reason & EXIT_REASON_ENTRY_FAILURE ? ", entry failure" : "",
            vmcs12_get(v12, EXIT_QUALIFICATION));
}

/* The VM's EPT02 roots (nested/ept02.h), a moment's view, and the 4K/2M/1G
 * mappings its vCPUs made in them. */
static void print_shadow_ept(const struct vm *vm)
{
    const struct ept02_cache *c = vm->ept02;
    if (!c) {
        kprintf("shadow EPT: none made (no L2 with EPT yet)\n");
        return;
    }
    unsigned live = 0, stale = 0;
    for (unsigned i = 0; i < EPT02_SLOTS; i++) {
        if (!c->slots[i].ept.pml4)
            continue;
        live += !c->slots[i].stale;
        stale += c->slots[i].stale;
    }
    uint64_t maps[3] = { 0 };
    for (uint32_t v = 0; v < vm->vcpu_count; v++)
        for (unsigned s = 0; s < 3; s++)
            maps[s] += vm->vcpus[v].stats.ept02_maps[s];
    kprintf("shadow EPT: %u live root(s), %u stale still in use; %lu of %lu table pages; "
            "mappings 4K %lu, 2M %lu, 1G %lu\n", live, stale, c->tables, c->table_budget,
            maps[0], maps[1], maps[2]);
    kprintf("  roots made %lu, found again %lu, evicted %lu, invalidated %lu, "
            "restarted over budget %lu\n", c->stats.created, c->stats.reused, c->stats.evicted,
            c->stats.invalidated, c->stats.over_budget);
}

static void info_nested(const char *args)
{
    struct vm *vm = vm_find_live(args, strlen(args));
    if (!vm) {
        kprintf("no running VM named '%s'\n", args);
        return;
    }
    if (!vm->config.nested) {
        kprintf("vm %s: nested VMX is off (nested = on in its configuration offers it)\n",
                vm->config.name);
        return;
    }
    for (uint32_t v = 0; v < vm->vcpu_count; v++)
        print_nested_vcpu(&vm->vcpus[v]);
    print_shadow_ept(vm);
}

/* 256 vector bits (eight words, word 0 for vectors 0-31) as one hex
 * number, vector 255 first. */
static void print_vector_bits(const char *name, const uint32_t words[8])
{
    kprintf("  %-6s", name);
    for (int i = 7; i >= 0; i--)
        kprintf("%08x%s", words[i], i ? "_" : "\n");
}

/* A 256-bit register of the page (ISR, TMR, IRR). */
static void print_apic_bank(const char *name, const struct vlapic *apic, uint32_t bank)
{
    uint32_t words[8];
    for (unsigned i = 0; i < 8; i++)
        words[i] = vlapic_get(apic, bank + 0x10 * i);
    print_vector_bits(name, words);
}

/* One vCPU's local APIC as the model holds it (read without stopping the
 * vCPU: a moment's view, and with APIC virtualization the processor may
 * be changing IRR, ISR and TPR in the page as the guest runs). */
static void print_lapic(const struct vcpu *c)
{
    const struct vlapic *a = c->apic;
    static const char *const modes[] = { "disabled", "xAPIC", "x2APIC", "invalid" };
    uint64_t now = rdtsc();
    kprintf("vcpu %u: %s, %s, ID %u, TPR 0x%02x PPR 0x%02x SVR 0x%03x%s; highest IRR %d ISR %d, "
            "pending %d\n", c->id, vcpu_state_names[c->se.state], modes[vlapic_mode(a)], a->id,
            vlapic_get(a, APIC_REG_TPR), vlapic_ppr(a), vlapic_get(a, APIC_REG_SVR),
            c->se.state == VCPU_HALTED ? (c->halt_interruptible ? ", halted with IF=1"
                                                                : ", halted with IF=0")
                                       : "",
            vlapic_highest_irr(a), vlapic_highest_isr(a), vlapic_pending_vector(a));
    uint32_t inbox[8];
    for (unsigned i = 0; i < 8; i++)
        inbox[i] = __atomic_load_n(&a->inbox[i], __ATOMIC_RELAXED);
    print_apic_bank("IRR", a, APIC_REG_IRR);
    print_vector_bits("inbox", inbox);
    print_apic_bank("ISR", a, APIC_REG_ISR);
    print_apic_bank("TMR", a, APIC_REG_TMR);
    uint32_t lvt = vlapic_get(a, APIC_REG_LVT_TIMER);
    kprintf("  timer: LVT 0x%05x, %s", lvt, a->timer_armed ? "armed" : "not armed");
    if (a->timer_armed)
        kprintf(", due in %ld cycles", (long)(a->timer_deadline - now));
    kprintf(", fired %lu; requests 0x%x, NMI pending %d, INIT pending %d, interrupt window %s\n",
            a->timer_fired, c->requests, c->nmi_pending, c->init_pending,
            c->window_exiting ? "on" : "off");
}

static void info_lapic(const char *args)
{
    char name[64];
    size_t len = 0;
    while (args[len] && args[len] != ' ' && len + 1 < sizeof(name)) {
        name[len] = args[len];
        len++;
    }
    name[len] = '\0';
    struct vm *vm = vm_find_live(name, len);
    if (!vm) {
        kprintf("no running VM named '%s'\n", name);
        return;
    }
    const char *which = args + len;
    while (*which == ' ')
        which++;
    uint32_t first = 0, end = vm->vcpu_count;
    if (*which) {
        if (!vcpu_number(vm, which, &first))
            return;
        end = first + 1;
    }
    for (uint32_t i = first; i < end; i++)
        print_lapic(&vm->vcpus[i]);
}

/* Host memory and what each VM has reserved and backed (virt/mem_reserve.h). */
static void info_memory(const char *args)
{
    (void)args;
    struct mem_host_totals t;
    mem_host_totals(&t);
    uint64_t unreserved = t.free_pages > t.owed_pages + MEM_RESERVE_HOST_PAGES
                              ? t.free_pages - t.owed_pages - MEM_RESERVE_HOST_PAGES : 0;
    kprintf("host: %lu MiB free, %lu MiB of it owed to VMs' reservations, %lu MiB unreserved\n",
            t.free_pages >> 8, t.owed_pages >> 8, unreserved >> 8);
    kprintf("%-12s %10s %12s %10s %12s\n", "vm", "RAM MiB", "reserved MiB", "backed MiB",
            "tables MiB");
    for (uint32_t i = 0; i < vm_count; i++) {
        const struct vm *vm = &vms[i];
        if (vm_has_finished(vm))
            continue;
        kprintf("%-12s %10lu %12lu %10lu %12lu\n", vm->config.name, vm->ram_size >> 20,
                vm->mem.ram_pages >> 8, vm->mem.backed_pages >> 8, vm->mem.overhead_pages >> 8);
    }
}

static void info_dirty_rate(const char *args)
{
    struct vm *vm = vm_find(args, strlen(args));
    if (!vm) {
        kprintf("no VM named '%s'\n", args);
        return;
    }
    dirty_log_print(vm);
}

const struct monitor_command info_commands[] = {
    { "memory", "", "host memory: free, reserved; per VM: RAM, reserved, backed", info_memory },
    { "vms", "", "VMs: vCPUs, memory, state, exit status", info_vms },
    { "vcpus", "", "vCPUs: CPU, state, VPID, run/wait cycles, migrations, VMCS loads", info_vcpus },
    { "sched", "", "each CPU's run queue (* = on the CPU)", info_sched },
    { "ple", "", "PAUSE-loop exiting per vCPU: exits, window now/min/max, directed yields",
      info_ple },
    { "trace", "[N]", "the newest N (default 20) events: PLE window changes, directed yields",
      info_trace },
    { "exits", "[VM [VCPU]]", "VM exits per reason: count and average handling ticks",
      info_exits },
    { "registers", "VM [VCPU]", "a vCPU's registers, segments, control registers (all its "
      "vCPUs without VCPU)", info_registers },
    { "vmcs", "VM VCPU", "the vCPU's VMCS, every field, printed from its CPU", info_vmcs },
    { "lapic", "VM [VCPU]", "local APIC per vCPU: mode, TPR/PPR, IRR (and interrupts from other "
      "CPUs not yet in it), ISR, TMR, timer, pending events", info_lapic },
    { "nested", "VM", "nested VMX per vCPU: VMX operation, VMCS shadowing, what the entries "
      "checked and wrote, current vmcs12 (controls, guest state, last exit to L1)", info_nested },
    { "dirty_rate", "VM", "the last dirty_rate measurement: pages/s, MiB/s, the dirty pages' "
      "guest-physical ranges", info_dirty_rate },
    { "cpus", "", "physical CPUs and their VMX state", info_cpus },
    { "vmx", "[msrs]", "negotiated VMX configuration (msrs: raw capability MSRs)", info_vmx },
    { NULL, NULL, NULL, NULL },
};
