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
 * cached_vmcs12) and while L1 leaves it active, and writes it back on
 * VMCLEAR (nested/vmcs12_cache.h).
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

/* Revision identifier bit 31: the region is a shadow VMCS (SDM Vol. 3C
 * 25.2, 25.10). */
#define VMCS12_SHADOW_INDICATOR (1u << 31)

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
 * 13 where IA32_VMX_MISC bit 29 is not offered; nested/vmx_caps.c offers
 * it) is the caller's part. */
bool vmcs12_read(const struct vmcs12 *vmcs12, uint32_t encoding, uint64_t *value);
/* Bytes a VMREAD/VMWRITE of `encoding` moves at vmcs12_field_offset: the
 * field's width, or 4 for the high half of a 64-bit field. */
unsigned vmcs12_access_bytes(uint32_t encoding);
bool vmcs12_write(struct vmcs12 *vmcs12, uint32_t encoding, uint64_t value);
/*
 * The layout's arithmetic (nested/vmcs12.c explains it): a field's offset
 * from its encoding alone (SDM Vol. 3C 25.11.2: bits 14:13 width, 11:10
 * type, 9:1 index). Public so that L0's own accesses to fields it names
 * compile to a load or a store.
 */
#define VMCS12_HEADER_BYTES 16u
#define VMCS12_FIELD_WIDTH(enc) ((enc) >> 13 & 3)
#define VMCS12_FIELD_TYPE(enc)  ((enc) >> 10 & 3)
#define VMCS12_FIELD_INDEX(enc) ((enc) >> 1 & 0x1ff)
#define VMCS12_WIDTH_BYTES(w)    ((w) == VMCS_WIDTH_16 ? 2u : (w) == VMCS_WIDTH_32 ? 4u : 8u)
#define VMCS12_WIDTH_CAPACITY(w) ((w) == VMCS_WIDTH_64 ? 48u : 32u)
#define VMCS12_WIDTH_REGION(w)   (4 * VMCS12_WIDTH_CAPACITY(w) * VMCS12_WIDTH_BYTES(w))
/* The regions of the width codes below `w` come first. */
#define VMCS12_WIDTH_BASE(w)                                                             \
    (VMCS12_HEADER_BYTES + ((w) > 0 ? VMCS12_WIDTH_REGION(0) : 0) +                      \
     ((w) > 1 ? VMCS12_WIDTH_REGION(1) : 0) + ((w) > 2 ? VMCS12_WIDTH_REGION(2) : 0))
/* The bytes the header and the fields take, from the start: the rest of
 * the page holds nothing. */
#define VMCS12_USED_BYTES (VMCS12_WIDTH_BASE(VMCS_WIDTH_NATURAL) + VMCS12_WIDTH_REGION(VMCS_WIDTH_NATURAL))
#define VMCS12_FIELD_OFFSET(enc)                                                         \
    (VMCS12_WIDTH_BASE(VMCS12_FIELD_WIDTH(enc)) +                                        \
     (VMCS12_FIELD_TYPE(enc) * VMCS12_WIDTH_CAPACITY(VMCS12_FIELD_WIDTH(enc)) +          \
      VMCS12_FIELD_INDEX(enc)) * VMCS12_WIDTH_BYTES(VMCS12_FIELD_WIDTH(enc)))

/* L0's own accesses, to a field of the table named by its full encoding
 * (bit 0 clear; never one L1 chose, which goes through vmcs12_read and
 * vmcs12_write): the whole field, zero-extended or truncated. Nested entries
 * and exits make hundreds of these. */
/* The field of width code `width` at byte `offset`. */
static inline uint64_t vmcs12_get_at(const struct vmcs12 *vmcs12, unsigned width, unsigned offset)
{
    const uint8_t *at = (const uint8_t *)vmcs12 + offset;
    uint64_t value = 0;
    switch (width) {
    case VMCS_WIDTH_16: __builtin_memcpy(&value, at, 2); break;
    case VMCS_WIDTH_32: __builtin_memcpy(&value, at, 4); break;
    default:            __builtin_memcpy(&value, at, 8); break;
    }
    return value;
}

static inline uint64_t vmcs12_get(const struct vmcs12 *vmcs12, uint32_t encoding)
{
    return vmcs12_get_at(vmcs12, VMCS12_FIELD_WIDTH(encoding), VMCS12_FIELD_OFFSET(encoding));
}

/* The field of width code `width` at byte `offset` takes `value`'s low bits. */
static inline void vmcs12_set_at(struct vmcs12 *vmcs12, unsigned width, unsigned offset,
                                 uint64_t value)
{
    uint8_t *at = (uint8_t *)vmcs12 + offset;
    switch (width) {
    case VMCS_WIDTH_16: __builtin_memcpy(at, &value, 2); break;
    case VMCS_WIDTH_32: __builtin_memcpy(at, &value, 4); break;
    default:            __builtin_memcpy(at, &value, 8); break;
    }
}

static inline void vmcs12_set(struct vmcs12 *vmcs12, uint32_t encoding, uint64_t value)
{
    vmcs12_set_at(vmcs12, VMCS12_FIELD_WIDTH(encoding), VMCS12_FIELD_OFFSET(encoding), value);
}
/*
 * A field with its place in vmcs12 worked out once: VMCS12_FIELD_OFFSET
 * folds to a constant only for a constant encoding, and the lists nested
 * entries and exits walk (the shadow VMCS's, the guest state, the exit
 * information) would otherwise redo its arithmetic for every field.
 * get and set move 8 bytes under the field's mask: every field lies at
 * least 8 bytes before the end of the region (the host-state fields come
 * last, and HOST_RIP is pinned at 3176).
 */
struct vmcs12_place {
    uint32_t encoding;
    uint16_t offset;
    uint64_t mask;          /* the field's width */
};

static inline struct vmcs12_place vmcs12_place_of(uint32_t encoding)
{
    unsigned bytes = VMCS12_WIDTH_BYTES(VMCS12_FIELD_WIDTH(encoding));
    return (struct vmcs12_place){ .encoding = encoding,
                                  .offset = (uint16_t)VMCS12_FIELD_OFFSET(encoding),
                                  .mask = bytes == 8 ? ~0ull : (1ull << (8 * bytes)) - 1 };
}

static inline uint64_t vmcs12_place_get(const struct vmcs12 *vmcs12, const struct vmcs12_place *p)
{
    uint64_t value;
    __builtin_memcpy(&value, (const uint8_t *)vmcs12 + p->offset, sizeof(value));
    return value & p->mask;
}

static inline void vmcs12_place_set(struct vmcs12 *vmcs12, const struct vmcs12_place *p,
                                    uint64_t value)
{
    uint8_t *at = (uint8_t *)vmcs12 + p->offset;
    uint64_t old;
    __builtin_memcpy(&old, at, sizeof(old));
    old = (old & ~p->mask) | (value & p->mask);
    __builtin_memcpy(at, &old, sizeof(old));
}

/*
 * A set of vmcs12 fields (KVM's dirty_vmcs12, but per field): one bit per
 * (type, width, index), so that a nested entry redoes only the checks and
 * copies of the fields L1 wrote since vmcs02 last took them. A high-half
 * access names its whole field.
 */
struct vmcs12_field_set {
    uint64_t bits[4][4];    /* [type][width], bit = index (< 64: see the capacities) */
    /* Bit 4 * type + width: bits[type][width] has a field, so that a walk
     * of a set of a few fields visits one or two words, not 16 (a word's
     * bit goes only with the last of its fields). */
    uint16_t words;
};

static inline void vmcs12_field_set_add(struct vmcs12_field_set *set, uint32_t encoding)
{
    set->bits[VMCS12_FIELD_TYPE(encoding)][VMCS12_FIELD_WIDTH(encoding)] |=
        1ull << VMCS12_FIELD_INDEX(encoding);
    set->words |=
        (uint16_t)(1u << (4 * VMCS12_FIELD_TYPE(encoding) + VMCS12_FIELD_WIDTH(encoding)));
}

static inline bool vmcs12_field_set_has(const struct vmcs12_field_set *set, uint32_t encoding)
{
    return set->bits[VMCS12_FIELD_TYPE(encoding)][VMCS12_FIELD_WIDTH(encoding)] >>
               VMCS12_FIELD_INDEX(encoding) & 1;
}

/* Whether any field of `type` (enum vmcs_field_type) is in the set: its
 * words say, as a word's bit goes only with the last of its fields. */
static inline bool vmcs12_field_set_has_type(const struct vmcs12_field_set *set, unsigned type)
{
    return set->words >> (4 * type) & 0xf;
}

/* Whether the set's fields of `encoding`'s type are that field alone. */
static inline bool vmcs12_field_set_type_is(const struct vmcs12_field_set *set, uint32_t encoding)
{
    unsigned type = VMCS12_FIELD_TYPE(encoding), width = VMCS12_FIELD_WIDTH(encoding);
    return (set->words >> (4 * type) & 0xf) == 1u << width &&
           set->bits[type][width] == 1ull << VMCS12_FIELD_INDEX(encoding);
}

static inline void vmcs12_field_set_clear_type(struct vmcs12_field_set *set, unsigned type)
{
    for (unsigned width = 0; width < 4; width++)
        set->bits[type][width] = 0;
    set->words &= (uint16_t)~(0xfu << (4 * type));
}

/* vmcs12_set; true if that changed the field's value. */
static inline bool vmcs12_set_changed(struct vmcs12 *vmcs12, uint32_t encoding, uint64_t value)
{
    if (vmcs12_get(vmcs12, encoding) == value)
        return false;
    vmcs12_set(vmcs12, encoding, value);
    return true;
}

/* vmcs12_place_set of the value at the field's width; true if that changed
 * the field's value. */
static inline bool vmcs12_place_set_changed(struct vmcs12 *vmcs12, const struct vmcs12_place *p,
                                            uint64_t value)
{
    value &= p->mask;
    if (vmcs12_place_get(vmcs12, p) == value)
        return false;
    vmcs12_place_set(vmcs12, p, value);
    return true;
}

/* vmcs12_set, and the field into `changed` if that changed its value. */
static inline void vmcs12_set_noting(struct vmcs12 *vmcs12, struct vmcs12_field_set *changed,
                                     uint32_t encoding, uint64_t value)
{
    if (vmcs12_set_changed(vmcs12, encoding, value))
        vmcs12_field_set_add(changed, encoding);
}

/* The encoding of the field a set's bit stands for (SDM Vol. 3D Appendix
 * B: bits 14:13 width, 11:10 type, 9:1 index). */
static inline uint32_t vmcs12_field_set_encoding(unsigned type, unsigned width, unsigned index)
{
    return width << 13 | type << 10 | index << 1;
}

/* Where in vmcs12 the fields of a set's word (type, width) begin: the one
 * at `index` is VMCS12_WIDTH_BYTES(width) * index further (the layout's
 * arithmetic, worked out once per word by the loops over a set). */
static inline unsigned vmcs12_field_set_word_offset(unsigned type, unsigned width)
{
    return VMCS12_WIDTH_BASE(width) +
           type * VMCS12_WIDTH_CAPACITY(width) * VMCS12_WIDTH_BYTES(width);
}

/* Every field (and every index a field could have). */
static inline void vmcs12_field_set_fill(struct vmcs12_field_set *set)
{
    for (unsigned type = 0; type < 4; type++)
        for (unsigned width = 0; width < 4; width++)
            set->bits[type][width] = ~0ull;
    set->words = 0xffff;
}

/* The bytes of a VMCS region that hold something: the header and, in
 * each group of fields of one width and type, the places from index 0 to
 * the table's highest, in whole quadwords. L0 reads and writes only these
 * between its copies and L1's regions (the rest is L1's, as any bytes of
 * a region no field uses): a third of the page. Made at start-up
 * (vmcs12_spans_init). */
struct vmcs12_span {
    uint16_t start, end;    /* bytes, multiples of 8 */
};
#define VMCS12_SPANS_MAX 17
void vmcs12_spans_init(void);
const struct vmcs12_span *vmcs12_spans(unsigned *count);
/* The spans of `from` into `to`. */
void vmcs12_copy_spans(struct vmcs12 *to, const struct vmcs12 *from);
/* `copy` made again what `memory` holds in the spans, a region L1 may
 * have changed since `copy` was taken from it or written into it (a clear
 * VMCS is data in L1's memory, SDM Vol. 3C 25.11.1): the differing bytes
 * copied, the table's fields among them added to `changed`. False if no
 * byte of the spans differed. */
bool vmcs12_refresh(struct vmcs12 *copy, const struct vmcs12 *memory,
                    struct vmcs12_field_set *changed);

/* The highest index (encoding bits 9:1) of any field, for IA32_VMX_VMCS_ENUM. */
uint32_t vmcs12_highest_index(void);
#endif
