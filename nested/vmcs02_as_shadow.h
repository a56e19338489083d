#ifndef NESTED_VMCS02_AS_SHADOW_H
#define NESTED_VMCS02_AS_SHADOW_H
/*
 * vmcs02 as L1's shadow VMCS between a nested exit and the next entry
 * (ACRN's scheme, ../shared/NESTED.md §3; `vmcs02_shadow = on`). Rather
 * than copying L2's state and the exit information from vmcs02 into
 * vmcs12 and from there into a shadow VMCS of its own at every nested
 * exit, and the fields L1 wrote back at every entry, L0 makes vmcs02
 * itself the shadow VMCS vmcs01 links while L1 runs: VMCLEARed, its
 * region's shadow-VMCS indicator set (SDM Vol. 3C 25.10, 25.11.3); and
 * before the entry VMCLEARs it again, clears the indicator and launches it
 * as an ordinary VMCS (VMCLEAR made it clear, 25.11.3).
 *
 * Only the fields vmcs02 holds as vmcs12 has them go to it
 * (nested/vmcs02_fields.h): L1 reads them all through its VMREAD bitmap,
 * and writes through its VMWRITE bitmap the few that it changes between
 * nearly all exits and entries and that need no checks of their own, or
 * the checks an entry runs on every field L1 wrote (nested_note_written):
 * RIP, RSP, RFLAGS, the interruptibility state, the event to inject, the
 * VMX-preemption timer value and the PML index. The last five vmcs02 holds
 * only for L1: while L2 runs they are L0's (vmcs02 has no PML; its timer
 * is L0's slice), so a nested exit puts vmcs12's values there and the
 * entry takes them back, as it takes the other writable ones.
 * A few fields vmcs02 has values of its own in, which L1s touch between
 * most exits and entries, are swapped: the primary controls (writable
 * too), CR0, CR4 and EFER show vmcs12's values while vmcs02 is the shadow
 * and get vmcs02's back at the entry. Every other field, the rest of the
 * controls and the host state above all, reaches L1 through the
 * emulation: vmcs12 has it.
 *
 * So vmcs12 lacks the guest state and exit information a nested exit left
 * in vmcs02 until L0 needs them: nested_sync_l2_state reads them from
 * vmcs02, parked or not. An emulated VMWRITE of such a field writes it
 * into vmcs02 as well (vmcs02_as_shadow_written). A VMCS that stops being
 * current (VMPTRLD of another, VMCLEAR, VMXOFF) ends it: vmcs02 is
 * ordinary and unlinked again (vmcs02_as_shadow_leave).
 *
 * A nested exit that L0 makes up (an interrupt, an EPT12 violation, a
 * failed entry) writes its exit information into vmcs02 with VMWRITE: the
 * processor must allow VMWRITE to the read-only fields (IA32_VMX_MISC bit
 * 29), or the scheme is not used. A vmcs12 that has learnt fields to
 * shadow (nested/shadow_promote.h) keeps its own shadow VMCS.
 */
#include <stdint.h>
#include <stdbool.h>

struct vcpu;

/* Where vmcs02 is in the scheme: not used (vmcs01 links vmcs12's own
 * shadow VMCS, or none); L1's shadow VMCS (L1 runs); an ordinary VMCS
 * again, its taken fields in vmcs12 (from VMLAUNCH or VMRESUME until the
 * next nested exit, L2 running meanwhile), vmcs01 still linking it. */
enum vmcs02_shadow_state { VMCS02_NOT_SHADOW, VMCS02_PARKED, VMCS02_TAKEN };

/* Builds the VMREAD and VMWRITE bitmaps from the fields the processor
 * keeps as written (shadow_vmcs_keeps); the scheme is available with VMCS
 * shadowing if VMWRITE may write read-only fields. At start-up, after
 * shadow_vmcs_init. */
void vmcs02_as_shadow_init(void);
/* Whether the vCPU's VM uses the scheme: the processor allows it and the
 * VM's `vmcs02_shadow` asks for it, `auto` where this hypervisor is not a
 * VM itself (made at VMXON, nested_vmx.vmcs02_shadow_on). */
bool vmcs02_as_shadow_allowed(const struct vcpu *vcpu);
/* At a nested exit to L1 of such a VM: whether vmcs02 becomes (or stays)
 * L1's shadow VMCS. Not for a while after L1 went on to another VMCS instead of
 * entering this one: an L1 that switches VMCSs between its exits and
 * entries (a nested hypervisor running a guest hypervisor, for one) would
 * pay for the switch of schemes each time, vmcs12's own shadow VMCS
 * loading all its fields again. The pause doubles while L1 keeps doing it. */
bool vmcs02_as_shadow_wanted(struct vcpu *vcpu);
/* The nested exit's last step in vmcs02 (current): the fields it holds
 * for L1 only (the taken ones L2 does not use as vmcs12 has them) and
 * those it swaps get vmcs12's values. */
void vmcs02_as_shadow_put(struct vcpu *vcpu);
/* vmcs01 current, vmcs02 active here and not current: vmcs02 becomes
 * L1's shadow VMCS (vmcs01 links it, the first time unlinking vmcs12's
 * own shadow VMCS). */
void vmcs02_as_shadow_park(struct vcpu *vcpu);
/* VMLAUNCH or VMRESUME, vmcs01 current: vmcs02 an ordinary VMCS again,
 * the taken fields from it into vmcs12 (those that changed count as
 * L1's writes), and the vCPU's VMCS, current, for the entry that follows
 * (virt/vcpu_vmcs.h): what the entry needs of vmcs01 it read before. */
void vmcs02_as_shadow_take(struct vcpu *vcpu);
/* vmcs02 parked after an entry that stopped before L2 ran, which may have
 * written vmcs02's own values where L1 is to see vmcs12's: those again,
 * as vmcs02_as_shadow_put (vmcs01 current). */
void vmcs02_as_shadow_refill(struct vcpu *vcpu);
/* The entry failed with VMfail after the take, L1 runs on: vmcs01 the
 * vCPU's VMCS again, vmcs02 L1's shadow VMCS again, refilled. */
void vmcs02_as_shadow_repark(struct vcpu *vcpu);
/* An emulated VMWRITE changed vmcs12's `encoding` (a high half names
 * its field) while vmcs02 is parked: vmcs02 gets the value if L1 reads
 * the field there. */
void vmcs02_as_shadow_written(struct vcpu *vcpu, uint32_t encoding);
/* An emulated VMREAD of `encoding` while vmcs02 is parked: if the exit
 * did not swap that field (vmcs02_swapped), exits of the same reason will
 * (nested_vmx.vmcs02_swap_reasons). */
void vmcs02_as_shadow_read(struct vcpu *vcpu, uint32_t encoding);
/* The exit information and guest state a nested exit left in vmcs02 are
 * needed in vmcs12 (nested_sync_l2_state): vmcs02 current for the moment
 * (parked or not; the vCPU's VMCS current before and after), `copy` run
 * with it. */
void vmcs02_as_shadow_with_current(struct vcpu *vcpu, void (*copy)(struct vcpu *vcpu));
/* An emulated VMREAD or VMWRITE while vmcs02 is parked: whether L1 makes
 * so many (half as many as nested exits, or more, over 64 exits) that a
 * shadow VMCS apart serves it better, which learns the fields it uses
 * (nested/shadow_promote.h; Linux KVM as L1 is such). */
bool vmcs02_as_shadow_missed(struct vcpu *vcpu);
/* Then, with nested_sync_l2_state done: as vmcs02_as_shadow_leave, for
 * as long a pause as the scheme has; the caller links the shadow apart. */
void vmcs02_as_shadow_step_aside(struct vcpu *vcpu);
/* vmcs12 stops being current while vmcs02 is (or was, for the entry
 * that took it back) L1's shadow, vmcs01 current and vmcs12 whole but for
 * the writable fields (nested_sync_l2_state done): those into vmcs12 too,
 * vmcs02 ordinary and clear with no event to inject (the next entry may
 * be another vmcs12's, which writes the event fields only if it injects),
 * vmcs01 unlinked, the scheme paused. */
void vmcs02_as_shadow_leave(struct vcpu *vcpu);
#endif
