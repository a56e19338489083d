/*
 * The frozen vmcs12 layout (see vmcs12.h).
 *
 * A field's offset is computed from its encoding alone (SDM Vol. 3C
 * 25.11.2: bits 14:13 width, 11:10 type, 9:1 index), so no list of fields
 * decides where a field lives and a field added to vmx/vmcs_fields.h moves
 * no other:
 *
 *     offset = 16 + width_base + (type * capacity + index) * bytes
 *
 * After the 16-byte header, each width has one region, in the order of the
 * width code; a region holds the four types (control, read-only data,
 * guest state, host state) one after the other, each with room for
 * `capacity` indices of `bytes` bytes (natural width is 8 bytes: L1 runs
 * on an Intel 64 processor):
 *
 *     width     bytes  capacity  region          offsets
 *     16-bit      2       32      4 x  64 bytes     16 .. 271
 *     64-bit      8       48      4 x 384 bytes    272 .. 1807
 *     32-bit      4       32      4 x 128 bytes   1808 .. 2319
 *     natural     8       32      4 x 256 bytes   2320 .. 3343
 *
 * Bytes 3344..4095 are spare. The 64-bit controls are the longest group:
 * the table reaches index 25 (TSC multiplier) and newer processors define
 * more after it (Bochs' tigerlake reports index 26 in IA32_VMX_VMCS_ENUM),
 * hence that width's larger capacity. Every region
 * starts on an 8-byte boundary, so every field is naturally aligned; the
 * accessors still go through memcpy (lib/le.h), which does not depend on it.
 * The high half of a 64-bit field (encoding bit 0) is its upper 4 bytes:
 * vmcs12 lives in L1's memory and is little-endian like everything x86.
 */
#include "nested/vmcs12.h"
#include "nested/vmx_caps.h"
#include "lib/quads.h"
#include <stddef.h>

_Static_assert(VMCS12_HEADER_BYTES == offsetof(struct vmcs12, data), "the header is 16 bytes");
_Static_assert(VMCS12_USED_BYTES <= VMCS12_SIZE, "the four width regions fit in the vmcs12 page");
_Static_assert(VMCS12_WIDTH_BASE(1) % 8 == 0 && VMCS12_WIDTH_BASE(2) % 8 == 0 &&
                   VMCS12_WIDTH_BASE(3) % 8 == 0 && VMCS12_USED_BYTES % 8 == 0,
               "a quadword of the fields holds fields of one width (vmcs12_refresh)");

_Static_assert(VMCS12_WIDTH_CAPACITY(VMCS_WIDTH_64) <= 64 && VMCS12_WIDTH_CAPACITY(VMCS_WIDTH_16) <= 64,
               "an index fits a bit of struct vmcs12_field_set");

/* Every field of the table inside its own group, so inside data[] and
 * clear of every other field. */
#define VMCS12_FIELD_FITS(id, enc, name, shadow)                                                 \
    _Static_assert(VMCS12_FIELD_INDEX(enc) < VMCS12_WIDTH_CAPACITY(VMCS12_FIELD_WIDTH(enc)) && \
                       VMCS12_FIELD_OFFSET(enc) >= VMCS12_HEADER_BYTES &&                \
                       VMCS12_FIELD_OFFSET(enc) +                                        \
                               VMCS12_WIDTH_BYTES(VMCS12_FIELD_WIDTH(enc)) <=            \
                           VMCS12_SIZE,                                                  \
                   #id " does not fit in its vmcs12 group");
VMCS_FIELDS(VMCS12_FIELD_FITS)
#undef VMCS12_FIELD_FITS

/*
 * The layout is frozen: L1s keep vmcs12s in their own memory and saved VMs
 * carry them. These offsets are those of revision VMCS12_REVISION
 * (nested/vmx_caps.h); changing the arithmetic above so that any field
 * moves requires a new revision, and then these pins change with it.
 * Two fields of every (width, type) group that has any: its first and its
 * last.
 */
_Static_assert(VMCS12_REVISION == 0x766d7831u, "new vmcs12 revision: re-pin the offsets below");
_Static_assert(VMCS12_FIELD_OFFSET(VIRTUAL_PROCESSOR_ID) == 16, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(EPTP_INDEX) == 20, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(GUEST_ES_SELECTOR) == 144, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(GUEST_PML_INDEX) == 162, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(HOST_ES_SELECTOR) == 208, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(HOST_TR_SELECTOR) == 220, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(IO_BITMAP_A) == 272, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(TSC_MULTIPLIER) == 472, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(GUEST_PHYSICAL_ADDRESS) == 656, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(VMCS_LINK_POINTER) == 1040, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(GUEST_PDPTE3) == 1104, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(HOST_IA32_PAT) == 1424, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(HOST_IA32_PERF_GLOBAL_CTRL) == 1440, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(PIN_BASED_VM_EXEC_CONTROL) == 1808, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(PLE_WINDOW) == 1876, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(VM_INSTRUCTION_ERROR) == 1936, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(VMX_INSTRUCTION_INFO) == 1964, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(GUEST_ES_LIMIT) == 2064, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(VMX_PREEMPTION_TIMER_VALUE) == 2156, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(HOST_IA32_SYSENTER_CS) == 2192, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(CR0_GUEST_HOST_MASK) == 2320, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(CR3_TARGET_VALUE3) == 2376, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(EXIT_QUALIFICATION) == 2576, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(GUEST_LINEAR_ADDRESS) == 2616, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(GUEST_CR0) == 2832, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(GUEST_SYSENTER_EIP) == 2984, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(HOST_CR0) == 3088, "vmcs12 layout moved");
_Static_assert(VMCS12_FIELD_OFFSET(HOST_RIP) == 3176, "vmcs12 layout moved");

/* SDM Vol. 3C 25.11.2: encoding bits 31:15 and 12 are reserved (must be 0). */
#define ENCODING_RESERVED_BITS 0xffff9000u
/* Encoding bit 0, the access type: 1 = the high 32 bits of a 64-bit field. */
#define ENCODING_HIGH_ACCESS 1u

/* The full encoding of the field at each even byte offset, 0 where none
 * starts (VIRTUAL_PROCESSOR_ID, encoding 0, is at its own offset): every
 * field has its own place (a second one there would override the first,
 * which -Werror's -Woverride-init refuses), so an encoding is in the table
 * exactly when the place its arithmetic gives holds it. One load, where a
 * search of the table is a dozen compares for every VMREAD and VMWRITE L0
 * emulates. */
static const uint16_t field_at[VMCS12_SIZE / 2] = {
#define VMCS12_FIELD_AT(id, enc, name, shadow) [VMCS12_FIELD_OFFSET(enc) / 2] = enc,
    VMCS_FIELDS(VMCS12_FIELD_AT)
#undef VMCS12_FIELD_AT
};

int vmcs12_field_offset(uint32_t encoding)
{
    uint32_t full = encoding & ~ENCODING_HIGH_ACCESS;
    bool high = encoding & ENCODING_HIGH_ACCESS;
    if (encoding & ENCODING_RESERVED_BITS)
        return -1;
    /* The high access type exists for 64-bit fields only (SDM Vol. 3C 25.11.2). */
    if (high && vmcs_field_width(full) != VMCS_WIDTH_64)
        return -1;
    unsigned offset = VMCS12_FIELD_OFFSET(full);
    if (offset >= VMCS12_SIZE || field_at[offset / 2] != full)
        return -1;
    return (int)offset + (high ? 4 : 0);
}

/* The width code a VMREAD/VMWRITE of `encoding` moves: the field's, or 32
 * bits for the high half of a 64-bit field. */
static unsigned access_width(uint32_t encoding)
{
    return encoding & ENCODING_HIGH_ACCESS ? VMCS_WIDTH_32 : vmcs_field_width(encoding);
}

unsigned vmcs12_access_bytes(uint32_t encoding)
{
    return VMCS12_WIDTH_BYTES(access_width(encoding));
}

/* SDM Vol. 3C 25.11.2 and VMREAD: a field narrower than the 64-bit
 * destination is zero-extended; a high access returns bits 63:32 of the
 * field in bits 31:0. */
bool vmcs12_read(const struct vmcs12 *vmcs12, uint32_t encoding, uint64_t *value)
{
    int offset = vmcs12_field_offset(encoding);
    if (offset < 0)
        return false;
    *value = vmcs12_get_at(vmcs12, access_width(encoding), (unsigned)offset);
    return true;
}

/* SDM Vol. 3C 25.11.2 and VMWRITE: the source bits beyond the field's width
 * are not used; a high access writes bits 31:0 of the source into bits 63:32
 * of the field and leaves its bits 31:0 alone. */
bool vmcs12_write(struct vmcs12 *vmcs12, uint32_t encoding, uint64_t value)
{
    int offset = vmcs12_field_offset(encoding);
    if (offset < 0)
        return false;
    vmcs12_set_at(vmcs12, access_width(encoding), (unsigned)offset, value);
    return true;
}

/* The table's fields in the quadword at byte `offset` (a width region's
 * quadword holds one to four of them, all of that width) whose bytes differ
 * between `a` and `b`, into `changed`. */
static void note_changed_fields(const struct vmcs12 *a, const struct vmcs12 *b, unsigned offset,
                                struct vmcs12_field_set *changed)
{
    for (unsigned at = offset; at < offset + 8; at += 2) {
        uint32_t field = field_at[at / 2];
        /* No field starts here, but at 16 (VIRTUAL_PROCESSOR_ID's encoding is 0). */
        if (!field && at != VMCS12_FIELD_OFFSET(VIRTUAL_PROCESSOR_ID))
            continue;
        unsigned width = VMCS12_FIELD_WIDTH(field);
        if (vmcs12_get_at(a, width, at) != vmcs12_get_at(b, width, at))
            vmcs12_field_set_add(changed, field);
    }
}

static struct vmcs12_span spans[VMCS12_SPANS_MAX];
/* Spans this close are one: a REPE CMPSQ or MOVSQ more costs about as much
 * as a dozen quadwords. */
#define VMCS12_SPAN_JOIN 96u
static unsigned span_count;

void vmcs12_spans_init(void)
{
    /* The highest index of each (type, width) group, +1 (0: none). */
    unsigned used[4][4] = { { 0 } };
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        uint32_t e = vmcs_field_table[i].encoding;
        unsigned *u = &used[VMCS12_FIELD_TYPE(e)][VMCS12_FIELD_WIDTH(e)];
        if (VMCS12_FIELD_INDEX(e) + 1 > *u)
            *u = VMCS12_FIELD_INDEX(e) + 1;
    }
    span_count = 0;
    spans[span_count++] = (struct vmcs12_span){ 0, VMCS12_HEADER_BYTES };
    /* In layout order: by width code, then type (nested/vmcs12.c's top). */
    for (unsigned width = 0; width < 4; width++) {
        for (unsigned type = 0; type < 4; type++) {
            if (!used[type][width])
                continue;
            unsigned start = vmcs12_field_set_word_offset(type, width) & ~7u;
            unsigned end = vmcs12_field_set_word_offset(type, width) +
                           used[type][width] * VMCS12_WIDTH_BYTES(width);
            end = (end + 7) & ~7u;
            struct vmcs12_span *last = &spans[span_count - 1];
            if (start <= last->end + VMCS12_SPAN_JOIN)
                last->end = (uint16_t)(end > last->end ? end : last->end);
            else
                spans[span_count++] = (struct vmcs12_span){ (uint16_t)start, (uint16_t)end };
        }
    }
}

const struct vmcs12_span *vmcs12_spans(unsigned *count)
{
    *count = span_count;
    return spans;
}

void vmcs12_copy_spans(struct vmcs12 *to, const struct vmcs12 *from)
{
    for (unsigned i = 0; i < span_count; i++)
        quads_copy((uint64_t *)to + spans[i].start / 8, (const uint64_t *)from + spans[i].start / 8,
                   (spans[i].end - spans[i].start) / 8u);
}

bool vmcs12_refresh(struct vmcs12 *copy, const struct vmcs12 *memory,
                    struct vmcs12_field_set *changed)
{
    const uint64_t *to = (const uint64_t *)copy, *from = (const uint64_t *)memory;
    bool differed = false;
    for (unsigned i = 0; i < span_count; i++) {
        size_t end = spans[i].end / 8;
        for (size_t q = spans[i].start / 8; (q += quads_equal_prefix(to + q, from + q, end - q)) < end;
             q++) {
            differed = true;
            if (q >= VMCS12_HEADER_BYTES / 8)
                note_changed_fields(copy, memory, (unsigned)q * 8, changed);
            __builtin_memcpy((uint8_t *)copy + q * 8, (const uint8_t *)memory + q * 8, 8);
        }
    }
    return differed;
}

uint32_t vmcs12_highest_index(void)
{
    uint32_t highest = 0;
    for (unsigned i = 0; i < vmcs_field_count; i++)
        if (VMCS12_FIELD_INDEX(vmcs_field_table[i].encoding) > highest)
            highest = VMCS12_FIELD_INDEX(vmcs_field_table[i].encoding);
    return highest;
}
