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
    unsigned rw_count, ro_count;
    /* Of rw and ro, the fields a nested exit may change
     * (shadow_field_after_exit): those of them it did change go into the
     * shadow after it. */
    struct vmcs12_field_set after_exit;
};

/* Whether a field of shadow class `shadow` is one a nested exit may change
 * in vmcs12: the exit information, the guest state, and the VM-entry
 * interruption information, whose valid bit every VM exit clears (SDM
 * Vol. 3C 28.2). The shadow needs only these after one: the other fields
 * still have what the entry took (RW) or what L1's last emulated VMWRITE
 * put there (RO). Inline: constant for a constant field. */
static inline bool shadow_field_after_exit(uint32_t encoding, enum vmcs_shadow shadow)
{
    enum vmcs_field_type type = vmcs_field_type(encoding);
    if (shadow == VMCS_SHADOW_RW)
        return type == VMCS_TYPE_GUEST || encoding == VM_ENTRY_INTR_INFO;
    return shadow == VMCS_SHADOW_RO && (type == VMCS_TYPE_READ_ONLY || type == VMCS_TYPE_GUEST);
}



/* Whether the processor's VMCS has the field `encoding`, and keeps it as
 * vmcs12 has it. */
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

/* Clears the bits of the field `encoding` (both halves of a 64-bit one):
 * its accesses reach the shadow VMCS. */
void shadow_bitmap_let_through(uint8_t *bitmap, uint32_t encoding);

/* Whether L1's VMREAD or VMWRITE of `encoding` reaches the shadow VMCS
 * without an exit, by the bitmaps. */
bool shadow_bitmap_passes(const uint8_t *bitmap, uint32_t encoding);

/* A bitmap as 64-bit words (bit i of word w is the field numbered 64w+i). */
#define SHADOW_BITMAP_WORDS (SHADOW_BITMAP_BYTES / 8)

/* An L2's bitmap where L1 gives it VMCS shadowing (nested/shadow_vmcs02.h):
 * an access exits if L0's bitmap or L1's says so (L1's NULL where it has no
 * memory: all ones). Writes only `words`, those of `l0` that let some field
 * through (lib/bitmap.h's bitmap_words_with_clear_bits); the others of
 * `merged` stay all ones. */
void shadow_bitmap_merge(uint64_t *merged, const uint64_t *l0, const uint64_t *l1,
                         const uint16_t *words, unsigned count);

/*
 * The sync rule at the points where L0 needs vmcs12 whole (L1's
 * VMLAUNCH/VMRESUME, vmcs12's return to L1's memory), for one RW
 * field: the shadow's value replaces vmcs12's; true if it differed, for
 * the caller to count the field as written by L1, as an emulated VMWRITE
 * would. Inline: VMRESUME's path takes it for every RW field.
 */
static inline bool shadow_field_take(struct vmcs12 *vmcs12, uint32_t encoding, uint64_t value)
{
    return vmcs12_set_changed(vmcs12, encoding, value);
}
#endif
