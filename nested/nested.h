#ifndef NESTED_NESTED_H
#define NESTED_NESTED_H
/*
 * Nested VMX: VMX offered to a VM (`nested = on`), so that it can run
 * hypervisors of its own (KVM's nested=1). The VM is L1, its guests L2.
 * L1 sees CPUID.1:ECX.VMX, an IA32_FEATURE_CONTROL that firmware left locked
 * with VMX outside SMX enabled, CR4.VMXE settable, and the capability MSRs of
 * nested/vmx_caps.h; its VMX instructions exit to L0, which emulates them
 * (nested/vmx_insn.c) on vmcs12s, L1's VMCS regions in our layout
 * (nested/vmcs12.h), held in L0's memory while current or active
 * (nested/vmcs12_cache.h).
 */
#include <stdint.h>
#include <stdbool.h>
#include "nested/entry_checks.h"
#include "nested/ept02.h"
#include "nested/l1_host_image.h"
#include "nested/merge.h"
#include "nested/vmcs12.h"
#include "nested/vmcs02_as_shadow.h"
#include "nested/vmx_caps.h"
#include "vmx/loaded_vmcs.h"
#include "virt/guest_linear.h"
#include "virt/guest_mem.h"
#include "virt/vm.h"

#define NESTED_NO_VMCS UINT64_MAX   /* the current-VMCS pointer when there is none */

/* A hardware shadow VMCS of L1's (nested/shadow_vmcs.h): its region (0:
 * none yet), the fields learnt to shadow for the vmcs12 it goes with
 * (NULL: none yet; nested/shadow_vmcs.h), and whether it holds that
 * vmcs12's fields: the static lists' and the learnt ones. A region stays with its vmcs12 while that
 * is cached, or kept as a copy of its region, so that a VMPTRLD of it
 * relinks the region instead of loading every field again. `newer` (while parked): its RW and learnt fields,
 * which L1 may have written, were not taken back; vmcs12 takes them before
 * it goes back to L1's memory (shadow_vmcs_settle), or at the next entry
 * with it, the region linked again. */
struct shadow_learnt;
struct nested_shadow_region {
    uint64_t region;
    struct shadow_learnt *learnt;
    bool holds_vmcs12;
    bool newer;
};

/* A VMCS L1 left active (nested/vmcs12_cache.h): its vmcs12, and whether
 * its state had passed the entry checks when it stopped being current,
 * with the segment state they passed with (what L1 wrote through its
 * shadow VMCS since, not yet in vmcs12, counts as written when the next
 * entry takes it, and is checked then). Or, `in_memory`, a VMCS L0 wrote
 * back into its region: vmcs12 is a copy of what it wrote there, which L1
 * may have changed since (a VMPTRLD compares), checked only if nothing
 * went into it unchecked (a newer shadow's fields, taken for the
 * write-back). */
struct nested_cached_vmcs {
    uint64_t vmptr;             /* NESTED_NO_VMCS: a free slot */
    struct vmcs12 *vmcs12;      /* NULL until the slot is first used */
    bool in_memory;
    bool checked;
    struct nested_segment_memo *segments;
    struct l1_host_image *host_image;   /* its host state's image (nested/l1_host_image.h) */
    /* The hardware shadow VMCS it had while current, parked with it
     * (nested_vmx.shadow_vmcs and what it holds). */
    struct nested_shadow_region shadow;
};
#define NESTED_CACHED_VMCS 4
/* Region pages kept (a power of two): enough for the current VMCS's, the
 * cache's and a link pointer's, most of the time without a collision. */
#define NESTED_KEPT_REGIONS 8

/* The pages of a vCPU's struct nested_vmx. */
#define NESTED_VMX_PAGES 2
/* The pages a vCPU's VMX operation may take (besides the VM's EPT02
 * budget): its nested_vmx, vmcs12, vmcs02 and vmcs02's MSR bitmap, L1's
 * shadow VMCS with its learnt fields' page and two bitmaps, L2's shadow
 * VMCS (shadow02) and its two bitmaps, and the cache's slots, each with a
 * vmcs12 and a shadow VMCS with its learnt fields. */
#define NESTED_VCPU_PAGES (NESTED_VMX_PAGES + 10 + 5 * NESTED_CACHED_VMCS)

#define NESTED_NO_MSR_BITMAP (~0ull)    /* vmcs12 uses none */
/* L1's MSR bitmap is watched for writes from the NESTED_MSR_WATCH_AFTER-th
 * entry with it on; after NESTED_MSR_REWRITES_MAX entries in a row found it
 * written since the last, it goes unwatched for the next
 * NESTED_MSR_UNWATCHED_ENTRIES (nested/switch.c). */
#define NESTED_MSR_WATCH_AFTER 64
#define NESTED_MSR_REWRITES_MAX 8
#define NESTED_MSR_UNWATCHED_ENTRIES 1024

/* A vCPU's VMX operation, from VMXON to VMXOFF (NULL outside it). */
struct ept02_root;

struct nested_vmx {
    uint64_t vmxon_ptr;         /* the VMXON region's L1-physical address */
    uint64_t current_vmptr;     /* the current VMCS's, or NESTED_NO_VMCS */
    /* While a VMCS is current, its vmcs12, read from L1's memory at VMPTRLD
     * (or taken from the cache of the VMCSs L1 left active, or from a copy
     * there of what L0 last wrote into the region, made what the region
     * holds now) and written back at VMCLEAR (or kept in that cache at
     * VMPTRLD of another; KVM's cached_vmcs12): the VMCS region is the processor's while active (SDM
     * Vol. 3C 25.11.1), so L1 may not rely on its contents. */
    struct vmcs12 *vmcs12;
    /* The fields of vmcs12 that L1 wrote (VMWRITE) since the entry checks
     * last passed (controls, host state) or since vmcs02 last took them
     * (guest state); every field after a VMPTRLD of another VMCS. What is
     * not in it is not checked or copied again: vmcs12 changes only
     * through VMWRITE while current (SDM Vol. 3C 25.11.1; those through the
     * shadow VMCS are noted as the entry takes them, which for a VMCS
     * parked with a newer shadow may be after a VMPTRLD), and the guest
     * state a nested exit saved is vmcs02's own. Not in it: HOST_RSP and
     * the event to inject, which nested_note_written leaves out. */
    struct vmcs12_field_set written;
    /* The guest segment state the entry checks last passed (entry_checks.h),
     * one of segment_memos: each vmcs12 keeps its own through the cache, by
     * pointer (a memo names its inputs, so any serves any vmcs12). */
    struct nested_segment_memo *segment_memo;
    struct nested_segment_memo segment_memos[1 + NESTED_CACHED_VMCS];
    /* The last VMCSs L1 left active, or copies of VMCSs L0 wrote back
     * (nested/vmcs12_cache.h), and the slot to reuse next when none is free. */
    struct nested_cached_vmcs cached[NESTED_CACHED_VMCS];
    unsigned cached_next;
    /* vmcs12's guest state passed the guest-state checks and has since
     * changed only by nested exits, which save what the processor had in
     * L2 (SDM Vol. 3C 28.3), and in RIP, RSP and the timer value: a
     * VMRESUME need not check it again but for the link pointer
     * (nested_recheck_guest_state; RIP's checks are the processor's on
     * vmcs02). Cleared by a VMWRITE of another
     * guest-state or a control field (the checks read both; of the
     * primary controls only a change beyond the event windows, found at
     * VMLAUNCH/VMRESUME, and not by the event to inject, whose checks run
     * at every entry that injects) and by VMPTRLD. */
    bool guest_state_checked;
    /* The guest state of L2's last nested exit is in vmcs02 but for the
     * fields a nested exit copies at once: vmcs12 gets the rest when L0
     * needs it (nested_sync_l2_state, nested/switch.h). */
    bool l2_state_pending;
    /* And so are the fields the CR0/CR4 three-way rule and the exit
     * controls make vmcs12's (a lazy exit of vmcs02 as the shadow,
     * nested/vmcs02_as_shadow.h): nested_sync_l2_state, and an entry that
     * needs them, work them out from vmcs02 (which no entry changes
     * meanwhile but by writing them from vmcs12, after that). */
    bool adjusted_pending;
    /* While L2 runs (vcpu->in_l2, nested/switch.c), vmcs02 is the vCPU's
     * VMCS, built from vmcs12 and vmcs01 at each nested entry; its MSR
     * bitmap merges L0's and L1's. vmcs02 is made at the first entry and
     * kept until VMXOFF. */
    /* A VMLAUNCH whose VM entry is under way: vmcs12 becomes "launched"
     * once it completes, which an entry failure of vmcs02 says it did not. */
    bool launch_pending;
    struct loaded_vmcs vmcs02;
    bool vmcs02_fresh;          /* made, its fields that never change not yet written */
    /* vmcs02's controls were merged from vmcs01's of this generation
     * (struct loaded_vmcs) and vmcs12's as they are now: unless L1 writes a
     * control (controls_stale) or L0's change, a nested entry leaves them as
     * they are ("no VMWRITE that does not change a value"). */
    uint32_t controls02_generation;
    bool controls_stale;
    /* vmcs12's controls as the entry checks last passed them (and as L0
     * changed them since: the IA-32e mode guest control a nested exit
     * sets): what each entry merges and reads, without loading them again.
     * A change of the primary event-window controls alone, which L1s make
     * between most entries, is checked by the few checks that read them
     * (nested/vmx_insn.c). */
    struct vmcs12_controls controls12;
    /* What a nested exit loads from vmcs12's host state, while built:
     * until L1 writes a host-state field or a control, or loads the VMCS
     * from its region, which the entry checks see first. One of
     * host_images, which go with their vmcs12 through the cache as the
     * segment memos do. */
    struct l1_host_image *host_image;
    struct l1_host_image host_images[1 + NESTED_CACHED_VMCS];
    /* What the entries since VMXON checked and wrote beyond the common
     * case (`info nested`): the controls and host state in full, the event
     * windows alone, an event to inject alone, the guest state in full;
     * vmcs02's entry state (nested/switch.c), and its MSR bitmap. */
    struct {
        uint64_t full_controls, windows, injections, full_guest_state, entry_state;
        uint64_t msr_bitmap_merges;
    } entry_work;
    /* vmcs02's TSC offset, EFER, PAT, debug state and CRs (nested/switch.c,
     * write_entry_state) were made with this TSC offset of L1's, and are
     * made again at the next entry if stale: L1 wrote one of the guest
     * fields they come from, or L0 handled an exit of L2's itself (its
     * handler may change them), or L1's exits do not save what its entries
     * load (L2 may have changed them). */
    uint64_t entry_state_tsc_offset;
    bool entry_state_stale;
    /* vmcs02's VM-entry interruption information may have its valid bit
     * set: an entry put L1's event there and no VM exit from vmcs02 has
     * cleared it since (a failed entry leaves it, SDM Vol. 3C 27.8; every
     * exit clears it, 28.2). Until then an entry that injects nothing
     * leaves the three injection fields as they are. */
    bool injection02_pending;
    uint8_t *msr_bitmap02;
    /* The words of L0's MSR bitmap that let some access through: the only
     * ones of msr_bitmap02 a nested entry merges (nested/merge.h). */
    uint16_t msr_open_words[NESTED_MSR_BITMAP_WORDS];
    unsigned msr_open_word_count;
    /* L1's MSR bitmap, and the shadow VMCS vmcs12's link pointer names (on
     * which L2's VMREAD and VMWRITE act in place, nested/vmx_insn.c), as
     * last found in L1's RAM. */
    struct guest_page_ref msr_bitmap12;
    /* What msr_bitmap02 was last merged from (nested/switch.c): L1's
     * bitmap at `gpa` (NESTED_NO_MSR_BITMAP: none) as of the VM's
     * write-watch generation, L0's as of its changes; not `valid` when the
     * next entry merges again whatever they say (a page not watched, a word
     * changed since, a new msr_bitmap02). */
    struct nested_msr_merge {
        uint64_t gpa, generation;
        uint32_t l0_changes;
        bool valid;
        /* Entries in a row that found it written since the last, and
         * entries left that merge without watching it (nested/switch.c). */
        uint32_t rewrites, unwatched_entries;
    } msr_merged;
    struct guest_page_ref link12;
    /* L1's VMX-preemption timer while L2 runs, emulated: the host TSC at
     * which it reaches 0, or 0 when L1 did not activate it. */
    uint64_t timer_deadline;
    /* L2 executed a HLT that L1 does not exit on, and L0 halts the vCPU
     * for it: an exit to L1 before L2 runs again leaves L2 in the HLT
     * state (SDM Vol. 3C 28.3.4), which vmcs02 cannot say. */
    bool l2_halted;
    /* EPT and VPID for L2 (nested/nested_ept.h): the shadow EPT root its
     * vmcs02 points at (NULL: none, or EPT01), that EPT pointer as
     * written in vmcs02, and the vmcs12 VPID last run on vpid02 (0: none
     * yet), whose change flushes vpid02. */
    struct ept02_root *ept02;
    uint64_t eptp02;
    uint16_t vpid12;
    /* The hardware shadow VMCS of L1's that goes with vmcs12
     * (nested/shadow_vmcs.h), and whether vmcs01 links it now. */
    struct nested_shadow_region shadow_vmcs;
    bool shadow_linked;
    /* Or vmcs02 serves as that shadow VMCS (nested/vmcs02_as_shadow.h);
     * after L1 left it for another VMCS, the nested exits to go without
     * (its pause), and the pause after the next such. */
    bool vmcs02_shadow_on;      /* vmcs02_as_shadow_allowed, at VMXON */
    /* L1's IA32_EFER.LMA, which VMX operation freezes (CR0.PG is fixed to
     * 1 there, and EFER.LME cannot change with paging on): at VMXON. */
    bool l1_long_mode;
    enum vmcs02_shadow_state vmcs02_shadow;
    uint32_t vmcs02_shadow_pause, vmcs02_shadow_next_pause;
    /* Since VMXON (`info nested`): nested exits that left vmcs02 L1's
     * shadow, entries that took it back, and the times it stopped being
     * the shadow before an entry (L1 went on to another VMCS, or the
     * scheme stepped aside: below). */
    uint64_t vmcs02_shadow_parks, vmcs02_shadow_takes, vmcs02_shadow_leaves;
    /* L1's VMREADs and VMWRITEs that exited while vmcs02 was parked, since
     * the park count `vmcs02_miss_window`; the times they were so many that
     * the scheme stepped aside for a shadow VMCS apart (`info nested`). */
    uint64_t vmcs02_miss_window, vmcs02_shadow_steps_aside;
    uint32_t vmcs02_misses, vmcs02_step_aside_pause;
    /* vmcs02's own values of the guest fields it shows L1 vmcs12's in
     * while it is L1's shadow (its controls' are in vmcs02.controls). */
    struct { uint64_t cr0, cr4, efer; } vmcs02_own;
    /* Whether this exit swapped those (or left CR0, CR4 and EFER to the
     * emulation, their vmcs12 values unworked: adjusted_pending), and the
     * basic exit reasons (modulo 64) after which L1 read one of them in
     * vmcs12: those exits swap. The reason of the exit that parked vmcs02. */
    bool vmcs02_swapped, vmcs02_swap_bitmap_linked;
    uint64_t vmcs02_swap_reasons;
    uint16_t vmcs02_parked_reason;
    /* Its links since VMXON, and those that loaded every field into the
     * region (`info nested`). */
    uint64_t shadow_attaches, shadow_attach_loads;
    /* L1's last VMX instruction operands' pages (virt/guest_linear.h):
     * dropped with this state, before the VM's RAM goes. */
    struct linear_memo operand_memo;
    /* The pages of L1's VMCS regions reached, by their address's low page
     * number bits (nested/l1_regions.h): dropped with this state too. */
    struct { uint64_t page; void *host; } kept_regions[NESTED_KEPT_REGIONS];
    /* VMPTRLDs that found a copy of the region (nested_cached_vmcs), and
     * those of them that found it as L0 had left it (`info nested`). */
    uint64_t copies_compared, copies_unchanged;
    /* The vmcs12 fields L0 changed for L1 since the shadow last had them
     * all (nested_set_for_l1): what a nested exit copies into it. */
    struct vmcs12_field_set shadow_stale;
    /* Whether the linked shadow has learnt fields (shadow_vmcs.learnt;
     * tested on every nested entry and exit); the fields a nested exit
     * puts into the shadow: the static list's and the learnt ones, set by
     * attach. */
    bool shadow_promoted;
    const struct vmcs12_field_set *shadow_after_exit;
    /* Hardware shadowing for L2 (nested/shadow_vmcs02.h): shadow02's
     * region (0: none yet); the L1-physical address of the shadow VMCS
     * whose fields it holds (NESTED_NO_VMCS: none) and that region in L0's
     * memory; whether vmcs02 links it; vmcs02's VMREAD and VMWRITE bitmaps
     * (one page each, after shadow02's) and where L1's are. */
    uint64_t shadow02;
    uint64_t shadow02_of;
    struct vmcs12 *shadow02_image;
    bool shadow02_linked;
    uint64_t *bitmaps02;
    struct guest_page_ref vmread_bitmap12, vmwrite_bitmap12;
};

/* L0 gives the vmcs12 field `encoding` a value for L1 to read (a nested
 * exit's guest state and information, the PML index): if that changes
 * it, the field is marked for the shadow VMCS. A nested exit sets some 30
 * fields, most of them to the values they had; it calls vmcs12_set_noting
 * itself with vmcs12 and the set in registers. */
static inline void nested_set_for_l1(struct nested_vmx *n, uint32_t encoding, uint64_t value)
{
    vmcs12_set_noting(n->vmcs12, &n->shadow_stale, encoding, value);
}

/* L1 changed the field `encoding` (emulated VMWRITE, or VMWRITE to the
 * shadow VMCS; a high half names its field): the next entry checks and
 * copies it again, and runs the guest-state checks if it is a control or a
 * guest-state field (the checks read both), but for the guest fields that
 * the processor checks again on vmcs02 or no check reads: RIP (see
 * nested_recheck_guest_state), RSP and the VMX-preemption timer value,
 * which L1s write on nearly every exit; and but for the primary controls,
 * whose change the entry weighs (nested/vmx_insn.c). HOST_RSP and the
 * event to inject are not noted at all (below). */
static inline void nested_note_written(struct nested_vmx *n, uint32_t encoding)
{
    /* HOST_RSP: no VM-entry check reads it (SDM Vol. 3C 27.2.2-27.2.4
     * check the host RIP, never RSP) and a nested exit takes it from
     * vmcs12 itself.
     * Linux KVM as L1 writes it whenever its run loop enters from another
     * stack depth, as on every return from user space. */
    if (encoding == HOST_RSP)
        return;
    /* The event to inject: it changes with nearly every interrupt L1 gives
     * L2, feeds neither vmcs02's controls nor the other checks, and its own
     * checks run at every entry that injects (nested_injects). */
    if (encoding == VM_ENTRY_INTR_INFO || encoding == VM_ENTRY_EXCEPTION_ERROR_CODE ||
        encoding == VM_ENTRY_INSTRUCTION_LEN)
        return;
    vmcs12_field_set_add(&n->written, encoding);
    switch (VMCS12_FIELD_TYPE(encoding)) {
    case VMCS_TYPE_CONTROL:
        /* (The guest-state checks read the primary controls only for
         * whether secondary ones are active: decided when checking.) */
        if (encoding != CPU_BASED_VM_EXEC_CONTROL)
            n->guest_state_checked = false;
        n->controls_stale = true;
        break;
    case VMCS_TYPE_GUEST:
        if (encoding != GUEST_RIP && encoding != GUEST_RSP && encoding != VMX_PREEMPTION_TIMER_VALUE)
            n->guest_state_checked = false;
        if (encoding == GUEST_CR0 || encoding == GUEST_CR4 || encoding == GUEST_IA32_EFER ||
            encoding == GUEST_IA32_PAT || encoding == GUEST_DR7 || encoding == GUEST_IA32_DEBUGCTL)
            n->entry_state_stale = true;
        break;
    }
}

/* The controls and host-state fields L1 wrote passed the entry checks,
 * or vmcs12 came in checked (VMPTRLD): no longer noted as written, and
 * its controls kept as they are now. */
static inline void nested_written_checked(struct nested_vmx *n)
{
    const struct vmcs12 *v12 = n->vmcs12;
    struct vmcs12_controls *c = &n->controls12;
    vmcs12_field_set_clear_type(&n->written, VMCS_TYPE_CONTROL);
    vmcs12_field_set_clear_type(&n->written, VMCS_TYPE_HOST);
    c->pin = (uint32_t)vmcs12_get(v12, PIN_BASED_VM_EXEC_CONTROL);
    c->proc = (uint32_t)vmcs12_get(v12, CPU_BASED_VM_EXEC_CONTROL);
    c->proc2 = (uint32_t)vmcs12_get(v12, SECONDARY_VM_EXEC_CONTROL);
    c->exit = (uint32_t)vmcs12_get(v12, VM_EXIT_CONTROLS);
    c->entry = (uint32_t)vmcs12_get(v12, VM_ENTRY_CONTROLS);
    c->exception_bitmap = (uint32_t)vmcs12_get(v12, EXCEPTION_BITMAP);
    c->pf_error_code_mask = (uint32_t)vmcs12_get(v12, PAGE_FAULT_ERROR_CODE_MASK);
    c->pf_error_code_match = (uint32_t)vmcs12_get(v12, PAGE_FAULT_ERROR_CODE_MATCH);
    c->cr0_mask = vmcs12_get(v12, CR0_GUEST_HOST_MASK);
    c->cr4_mask = vmcs12_get(v12, CR4_GUEST_HOST_MASK);
}

/* Whether vmcs12 asks the next entry to inject an event: the valid bit of
 * its VM-entry interruption information (SDM Vol. 3C 25.8.3). Its checks
 * (entry_checks.h nested_check_injection*) then run, whatever else was
 * checked before. */
static inline bool nested_injects(const struct nested_vmx *n)
{
    return vmcs12_get(n->vmcs12, VM_ENTRY_INTR_INFO) & NESTED_EVENT_VALID;
}

/* Whether vmcs02 points at EPT02's live root for `eptp12` already, one
 * flushed on CPU `cpu` (nested/ept02.h): an entry with EPT has nothing to
 * do for its EPT pointer then (nested_ept_enter). Inline: most entries. */
static inline bool nested_ept02_current(const struct nested_vmx *n, uint64_t eptp12, unsigned cpu)
{
    const struct ept02_root *root = n->ept02;
    return root && !__atomic_load_n(&root->stale, __ATOMIC_ACQUIRE) &&
           root->key == ept02_key(eptp12) && n->eptp02 == root->eptp &&
           (__atomic_load_n(&root->flushed_cpus, __ATOMIC_ACQUIRE) >> cpu & 1);
}

/* Whether the vCPU runs L2 now (inline: every exit asks). */
static inline bool nested_in_l2(const struct vcpu *v)
{
    return v->in_l2;
}

/* What L1 sees of VMX on this machine (nested/vmx_caps.h). */
extern struct nested_vmx_caps nested_caps;
/* Computes nested_caps from the negotiated configuration (once, at start-up). */
void nested_init(void);

/* Whether the vCPU's VM has VMX (`nested = on`). Inline: every VMX
 * instruction's exit asks. */
static inline bool nested_offered(const struct vcpu *vcpu)
{
    return vcpu->vm->config.nested;
}
/* RDMSR of IA32_FEATURE_CONTROL and the IA32_VMX_* capability MSRs for a VM
 * with nested VMX: false if `msr` is not one of them (*handled false) or
 * RDMSR must raise #GP (*handled true). */
bool nested_read_msr(const struct vcpu *vcpu, uint32_t msr, uint64_t *value, bool *handled);
/* Whether the vCPU may have CR4 = `cr4` as far as VMX is concerned: VMXE
 * only with nested VMX, and not cleared in VMX operation (SDM Vol. 3C
 * 24.8: CR4.VMXE is fixed to 1 in VMX operation). */
bool nested_cr4_allowed(const struct vcpu *vcpu, uint64_t cr4);
/* Whether the vCPU may have CR0 = `cr0`: in VMX operation the bits fixed
 * by IA32_VMX_CR0_FIXED0/1 may not change (SDM Vol. 3C 24.8). */
bool nested_cr0_allowed(const struct vcpu *vcpu, uint64_t cr0);
/* The vCPU leaves VMX operation (VMXOFF, machine reset, teardown): back on
 * vmcs01, what VMXON and nested entries made is freed. */
void nested_vcpu_free(struct vcpu *vcpu);
#endif
