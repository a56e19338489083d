#ifndef NESTED_SHADOW_FIELDS_H
#define NESTED_SHADOW_FIELDS_H
/*
 * Which vmcs12 fields an L1 hypervisor reaches through a hardware shadow
 * VMCS, and the rules that keep the shadow and vmcs12 in step (the
 * hardware side is nested/shadow_vmcs.h). Pure, unit-tested.
 *
 * A field is shadowed if the table (vmx/vmcs_fields.h) marks it RW or RO
 * and the processor has it: a VMREAD or VMWRITE of a field the CPU lacks
 * fails (Bochs' model fails with error 12), so the list is filtered by a
 * probe at start-up. A read-only-data field marked RO needs one thing
 * more: L0 writes it into the shadow after each nested exit, which a
 * VMWRITE in VMX root operation may do only where IA32_VMX_MISC bit 29
 * says so (SDM Vol. 3C 31.3 VMWRITE; Vol. 3D A.6).
 */
#include <stdint.h>
#include <stdbool.h>
#include "nested/vmcs12.h"

#define SHADOW_FIELDS_MAX 64

struct shadow_fields {
    struct vmcs12_place rw[SHADOW_FIELDS_MAX];  /* VMREAD and VMWRITE without an exit */
    struct vmcs12_place ro[SHADOW_FIELDS_MAX];  /* VMREAD without an exit */
    /* Those a nested exit may change in vmcs12: the exit information, the
     * guest state, and the VM-entry interruption information, whose valid
     * bit every VM exit clears (SDM Vol. 3C 28.2). The shadow needs only
     * these after one: the other fields still have what the entry took
     * (RW) or what L1's last emulated VMWRITE put there (RO). */
    struct vmcs12_place after_exit[SHADOW_FIELDS_MAX];
    unsigned rw_count, ro_count, after_exit_count;
};



/* Whether the processor's VMCS has the field `encoding`. */
typedef bool (*shadow_field_supported_fn)(void *ctx, uint32_t encoding);

/* The shadowed fields: the table's RW and RO fields the processor has,
 * read-only-data ones only if `l0_may_write_read_only`; and of them the
 * after_exit list. */
void shadow_fields_select(struct shadow_fields *out, shadow_field_supported_fn supported, void *ctx,
                          bool l0_may_write_read_only);

/* The VMREAD and VMWRITE bitmaps (4 KiB each) that make them so: a set bit
 * makes the access to the field whose encoding bits 14:0 are its number
 * exit to L0 (SDM Vol. 3C 25.6.15; encodings above 0x7fff always exit).
 * Both halves of a 64-bit field go together. */
#define SHADOW_BITMAP_BYTES 4096
void shadow_bitmaps_build(const struct shadow_fields *fields, uint8_t *vmread_bitmap,
                          uint8_t *vmwrite_bitmap);

/* Whether L1's VMREAD or VMWRITE of `encoding` reaches the shadow VMCS
 * without an exit, by the bitmaps. */
bool shadow_bitmap_passes(const uint8_t *bitmap, uint32_t encoding);

/*
 * The sync rule at the points where L0 needs vmcs12 whole (L1's
 * VMLAUNCH/VMRESUME, VMCLEAR, VMPTRLD of another VMCS, VMXOFF): the RW
 * fields, as the shadow has them (`read` gives a field's value there),
 * replace vmcs12's; each that differs goes to `changed`, for the caller to
 * count it as written by L1, as an emulated VMWRITE would. Returns how
 * many differed. Inline: on VMRESUME's path, with the caller's `read` a
 * VMREAD, a field costs a read and a compare.
 */
typedef uint64_t (*shadow_read_fn)(uint32_t encoding);
typedef void (*shadow_changed_fn)(void *ctx, uint32_t encoding);
static inline unsigned shadow_fields_apply(const struct shadow_fields *fields, shadow_read_fn read,
                                           struct vmcs12 *vmcs12, shadow_changed_fn changed,
                                           void *ctx)
{
    unsigned count = 0;
    for (unsigned i = 0; i < fields->rw_count; i++) {
        const struct vmcs12_place *f = &fields->rw[i];
        uint64_t value = read(f->encoding);
        if (vmcs12_place_get(vmcs12, f) == value)
            continue;
        vmcs12_place_set(vmcs12, f, value);
        changed(ctx, f->encoding);
        count++;
    }
    return count;
}
#endif
