/* Nested VM entry and exit (nested/switch.h). */
#include "nested/switch.h"
#include "nested/entry_checks.h"
#include "nested/l1_regions.h"
#include "nested/merge.h"
#include "nested/nested.h"
#include "nested/nested_ept.h"
#include "nested/shadow_vmcs.h"
#include "nested/shadow_vmcs02.h"
#include "nested/vmcs12_cache.h"
#include "nested/vmcs02_fields.h"
#include "nested/vmcs02_as_shadow.h"
#include "dev/apicv.h"
#include "dev/irq.h"
#include "virt/event_inject.h"
#include "virt/guest_mem.h"
#include "virt/vcpu_msrs.h"
#include "virt/vcpu_vmcs.h"
#include "virt/vmcs_setup.h"
#include "virt/vm.h"
#include "virt/write_watch.h"
#include "vmx/exit_reasons.h"
#include "vmx/tlb.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_controls.h"
#include "vmx/vmx_cpu.h"
#include "vmx/vmx_insn.h"
#include "arch/cpu.h"
#include "arch/cpuid_cache.h"
#include "arch/msr.h"
#include "arch/platform.h"
#include "lib/page_alloc.h"
#include "lib/string.h"

#define RFLAGS_RESERVED 0x2
#define RFLAGS_ZF       (1ull << 6)
#define RFLAGS_ARITHMETIC 0x8d5ull     /* CF PF AF ZF SF OF */
#define DR7_INIT        0x400
#define NESTED_TIMER_RATE 5             /* IA32_VMX_MISC[4:0] as offered to L1 */
#define VMXERR_ENTRY_INVALID_CONTROLS 7
#define MSR_ENTRY_SIZE 16
#define MSR_FS_BASE_INDEX 0xc0000100u
#define MSR_GS_BASE_INDEX 0xc0000101u
#define X2APIC_FIRST 0x800u
#define X2APIC_LAST  0x8ffu
#define PDPTE_COUNT 4
#define GUEST_ACTIVITY_HLT 1    /* the activity states: SDM Vol. 3C 25.4.2 */

#define AS_ELEMENT(id) id,
static const enum vmcs_field guest_fields[] = { GUEST_FIELDS(AS_ELEMENT) };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* vmcs02 and its MSR bitmap, made at the first nested entry. */
static bool make_vmcs02(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    if (n->vmcs02.vmcs)
        return true;
    uint32_t *region = page_alloc(1);
    uint8_t *bitmap = page_alloc(1);
    if (!region || !bitmap) {
        if (region)
            page_free(region, 1);
        if (bitmap)
            page_free(bitmap, 1);
        return false;
    }
    region[0] = vmcs_config.revision_id;        /* SDM Vol. 3C 25.2 */
    if (vmclear((uint64_t)region) != VMX_SUCCEED)
        panic("VMCLEAR of a new vmcs02 failed");
    n->vmcs02 = (struct loaded_vmcs){ .vmcs = (uint64_t)region, .cpu = VMCS_NOT_LOADED };
    n->vmcs02_fresh = true;
    memset(bitmap, 0xff, 4096);
    n->msr_bitmap02 = bitmap;
    n->msr_merged.valid = false;
    n->msr_open_word_count = nested_msr_bitmap_open_words(v->vm->msr_bitmap, n->msr_open_words);
    return true;
}

/* vmcs02's MSR bitmap where L0 lets some access through: L0's word ORed
 * with L1's, read in place, or with all ones (every access exits to L1)
 * when L1 uses no bitmap or it is not in L1's RAM. L1 may change its
 * bitmap between entries (SDM Vol. 3C 25.11.4 lets it, outside non-root
 * operation): L0 watches the page for writes (virt/write_watch.h), and
 * merges again only when it may have changed, L0's own bitmap changed, the
 * bitmap moved, or the page could not be watched. */
static void merge_msr_bitmap(struct vcpu *v, uint32_t proc12)
{
    struct nested_vmx *n = v->nested;
    struct vm *vm = v->vm;
    uint64_t gpa = proc12 & PROC_USE_MSR_BITMAPS ? vmcs12_get(n->vmcs12, MSR_BITMAP) : NESTED_NO_MSR_BITMAP;
    uint32_t l0_changes = __atomic_load_n(&vm->msr_bitmap_changes, __ATOMIC_ACQUIRE);
    struct nested_msr_merge *last = &n->msr_merged;
    bool same = last->valid && last->gpa == gpa && last->l0_changes == l0_changes;
    if (same && last->generation == write_watch_generation(vm)) {
        last->rewrites = 0;
        return;
    }
    /* A watch begins after some entries with the same bitmap, so that a
     * VMCS entered a few times does not pay for it (splitting a large EPT01
     * leaf, flushing, looking through L2's shadow EPT). Written again
     * before entry after entry (an L1 that merges its own guest's bitmap
     * into it each time), the watch would cost a fault and a start per
     * entry: the page goes unwatched, merged at every entry, for longer. */
    if (last->gpa != gpa)
        last->unwatched_entries = NESTED_MSR_WATCH_AFTER;
    last->rewrites = same ? last->rewrites + 1 : 0;
    if (last->rewrites >= NESTED_MSR_REWRITES_MAX) {
        last->rewrites = 0;
        last->unwatched_entries = NESTED_MSR_UNWATCHED_ENTRIES;
    }
    bool may_watch = !last->unwatched_entries;
    if (!may_watch)
        last->unwatched_entries--;
    uint64_t *merged = (uint64_t *)n->msr_bitmap02;
    const uint64_t *l0 = vm->msr_bitmap;
    /* The bitmap is a 4 KiB-aligned page (SDM Vol. 3C 27.2.1.1, checked):
     * one translation serves every word, and it is kept for the next entry. */
    const uint64_t *l1 = NULL;
    bool watched = gpa == NESTED_NO_MSR_BITMAP;
    if (gpa != NESTED_NO_MSR_BITMAP && (l1 = guest_page_ref_get(vm, &n->msr_bitmap12, gpa)) &&
        may_watch) {
        enum write_watch_added added = write_watch_add(vm, gpa);
        if (added == WRITE_WATCH_BEGUN)
            nested_ept_write_protect(vm, (uint64_t)(uintptr_t)l1);
        watched = added != WRITE_WATCH_REFUSED;
    }
    /* Read before the words: a write after them moves it. */
    last->gpa = gpa;
    last->generation = write_watch_generation(vm);
    last->l0_changes = l0_changes;
    last->valid = watched;
    n->entry_work.msr_bitmap_merges++;
    const uint16_t *words = n->msr_open_words, *end = words + n->msr_open_word_count;
    if (l1) {
        for (; words < end; words += NESTED_MSR_MERGE_STRIDE)
#pragma GCC unroll 4
            for (unsigned i = 0; i < NESTED_MSR_MERGE_STRIDE; i++)
                merged[words[i]] = l0[words[i]] | l1[words[i]];
    } else {
        for (; words < end; words++)
            merged[*words] = ~0ull;
    }
}

/* The fields of vmcs02 that no entry changes: L0's host state (the
 * per-CPU part comes with each load on a CPU, vcpu_run_on), the lists L0 does
 * not use, L2's VPID (nested/nested_ept.h), written the first time vmcs02
 * is current. */
static void write_vmcs02_constants(struct vcpu *v, const struct vmcs_controls *l0)
{
    vmcs_write_host_state();
    vmcs_write(CR3_TARGET_COUNT, 0);
    vmcs_write(VM_EXIT_MSR_STORE_COUNT, 0);
    vmcs_write(VM_EXIT_MSR_LOAD_COUNT, 0);
    vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
    vmcs_write(MSR_BITMAP, (uint64_t)v->nested->msr_bitmap02);
    if (v->vpid02)
        vmcs_write(VIRTUAL_PROCESSOR_ID, v->vpid02);
    if (l0->proc2 & PROC2_ENABLE_XSAVES)
        vmcs_write(XSS_EXIT_BITMAP, 0);
    vmcs_write(VMCS_LINK_POINTER, ~0ull);
}

static bool pae_paging(uint64_t cr0, uint64_t cr4, bool ia32e)
{
    return !ia32e && (cr0 & CR0_PG) && (cr4 & CR4_PAE);     /* IA-32e first: most L2s */
}

/* The PDPTEs a PAE-paging L2 starts with (with EPT the processor takes
 * them from the VMCS, SDM Vol. 3C 27.3.2.4): with EPT in vmcs12, vmcs12's
 * PDPTE fields; without, L2's CR3 is an L1-physical address and they are
 * read from L1's memory there, where memory that is not RAM reads all
 * ones. False if one is invalid: the entry fails (27.3.1.6). */
static bool load_pdptes(struct vcpu *v, uint64_t cr0, uint64_t cr4, bool ia32e, bool ept12)
{
    if (!pae_paging(cr0, cr4, ia32e))
        return true;
    const struct vmcs12 *v12 = v->nested->vmcs12;
    uint64_t pdpte[PDPTE_COUNT];
    if (ept12) {
        for (unsigned i = 0; i < PDPTE_COUNT; i++)
            pdpte[i] = vmcs12_get(v12, GUEST_PDPTE0 + 2 * i);
    } else if (!guest_mem_read(v->vm, vmcs12_get(v12, GUEST_CR3) & ~0x1full, pdpte,
                               sizeof(pdpte))) {
        memset(pdpte, 0xff, sizeof(pdpte));
    }
    for (unsigned i = 0; i < PDPTE_COUNT; i++) {
        if (!nested_pdpte_valid(pdpte[i], cpu_phys_addr_bits()))
            return false;
        vmcs_write(GUEST_PDPTE0 + 2 * i, pdpte[i]);
    }
    return true;
}

/* guest_fields as a field set, and those a nested exit leaves in vmcs02
 * until L0 needs them (nested_sync_l2_state): the fields the shadow VMCS
 * does not show L1. The others, which L1s read on nearly every exit, go
 * into vmcs12 at once (save_l2_state). Made at start-up
 * (nested_switch_init). */
static struct {
    struct vmcs12_field_set set;
    struct vmcs12_field_set later_set;
    /* While vmcs02 is L1's shadow VMCS: those a nested exit leaves there
     * (all but the writable ones, nested/vmcs02_fields.h). */
    struct vmcs12_field_set vmcs02_set;
} copied;

void nested_switch_init(void)
{
    for (unsigned i = 0; i < COUNT(guest_fields); i++) {
        vmcs12_field_set_add(&copied.set, guest_fields[i]);
        if (vmcs_field_lookup(guest_fields[i])->shadow == VMCS_SHADOW_NO)
            vmcs12_field_set_add(&copied.later_set, guest_fields[i]);
    }
    struct vmcs12_field_set saved_at_exit = { 0 };
#define SAVED_AT_EXIT(id) vmcs12_field_set_add(&saved_at_exit, id);
    VMCS02_SHADOW_WRITABLE_GUEST_FIELDS(SAVED_AT_EXIT)
#undef SAVED_AT_EXIT
    for (unsigned i = 0; i < COUNT(guest_fields); i++)
        if (!vmcs12_field_set_has(&saved_at_exit, guest_fields[i]))
            vmcs12_field_set_add(&copied.vmcs02_set, guest_fields[i]);
}

/* The guest_fields of width code `width` that `written` holds, into
 * vmcs02 (current). Inline with a constant width: the fields' places and
 * sizes are constants then. */
static inline __attribute__((always_inline)) void
copy_written_width(const struct vmcs12 *v12, const struct vmcs12_field_set *written, unsigned width)
{
    uint64_t bits = written->bits[VMCS_TYPE_GUEST][width] & copied.set.bits[VMCS_TYPE_GUEST][width];
    unsigned base = vmcs12_field_set_word_offset(VMCS_TYPE_GUEST, width);
    for (; bits; bits &= bits - 1) {
        unsigned index = (unsigned)__builtin_ctzll(bits);
        vmcs_write_base(vmcs12_field_set_encoding(VMCS_TYPE_GUEST, width, index),
                        vmcs12_get_at(v12, width, base + index * VMCS12_WIDTH_BYTES(width)));
    }
}

/* Writes into vmcs02 (current) the guest_fields that `written` holds,
 * visiting only its bits: a VMRESUME usually follows a VMWRITE or two. */
static void copy_written_guest_fields(const struct vmcs12 *v12,
                                      const struct vmcs12_field_set *written)
{
    copy_written_width(v12, written, VMCS_WIDTH_16);
    copy_written_width(v12, written, VMCS_WIDTH_64);
    copy_written_width(v12, written, VMCS_WIDTH_32);
    copy_written_width(v12, written, VMCS_WIDTH_NATURAL);
}

/* vmcs12's secondary controls, 0 where L1 did not activate them. */
static uint32_t secondary12(const struct vmcs12_controls *c12)
{
    return c12->proc & PROC_ACTIVATE_SECONDARY ? c12->proc2 : 0;
}

/* Whether L1's exit controls save into vmcs12 all of write_entry_state's
 * state that its entry controls load from there. The exits to L1 save L2's
 * values into vmcs02 (SDM Vol. 3C 28.3), which differ from vmcs12's only
 * where vmcs12 does not save them: CR0 and CR4 it always does
 * (save_l2_state), EFER, PAT and the debug state only if L1's exit
 * controls say so. Without, the next entry must undo L2's changes there
 * (27.3.2.1). */
static bool exits_save_entry_state(const struct vmcs12_controls *c12)
{
    uint32_t pat = vmcs_config.ctl[VMX_CTL_ENTRY] & ENTRY_LOAD_PAT ? ENTRY_LOAD_PAT : 0;
    uint32_t loaded = ENTRY_LOAD_EFER | ENTRY_LOAD_DEBUG_CONTROLS | pat;
    uint32_t saved = EXIT_SAVE_EFER | EXIT_SAVE_DEBUG_CONTROLS | (pat ? EXIT_SAVE_PAT : 0);
    return (c12->entry & loaded) == loaded && (c12->exit & saved) == saved;
}

/* vmcs02's TSC offset, EFER, PAT, debug state, CR0, CR4 and their read
 * shadows, from vmcs12 and L1's own (`l1_*`, for what the entry does not
 * load): vmcs02 is current. */
static void write_entry_state(struct vcpu *v, const struct vmcs12_controls *c12, uint64_t l1_efer,
                              uint64_t l1_pat, uint64_t dr7, uint64_t debugctl, uint64_t cr0,
                              uint64_t cr4)
{
    struct nested_vmx *n = v->nested;
    const struct vmcs12 *v12 = n->vmcs12;
    /* L2's TSC: L1's offset, plus vmcs12's if L1 offsets it. */
    uint64_t offset = v->tsc_offset;
    if (c12->proc & PROC_USE_TSC_OFFSETTING)
        offset += vmcs12_get(v12, TSC_OFFSET);
    vmcs_write(TSC_OFFSET, offset);
    /* The state the entry loads only when its controls say so; otherwise
     * what L1 had (SDM Vol. 3C 27.3.2.1): EFER.LMA/LME follow IA-32e mode. */
    bool ia32e = c12->entry & ENTRY_IA32E_MODE_GUEST;
    uint64_t efer = c12->entry & ENTRY_LOAD_EFER ? vmcs12_get(v12, GUEST_IA32_EFER) : l1_efer;
    if (!(c12->entry & ENTRY_LOAD_EFER))
        efer = ia32e ? efer | EFER_LMA | EFER_LME : efer & ~(EFER_LMA | EFER_LME);
    vmcs_write(GUEST_IA32_EFER, efer);
    if (vmcs_config.ctl[VMX_CTL_ENTRY] & ENTRY_LOAD_PAT)
        vmcs_write(GUEST_IA32_PAT, c12->entry & ENTRY_LOAD_PAT ? vmcs12_get(v12, GUEST_IA32_PAT) : l1_pat);
    vmcs_write(GUEST_DR7, dr7);
    vmcs_write(GUEST_IA32_DEBUGCTL, debugctl);
    /* With unrestricted guest, PE and PG are L2's own (SDM Vol. 3C 27.3.1.1). */
    uint64_t cr0_forced = vmcs_config.cr0_fixed0;
    if (secondary12(c12) & PROC2_UNRESTRICTED_GUEST)     /* vmcs02 has it as vmcs12 does */
        cr0_forced &= ~(CR0_PE | CR0_PG);
    vmcs_write(GUEST_CR0, (cr0 | cr0_forced) & vmcs_config.cr0_fixed1);
    vmcs_write(GUEST_CR4, (cr4 | vmcs_config.cr4_fixed0) & vmcs_config.cr4_fixed1);
    vmcs_write(CR0_READ_SHADOW, nested_cr_read_shadow(cr0, c12->cr0_mask,
                                                      vmcs12_get(v12, CR0_READ_SHADOW)));
    vmcs_write(CR4_READ_SHADOW, nested_cr_read_shadow(cr4, c12->cr4_mask,
                                                      vmcs12_get(v12, CR4_READ_SHADOW)));
    n->entry_state_tsc_offset = v->tsc_offset;
    n->entry_state_stale = !exits_save_entry_state(c12);
    n->entry_work.entry_state++;
}

/* What this entry writes into vmcs02 anew: its controls (a new vmcs02,
 * vmcs12's controls changed, or vmcs01's since vmcs02's were made from
 * them: the merge drops vmcs01's event windows, L0's for L1), and its
 * entry state from vmcs12 (write_entry_state: with the controls, when the
 * entry state is stale, or for a new TSC offset). */
struct entry_rewrites {
    bool controls, entry_state;
};
static inline struct entry_rewrites entry_rewrites(const struct vcpu *v)
{
    const struct nested_vmx *n = v->nested;
    bool controls = n->vmcs02_fresh || n->controls_stale ||
                    n->controls02_generation != v->lv.controls_generation;
    return (struct entry_rewrites){
        .controls = controls,
        .entry_state = controls || n->entry_state_stale || n->entry_state_tsc_offset != v->tsc_offset,
    };
}

/* vmcs02's guest state and controls from vmcs12 and vmcs01 (KVM's
 * prepare_vmcs02); vmcs02 is current. False if L2's PDPTEs are invalid. */
static bool prepare_vmcs02(struct vcpu *v, const struct vmcs_controls *l0,
                           const struct vmcs12_controls *c12, struct entry_rewrites rewrites,
                           uint64_t l1_efer, uint64_t l1_pat, uint64_t l1_dr7, uint64_t l1_debugctl)
{
    struct nested_vmx *n = v->nested;
    const struct vmcs12 *v12 = n->vmcs12;
    if (n->vmcs02_fresh) {
        write_vmcs02_constants(v, l0);
        n->vmcs02_fresh = false;
    }
    if (rewrites.controls) {
        struct vmcs02_controls c02;
        nested_merge_controls(l0, c12, &c02);
        if (!v->vpid02)
            c02.proc2 &= ~PROC2_ENABLE_VPID;    /* none left: the CPU flushes at every transition */
        if (n->shadow02_linked)
            c02.proc2 |= PROC2_VMCS_SHADOWING;  /* shadow02_enter's, below */
        /* L2 on L1's memory (no EPT12) runs on EPT01, which maps the
         * APIC-access page at L1's xAPIC page (dev/apicv.c): L2's accesses
         * there must exit, APIC-access exits (all of them without a TPR
         * shadow, SDM Vol. 3C 30.4), emulated on L1's APIC as an L2 MMIO
         * access to it always was (exits/exit_apic.c). With L1's TPR shadow
         * an access to TPR itself reads L2's shadow instead. */
        if (v->vm->apic_access_page && !(secondary12(c12) & PROC2_ENABLE_EPT)) {
            c02.proc2 |= PROC2_VIRTUALIZE_APIC_ACCESSES;
            vmcs_write(APIC_ACCESS_ADDR, (uint64_t)v->vm->apic_access_page);
        }
        loaded_vmcs_write_controls(&n->vmcs02, &(struct vmcs_controls){
            .pin = c02.pin, .proc = c02.proc, .proc2 = c02.proc2, .exit = c02.exit,
            .entry = c02.entry, .exception_bitmap = c02.exception_bitmap,
            .cr0_mask = c02.cr0_mask, .cr4_mask = c02.cr4_mask });
        vmcs_write(PAGE_FAULT_ERROR_CODE_MASK, c02.pf_error_code_mask);
        vmcs_write(PAGE_FAULT_ERROR_CODE_MATCH, c02.pf_error_code_match);
        if (c02.proc2 & PROC2_PAUSE_LOOP_EXITING) {
            vmcs_write(PLE_GAP, vmcs12_get(v12, PLE_GAP));
            vmcs_write(PLE_WINDOW, vmcs12_get(v12, PLE_WINDOW));
        }
        n->controls02_generation = v->lv.controls_generation;
        n->controls_stale = false;
    }
    merge_msr_bitmap(v, c12->proc);
    /* (vmcs12's secondary controls may be on without their activation:
     * shadow02_enter looks at both.) */
    if ((c12->proc2 & PROC2_VMCS_SHADOWING) || n->shadow02_linked)
        shadow02_enter(v, secondary12(c12));
    bool debug = c12->entry & ENTRY_LOAD_DEBUG_CONTROLS;
    uint64_t debugctl = debug ? vmcs12_get(v12, GUEST_IA32_DEBUGCTL) : l1_debugctl;
    uint64_t cr0 = vmcs12_get(v12, GUEST_CR0), cr4 = vmcs12_get(v12, GUEST_CR4);
    /* None of it changes but for what makes the entry state stale
     * (nested/nested.h) and a control or TSC offset of L1's ("no VMWRITE
     * that does not change a value"; the read shadows may differ in bits
     * outside vmcs02's CR masks, which L2 owns and nothing reads). */
    if (rewrites.entry_state)
        write_entry_state(v, c12, l1_efer, l1_pat, debug ? vmcs12_get(v12, GUEST_DR7) : l1_dr7,
                          debugctl, cr0, cr4);
    /* vmcs02 still has the guest state of the last exit from L2 but for
     * what L1 wrote since: the written set's guest bits, of those the
     * fields copied as they are (most entries: none). */
    if (vmcs12_field_set_has_type(&n->written, VMCS_TYPE_GUEST)) {
        copy_written_guest_fields(v12, &n->written);
        vmcs12_field_set_clear_type(&n->written, VMCS_TYPE_GUEST);
    }
    /* L0's bitmap lets its reads through only while the VM keeps 0 there
     * (virt/vcpu_msrs.c): L2's value is vmcs02's. The merge above made the
     * word anew. */
    if (debugctl) {
        msr_bitmap_close_read((uint64_t *)n->msr_bitmap02, MSR_IA32_DEBUGCTL);
        n->msr_merged.valid = false;    /* the word is L0's | L1's again at the next entry */
    }
    bool ia32e = c12->entry & ENTRY_IA32E_MODE_GUEST;
    if (!load_pdptes(v, cr0, cr4, ia32e, secondary12(c12) & PROC2_ENABLE_EPT))
        return false;
    /* L1's event injection goes to L2 with this entry (SDM Vol. 3C 27.6);
     * without one, vmcs02 has none either unless a failed entry left it. */
    bool injects = nested_injects(n);
    if (injects || n->injection02_pending) {
        vmcs_write(VM_ENTRY_INTR_INFO, vmcs12_get(v12, VM_ENTRY_INTR_INFO));
        vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs12_get(v12, VM_ENTRY_EXCEPTION_ERROR_CODE));
        vmcs_write(VM_ENTRY_INSTRUCTION_LEN, vmcs12_get(v12, VM_ENTRY_INSTRUCTION_LEN));
        n->injection02_pending = injects;
    }
    v->window_exiting = false;      /* vmcs02 starts with L0's windows off */
    v->nmi_window_exiting = false;
    n->timer_deadline = 0;
    if (c12->pin & PIN_PREEMPTION_TIMER) {
        /* Counts down by 1 each time TSC bit 5 changes; 0 exits before L2
         * runs an instruction (SDM Vol. 3C 26.5.1). */
        uint64_t ticks = vmcs12_get(v12, VMX_PREEMPTION_TIMER_VALUE) << NESTED_TIMER_RATE;
        n->timer_deadline = (rdtsc() + ticks) | 1;     /* 0 means "none" */
        /* L2 is out in time for it. A stop left earlier than needed when
         * L2 exits costs at most one early exit to L1, after which the run
         * loop works out the stop anew (machine/vcpu_run.c). */
        vcpu_stop_by(v, n->timer_deadline);
    }
    return true;
}

/* An MSR a VM-entry MSR-load list may not name, or whose value WRMSR would
 * refuse (SDM Vol. 3C 27.4): false, and the entry fails. */
static bool load_msr_entry(struct vcpu *v, uint32_t index, uint64_t value)
{
    if (index == MSR_FS_BASE_INDEX || index == MSR_GS_BASE_INDEX ||
        (index >= X2APIC_FIRST && index <= X2APIC_LAST) || index == MSR_IA32_FEATURE_CONTROL)
        return false;
    bool handled;
    return vcpu_write_msr(v, index, value, &handled) && handled;
}

/* Processes an MSR list of `count` 16-byte entries at `address` in L1's
 * memory: loads, or stores the current values; the failing entry's number
 * (from 1), or 0. */
__attribute__((noinline)) static uint32_t process_msr_entries(struct vcpu *v, uint64_t address,
                                                              uint32_t count, bool store)
{
    for (uint32_t i = 0; i < count; i++) {
        struct { uint32_t index, reserved; uint64_t data; } entry;
        uint64_t at = address + (uint64_t)i * MSR_ENTRY_SIZE;
        if (!guest_mem_read(v->vm, at, &entry, sizeof(entry)) || entry.reserved)
            return i + 1;
        if (store) {
            bool handled;
            if (!vcpu_read_msr(v, entry.index, &entry.data, &handled) || !handled ||
                !guest_mem_write(v->vm, at + 8, &entry.data, sizeof(entry.data)))
                return i + 1;
        } else if (!load_msr_entry(v, entry.index, entry.data)) {
            return i + 1;
        }
    }
    return 0;
}

/* The MSR list vmcs12 names by its count and address fields: most L1s
 * use none, and then the round trip makes no call for it. */
static inline uint32_t process_msr_list(struct vcpu *v, enum vmcs_field count_field,
                                        enum vmcs_field address_field, bool store)
{
    const struct vmcs12 *v12 = v->nested->vmcs12;
    uint32_t count = (uint32_t)vmcs12_get(v12, count_field);
    return count ? process_msr_entries(v, vmcs12_get(v12, address_field), count, store) : 0;
}

/* The CR0 bits a VM exit leaves as L1 has them (SDM Vol. 3C 28.5.1): 63:32,
 * CD, NW, 28:19, 17, 15:6, ET. */
#define CR0_KEPT_AT_EXIT 0xffffffff7ffaffd0ull

/* The image of vmcs12's host state (nested/l1_host_image.h), worked out
 * again after L1 wrote a host-state field or a control, or loaded the VMCS
 * from its region (the entry checks see either first, nested/vmx_insn.c). */
static inline const struct l1_host_image *l1_host_image(struct nested_vmx *n)
{
    struct l1_host_image *image = n->host_image;
    if (!image->built) {
        l1_host_image_build(n->vmcs12, image);
        /* In VMX operation L1 has the bits VMX fixes set (its
         * IA32_VMX_CR0_FIXED0 and CR4_FIXED0 as offered). */
        image->cr0_shadow = (image->cr0 & ~CR0_KEPT_AT_EXIT) | nested_caps.msr[NESTED_VMX_CR0_FIXED0];
        image->cr4_shadow = image->cr4 | nested_caps.msr[NESTED_VMX_CR4_FIXED0];
        image->vmx_cr0 = vmcs_guest_cr0(image->cr0_shadow);
        image->vmx_cr4 = vmcs_guest_cr4(image->cr4_shadow);
    }
    return image;
}

/* L1 as a VM exit leaves it: the host-state area of vmcs12 into vmcs01's
 * guest state, which is current (SDM Vol. 3C 28.5). */
static void load_l1_host_state(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    const struct vmcs12 *v12 = n->vmcs12;
    const struct l1_host_image *image = l1_host_image(n);
    /* CR0 and CR4 from the host fields but for the bits a VM exit leaves
     * alone (28.5.1): L1's own, which vmcs01 has as they are (L0's CR0
     * mask holds none of them: only bits fixed in VMX operation), and
     * which the processor allows (L1 runs with them). */
    uint64_t cr0_kept = vmcs_read_base(GUEST_CR0) & CR0_KEPT_AT_EXIT;
    vmcs_write_base(GUEST_CR0, image->vmx_cr0 | cr0_kept);
    vmcs_write_base(CR0_READ_SHADOW, image->cr0_shadow | cr0_kept);
    vmcs_write_base(GUEST_CR4, image->vmx_cr4);
    vmcs_write_base(CR4_READ_SHADOW, image->cr4_shadow);
    vmcs_write_base(GUEST_CR3, image->cr3);
    /* EFER: the host field with the load IA32_EFER exit control; without,
     * L1's with LMA and LME set to the host address-space size (28.5.1),
     * which the entry checks made L1's IA-32e mode (27.2.4): L1's as it is.
     * Its LMA stays then, and vmcs01's IA-32e mode guest control with it. */
    if (image->load_efer)
        vmcs_write_base(GUEST_IA32_EFER, image->efer);
    if (image->load_pat) {
        v->pat = image->pat;
        if (vmcs_config.ctl[VMX_CTL_ENTRY] & ENTRY_LOAD_PAT)
            vmcs_write(GUEST_IA32_PAT, v->pat);
    }
    vmcs_write_base(GUEST_DR7, DR7_INIT);
    vmcs_write_base(GUEST_IA32_DEBUGCTL, 0);
    vmcs_write_base(GUEST_SYSENTER_CS, image->sysenter_cs);
    vmcs_write_base(GUEST_SYSENTER_ESP, image->sysenter_esp);
    vmcs_write_base(GUEST_SYSENTER_EIP, image->sysenter_eip);
#pragma GCC unroll 8
    for (unsigned i = 0; i < L1_HOST_SEGMENTS; i++) {
        const struct l1_host_segment *s = &image->segment[i];
        vmcs_write_base(GUEST_ES_SELECTOR + 2 * i, s->selector);
        vmcs_write_base(GUEST_ES_BASE + 2 * i, s->base);
        vmcs_write_base(GUEST_ES_LIMIT + 2 * i, s->limit);
        vmcs_write_base(GUEST_ES_AR_BYTES + 2 * i, s->access_rights);
    }
    vmcs_write_base(GUEST_GDTR_BASE, image->gdtr_base);
    vmcs_write_base(GUEST_GDTR_LIMIT, 0xffff);
    vmcs_write_base(GUEST_IDTR_BASE, image->idtr_base);
    vmcs_write_base(GUEST_IDTR_LIMIT, 0xffff);
    vmcs_write_base(GUEST_RIP, image->rip);
    vmcs_write_base(GUEST_RSP, vmcs12_get(v12, HOST_RSP));
    vmcs_write_base(GUEST_RFLAGS, RFLAGS_RESERVED);
    vmcs_write_base(GUEST_INTERRUPTIBILITY_INFO, 0);
    vmcs_write_base(GUEST_ACTIVITY_STATE, 0);
    vmcs_write_base(GUEST_PENDING_DBG_EXCEPTIONS, 0);
    vmcs_write_base(VM_ENTRY_INTR_INFO, 0);
    if (image->flush_vpid)
        tlb_flush_vpid(v->vpid);
}

/* A VMX abort (SDM Vol. 3C 28.7): the processor records why in the VMCS
 * region and shuts down, which a PC turns into a reset. */
static void vmx_abort(struct vcpu *v, uint32_t indicator)
{
    v->nested->vmcs12->abort = indicator;
    vm_guest_reset(v->vm, "VMX abort");
}

/* A change of level can let an event in or hold one back: it is looked at
 * before the next entry if one is requested (an interrupt, even one not
 * deliverable yet, or an NMI) or a window exit is on. Without either there
 * is nothing to deliver, and events raised later request the look
 * themselves (dev/apic_bus.c, dev/irq.c). */
static inline __attribute__((always_inline)) void request_event_check(struct vcpu *v)
{
    if (v->window_exiting || v->nmi_window_exiting ||
        __atomic_load_n(&v->nmi_pending, __ATOMIC_RELAXED) || vcpu_interrupt_requested(v))
        vcpu_request(v, REQ_EVENT);
}

/* The end of a VM exit to L1: vmcs01 with L1's host state, L1's shadow
 * VMCS the exit information (vmcs02 itself if `vmcs02_is_shadow`), then
 * the VM-exit MSR-load list; L1 runs next. Inline: with a constant
 * `vmcs02_is_shadow`, each way has only its own steps. */
static inline __attribute__((always_inline)) void return_to_l1(struct vcpu *v,
                                                               bool vmcs02_is_shadow)
{
    struct nested_vmx *n = v->nested;
    v->in_l2 = false;
    n->timer_deadline = 0;
    vcpu_run_on(v, &v->lv);
    /* vmcs01's APIC virtualization state from the APIC now (L0 may have
     * acknowledged an interrupt for L1 meanwhile, and this exit may come
     * after the entry's event check): dev/apicv.h. */
    apicv_sync(v);
    load_l1_host_state(v);
    if (vmcs02_is_shadow)
        vmcs02_as_shadow_park(v);
    else if (n->shadow_linked)
        shadow_vmcs_from_vmcs12(v);     /* L1 reads the exit from the shadow VMCS */
    /* The vCPU's own interrupt-window state is vmcs01's again. */
    uint32_t proc01 = v->lv.controls.proc;
    v->window_exiting = proc01 & PROC_INTERRUPT_WINDOW_EXITING;
    v->nmi_window_exiting = proc01 & PROC_NMI_WINDOW_EXITING;
    request_event_check(v);
    uint32_t failed = process_msr_list(v, VM_EXIT_MSR_LOAD_COUNT, VM_EXIT_MSR_LOAD_ADDR, false);
    if (failed)
        vmx_abort(v, 4);    /* failure loading MSRs on VM exit */
}

/* An entry that fails its guest-state checks or MSR loading ends in a VM
 * exit to L1 (SDM Vol. 3C 27.8): the exit reason with bit 31 set, the
 * qualification, the guest state of vmcs12 as it was; L1's host state. */
static void fail_entry(struct vcpu *v, uint32_t reason, uint64_t qualification)
{
    struct nested_vmx *n = v->nested;
    n->entry_state_stale = true;    /* the MSR-load list may have written some of it */
    nested_set_for_l1(n, VM_EXIT_REASON, reason | EXIT_REASON_ENTRY_FAILURE);
    nested_set_for_l1(n, EXIT_QUALIFICATION, qualification);
    nested_set_for_l1(n, VM_ENTRY_INTR_INFO,
                      vmcs12_get(n->vmcs12, VM_ENTRY_INTR_INFO) & ~NESTED_EVENT_VALID);
    bool vmcs02_is_shadow = n->vmcs02_shadow != VMCS02_NOT_SHADOW;
    return_to_l1(v, vmcs02_is_shadow);
    if (vmcs02_is_shadow) {
        vmcs02_as_shadow_refill(v);
        vmcs02_as_shadow_written(v, VM_EXIT_REASON);
        vmcs02_as_shadow_written(v, EXIT_QUALIFICATION);
        vmcs02_as_shadow_written(v, VM_ENTRY_INTR_INFO);
    }
}

/* The VMX-preemption timer value an exit saves: what was left of L2's
 * time at the exit (the entry takes it back from vmcs02 as L1's shadow). */
static inline __attribute__((always_inline)) void save_l2_timer_value(struct vcpu *v,
                                                                      uint32_t exit12)
{
    struct nested_vmx *n = v->nested;
    if (exit12 & EXIT_SAVE_PREEMPTION_TIMER) {
        uint64_t now = rdtsc();
        uint64_t left = n->timer_deadline && (int64_t)(n->timer_deadline - now) > 0
                            ? (n->timer_deadline - now) >> NESTED_TIMER_RATE : 0;
        vmcs12_set_noting(n->vmcs12, &n->shadow_stale, VMX_PREEMPTION_TIMER_VALUE, left);
    }
}

/* Of vmcs02's guest state (current), what the CR0/CR4 three-way rule and
 * the exit controls save into vmcs12: at the exit, the timer value too, or
 * later (adjusted_pending) from vmcs02 as the exit left it. */
static inline __attribute__((always_inline)) void save_l2_adjusted_state(struct vcpu *v,
                                                                         bool at_exit)
{
    struct nested_vmx *n = v->nested;
    struct vmcs12 *v12 = n->vmcs12;
    struct vmcs12_field_set *stale = &n->shadow_stale;
    n->adjusted_pending = false;
    uint64_t cr0 = nested_cr_for_vmcs12(vmcs_read_base(GUEST_CR0), vmcs_read_base(CR0_READ_SHADOW),
                                        n->vmcs02.controls.cr0_mask, vmcs12_get(v12, GUEST_CR0),
                                        vmcs12_get(v12, CR0_GUEST_HOST_MASK));
    vmcs12_set_noting(v12, stale, GUEST_CR0, cr0);
    uint64_t cr4 = nested_cr_for_vmcs12(vmcs_read_base(GUEST_CR4), vmcs_read_base(CR4_READ_SHADOW),
                                        n->vmcs02.controls.cr4_mask, vmcs12_get(v12, GUEST_CR4),
                                        vmcs12_get(v12, CR4_GUEST_HOST_MASK));
    vmcs12_set_noting(v12, stale, GUEST_CR4, cr4);
    uint32_t exit12 = (uint32_t)vmcs12_get(v12, VM_EXIT_CONTROLS);
    uint64_t efer = vmcs_read_base(GUEST_IA32_EFER);
    if (exit12 & EXIT_SAVE_EFER)
        vmcs12_set_noting(v12, stale, GUEST_IA32_EFER, efer);
    /* The IA-32e mode guest control follows EFER.LMA (SDM Vol. 3C 28.2). */
    uint64_t entry12 = vmcs12_get(v12, VM_ENTRY_CONTROLS);
    uint64_t entry12_now = efer & EFER_LMA ? entry12 | ENTRY_IA32E_MODE_GUEST
                                           : entry12 & ~ENTRY_IA32E_MODE_GUEST;
    if (entry12_now != entry12) {
        vmcs12_set_noting(v12, stale, VM_ENTRY_CONTROLS, entry12_now);
        n->controls12.entry = (uint32_t)entry12_now;
        n->controls_stale = true;
    }
    if ((exit12 & EXIT_SAVE_PAT) && (vmcs_config.ctl[VMX_CTL_ENTRY] & ENTRY_LOAD_PAT))
        vmcs12_set_noting(v12, stale, GUEST_IA32_PAT, vmcs_read(GUEST_IA32_PAT));
    /* With EPT, a PAE-paging guest's PDPTEs are saved (SDM Vol. 3C 28.3.4). */
    if (pae_paging(cr0, cr4, efer & EFER_LMA) && nested_l2_uses_ept(v))
        for (unsigned i = 0; i < PDPTE_COUNT; i++)
            vmcs12_set_noting(v12, stale, GUEST_PDPTE0 + 2 * i, vmcs_read(GUEST_PDPTE0 + 2 * i));
    if (exit12 & EXIT_SAVE_DEBUG_CONTROLS) {
        vmcs12_set_noting(v12, stale, GUEST_DR7, vmcs_read_base(GUEST_DR7));
        vmcs12_set_noting(v12, stale, GUEST_IA32_DEBUGCTL, vmcs_read_base(GUEST_IA32_DEBUGCTL));
    }
    if (at_exit)
        save_l2_timer_value(v, exit12);
}

/* Out of line, for the paths that seldom need it. */
static __attribute__((noinline)) void settle_l2_adjusted_state(struct vcpu *v)
{
    save_l2_adjusted_state(v, false);
}

/* L2 runs on vpid02. With VPID in vmcs12, its translations are kept
 * across entries and exits but for a change of vmcs12's VPID, as L1 would
 * see them kept for that VPID; without, a VM entry invalidates the
 * mappings of VPID 0, which L2 shares with L1 then (SDM Vol. 3C 29.4.3.1). */
static void flush_l2_translations(struct vcpu *v, uint32_t proc2_12)
{
    struct nested_vmx *n = v->nested;
    if (proc2_12 & PROC2_ENABLE_VPID) {
        uint16_t vpid12 = (uint16_t)vmcs12_get(n->vmcs12, VIRTUAL_PROCESSOR_ID);
        if (vpid12 == n->vpid12)
            return;
        n->vpid12 = vpid12;
    }
    tlb_flush_vpid(v->vpid02);
}

void nested_vm_entry(struct vcpu *v, bool resume, const struct nested_l1_carry *l1)
{
    struct nested_vmx *n = v->nested;
    uint64_t qualification;
    uint64_t link = vmcs12_get(n->vmcs12, VMCS_LINK_POINTER);
    /* A link pointer names memory L1 may change without VMWRITE. L0 reads
     * that region in place from here on (the checks, L2's shadow VMCS): a
     * VMCS L1 left active there goes back into it first. */
    uint32_t link_revision = UINT32_MAX;
    if (link != ~0ull) {
        vmcs12_cache_write_back(v, link, false);
        link_revision = l1_region_revision(v, link);
    }
    bool passed = true;
    if (n->guest_state_checked) {
        if (nested_injects(n)) {
            n->entry_work.injections++;
            nested_sync_l2_state(v);    /* the activity state, with the others */
            passed = nested_check_injection_guest_state(n->vmcs12, &nested_caps,
                                                        cpu_phys_addr_bits(), NULL);
            qualification = 0;
        }
        if (passed && link != ~0ull)
            passed = nested_recheck_guest_state(n->vmcs12, &nested_caps, cpu_phys_addr_bits(),
                                                link_revision, &qualification, NULL);
    } else {
        n->entry_work.full_guest_state++;
        nested_sync_l2_state(v);
        passed = nested_check_guest_state(n->vmcs12, &nested_caps, cpu_phys_addr_bits(),
                                          link_revision, n->segment_memo, &qualification, NULL);
    }
    if (!passed) {
        fail_entry(v, EXIT_REASON_INVALID_GUEST_STATE, qualification);
        return;
    }
    n->guest_state_checked = true;
    if (!make_vmcs02(v)) {
        vm_end(v->vm, -1, "out of memory for a vmcs02");
        return;
    }
    const struct vmcs_controls *l0 = &v->lv.controls;
    const struct vmcs12_controls *c12 = &n->controls12;    /* as checked (nested_written_checked) */
    if (v->vmcs != &n->vmcs02)      /* else the take made it current */
        vcpu_run_on(v, &n->vmcs02);
    /* vmcs12's CR0, CR4, EFER, PAT and debug state may wait in vmcs02
     * (adjusted_pending) unless the entry writes vmcs02's anew from them,
     * or L2 left IA-32e mode (its PDPTEs, and vmcs12's IA-32e mode guest
     * control, which the exit would have changed). But for DEBUGCTL, which
     * the entry reads (vmcs12's is vmcs02's here: the exit controls save
     * it, or the entry state would be stale). */
    struct entry_rewrites rewrites = entry_rewrites(v);
    if (n->adjusted_pending) {
        if (rewrites.entry_state || !(c12->entry & ENTRY_IA32E_MODE_GUEST) ||
            !(vmcs_read_base(GUEST_IA32_EFER) & EFER_LMA)) {
            settle_l2_adjusted_state(v);    /* c12's IA-32e mode guest control with it */
            rewrites = entry_rewrites(v);   /* which may have made the controls stale */
        } else if (c12->entry & ENTRY_LOAD_DEBUG_CONTROLS) {
            vmcs12_set_noting(n->vmcs12, &n->shadow_stale, GUEST_IA32_DEBUGCTL,
                              vmcs_read_base(GUEST_IA32_DEBUGCTL));
        }
    }
    if (!prepare_vmcs02(v, l0, c12, rewrites, l1->efer, v->pat, l1->dr7, l1->debugctl)) {
        fail_entry(v, EXIT_REASON_INVALID_GUEST_STATE, NESTED_ENTRY_FAILURE_PDPTE);
        return;
    }
    uint32_t failed = process_msr_list(v, VM_ENTRY_MSR_LOAD_COUNT, VM_ENTRY_MSR_LOAD_ADDR, false);
    if (failed) {
        fail_entry(v, EXIT_REASON_MSR_LOADING, failed);
        return;
    }
    uint32_t proc2_12 = secondary12(c12);
    /* The common case without nested_ept_enter's call: the root of the last entry. */
    if (!((proc2_12 & PROC2_ENABLE_EPT) &&
          nested_ept02_current(n, vmcs12_get(n->vmcs12, EPT_POINTER), this_cpu()->index)) &&
        !nested_ept_enter(v, proc2_12)) {
        vm_end(v->vm, -1, "out of memory for a shadow EPT root");
        return;
    }
    flush_l2_translations(v, proc2_12);
    n->launch_pending = !resume;
    v->in_l2 = true;
    request_event_check(v);
}

/* L2 leaves vmcs02 (current) with event windows L0 opened for it
 * (virt/event_inject.h): they close, vmcs02 keeping vmcs12's, so that the
 * next entry starts with L0's windows off as it says. Out of line: L0
 * seldom has one open when L2 exits to L1. */
static __attribute__((noinline, cold)) void close_l0_windows(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    uint32_t proc12 = (uint32_t)vmcs12_get(n->vmcs12, CPU_BASED_VM_EXEC_CONTROL);
    loaded_vmcs_set_proc(&n->vmcs02, (n->vmcs02.controls.proc & ~PROC_EVENT_WINDOW_CONTROLS) |
                                         (proc12 & PROC_EVENT_WINDOW_CONTROLS));
}

/* The guest fields of width code `width` whose bits `bits` holds (a word
 * of a field set), from vmcs02 (current) into vmcs12; into `changed` those
 * whose value that changed, if it is not NULL. Inline with a constant
 * width: the fields' places and sizes are constants then, and a set of a
 * few fields costs a few VMREADs, not a walk of a list. */
static inline __attribute__((always_inline)) void
save_guest_word(struct vmcs12 *v12, uint64_t bits, unsigned width, struct vmcs12_field_set *changed)
{
    unsigned base = vmcs12_field_set_word_offset(VMCS_TYPE_GUEST, width);
    for (; bits; bits &= bits - 1) {
        unsigned index = (unsigned)__builtin_ctzll(bits);
        uint32_t field = vmcs12_field_set_encoding(VMCS_TYPE_GUEST, width, index);
        unsigned offset = base + index * VMCS12_WIDTH_BYTES(width);
        uint64_t value = vmcs_read_base(field);
        if (!changed) {
            vmcs12_set_at(v12, width, offset, value);
        } else if (vmcs12_get_at(v12, width, offset) != value) {
            vmcs12_set_at(v12, width, offset, value);
            vmcs12_field_set_add(changed, field);
        }
    }
}

/* The guest fields learnt to shadow for vmcs12 (nested/shadow_vmcs.h) that a
 * nested exit would leave in vmcs02: L1 reads them in the shadow, which
 * gets them with the others. Out of line: the path of an L1 that learnt
 * none stays as it was. */
static __attribute__((noinline, cold)) void save_promoted_l2_state(struct nested_vmx *n)
{
    const uint64_t *promoted = n->shadow_vmcs.learnt->promotion.promoted_set.bits[VMCS_TYPE_GUEST];
    const uint64_t *later = copied.later_set.bits[VMCS_TYPE_GUEST];
#define SAVE_WORD(width) \
    save_guest_word(n->vmcs12, promoted[width] & later[width], width, &n->shadow_stale);
    SAVE_WORD(VMCS_WIDTH_16) SAVE_WORD(VMCS_WIDTH_64) SAVE_WORD(VMCS_WIDTH_32)
    SAVE_WORD(VMCS_WIDTH_NATURAL)
#undef SAVE_WORD
}

/* vmcs02 stays L1's shadow VMCS (nested/vmcs02_as_shadow.h): of L2's
 * state, only what the next entry compares with what L1 left in vmcs02
 * (vmcs02_as_shadow_take) goes into vmcs12 at once, and CR3, which `info
 * nested` shows. */
static void save_writable_guest_fields(struct vmcs12 *v12)
{
#define SAVE(id) vmcs12_set(v12, id, vmcs_read_base(id));
    VMCS02_SHADOW_WRITABLE_GUEST_FIELDS(SAVE)
    SAVE(GUEST_CR3)
#undef SAVE
}

/* vmcs02 (current) stays L1's shadow VMCS: the exit reason and the exit
 * information L0 made up (a synthetic exit's, in vmcs12 already) or
 * requalified go into it (an exit of vmcs02's own has them there); L2's
 * HLT, which L0 modelled, too. vmcs12 keeps the qualification for `info
 * nested`. */
static void exit_info_into_vmcs02(struct vcpu *v, uint32_t reason, enum nested_exit_info info,
                                  uint64_t qualification)
{
    struct nested_vmx *n = v->nested;
    struct vmcs12 *v12 = n->vmcs12;
    if (info != NESTED_EXIT_INFO_VMCS02)    /* else vmcs02's own reason is it */
        vmcs_write_base(VM_EXIT_REASON, reason);
    if (info == NESTED_EXIT_INFO_SYNTHETIC) {
#define PUT_FIELD(id) vmcs_write_base(id, vmcs12_get(v12, id));
        EXIT_INFO_FIELDS(PUT_FIELD)
#undef PUT_FIELD
    } else {
        if (info == NESTED_EXIT_INFO_REQUALIFIED)
            vmcs_write_base(EXIT_QUALIFICATION, qualification);
        vmcs12_set(v12, EXIT_QUALIFICATION, vmcs_read_base(EXIT_QUALIFICATION));
    }
    /* For L1 to read, and for the next entry unless L1 changes it. */
    if (n->l2_halted)
        vmcs_write_base(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_HLT);
}

/* vmcs02's guest state back into vmcs12 (KVM's sync_vmcs02_to_vmcs12): the
 * fields L1 reads in its shadow VMCS at once, the others when L0 needs them
 * (nested_sync_l2_state). */
static void save_l2_state(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    struct vmcs12 *v12 = n->vmcs12;
    struct vmcs12_field_set *stale = &n->shadow_stale;
#define SAVE_IF_SHADOWED(id)                                                              \
    if ((int)id##_SHADOW != (int)VMCS_SHADOW_NO)                                           \
        vmcs12_set_noting(v12, stale, id, vmcs_read_base(id));
    GUEST_FIELDS(SAVE_IF_SHADOWED)
#undef SAVE_IF_SHADOWED
    if (__builtin_expect(n->shadow_promoted, 0))
        save_promoted_l2_state(n);
    n->l2_state_pending = true;
    save_l2_adjusted_state(v, true);
}

/* Whether vmcs02 is to be (or stay) L1's shadow VMCS after this exit:
 * whether the VM uses the scheme is tested first, the rest
 * (vmcs02_as_shadow_wanted) only where it does. */
static inline bool keep_vmcs02_as_shadow(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    return n->vmcs02_shadow_on &&
           (n->vmcs02_shadow != VMCS02_NOT_SHADOW || vmcs02_as_shadow_wanted(v));
}

/* A VMLAUNCH is done once its entry completed: the processor's
 * entry-failure exits (bit 31) leave the VMCS clear (SDM Vol. 3C 27.8). */
static inline __attribute__((always_inline)) void conclude_launch(struct nested_vmx *n,
                                                                  uint32_t reason)
{
    if (n->launch_pending && !(reason & EXIT_REASON_ENTRY_FAILURE))
        n->vmcs12->launch_state = VMCS12_LAUNCHED;
    n->launch_pending = false;
}

/* A nested exit L0 makes up: its information into vmcs12, and an event L0
 * was injecting into L2, which is L1's to deliver now (vmcs02 current). */
static inline __attribute__((always_inline)) void note_synthetic_exit(struct nested_vmx *n,
                                                                      uint64_t qualification,
                                                                      uint32_t interruption_info)
{
    struct vmcs12 *v12 = n->vmcs12;
    struct vmcs12_field_set *stale = &n->shadow_stale;
#define CLEAR_FIELD(id) vmcs12_set_noting(v12, stale, id, 0);
    EXIT_INFO_FIELDS(CLEAR_FIELD)
#undef CLEAR_FIELD
    vmcs12_set_noting(v12, stale, EXIT_QUALIFICATION, qualification);
    vmcs12_set_noting(v12, stale, VM_EXIT_INTR_INFO, interruption_info);
    uint32_t injecting = (uint32_t)vmcs_read(VM_ENTRY_INTR_INFO);
    if (injecting & NESTED_EVENT_VALID) {
        vmcs12_set_noting(v12, stale, IDT_VECTORING_INFO, injecting);
        vmcs12_set_noting(v12, stale, IDT_VECTORING_ERROR_CODE,
                          vmcs_read(VM_ENTRY_EXCEPTION_ERROR_CODE));
        vmcs12_set_noting(v12, stale, VM_EXIT_INSTRUCTION_LEN, vmcs_read(VM_ENTRY_INSTRUCTION_LEN));
    }
}

/* A nested exit's end, vmcs02 current: the VM-exit MSR-store list, vmcs02
 * left for L1 (`keep`: as its shadow VMCS), then L1. */
static inline __attribute__((always_inline)) void finish_exit(struct vcpu *v, bool keep)
{
    struct nested_vmx *n = v->nested;
    struct vmcs12 *v12 = n->vmcs12;
    /* Every VM exit clears the valid bit of the VM-entry interruption
     * information (SDM Vol. 3C 28.2). */
    vmcs12_set_noting(v12, &n->shadow_stale, VM_ENTRY_INTR_INFO,
                      vmcs12_get(v12, VM_ENTRY_INTR_INFO) & ~NESTED_EVENT_VALID);
    uint32_t failed = process_msr_list(v, VM_EXIT_MSR_STORE_COUNT, VM_EXIT_MSR_STORE_ADDR, true);
    /* vmcs02's pending injection is L1's now: none, or L1's own (valid
     * bit clear) with the other fields vmcs02 holds for L1. */
    if (!keep)
        vmcs_write(VM_ENTRY_INTR_INFO, 0);
    n->injection02_pending = false;
    if (v->window_exiting || v->nmi_window_exiting)
        close_l0_windows(v);
    if (keep)
        vmcs02_as_shadow_put(v);        /* after any change of vmcs02's controls */
    return_to_l1(v, keep);
    if (failed)
        vmx_abort(v, 1);    /* failure saving guest MSRs */
}

/* nested_vm_exit with vmcs02 kept as L1's shadow VMCS (vmcs02_as_shadow.h):
 * vmcs12 gets what the next entry compares and what only it holds; vmcs02
 * what L0 made up or changed. Out of line: a VM asks for it. */
static __attribute__((noinline)) void exit_keeping_vmcs02(struct vcpu *v, uint32_t reason,
                                                         enum nested_exit_info info,
                                                         uint64_t qualification,
                                                         uint32_t interruption_info)
{
    struct nested_vmx *n = v->nested;
    conclude_launch(n, reason);
    save_writable_guest_fields(n->vmcs12);
    n->l2_state_pending = true;
    /* CR0, CR4 and EFER shown in vmcs02 (swapped) if L1 read them after
     * an exit of this reason before, else worked out when needed. */
    n->vmcs02_parked_reason = (uint16_t)reason;
    n->vmcs02_swapped = n->vmcs02_swap_reasons >> (reason & 63) & 1;
    if (n->vmcs02_swapped) {
        save_l2_adjusted_state(v, true);
    } else {
        n->adjusted_pending = true;
        save_l2_timer_value(v, (uint32_t)vmcs12_get(n->vmcs12, VM_EXIT_CONTROLS));
    }
    vmcs12_set_noting(n->vmcs12, &n->shadow_stale, VM_EXIT_REASON, reason);   /* `info nested` */
    if (info == NESTED_EXIT_INFO_SYNTHETIC)
        note_synthetic_exit(n, qualification, interruption_info);
    exit_info_into_vmcs02(v, reason, info, qualification);
    n->l2_halted = false;
    finish_exit(v, true);
}

/* nested_vm_exit with vmcs02 left for L1 as an ordinary VMCS: vmcs12 gets
 * L2's state and the exit information. Out of line, as the other way is:
 * nested_vm_exit then only chooses. */
static __attribute__((noinline)) void exit_to_vmcs12(struct vcpu *v, uint32_t reason,
                                                    enum nested_exit_info info,
                                                    uint64_t qualification,
                                                    uint32_t interruption_info)
{
    struct nested_vmx *n = v->nested;
    struct vmcs12 *v12 = n->vmcs12;
    struct vmcs12_field_set *stale = &n->shadow_stale;
    conclude_launch(n, reason);
    save_l2_state(v);
    if (n->l2_halted) {
        vmcs12_set_noting(v12, stale, GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_HLT);
        vmcs12_field_set_add(&n->written, GUEST_ACTIVITY_STATE);    /* vmcs02 says active */
    }
    n->l2_halted = false;
    vmcs12_set_noting(v12, stale, VM_EXIT_REASON, reason);
    if (info == NESTED_EXIT_INFO_SYNTHETIC) {
        note_synthetic_exit(n, qualification, interruption_info);
    } else {
#define COPY_FIELD(id) vmcs12_set_noting(v12, stale, id, vmcs_read_base(id));
        EXIT_INFO_FIELDS(COPY_FIELD)
#undef COPY_FIELD
        if (info == NESTED_EXIT_INFO_REQUALIFIED)
            vmcs12_set_noting(v12, stale, EXIT_QUALIFICATION, qualification);
    }
    finish_exit(v, false);
}

void nested_vm_exit(struct vcpu *v, uint32_t reason, enum nested_exit_info info,
                    uint64_t qualification, uint32_t interruption_info)
{
    if (keep_vmcs02_as_shadow(v))
        exit_keeping_vmcs02(v, reason, info, qualification, interruption_info);
    else
        exit_to_vmcs12(v, reason, info, qualification, interruption_info);
}

/* With vmcs02 current and L1's shadow VMCS since the last nested exit:
 * what that exit left there, but for the fields L0 or L1 wrote since
 * (written: vmcs02 has their vmcs12 values too), into vmcs12. */
static void save_vmcs02_state(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    struct vmcs12 *v12 = n->vmcs12;
    const uint64_t *saved = copied.vmcs02_set.bits[VMCS_TYPE_GUEST];
    const uint64_t *written = n->written.bits[VMCS_TYPE_GUEST];
#define SAVE_WORD(width) save_guest_word(v12, saved[width] & ~written[width], width, NULL);
    SAVE_WORD(VMCS_WIDTH_16) SAVE_WORD(VMCS_WIDTH_64) SAVE_WORD(VMCS_WIDTH_32)
    SAVE_WORD(VMCS_WIDTH_NATURAL)
#undef SAVE_WORD
#define COPY_FIELD(id) vmcs12_set(v12, id, vmcs_read_base(id));
    EXIT_INFO_FIELDS(COPY_FIELD)
#undef COPY_FIELD
    if (n->adjusted_pending)
        settle_l2_adjusted_state(v);
}

void nested_sync_l2_state(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    if (!n || !n->l2_state_pending)
        return;
    n->l2_state_pending = false;
    if (n->vmcs02_shadow != VMCS02_NOT_SHADOW) {
        vmcs02_as_shadow_with_current(v, save_vmcs02_state);
        return;
    }
    /* Not a field L0 or L1 wrote since the exit (written), newer in
     * vmcs12, nor one learnt to shadow for it: the exit saved those
     * (save_promoted_l2_state; a field is learnt at an emulated access,
     * which syncs first, so none was learnt since the exit). */
    uint64_t pending[4], any = 0;
    for (unsigned width = 0; width < 4; width++) {
        pending[width] = copied.later_set.bits[VMCS_TYPE_GUEST][width] &
                         ~n->written.bits[VMCS_TYPE_GUEST][width];
        if (n->shadow_promoted)
            pending[width] &= ~n->shadow_vmcs.learnt->promotion.promoted_set.bits[VMCS_TYPE_GUEST][width];
        any |= pending[width];
    }
    if (!any)
        return;
    struct loaded_vmcs *was = v->vmcs;
    vcpu_run_on(v, &n->vmcs02);
#define SAVE_WORD(width) save_guest_word(n->vmcs12, pending[width], width, NULL);
    SAVE_WORD(VMCS_WIDTH_16) SAVE_WORD(VMCS_WIDTH_64) SAVE_WORD(VMCS_WIDTH_32)
    SAVE_WORD(VMCS_WIDTH_NATURAL)
#undef SAVE_WORD
    vcpu_run_on(v, was);
}

void nested_settle_l2_adjusted_state(struct vcpu *v)
{
    if (v->nested && v->nested->adjusted_pending)
        vmcs02_as_shadow_with_current(v, settle_l2_adjusted_state);
}

void nested_entry_failed_late(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    n->entry_state_stale = true;    /* the MSR-load list may have written some of it */
    n->injection02_pending = true;  /* L1's event, or one L0 put in for L2 */
    if (v->window_exiting || v->nmi_window_exiting)
        close_l0_windows(v);
    v->in_l2 = false;
    vcpu_run_on(v, &v->lv);
    vmcs02_as_shadow_repark(v);
    /* L1's VMLAUNCH/VMRESUME is still where it was in vmcs01: it ends in
     * VMfailValid with the error in the current VMCS. */
    vmcs12_set(n->vmcs12, VM_INSTRUCTION_ERROR, VMXERR_ENTRY_INVALID_CONTROLS);
    uint64_t rflags = vmcs_read(GUEST_RFLAGS) & ~RFLAGS_ARITHMETIC;
    vmcs_write(GUEST_RFLAGS, rflags | RFLAGS_ZF);
    vmcs_write(GUEST_RIP, vmcs_read(GUEST_RIP) + vmcs_read(VM_EXIT_INSTRUCTION_LEN));
}
