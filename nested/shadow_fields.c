/* The shadowed fields and their bitmaps (nested/shadow_fields.h). */
#include "nested/shadow_fields.h"
#include "vmx/vmcs_fields.h"
#include "lib/string.h"

#define COUNT_SHADOWED(id, enc, name, shadow) +(VMCS_SHADOW_##shadow != VMCS_SHADOW_NO)
_Static_assert(0 VMCS_FIELDS(COUNT_SHADOWED) <= SHADOW_FIELDS_MAX, "every shadowed field fits a list");
#undef COUNT_SHADOWED

static void add(struct vmcs12_place *list, unsigned *count, uint32_t encoding)
{
    list[(*count)++] = vmcs12_place_of(encoding);
}

void shadow_fields_select(struct shadow_fields *out, shadow_field_supported_fn supported, void *ctx,
                          bool l0_may_write_read_only)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        const struct vmcs_field_info *f = &vmcs_field_table[i];
        if (f->shadow == VMCS_SHADOW_NO || vmcs12_field_offset(f->encoding) < 0 ||
            !supported(ctx, f->encoding))
            continue;
        if (f->shadow == VMCS_SHADOW_RO && !l0_may_write_read_only &&
            vmcs_field_type(f->encoding) == VMCS_TYPE_READ_ONLY)
            continue;
        if (f->shadow == VMCS_SHADOW_RW) {
            add(out->rw, &out->rw_count, f->encoding);
        } else {
            add(out->ro, &out->ro_count, f->encoding);
        }
        if (shadow_field_after_exit(f->encoding, f->shadow))
            vmcs12_field_set_add(&out->after_exit, f->encoding);
    }
}

void shadow_bitmap_let_through(uint8_t *bitmap, uint32_t encoding)
{
    bitmap[encoding >> 3] &= (uint8_t)~(1u << (encoding & 7));
    if (vmcs_field_width(encoding) == VMCS_WIDTH_64) {
        uint32_t high = encoding | 1u;
        bitmap[high >> 3] &= (uint8_t)~(1u << (high & 7));
    }
}

void shadow_bitmaps_build(const struct shadow_fields *fields, uint8_t *vmread_bitmap,
                          uint8_t *vmwrite_bitmap)
{
    memset(vmread_bitmap, 0xff, SHADOW_BITMAP_BYTES);
    memset(vmwrite_bitmap, 0xff, SHADOW_BITMAP_BYTES);
    for (unsigned i = 0; i < fields->rw_count; i++) {
        shadow_bitmap_let_through(vmread_bitmap, fields->rw[i].encoding);
        shadow_bitmap_let_through(vmwrite_bitmap, fields->rw[i].encoding);
    }
    for (unsigned i = 0; i < fields->ro_count; i++)
        shadow_bitmap_let_through(vmread_bitmap, fields->ro[i].encoding);
}

bool shadow_bitmap_passes(const uint8_t *bitmap, uint32_t encoding)
{
    if (encoding > 0x7fff)
        return false;
    return !(bitmap[encoding >> 3] >> (encoding & 7) & 1);
}

void shadow_bitmap_merge(uint64_t *merged, const uint64_t *l0, const uint64_t *l1,
                         const uint16_t *words, unsigned count)
{
    for (const uint16_t *w = words, *end = words + count; w < end; w++)
        merged[*w] = l1 ? l0[*w] | l1[*w] : ~0ull;
}
