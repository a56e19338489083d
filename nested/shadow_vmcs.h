#ifndef NESTED_SHADOW_VMCS_H
#define NESTED_SHADOW_VMCS_H
/*
 * Hardware VMCS shadowing for L1 (SDM Vol. 3C 25.10 "VMCS Types", 25.6.15
 * "VMCS Shadowing Bitmap Addresses", 26.1.3 on VMREAD/VMWRITE in VMX
 * non-root operation): while L1 has a current vmcs12, vmcs01 has the "VMCS
 * shadowing" control on, its VMCS link pointer names a shadow VMCS of the
 * vCPU's, and the VMREAD/VMWRITE bitmaps of nested/shadow_fields.h let
 * L1's accesses to the fields L1s touch on every exit run on that shadow
 * without an exit. KVM's scheme (its copy_shadow_to_vmcs12 and
 * copy_vmcs12_to_shadow):
 *  - the shadow has the shadowed fields as L1 sees them; vmcs12 has them
 *    too at the sync points: the RW fields come back from the shadow before
 *    a nested entry and before vmcs12 goes back to L1's memory (VMCLEAR,
 *    VMXOFF, the cache's write-back), each that changed counting as written
 *    (at a write-back from the cache, the VMCS counting as unchecked);
 *    a vmcs12 the cache keeps (VMPTRLD of another) keeps its shadow with
 *    them instead; after a nested exit the shadowed fields whose values it
 *    changed go from vmcs12 into it (L0 marks them as it sets them,
 *    nested_set_for_l1);
 *  - L0 touches the shadow only with it current for the moment, or to
 *    VMCLEAR it, and VMCLEARs it after, so it is active on no CPU but
 *    while vmcs01 links it (a migration of vmcs01 clears it with it:
 *    vmx/loaded_vmcs.h).
 * Nothing here changes what L1 can observe: a field reads and writes as
 * through the emulation, only without the exit.
 */
#include <stdint.h>
#include <stdbool.h>
#include "nested/nested.h"
#include "nested/shadow_fields.h"
#include "nested/shadow_promote.h"
#include "virt/vcpu.h"

/* A vmcs12's shadowed fields beyond the static lists
 * (nested/shadow_promote.h), made at L1's first exit for a field that
 * could be, while that vmcs12 is current: the promotion state, and the
 * VMREAD and VMWRITE bitmaps vmcs01 uses while it is (page-aligned, as VM
 * entry requires), L0's with the promoted fields' bits clear. Each vmcs12
 * learns its own: a nested hypervisor touches different fields in each of
 * its VMCSs (its guest's host state in one, its guest's guest's exit
 * information in another), and the syncs take and put every learnt field
 * of the current one. It goes with the vmcs12's shadow VMCS
 * (nested_shadow_region.learnt), into the cache and out; a vmcs12 read
 * from L1's memory starts with nothing learnt. */
struct shadow_learnt {
    struct shadow_promotion promotion;
    /* The fields a nested exit puts into the shadow: the static list's
     * (shadow_fields.after_exit) and the learnt ones. */
    struct vmcs12_field_set after_exit;
    _Alignas(4096) uint8_t bitmaps[2][SHADOW_BITMAP_BYTES];
};
#define SHADOW_LEARNT_PAGES (sizeof(struct shadow_learnt) / 4096)
_Static_assert(sizeof(struct shadow_learnt) == 3 * 4096, "the page and two bitmaps NESTED_VCPU_PAGES counts");

/* Probes the fields the processor has and builds the bitmaps (at
 * start-up, VMX on, no VMCS current). */
void shadow_vmcs_init(void);
/* Whether the processor has hardware shadowing and the vmcs12 field
 * `encoding`, keeping every bit VMWRITE gives it (as probed at start-up). */
bool shadow_vmcs_keeps(uint32_t encoding);
/* Whether the vCPU's L1 gets hardware shadowing: the processor has it and
 * the VM's `shadow_vmcs` setting asks for it. */
bool shadow_vmcs_used(const struct vcpu *vcpu);
/* A vmcs12 was read from L1's memory: the shadow VMCS that serves it
 * (another's before) holds none of its fields, and it has learnt none. */
void shadow_vmcs_forget(struct vcpu *vcpu);
/* A vmcs12 became current: its shadow VMCS gets its fields (none if it
 * was parked with vmcs12 in the cache and holds them) and vmcs01 (current)
 * links it. False if there was no memory for
 * the shadow (L1 then goes on without, every VMREAD/VMWRITE exiting). */
bool shadow_vmcs_attach(struct vcpu *vcpu);
/* vmcs12 stops being current: vmcs01 (current) unlinks its shadow, which
 * stays with vmcs12 (nested_vmx.shadow_vmcs), VMCLEARed, holding its
 * fields. Its RW and learnt fields go back into vmcs12 unless vmcs12 is
 * `to_be_cached` (VMPTRLD of another): then the shadow is marked newer,
 * and shadow_vmcs_settle takes them if vmcs12 is written back instead. */
void shadow_vmcs_detach(struct vcpu *vcpu, bool to_be_cached);
/* vmcs02 takes its place as L1's shadow VMCS (nested/vmcs02_as_shadow.h)
 * right after a nested exit, L1 not having run since the entry took the
 * shadow's RW fields: nothing to take, and the shadow holds nothing after
 * (vmcs01 current; its link and bitmaps are the caller's to write). */
void shadow_vmcs_unlink(struct vcpu *vcpu);
/* vmcs12 goes back to L1's memory, with `shadow` (not linked): the RW and
 * learnt fields of a shadow marked newer into it first. */
void shadow_vmcs_settle(struct vcpu *vcpu, struct nested_shadow_region *shadow,
                        struct vmcs12 *vmcs12);
/* `vmcs12`, parked with `shadow` as a copy of its region, took the
 * `changed` fields from there (nested/vmcs12_cache.h): those the shadow
 * holds get their new values. */
void shadow_vmcs_refresh(struct vcpu *vcpu, const struct nested_shadow_region *shadow,
                         const struct vmcs12 *vmcs12, const struct vmcs12_field_set *changed);
/* Before a nested entry: vmcs12's RW fields from the shadow, the static
 * ones and those learnt for vmcs12 (a field that changed counts as written).
 * The learnt ones out of line, with the shadow current once more: the
 * path of an L1 that learnt none stays as it was. */
void shadow_vmcs_take_rw(struct vcpu *vcpu);
__attribute__((cold)) void shadow_vmcs_take_promoted(struct vcpu *vcpu);
static inline void shadow_vmcs_to_vmcs12(struct vcpu *vcpu)
{
    if (__builtin_expect(vcpu->nested->shadow_promoted, 0))
        shadow_vmcs_take_promoted(vcpu);
    shadow_vmcs_take_rw(vcpu);
}
/* After a nested exit, vmcs01 current: the shadowed fields the exit
 * changed (nested_set_for_l1) into the shadow. */
void shadow_vmcs_from_vmcs12(struct vcpu *vcpu);
/* After an emulated VMWRITE of `encoding` to vmcs12: if L1 reads the
 * field from the shadow (RO class, guest state: written by emulation,
 * read without exits), the shadow gets vmcs12's new value too. */
void shadow_vmcs_written(struct vcpu *vcpu, uint32_t encoding);

/* What hardware shadowing for L2 (nested/shadow_vmcs02.h) shares: */
struct shadow_fields;
/* the shadowed fields and L0's bitmaps, made by shadow_vmcs_init; */
const struct shadow_fields *shadow_vmcs_fields(void);
const uint64_t *shadow_vmcs_bitmap(bool vmwrite);
/* a new shadow VMCS region, clear (0: no memory); */
uint64_t shadow_region_alloc(void);
/* a shadow VMCS current for a moment, with interrupts off: enter returns
 * the flags that leave restores, after it VMCLEARs the region and makes
 * the vCPU's VMCS current again; */
uint64_t shadow_region_enter(uint64_t region);
void shadow_region_leave(const struct vcpu *vcpu, uint64_t region, uint64_t flags);
/* the shadowed fields of `from` into the shadow VMCS between the two. */
void shadow_region_load(const struct vmcs12 *from);
/* A shadow VMCS's region and learnt fields freed (the shadow cleared and
 * linked nowhere), none after. */
void shadow_region_free(struct nested_shadow_region *shadow);

/* L1's VMREAD or VMWRITE of `encoding` exited to L0 and was emulated
 * (vmcs01 current, vmcs12 whole: nested_sync_l2_state done for a guest
 * field): counted, and the field promoted if it exits often
 * (nested/shadow_promote.h). */
void shadow_vmcs_exited(struct vcpu *vcpu, uint32_t encoding);

/* The vCPU leaves VMX operation or is reset: the current vmcs12's shadow
 * is cleared and freed (vmcs01 is unlinked first by detach, or dropped by
 * the caller); those parked in the cache go with it (vmcs12_cache_free). */
void shadow_vmcs_free(struct vcpu *vcpu);
#endif
