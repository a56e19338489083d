#ifndef NESTED_VMCS12_H
#define NESTED_VMCS12_H
/*
 * vmcs12: the VMCS an L1 hypervisor builds, in a 4 KiB region of its own
 * memory, in vmxvisor's own layout (revision VMCS12_REVISION). The layout is
 * generated from the one VMCS field table (vmx/vmcs_fields.h) and frozen:
 * a field's offset is a pure function of its encoding, so adding fields to
 * the table never moves another, and the offsets are pinned at compile
 * time (the arithmetic is described in nested/vmcs12.c; changing it needs
 * a new VMCS12_REVISION). L0 keeps a cached copy while it is current (KVM's
 * cached_vmcs12) and writes it back on VMCLEAR and on VMPTRLD of another.
 */
#include <stdint.h>
#include <stdbool.h>
#include "vmx/vmcs_fields.h"

#define VMCS12_SIZE 4096

/* Header (SDM Vol. 3C 25.2): revision identifier (bit 31: shadow VMCS),
 * VMX-abort indicator; then our launch state and the fields. */
struct vmcs12 {
    uint32_t revision;
    uint32_t abort;
    uint32_t launch_state;          /* VMCS12_CLEAR or VMCS12_LAUNCHED */
    uint32_t reserved;
    uint8_t data[VMCS12_SIZE - 16];
};
_Static_assert(sizeof(struct vmcs12) == VMCS12_SIZE, "vmcs12 is one page");

enum { VMCS12_CLEAR = 0, VMCS12_LAUNCHED = 1 };

/* Where the field `encoding` lives in struct vmcs12 (bytes from its start),
 * or -1 if vmcs12 has no such field (an encoding outside the table, with
 * bit 0 set on a field that is not 64-bit, or a reserved bit set). For the
 * high half of a 64-bit field (encoding bit 0 set) the offset of its upper
 * 4 bytes. */
int vmcs12_field_offset(uint32_t encoding);
/* VMREAD/VMWRITE semantics on a vmcs12: the value is read or written at
 * the field's width (16, 32, 64 bits, natural = 64; a read zero-extends, a
 * write drops the bits beyond the width; a high-half access moves bits
 * 63:32 of the field from or to bits 31:0 of the value); false if the
 * field does not exist. vmcs12_write stores read-only fields too (L0 fills
 * in the exit information with it): refusing an L1 VMWRITE to them (error
 * 13, since IA32_VMX_MISC bit 29 is not offered) is the caller's part. */
bool vmcs12_read(const struct vmcs12 *vmcs12, uint32_t encoding, uint64_t *value);
bool vmcs12_write(struct vmcs12 *vmcs12, uint32_t encoding, uint64_t value);
/* A field's value, 0 for a field vmcs12 does not have: L0's own reads of
 * fields it knows exist. */
static inline uint64_t vmcs12_get(const struct vmcs12 *vmcs12, uint32_t encoding)
{
    uint64_t value = 0;
    (void)vmcs12_read(vmcs12, encoding, &value);
    return value;
}
/* The highest index (encoding bits 9:1) of any field, for IA32_VMX_VMCS_ENUM. */
uint32_t vmcs12_highest_index(void);
#endif
