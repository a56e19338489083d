/* The VMCSs L1 left active (nested/vmcs12_cache.h). */
#include "nested/vmcs12_cache.h"
#include "nested/nested.h"
#include "nested/shadow_vmcs.h"
#include "virt/guest_mem.h"
#include "virt/vcpu.h"
#include "lib/page_alloc.h"

static struct nested_cached_vmcs *slot_of(struct nested_vmx *n, uint64_t vmptr)
{
    for (unsigned i = 0; i < NESTED_CACHED_VMCS; i++)
        if (n->cached[i].vmptr == vmptr)
            return &n->cached[i];
    return NULL;
}

/* Memory that is not RAM takes nothing, as the processor's write would go
 * nowhere; the slot is free after. */
static void write_back(struct vcpu *v, struct nested_cached_vmcs *slot)
{
    shadow_vmcs_settle(v, &slot->shadow, slot->vmcs12);
    (void)guest_mem_write(v->vm, slot->vmptr, slot->vmcs12, VMCS12_USED_BYTES);
    slot->vmptr = NESTED_NO_VMCS;
    slot->shadow.holds_vmcs12 = false;     /* L1 may change its VMCS in memory now */
}

/* The current vmcs12 page and its shadow VMCS for the slot's. */
static void swap_with_slot(struct nested_vmx *n, struct nested_cached_vmcs *slot)
{
    struct vmcs12 *page = slot->vmcs12;
    slot->vmcs12 = n->vmcs12;
    n->vmcs12 = page;
    struct nested_shadow_region shadow = slot->shadow;
    slot->shadow = n->shadow_vmcs;
    n->shadow_vmcs = shadow;
}

bool vmcs12_cache_keep(struct vcpu *v, uint64_t incoming)
{
    struct nested_vmx *n = v->nested;
    struct nested_cached_vmcs *slot = slot_of(n, NESTED_NO_VMCS);
    while (!slot || slot->vmptr == incoming) {
        slot = &n->cached[n->cached_next];
        n->cached_next = (n->cached_next + 1) % NESTED_CACHED_VMCS;
    }
    if (!slot->vmcs12 && !(slot->vmcs12 = page_alloc(1)))
        return false;
    if (slot->vmptr != NESTED_NO_VMCS)
        write_back(v, slot);
    /* The shadow VMCS goes with it, and the slot's (holding nothing: its
     * vmcs12 was written back) serves the incoming VMCS. */
    swap_with_slot(n, slot);
    n->shadow_vmcs.holds_vmcs12 = n->shadow_vmcs.newer = false;
    slot->vmptr = n->current_vmptr;
    slot->checked = n->guest_state_checked &&
                    !vmcs12_field_set_has_type(&n->written, VMCS_TYPE_CONTROL) &&
                    !vmcs12_field_set_has_type(&n->written, VMCS_TYPE_HOST);
    slot->segments = n->segment_memo;
    return true;
}

bool vmcs12_cache_take(struct vcpu *v, uint64_t vmptr, bool *checked)
{
    struct nested_vmx *n = v->nested;
    struct nested_cached_vmcs *slot = slot_of(n, vmptr);
    if (!slot)
        return false;
    swap_with_slot(n, slot);
    slot->shadow.holds_vmcs12 = slot->shadow.newer = false;
    slot->vmptr = NESTED_NO_VMCS;
    *checked = slot->checked;
    if (slot->checked)
        n->segment_memo = slot->segments;
    return true;
}

bool vmcs12_cache_write_back(struct vcpu *v, uint64_t vmptr, bool clear)
{
    struct nested_cached_vmcs *slot = slot_of(v->nested, vmptr);
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
        if (n->cached[i].vmptr != NESTED_NO_VMCS)
            write_back(v, &n->cached[i]);
}

void vmcs12_cache_free(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    for (unsigned i = 0; i < NESTED_CACHED_VMCS; i++) {
        if (n->cached[i].vmcs12)
            page_free(n->cached[i].vmcs12, 1);
        /* Parked, so VMCLEARed and linked nowhere (nested/shadow_vmcs.c). */
        if (n->cached[i].shadow.region)
            page_free((void *)n->cached[i].shadow.region, 1);
    }
}
