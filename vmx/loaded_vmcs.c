#include "vmx/loaded_vmcs.h"
#include "vmx/vmx_controls.h"
#include "vmx/vmx_insn.h"
#include "arch/percpu.h"
#include "arch/platform.h"
#include "arch/smp.h"
#include "arch/cpu.h"
#include "arch/cpuid_cache.h"

#define MAX_LOADED_PER_CPU 128

struct cpu_vmcs_state {
    struct loaded_vmcs *loaded[MAX_LOADED_PER_CPU];
    uint32_t count;
};

/* Touched only by its own CPU (cross-CPU clears run there by IPI). */
static struct cpu_vmcs_state cpus[MAX_CPUS];
uint64_t loaded_vmcs_current[MAX_CPUS];

static void forget_on_this_cpu(struct loaded_vmcs *lv)
{
    uint32_t me = this_cpu()->index;
    struct cpu_vmcs_state *c = &cpus[me];
    for (uint32_t i = 0; i < c->count; i++) {
        if (c->loaded[i] == lv) {
            c->loaded[i] = c->loaded[--c->count];
            break;
        }
    }
    if (loaded_vmcs_current[me] == lv->vmcs)
        loaded_vmcs_current[me] = 0;
}

static void clear_here(void *arg)
{
    struct loaded_vmcs *lv = arg;
    if (vmclear(lv->vmcs) != VMX_SUCCEED)
        panic("VMCLEAR of VMCS 0x%lx failed", lv->vmcs);
    if (lv->shadow && vmclear(lv->shadow) != VMX_SUCCEED)
        panic("VMCLEAR of shadow VMCS 0x%lx failed", lv->shadow);
    forget_on_this_cpu(lv);
    lv->vmclears++;
    lv->launched = false;
    __atomic_store_n(&lv->cpu, VMCS_NOT_LOADED, __ATOMIC_RELEASE);
}

void loaded_vmcs_clear(struct loaded_vmcs *lv)
{
    uint32_t cpu = __atomic_load_n(&lv->cpu, __ATOMIC_ACQUIRE);
    if (cpu != VMCS_NOT_LOADED)
        smp_call_on(cpu, clear_here, lv);
}

static void clear_shadow_here(void *arg)
{
    struct loaded_vmcs *lv = arg;
    if (vmclear(lv->shadow) != VMX_SUCCEED)
        panic("VMCLEAR of shadow VMCS 0x%lx failed", lv->shadow);
}

void loaded_vmcs_drop_shadow(struct loaded_vmcs *lv)
{
    uint32_t cpu = __atomic_load_n(&lv->cpu, __ATOMIC_ACQUIRE);
    if (lv->shadow && cpu != VMCS_NOT_LOADED)
        smp_call_on(cpu, clear_shadow_here, lv);
    lv->shadow = 0;
}

void loaded_vmcs_vmptrld_failed(const struct loaded_vmcs *lv)
{
    panic("VMPTRLD of VMCS 0x%lx failed", lv->vmcs);
}

bool loaded_vmcs_arrive(struct loaded_vmcs *lv)
{
    uint32_t me = this_cpu()->index;
    struct cpu_vmcs_state *c = &cpus[me];
    if (lv->cpu != VMCS_NOT_LOADED)
        lv->migrations++;
    loaded_vmcs_clear(lv);
    /* A clear requested by another CPU runs here from an interrupt and
     * edits this CPU's list: keep it out while we do. */
    uint64_t flags = irq_save();
    if (c->count == MAX_LOADED_PER_CPU)
        panic("more than %d VMCSs active on cpu %u", MAX_LOADED_PER_CPU, me);
    c->loaded[c->count++] = lv;
    lv->cpu = me;
    if (loaded_vmcs_current[me] != lv->vmcs)
        loaded_vmcs_make_current(lv, me);
    irq_restore(flags);
    return true;
}

void loaded_vmcs_write_controls(struct loaded_vmcs *lv, const struct vmcs_controls *c)
{
#define WRITE_CONTROL(type, name, field) vmcs_write(field, c->name);
    VMCS_CONTROLS(WRITE_CONTROL)
#undef WRITE_CONTROL
    lv->controls = *c;
    lv->controls.entry &= ~(uint32_t)ENTRY_IA32E_MODE_GUEST;   /* the processor's to change */
    lv->controls_generation++;
}

/* One kept control against the VMCS (current). */
static void check_control(const struct loaded_vmcs *lv, enum vmcs_field field, uint64_t kept)
{
    uint64_t now = vmcs_read(field);
    if (field == VM_ENTRY_CONTROLS)
        now &= ~(uint64_t)ENTRY_IA32E_MODE_GUEST;
    if (now != kept)
        panic("VMCS 0x%lx: %s is 0x%lx, its kept copy 0x%lx (written around the setters)",
              lv->vmcs, vmcs_field_lookup(field)->name, now, kept);
}

void loaded_vmcs_check_controls(const struct loaded_vmcs *lv)
{
    /* In a VM each VMREAD may be an exit to the hypervisor below: checked
     * where it costs nothing, as L0 (every system test runs one). */
    if (running_in_vm() || !lv->vmcs || loaded_vmcs_current[this_cpu()->index] != lv->vmcs)
        return;     /* (or released by a reset, or never loaded here) */
#define CHECK_CONTROL(type, name, field) check_control(lv, field, lv->controls.name);
    VMCS_CONTROLS(CHECK_CONTROL)
#undef CHECK_CONTROL
}
