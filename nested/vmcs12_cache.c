/* The VMCSs L1 left active (nested/vmcs12_cache.h). */
#include "nested/vmcs12_cache.h"
#include "nested/l1_regions.h"
#include "nested/nested.h"
#include "nested/shadow_vmcs.h"
#include "virt/write_watch.h"
#include "virt/guest_mem.h"
#include "virt/vcpu.h"
#include "lib/page_alloc.h"

/* The slot of the VMCS at `vmptr`: active (cached) or, `in_memory`, a copy
 * of what its region held when L0 last wrote it there. */
static struct nested_cached_vmcs *slot_of(struct nested_vmx *n, uint64_t vmptr, bool in_memory)
{
    for (unsigned i = 0; i < NESTED_CACHED_VMCS; i++)
        if (n->cached[i].vmptr == vmptr && n->cached[i].in_memory == in_memory)
            return &n->cached[i];
    return NULL;
}

/* A free slot's shadow VMCS holds no VMCS's fields and owes none. */
static void free_slot(struct nested_cached_vmcs *slot)
{
    slot->vmptr = NESTED_NO_VMCS;
    slot->in_memory = false;
    slot->shadow.holds_vmcs12 = slot->shadow.newer = false;
}

/* Whether vmcs12 counts as checked when it stops being current: its guest
 * state passed the entry checks and L1 wrote no control or host field since
 * (those are checked at the next entry, whatever vmcs12 it is). */
static bool current_checked(const struct nested_vmx *n)
{
    return n->guest_state_checked && !vmcs12_field_set_has_type(&n->written, VMCS_TYPE_CONTROL) &&
           !vmcs12_field_set_has_type(&n->written, VMCS_TYPE_HOST);
}

/* `vmcs12` into the region at `vmptr` (its spans), with the fields L1
 * wrote in its `shadow` if that is newer: those go in unchecked (the entry
 * that would have taken them checks them), which clears *checked. False if
 * the region is not RAM, which takes nothing, as the processor's write
 * would go nowhere. */
static bool write_region(struct vcpu *v, uint64_t vmptr, struct vmcs12 *vmcs12,
                         struct nested_shadow_region *shadow, bool *checked)
{
    if (shadow->newer)
        *checked = false;
    shadow_vmcs_settle(v, shadow, vmcs12);
    struct vmcs12 *region = l1_region_host(v, vmptr);
    if (region) {
        vmcs12_copy_spans(region, vmcs12);
        write_watch_note(v->vm, vmptr, sizeof(*region));
    }
    return region != NULL;
}

/* The slot's vmcs12 into its region, which L1's memory then is again; the
 * slot keeps it as a copy of that region (none where it is not RAM). */
static void write_back(struct vcpu *v, struct nested_cached_vmcs *slot)
{
    if (write_region(v, slot->vmptr, slot->vmcs12, &slot->shadow, &slot->checked))
        slot->in_memory = true;
    else
        free_slot(slot);
}

/* The current vmcs12 page, its segment memo, host-state image and shadow
 * VMCS for the slot's. */
static void swap_with_slot(struct nested_vmx *n, struct nested_cached_vmcs *slot)
{
    struct vmcs12 *page = slot->vmcs12;
    slot->vmcs12 = n->vmcs12;
    n->vmcs12 = page;
    struct nested_segment_memo *memo = slot->segments;
    slot->segments = n->segment_memo;
    n->segment_memo = memo;
    struct l1_host_image *image = slot->host_image;
    slot->host_image = n->host_image;
    n->host_image = image;
    struct nested_shadow_region shadow = slot->shadow;
    slot->shadow = n->shadow_vmcs;
    n->shadow_vmcs = shadow;
}

/* A slot that holds no active VMCS, for a VMCS other than `incoming`: a
 * free one, else a copy (of a VMCS other than `incoming`, which a VMPTRLD
 * is about to look for); NULL if every other slot is active. */
static struct nested_cached_vmcs *inactive_slot(struct nested_vmx *n, uint64_t incoming)
{
    struct nested_cached_vmcs *copy = NULL;
    for (unsigned i = 0; i < NESTED_CACHED_VMCS; i++) {
        struct nested_cached_vmcs *slot = &n->cached[i];
        if (slot->vmptr == NESTED_NO_VMCS)
            return slot;
        if (slot->in_memory && slot->vmptr != incoming && !copy)
            copy = slot;
    }
    return copy;
}

/* The current vmcs12 and its shadow VMCS into `slot` (a page for it made
 * if it has none: false without memory), the slot's (holding nothing)
 * taking their place. */
static bool move_current_to(struct nested_vmx *n, struct nested_cached_vmcs *slot, bool in_memory)
{
    if (!slot->vmcs12 && !(slot->vmcs12 = page_alloc(1)))
        return false;
    free_slot(slot);
    swap_with_slot(n, slot);
    slot->vmptr = n->current_vmptr;
    slot->in_memory = in_memory;
    slot->checked = current_checked(n);
    return true;
}

bool vmcs12_cache_keep(struct vcpu *v, uint64_t incoming)
{
    struct nested_vmx *n = v->nested;
    struct nested_cached_vmcs *slot = inactive_slot(n, incoming);
    while (!slot || slot->vmptr == incoming) {
        slot = &n->cached[n->cached_next];
        n->cached_next = (n->cached_next + 1) % NESTED_CACHED_VMCS;
    }
    if (!slot->in_memory && slot->vmptr != NESTED_NO_VMCS && slot->vmcs12)
        write_back(v, slot);
    return move_current_to(n, slot, false);
}

void vmcs12_cache_release(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    bool checked = current_checked(n);
    if (!write_region(v, n->current_vmptr, n->vmcs12, &n->shadow_vmcs, &checked))
        return;
    /* A copy never displaces a VMCS L1 left active. */
    struct nested_cached_vmcs *slot = inactive_slot(n, NESTED_NO_VMCS);
    if (slot && move_current_to(n, slot, true))
        slot->checked = checked;
}

/* The copy's region as L1 has it now into the copy, and the fields L1
 * changed there into the shadow VMCS parked with it; false if the region
 * is not RAM (the copy is dropped then). */
static bool refresh_copy(struct vcpu *v, struct nested_cached_vmcs *slot)
{
    struct nested_vmx *n = v->nested;
    const struct vmcs12 *region = l1_region_host(v, slot->vmptr);
    if (!region) {
        free_slot(slot);
        return false;
    }
    struct vmcs12_field_set changed = { 0 };
    n->copies_compared++;
    if (!vmcs12_refresh(slot->vmcs12, region, &changed))
        n->copies_unchanged++;
    /* The header (revision, abort indicator, launch state) feeds no entry
     * check that the checked flag stands for. */
    if (changed.words) {
        slot->checked = false;
        shadow_vmcs_refresh(v, &slot->shadow, slot->vmcs12, &changed);
    }
    return true;
}

bool vmcs12_cache_take(struct vcpu *v, uint64_t vmptr, bool *checked)
{
    struct nested_vmx *n = v->nested;
    struct nested_cached_vmcs *slot = slot_of(n, vmptr, false);
    if (!slot && (!(slot = slot_of(n, vmptr, true)) || !refresh_copy(v, slot)))
        return false;
    swap_with_slot(n, slot);
    *checked = slot->checked;
    free_slot(slot);
    return true;
}

bool vmcs12_cache_write_back(struct vcpu *v, uint64_t vmptr, bool clear)
{
    struct nested_cached_vmcs *slot = slot_of(v->nested, vmptr, false);
    if (!slot)
        return false;
    if (clear)
        slot->vmcs12->launch_state = VMCS12_CLEAR;
    write_back(v, slot);
    return true;
}

void vmcs12_cache_write_back_all(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    for (unsigned i = 0; i < NESTED_CACHED_VMCS; i++)
        if (n->cached[i].vmptr != NESTED_NO_VMCS && !n->cached[i].in_memory)
            write_back(v, &n->cached[i]);
}

void vmcs12_cache_free(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    for (unsigned i = 0; i < NESTED_CACHED_VMCS; i++) {
        if (n->cached[i].vmcs12)
            page_free(n->cached[i].vmcs12, 1);
        /* Parked, so VMCLEARed and linked nowhere (nested/shadow_vmcs.c). */
        shadow_region_free(&n->cached[i].shadow);
    }
}
