/* Hardware VMCS shadowing for L1 (nested/shadow_vmcs.h). */
#include "nested/shadow_vmcs.h"
#include "nested/shadow_fields.h"
#include "nested/nested.h"
#include "nested/vmcs12.h"
#include "virt/vcpu.h"
#include "virt/vm.h"
#include "vmx/exit_reasons.h"
#include "vmx/loaded_vmcs.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_cpu.h"
#include "vmx/vmx_controls.h"
#include "vmx/vmx_insn.h"
#include "arch/cpu.h"
#include "arch/platform.h"
#include "lib/page_alloc.h"
#include "lib/string.h"


static struct shadow_fields fields;
static uint8_t *vmread_bitmap, *vmwrite_bitmap;
static bool available;
/* The fields a vmcs12 may learn to shadow: those the processor can
 * shadow (field_shadowable), not in the RW list, and not read-only data,
 * which L1 cannot write. */
static struct vmcs12_field_set promotable;
/* The vmcs12 fields field_shadowable found the processor keeps. */
static struct vmcs12_field_set keeps;

static bool access_rights(uint32_t encoding)
{
    return encoding >= GUEST_ES_AR_BYTES && encoding <= GUEST_TR_AR_BYTES;
}

/* Whether the current (scratch) VMCS keeps all 32 bits of an access-rights
 * field. */
static bool access_rights_kept(void)
{
    uint64_t value;
    vmcs_write(GUEST_ES_AR_BYTES, UINT32_MAX);
    return vmcs_read_if_present(GUEST_ES_AR_BYTES, &value) && value == UINT32_MAX;
}

/* Whether the field `encoding` can be in a shadow VMCS as vmcs12 has it:
 * VMREAD of it succeeds on the current (scratch) VMCS, and for the guest
 * segments' access rights, the processor keeps every bit VMWRITE gives them
 * (*ctx, access_rights_kept): some drop the reserved ones (KVM masks them
 * for that reason), and L1 must read back, and the entry checks see, the
 * value as written. */
static bool field_shadowable(void *ctx, uint32_t encoding)
{
    const bool *all_access_rights_bits = ctx;
    uint64_t value;
    return (*all_access_rights_bits || !access_rights(encoding)) &&
           vmcs_read_if_present(encoding, &value);
}

void shadow_vmcs_init(void)
{
    if (!(vmcs_config.ctl[VMX_CTL_PROC2] & PROC2_VMCS_SHADOWING))
        return;
    uint32_t *scratch = page_alloc(1);
    vmread_bitmap = page_alloc(1);
    vmwrite_bitmap = page_alloc(1);
    if (!scratch || !vmread_bitmap || !vmwrite_bitmap)
        panic("out of memory for the VMCS-shadowing bitmaps");
    scratch[0] = vmcs_config.revision_id;
    if (vmclear((uint64_t)scratch) != VMX_SUCCEED || vmptrld((uint64_t)scratch) != VMX_SUCCEED)
        panic("cannot load a scratch VMCS to probe its fields");
    bool all_access_rights_bits = access_rights_kept();
    shadow_fields_select(&fields, field_shadowable, &all_access_rights_bits,
                         vmcs_config.misc & VMX_MISC_VMWRITE_ANY_FIELD);
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        const struct vmcs_field_info *f = &vmcs_field_table[i];
        if (vmcs12_field_offset(f->encoding) >= 0 &&
            field_shadowable(&all_access_rights_bits, f->encoding))
            vmcs12_field_set_add(&keeps, f->encoding);
        if (f->shadow != VMCS_SHADOW_RW && vmcs12_field_offset(f->encoding) >= 0 &&
            vmcs_field_type(f->encoding) != VMCS_TYPE_READ_ONLY &&
            field_shadowable(&all_access_rights_bits, f->encoding))
            vmcs12_field_set_add(&promotable, f->encoding);
    }
    if (vmclear((uint64_t)scratch) != VMX_SUCCEED)
        panic("VMCLEAR of the scratch VMCS failed");
    page_free(scratch, 1);
    shadow_bitmaps_build(&fields, vmread_bitmap, vmwrite_bitmap);
    available = true;
}

bool shadow_vmcs_keeps(uint32_t encoding)
{
    return available && vmcs12_field_set_has(&keeps, encoding);
}

bool shadow_vmcs_used(const struct vcpu *v)
{
    return available && v->vm->config.shadow_vmcs;
}

/* Runs with a shadow VMCS current for a moment, then VMCLEARs it (its
 * data back in its region, active nowhere) and makes the vCPU's VMCS
 * current again. Interrupts stay off meanwhile: a VMCLEAR another CPU asks
 * of this one (vmx/loaded_vmcs.c) must not see the shadow current. */
uint64_t shadow_region_enter(uint64_t region)
{
    uint64_t flags = irq_save();
    if (vmptrld(region) != VMX_SUCCEED)
        panic("VMPTRLD of a shadow VMCS failed");
    return flags;
}

void shadow_region_leave(const struct vcpu *v, uint64_t region, uint64_t flags)
{
    if (vmclear(region) != VMX_SUCCEED || vmptrld(v->vmcs->vmcs) != VMX_SUCCEED)
        panic("cannot leave a shadow VMCS for vCPU %u's", v->id);
    irq_restore(flags);
}

uint64_t shadow_region_alloc(void)
{
    uint32_t *region = page_alloc(1);
    if (!region)
        return 0;
    region[0] = vmcs_config.revision_id | VMCS12_SHADOW_INDICATOR;
    if (vmclear((uint64_t)region) != VMX_SUCCEED)
        panic("VMCLEAR of a new shadow VMCS failed");
    return (uint64_t)region;
}

const struct shadow_fields *shadow_vmcs_fields(void)
{
    return &fields;
}

const uint64_t *shadow_vmcs_bitmap(bool vmwrite)
{
    return (const uint64_t *)(vmwrite ? vmwrite_bitmap : vmread_bitmap);
}

/* The fields of `list` from `from` into the shadow VMCS (current). */
static void load_places(const struct vmcs12 *from, const struct vmcs12_place *list, unsigned count)
{
    for (unsigned i = 0; i < count; i++)
        vmcs_write(list[i].encoding, vmcs12_place_get(from, &list[i]));
}

void shadow_region_load(const struct vmcs12 *from)
{
    load_places(from, fields.rw, fields.rw_count);
    load_places(from, fields.ro, fields.ro_count);
}

/* The after-exit fields of the set's word (type, width) that `stale`
 * holds, into the shadow (current); the word emptied. Inline with a
 * constant word: the fields' places and sizes are constants then. */
static inline __attribute__((always_inline)) void
copy_stale_word(const struct vmcs12 *v12, struct vmcs12_field_set *stale,
                const struct vmcs12_field_set *after_exit, unsigned type, unsigned width)
{
    uint64_t bits = stale->bits[type][width] & after_exit->bits[type][width];
    unsigned base = vmcs12_field_set_word_offset(type, width);
    stale->bits[type][width] = 0;
    for (; bits; bits &= bits - 1) {
        unsigned index = (unsigned)__builtin_ctzll(bits);
        vmcs_write(vmcs12_field_set_encoding(type, width, index),
                   vmcs12_get_at(v12, width, base + index * VMCS12_WIDTH_BYTES(width)));
    }
}

/* Only the fields the exit changed: the shadow had vmcs12's values of all
 * the others since the entry took its RW fields back (or since attach).
 * The words an exit changes are visited, each as a constant. */
void shadow_vmcs_from_vmcs12(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    const struct vmcs12 *v12 = n->vmcs12;
    struct vmcs12_field_set *stale = &n->shadow_stale;
    const struct vmcs12_field_set *after_exit = n->shadow_after_exit;
    uint64_t flags = shadow_region_enter(n->shadow_vmcs.region);
    for (unsigned words = stale->words; words; words &= words - 1) {
        switch (__builtin_ctz(words)) {
#define WORD(type, width)                                                                      \
        case 4 * (type) + (width): copy_stale_word(v12, stale, after_exit, type, width); break;
        WORD(0, 0) WORD(0, 1) WORD(0, 2) WORD(0, 3) WORD(1, 0) WORD(1, 1) WORD(1, 2) WORD(1, 3)
        WORD(2, 0) WORD(2, 1) WORD(2, 2) WORD(2, 3) WORD(3, 0) WORD(3, 1) WORD(3, 2) WORD(3, 3)
#undef WORD
        }
    }
    stale->words = 0;
    shadow_region_leave(v, n->shadow_vmcs.region, flags);
}

/* A parked shadow's learnt fields, which it holds all (they are learnt
 * only while it is linked, each put in as it is), into `v12`. */
static void take_parked_learnt(struct vcpu *v, const struct nested_shadow_region *shadow,
                               struct vmcs12 *v12)
{
    const struct shadow_promotion *p = &shadow->learnt->promotion;
    const struct vmcs12_place *f = p->promoted, *end = f + p->count;
    uint64_t flags = shadow_region_enter(shadow->region);
    for (; f < end; f++)
        vmcs12_place_set(v12, f, vmcs_read(f->encoding));
    shadow_region_leave(v, shadow->region, flags);
}

/* The learnt fields of width code `width` from the shadow (current) into
 * vmcs12, each that changed counted as L1's write. Inline with a constant
 * width: a field's move is one load or store of that size. */
static inline __attribute__((always_inline)) void
take_learnt_width(struct nested_vmx *n, struct vmcs12 *v12, const struct shadow_promotion *p,
                  unsigned width)
{
    const struct shadow_field_ref *f = p->by_width + p->width_start[width];
    const struct shadow_field_ref *end = p->by_width + p->width_start[width + 1];
    for (; f < end; f++) {
        uint64_t value = vmcs_read(f->encoding);
        if (vmcs12_get_at(v12, width, f->offset) != value) {
            vmcs12_set_at(v12, width, f->offset, value);
            nested_note_written(n, f->encoding);
        }
    }
}

/* Every learnt field: the linked shadow has them all. */
void shadow_vmcs_take_promoted(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    struct vmcs12 *v12 = n->vmcs12;     /* in a register: the stores could alias n's */
    const struct shadow_promotion *p = &n->shadow_vmcs.learnt->promotion;
    uint64_t flags = shadow_region_enter(n->shadow_vmcs.region);
    take_learnt_width(n, v12, p, VMCS_WIDTH_16);
    take_learnt_width(n, v12, p, VMCS_WIDTH_64);
    take_learnt_width(n, v12, p, VMCS_WIDTH_32);
    take_learnt_width(n, v12, p, VMCS_WIDTH_NATURAL);
    shadow_region_leave(v, n->shadow_vmcs.region, flags);
}

/* The RW fields, noted as L1's writes for the current vmcs12 as the
 * learnt ones are (take_learnt_width), not for a parked one. VMRESUME's sync
 * visits the field table unrolled (inline with a constant `note`): a field
 * outside the class costs nothing, one in it its VMREAD, with its vmcs12
 * offset a constant. An RW field is shadowed if the processor has it, so a
 * VMREAD that fails for want of the field is the test of whether it is
 * (the shadow VMCS has every field the processor has). */
static inline __attribute__((always_inline)) void
take_rw_into(struct vcpu *v, uint64_t region, struct vmcs12 *v12, bool note)
{
    struct nested_vmx *n = v->nested;
    uint64_t flags = shadow_region_enter(region), value;
#define TAKE_RW(id, enc, name, shadow)                                                         \
    if (VMCS_SHADOW_##shadow == VMCS_SHADOW_RW && vmcs_read_if_present(id, &value) &&         \
        shadow_field_take(v12, id, value) && note)                                             \
        nested_note_written(n, id);
    VMCS_FIELDS(TAKE_RW)
#undef TAKE_RW
    shadow_region_leave(v, region, flags);
}

void shadow_vmcs_take_rw(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    struct vmcs12 *v12 = n->vmcs12;     /* in a register: the stores could alias n's */
    take_rw_into(v, n->shadow_vmcs.region, v12, true);
}

bool shadow_vmcs_attach(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    struct nested_shadow_region *shadow = &n->shadow_vmcs;
    if (!shadow->region) {
        shadow->region = shadow_region_alloc();
        shadow->holds_vmcs12 = false;
    }
    if (!shadow->region)
        return false;
    n->shadow_attaches++;
    struct shadow_learnt *learnt = shadow->learnt;
    unsigned promoted = learnt ? learnt->promotion.count : 0;
    /* A region parked with this vmcs12 (nested/vmcs12_cache.h) has all
     * its fields, the learnt ones too. */
    if (!shadow->holds_vmcs12) {
        n->shadow_attach_loads++;
        uint64_t flags = shadow_region_enter(shadow->region);
        shadow_region_load(n->vmcs12);
        if (learnt)
            load_places(n->vmcs12, learnt->promotion.promoted, promoted);
        shadow_region_leave(v, shadow->region, flags);
    }
    shadow->holds_vmcs12 = true;
    shadow->newer = false;      /* linked: the entry takes its fields */
    n->shadow_stale = (struct vmcs12_field_set){ 0 };
    n->shadow_promoted = promoted > 0;
    n->shadow_after_exit = learnt ? &learnt->after_exit : &fields.after_exit;
    v->lv.shadow = shadow->region;
    vmcs_write(VMREAD_BITMAP, (uint64_t)(learnt ? learnt->bitmaps[0] : vmread_bitmap));
    vmcs_write(VMWRITE_BITMAP, (uint64_t)(learnt ? learnt->bitmaps[1] : vmwrite_bitmap));
    vmcs_write(VMCS_LINK_POINTER, shadow->region);
    loaded_vmcs_set_proc2(&v->lv, v->lv.controls.proc2 | PROC2_VMCS_SHADOWING);
    n->shadow_linked = true;
    return true;
}

void shadow_vmcs_detach(struct vcpu *v, bool to_be_cached)
{
    struct nested_vmx *n = v->nested;
    if (!n->shadow_linked) {
        /* Not kept up to date while unlinked: it holds nothing. */
        shadow_vmcs_settle(v, &n->shadow_vmcs, n->vmcs12);
        n->shadow_vmcs.holds_vmcs12 = false;
        return;
    }
    /* The region has every field of vmcs12 but for those L0 changed in
     * vmcs12 and has not put into the shadow yet (none between a nested
     * exit and the next one, when L1 runs). A VMCS parked in the cache
     * keeps the fields L1 wrote in its shadow until they are needed: its
     * next entry takes them, or its write-back (a nested vmxvisor
     * switches VMCSs several times per exit, each take some 90 fields). */
    bool holds = n->shadow_stale.words == 0;
    n->shadow_vmcs.newer = to_be_cached && holds;
    if (!n->shadow_vmcs.newer)
        shadow_vmcs_to_vmcs12(v);       /* which VMCLEARs it after */
    else if (vmclear(n->shadow_vmcs.region) != VMX_SUCCEED)
        /* L1's VMREADs and VMWRITEs may have left its data in the
         * processor (KVM clears its shadow VMCS for that too): into its
         * region, as a parked one must be. */
        panic("VMCLEAR of a shadow VMCS failed");
    n->shadow_vmcs.holds_vmcs12 = holds;
    loaded_vmcs_set_proc2(&v->lv, v->lv.controls.proc2 & ~PROC2_VMCS_SHADOWING);
    vmcs_write(VMCS_LINK_POINTER, ~0ull);
    /* Cleared above and linked no more: nothing for vmcs01 to clear with
     * it (the region may be parked, and freed, elsewhere). */
    v->lv.shadow = 0;
    n->shadow_linked = false;
    n->shadow_promoted = false;     /* the next attach says for its vmcs12 */
}

void shadow_vmcs_unlink(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    /* L1's VMREADs and VMWRITEs may have left its data in the processor. */
    if (vmclear(n->shadow_vmcs.region) != VMX_SUCCEED)
        panic("VMCLEAR of a shadow VMCS failed");
    n->shadow_vmcs.holds_vmcs12 = false;
    n->shadow_vmcs.newer = false;
    v->lv.shadow = 0;
    n->shadow_linked = false;
    n->shadow_promoted = false;
}

void shadow_vmcs_settle(struct vcpu *v, struct nested_shadow_region *shadow, struct vmcs12 *v12)
{
    if (!shadow->newer)
        return;
    if (shadow->learnt)
        take_parked_learnt(v, shadow, v12);
    take_rw_into(v, shadow->region, v12, false);
    shadow->newer = false;
}

void shadow_vmcs_refresh(struct vcpu *v, const struct nested_shadow_region *shadow,
                         const struct vmcs12 *v12, const struct vmcs12_field_set *changed)
{
    if (!shadow->holds_vmcs12)
        return;
    const struct shadow_learnt *learnt = shadow->learnt;
    uint64_t flags = shadow_region_enter(shadow->region);
    for (unsigned type = 0; type < 4; type++) {
        for (unsigned width = 0; width < 4; width++) {
            for (uint64_t bits = changed->bits[type][width]; bits; bits &= bits - 1) {
                uint32_t field = vmcs12_field_set_encoding(type, width, (unsigned)__builtin_ctzll(bits));
                /* In the static lists (L0's VMREAD bitmap lets them
                 * through) or learnt. */
                if (shadow_bitmap_passes(vmread_bitmap, field) ||
                    (learnt && vmcs12_field_set_has(&learnt->promotion.promoted_set, field)))
                    vmcs_write(field, vmcs12_get(v12, field));
            }
        }
    }
    shadow_region_leave(v, shadow->region, flags);
}

void shadow_vmcs_written(struct vcpu *v, uint32_t encoding)
{
    struct nested_vmx *n = v->nested;
    if (!n->shadow_linked || !shadow_bitmap_passes(vmread_bitmap, encoding))
        return;
    uint64_t flags = shadow_region_enter(n->shadow_vmcs.region);
    vmcs_write(encoding & ~1u, vmcs12_get(n->vmcs12, encoding & ~1u));
    shadow_region_leave(v, n->shadow_vmcs.region, flags);
}

/* Nothing learnt, nothing counted: no promoted field, L0's static
 * bitmaps (copied only where some field had been promoted). */
static void learn_nothing(struct shadow_learnt *learnt, bool bitmaps)
{
    memset(&learnt->promotion, 0, sizeof(learnt->promotion));
    learnt->after_exit = fields.after_exit;
    if (!bitmaps)
        return;
    memcpy(learnt->bitmaps[0], vmread_bitmap, SHADOW_BITMAP_BYTES);
    memcpy(learnt->bitmaps[1], vmwrite_bitmap, SHADOW_BITMAP_BYTES);
}

/* The current vmcs12's learnt state, made at its first use; NULL without
 * memory (nothing is learnt then). */
static struct shadow_learnt *learnt_of(struct nested_vmx *n)
{
    if (n->shadow_vmcs.learnt)
        return n->shadow_vmcs.learnt;
    struct shadow_learnt *learnt = page_alloc(SHADOW_LEARNT_PAGES);
    if (!learnt)
        return NULL;
    learn_nothing(learnt, true);
    n->shadow_vmcs.learnt = learnt;
    return learnt;
}

void shadow_vmcs_forget(struct vcpu *v)
{
    struct nested_shadow_region *shadow = &v->nested->shadow_vmcs;
    shadow->holds_vmcs12 = false;
    if (shadow->learnt)
        learn_nothing(shadow->learnt, shadow->learnt->promotion.count);
}

void shadow_vmcs_exited(struct vcpu *v, uint32_t encoding)
{
    struct nested_vmx *n = v->nested;
    uint32_t field = encoding & ~1u;    /* a high half: its field */
    /* (Unlinked while vmcs02 is the shadow VMCS: its bitmaps are fixed.) */
    if (!n->shadow_linked || !vmcs12_field_set_has(&promotable, field))
        return;
    struct shadow_learnt *learnt = learnt_of(n);
    if (!learnt || !shadow_promote_note(&learnt->promotion, field,
                                        v->stats.count[EXIT_REASON_VMRESUME]))
        return;
    shadow_bitmap_let_through(learnt->bitmaps[0], field);
    shadow_bitmap_let_through(learnt->bitmaps[1], field);
    vmcs12_field_set_add(&learnt->after_exit, field);
    n->shadow_after_exit = &learnt->after_exit;
    n->shadow_promoted = true;
    vmcs_write(VMREAD_BITMAP, (uint64_t)learnt->bitmaps[0]);
    vmcs_write(VMWRITE_BITMAP, (uint64_t)learnt->bitmaps[1]);
    /* From now on L1 reads it in the shadow: vmcs12's value (whole: the
     * emulation brought in what a nested exit left in vmcs02). */
    uint64_t flags = shadow_region_enter(n->shadow_vmcs.region);
    vmcs_write(field, vmcs12_get(n->vmcs12, field));
    shadow_region_leave(v, n->shadow_vmcs.region, flags);
}

void shadow_vmcs_free(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    n->shadow_promoted = false;
    if (n->shadow_vmcs.region)
        loaded_vmcs_drop_shadow(&v->lv);
    shadow_region_free(&n->shadow_vmcs);
    n->shadow_linked = false;
}

void shadow_region_free(struct nested_shadow_region *shadow)
{
    if (shadow->learnt)
        page_free(shadow->learnt, SHADOW_LEARNT_PAGES);
    if (shadow->region)
        page_free((void *)shadow->region, 1);
    *shadow = (struct nested_shadow_region){ 0 };
}
