#ifndef NESTED_SWITCH_H
#define NESTED_SWITCH_H
/*
 * The world switch between L1 and L2 (KVM's nested_vmx_run and
 * nested_vmx_vmexit): a nested VM entry builds vmcs02 from vmcs12 and
 * vmcs01 and makes it the vCPU's VMCS; a nested VM exit copies vmcs02 into
 * vmcs12, loads L1's host state from vmcs12 into vmcs01 (SDM Vol. 3C 28.5)
 * and goes back to it.
 */
#include <stdint.h>
#include <stdbool.h>
#include "nested/nested.h"
#include "nested/vmcs12.h"
#include "virt/vcpu.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_controls.h"

/* Works out the field lists the switch copies (at start-up, before any
 * vCPU runs). */
void nested_switch_init(void);
/* What of L1's state an entry gives L2 where vmcs12's entry controls do
 * not load L2's own (SDM Vol. 3C 27.3.2.1), 0 where they do: read from
 * vmcs01 (current) before the entry starts, for vmcs02 may be current from
 * then on (nested/vmcs02_as_shadow.h, the take). */
struct nested_l1_carry {
    uint64_t efer, dr7, debugctl;
};
static inline void nested_read_l1_carry(struct vcpu *v, struct nested_l1_carry *l1)
{
    uint32_t entry12 = (uint32_t)vmcs12_get(v->nested->vmcs12, VM_ENTRY_CONTROLS);
    bool load_debug = entry12 & ENTRY_LOAD_DEBUG_CONTROLS;
    l1->efer = entry12 & ENTRY_LOAD_EFER ? 0 : vmcs_read(GUEST_IA32_EFER);
    l1->dr7 = load_debug ? 0 : vmcs_read(GUEST_DR7);
    l1->debugctl = load_debug ? 0 : vmcs_read(GUEST_IA32_DEBUGCTL);
}
/* L1's VMLAUNCH (resume false) or VMRESUME whose controls and host state
 * passed their checks: the guest-state checks and the VM-entry MSR-load
 * list, then L2 runs; a failure of those ends the entry in a VM exit to L1
 * (SDM Vol. 3C 27.8). */
void nested_vm_entry(struct vcpu *vcpu, bool resume, const struct nested_l1_carry *l1);
/* Where a nested exit's exit information comes from. */
enum nested_exit_info {
    NESTED_EXIT_INFO_VMCS02,        /* vmcs02's exit: its fields as they are */
    NESTED_EXIT_INFO_SYNTHETIC,     /* made up by L0: the qualification and
                                     * interruption information given */
    NESTED_EXIT_INFO_REQUALIFIED,   /* vmcs02's, but the qualification given
                                     * (an EPT12 violation or misconfiguration) */
};
/* A VM exit from L2 that L1 gets (nested/reflect.h decided, or L0 made
 * one up: an interrupt, L1's preemption timer, an EPT12 fault). */
void nested_vm_exit(struct vcpu *vcpu, uint32_t reason, enum nested_exit_info info,
                    uint64_t qualification, uint32_t interruption_info);
/* vmcs12 gets the guest state of L2's last nested exit that stayed in
 * vmcs02 (the fields L1 seldom reads: segments, descriptor tables,
 * SYSENTER MSRs, ...): before L0 reads or writes those in vmcs12 (an
 * emulated VMREAD or VMWRITE, the guest-state checks) and before vmcs12
 * goes back to L1's memory. The vCPU's VMCS is current (vmcs01, or vmcs02
 * once an entry took it back: nested/vmcs02_as_shadow.h), and is again
 * after. */
void nested_sync_l2_state(struct vcpu *vcpu);
/* Only what the CR0/CR4 three-way rule and the exit controls give vmcs12
 * at a nested exit, if it waits in vmcs02 (a lazy exit of vmcs02 as L1's
 * shadow, nested/vmcs02_as_shadow.h): before L0 reads or writes a field
 * of vmcs12 that is one of them or an input of the rule (a control).
 * Called as nested_sync_l2_state. */
void nested_settle_l2_adjusted_state(struct vcpu *vcpu);
/* vmcs02's own entry failed (a VMfail the software checks did not foresee):
 * L1's VMLAUNCH/VMRESUME ends in VMfailValid (error 7), as KVM does. */
void nested_entry_failed_late(struct vcpu *vcpu);
#endif
