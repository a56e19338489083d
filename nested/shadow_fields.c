/* The shadowed fields and their bitmaps (nested/shadow_fields.h). */
#include "nested/shadow_fields.h"
#include "vmx/vmcs_fields.h"
#include "lib/string.h"

static void add(struct vmcs12_place *list, unsigned *count, uint32_t encoding)
{
    if (*count < SHADOW_FIELDS_MAX)
        list[(*count)++] = vmcs12_place_of(encoding);
}

void shadow_fields_select(struct shadow_fields *out, shadow_field_supported_fn supported, void *ctx,
                          bool l0_may_write_read_only)
{
    out->rw_count = out->ro_count = out->after_exit_count = 0;
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        const struct vmcs_field_info *f = &vmcs_field_table[i];
        if (f->shadow == VMCS_SHADOW_NO || vmcs12_field_offset(f->encoding) < 0 ||
            !supported(ctx, f->encoding))
            continue;
        if (f->shadow == VMCS_SHADOW_RW) {
            add(out->rw, &out->rw_count, f->encoding);
            if (vmcs_field_type(f->encoding) == VMCS_TYPE_GUEST || f->encoding == VM_ENTRY_INTR_INFO)
                add(out->after_exit, &out->after_exit_count, f->encoding);
        } else if (l0_may_write_read_only || vmcs_field_type(f->encoding) != VMCS_TYPE_READ_ONLY) {
            add(out->ro, &out->ro_count, f->encoding);
            if (vmcs_field_type(f->encoding) == VMCS_TYPE_READ_ONLY ||
                vmcs_field_type(f->encoding) == VMCS_TYPE_GUEST)
                add(out->after_exit, &out->after_exit_count, f->encoding);
        }
    }
}

static void let_through(uint8_t *bitmap, uint32_t encoding)
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
        let_through(vmread_bitmap, fields->rw[i].encoding);
        let_through(vmwrite_bitmap, fields->rw[i].encoding);
    }
    for (unsigned i = 0; i < fields->ro_count; i++)
        let_through(vmread_bitmap, fields->ro[i].encoding);
}

bool shadow_bitmap_passes(const uint8_t *bitmap, uint32_t encoding)
{
    if (encoding > 0x7fff)
        return false;
    return !(bitmap[encoding >> 3] >> (encoding & 7) & 1);
}
