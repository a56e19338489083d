#ifndef NESTED_SHADOW_VMCS02_H
#define NESTED_SHADOW_VMCS02_H
/*
 * Hardware VMCS shadowing for L2. L1 may give its own guest VMCS shadowing
 * (vmcs12's "VMCS shadowing" control, a link pointer to a shadow VMCS in
 * L1's memory, VMREAD/VMWRITE bitmaps: SDM Vol. 3C 25.10, 25.6.15, 26.1.3).
 * L0 serves those accesses by emulation (nested/vmx_insn.c), an exit from
 * L2 each; where the processor can shadow, vmcs02 gets the control as
 * well, linked to a shadow VMCS of the vCPU's (shadow02) that holds the
 * fields L0 shadows for L1 (nested/shadow_fields.h) as L1's shadow VMCS
 * has them, with bitmaps that are L0's ORed with L1's: L2's accesses that
 * L1 lets through to those fields run on shadow02 without an exit; the
 * others exit as before (to L1 by its bitmaps, else to L0's emulation on
 * L1's shadow VMCS, which then never touches a field shadow02 has but for
 * a VMWRITE of a read-only one, which goes to both). An innermost
 * hypervisor's VMREADs and VMWRITEs of its frequent fields then cost no
 * exit at any level.
 *
 * shadow02 is L1's shadow VMCS cached, as a processor may cache a VMCS's
 * data (SDM Vol. 3C 25.11.1): L2's VMWRITEs go to shadow02 only, and L0
 * writes its fields back into L1's region before L1 can look at it
 * (VMPTRLD, VMCLEAR of the region, VMXOFF) and before vmcs12 names
 * another; it loads a region's fields at the first entry that names it
 * after that.
 */
#include <stdint.h>
#include <stdbool.h>

struct vcpu;

/* At start-up, after shadow_vmcs_init: the bitmap words to merge. */
void shadow02_init(void);
/* At a nested entry, vmcs02 current, with vmcs12's secondary controls (0
 * if not activated): vmcs02 links shadow02, loaded and with merged
 * bitmaps, if vmcs12 shadows L2's VMCS accesses and the processor can;
 * otherwise it links none. */
void shadow02_enter(struct vcpu *vcpu, uint32_t proc2_12);
/* L1's VMPTRLD or VMCLEAR of the VMCS at `gpa` (VMXOFF: the one shadow02
 * holds, nested_vmx.shadow02_of): if shadow02 holds that region's fields,
 * they go back into it and shadow02 holds none. */
void shadow02_release(struct vcpu *vcpu, uint64_t gpa);
/* L0 wrote the field `encoding` of L1's shadow VMCS at `gpa` for L2 (an
 * emulated VMWRITE): shadow02 gets it too if it holds that region's. */
void shadow02_written(struct vcpu *vcpu, uint64_t gpa, uint32_t encoding);
/* The vCPU's VMX operation ends: shadow02 and its bitmaps are freed. */
void shadow02_free(struct vcpu *vcpu);
#endif
