#ifndef VMX_LOADED_VMCS_H
#define VMX_LOADED_VMCS_H
/*
 * Where a VMCS lives (KVM's struct loaded_vmcs): a VMCS may be active on one
 * CPU at a time; moving it to another CPU needs VMCLEAR on the old one first,
 * which also resets its launch state, so the next entry is VMLAUNCH (SDM Vol.
 * 3C 25.1 and 25.11.3). Each CPU keeps a list of the VMCSs active on it and
 * its current one, so VMPTRLD runs only when the current VMCS changes.
 */
#include <stdint.h>
#include <stdbool.h>
#include "arch/cpu.h"
#include "arch/percpu.h"
#include "vmx/vmcs.h"
#include "vmx/vmcs_controls.h"
#include "vmx/vmx_insn.h"

#define VMCS_NOT_LOADED UINT32_MAX

struct loaded_vmcs {
    uint64_t vmcs;          /* physical address */
    uint32_t cpu;           /* where it is active, or VMCS_NOT_LOADED */
    bool launched;
    /* Its guest may have virtual-NMI blocking: an NMI was injected into it
     * and no exit has shown the blocking gone since (KVM's
     * nmi_known_unmasked, the other way round; virt/event_inject.c). */
    bool nmi_blocking_possible;
    /* A shadow VMCS its link pointer names (nested/shadow_vmcs.h), or 0:
     * the processor may keep it active where this one is used, so it is
     * cleared with it (KVM's loaded_vmcs->shadow_vmcs). */
    uint64_t shadow;
    /* The HOST_RSP it holds while it is not the vCPU's current VMCS (the
     * current one's is in guest_regs, where the entry stub keeps it), 0
     * before the first entry writes one. */
    uint64_t host_rsp;
    /* Its controls as last written (vmx/vmcs_controls.h): valid once
     * loaded_vmcs_write_controls wrote them all. */
    struct vmcs_controls controls;
    /* Counts the changes of `controls` but for the event windows
     * (PROC_EVENT_WINDOW_CONTROLS): what is made from them (nested VMX's
     * vmcs02) is made again when it moved. */
    uint32_t controls_generation;
    uint64_t vmptrlds, vmclears, migrations;
};

/* The VMCS current on each CPU (its physical address, 0 if none), touched
 * by its own CPU only, with interrupts off. */
extern uint64_t loaded_vmcs_current[MAX_CPUS];
/* loaded_vmcs_load's out-of-line parts: a VMPTRLD that failed (fatal); a
 * VMCS not active on this CPU yet. */
__attribute__((noreturn, cold)) void loaded_vmcs_vmptrld_failed(const struct loaded_vmcs *lv);
bool loaded_vmcs_arrive(struct loaded_vmcs *lv);

/* VMPTRLD of a VMCS active on this CPU `me`. */
static inline void loaded_vmcs_make_current(struct loaded_vmcs *lv, uint32_t me)
{
    if (vmptrld(lv->vmcs) != VMX_SUCCEED)
        loaded_vmcs_vmptrld_failed(lv);
    loaded_vmcs_current[me] = lv->vmcs;
    lv->vmptrlds++;
}

/* Makes the VMCS current on this CPU. If it was active on another CPU it is
 * cleared there first (by a cross-CPU call); returns true when it arrived
 * from elsewhere (or for the first time), so the caller rewrites the per-CPU
 * host state and flushes the vCPU's TLB context. Inline: nested VMX switches
 * VMCS twice per round trip, on the same CPU. */
static inline bool loaded_vmcs_load(struct loaded_vmcs *lv)
{
    uint32_t me = this_cpu()->index;
    /* With interrupts off: a clear another CPU asks of this one runs here
     * from an interrupt and may make it no CPU's. */
    uint64_t flags = irq_save();
    bool here = lv->cpu == me;
    if (here && loaded_vmcs_current[me] != lv->vmcs)
        loaded_vmcs_make_current(lv, me);
    irq_restore(flags);
    return here ? false : loaded_vmcs_arrive(lv);
}
/* Writes every control of `c` into `lv`, the current VMCS: a new VMCS, or
 * one whose controls are all made anew. */
void loaded_vmcs_write_controls(struct loaded_vmcs *lv, const struct vmcs_controls *c);
/* The primary and secondary processor-based controls of `lv`, the current
 * VMCS, become `value`: a VMWRITE only if that changes them. */
static inline void loaded_vmcs_set_proc(struct loaded_vmcs *lv, uint32_t value)
{
    if (lv->controls.proc != value) {
        lv->controls_generation += vmcs_proc_change_counts(lv->controls.proc, value);
        lv->controls.proc = value;
        vmcs_write(CPU_BASED_VM_EXEC_CONTROL, value);
    }
}
static inline void loaded_vmcs_set_proc2(struct loaded_vmcs *lv, uint32_t value)
{
    if (lv->controls.proc2 != value) {
        lv->controls_generation++;
        lv->controls.proc2 = value;
        vmcs_write(SECONDARY_VM_EXEC_CONTROL, value);
    }
}
/* Compares `lv`'s controls with the VMCS itself if it is current here and
 * this hypervisor is not a VM: a difference is a hypervisor bug (a control
 * written around the setters above), fatal with the field's name. Done as
 * the vCPU leaves its CPU. */
void loaded_vmcs_check_controls(const struct loaded_vmcs *lv);

/* VMCLEARs it wherever it is active; it is then no CPU's. */
void loaded_vmcs_clear(struct loaded_vmcs *lv);
/* VMCLEARs its shadow VMCS where it may be active and forgets it (the
 * link pointer is the caller's to change or drop). */
void loaded_vmcs_drop_shadow(struct loaded_vmcs *lv);
#endif
