#ifndef NESTED_VMCS12_CACHE_H
#define NESTED_VMCS12_CACHE_H
/*
 * The VMCSs L1 made current and then left active (VMPTRLD of another),
 * kept in L0's memory as the current one is (nested_vmx.vmcs12): a
 * processor may keep an active VMCS's data on chip until VMCLEAR (SDM
 * Vol. 3C 25.11.1), and L1 may change it only through VMPTRLD and VMWRITE,
 * so a VMPTRLD of one of them takes it back without reading L1's memory,
 * and without the entry checks if its state had passed them when it
 * stopped being current. Hypervisors that switch between VMCSs on every
 * exit (a nested vmxvisor between its own vmcs01, vmcs02 and shadow VMCS)
 * copy nothing then, and keep its shadow VMCS, which still holds its
 * fields (nested/shadow_vmcs.h). A cached VMCS goes back to its region at
 * VMCLEAR of it, at VMXOFF, when a VM entry names it as the link pointer
 * (L0 reads that region in place) and when its slot is needed, with the
 * fields L1 wrote in that shadow taken first. Its slot then keeps a copy
 * of what went into the region, with the shadow VMCS, until an active
 * VMCS needs the slot.
 */
#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/* The current VMCS (vmcs12, current_vmptr) into a slot instead of its
 * region, with whether its state is all checked and with its shadow VMCS
 * (nested_vmx.shadow_vmcs: the slot's, holding nothing, takes its place),
 * the VMCS at `incoming` (to be made current next) not evicted for it,
 * nor its copy; false if there was no memory for the slot (the caller
 * releases it then). */
bool vmcs12_cache_keep(struct vcpu *vcpu, uint64_t incoming);
/* The current VMCS back into its region (VMCLEAR of it, VMXOFF, no slot
 * to keep it in), the fields L1 wrote in its shadow VMCS taken first; a
 * copy kept with its shadow VMCS in a slot no active VMCS needs. */
void vmcs12_cache_release(struct vcpu *vcpu);
/* The VMCS at `vmptr` from its slot into vmcs12, if cached, with its
 * shadow VMCS and segment memo; *checked whether its state had passed the
 * entry checks. Or from a copy of its region, made
 * what the region holds now: the bytes L1 changed there (it may, while
 * the VMCS is clear or not current: SDM Vol. 3C 25.11.1) copied, the
 * fields among them into the shadow VMCS, unchecked if there were any. A
 * nested vmxvisor makes its shadow VMCS current, VMCLEARs it and loads it
 * again at each of its guest's exits: its VMPTRLD then compares where it
 * would copy the region and load every field into the shadow VMCS. */
bool vmcs12_cache_take(struct vcpu *vcpu, uint64_t vmptr, bool *checked);
/* The VMCS at `vmptr`, if cached, back into its region; `clear`: with its
 * launch state clear (VMCLEAR). True if it was cached. */
bool vmcs12_cache_write_back(struct vcpu *vcpu, uint64_t vmptr, bool clear);
/* Every cached VMCS back into its region (VMXOFF). */
void vmcs12_cache_write_back_all(struct vcpu *vcpu);
/* The slots' memory, their vmcs12s and shadow VMCSs, at the end of VMX
 * operation. */
void vmcs12_cache_free(struct vcpu *vcpu);
#endif
