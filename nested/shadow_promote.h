#ifndef NESTED_SHADOW_PROMOTE_H
#define NESTED_SHADOW_PROMOTE_H
/*
 * Shadowed fields learnt per vmcs12. The lists of nested/shadow_fields.h are
 * what L1s touch on every exit; a given L1 may touch others as often (a
 * hypervisor that is itself nested loads its guest's host state at each of
 * its nested exits, some 45 guest-state fields, each VMWRITE an exit to L0
 * here). A field whose VMREADs and VMWRITEs exit to L0 at least
 * SHADOW_PROMOTE_THRESHOLD times within one window of 2^SHADOW_PROMOTE_WINDOW_SHIFT
 * of L1's VM entries is promoted: from then on its VMREADs and VMWRITEs go
 * to the shadow VMCS, and it is synced as the RW fields are (read back
 * before each nested entry, a nested exit's new value put in after). A
 * promoted field costs each nested entry one VMREAD and saves an exit per
 * access; an L1 that touches no field more than that keeps the static
 * lists alone and pays nothing. Pure, unit-tested; the hardware side is
 * nested/shadow_vmcs.c.
 */
#include <stdint.h>
#include <stdbool.h>
#include "nested/vmcs12.h"

#define SHADOW_PROMOTE_WINDOW_SHIFT 8
#define SHADOW_PROMOTE_THRESHOLD 32
#define SHADOW_PROMOTED_MAX 96

/* A promoted field as the syncs that take every one walk them: its
 * encoding and its place in vmcs12. */
struct shadow_field_ref {
    uint32_t encoding;
    uint32_t offset;
};

struct shadow_promotion {
    /* The window of L1's entries the counts are for, and the exits to L0
     * per field in it, by the field's set position ([type][width][index]). */
    uint64_t window;
    uint8_t exits[4][4][64];
    /* The promoted fields, as a list in the order they were promoted (a
     * shadow VMCS parked with its vmcs12 holds the first so many) and as a
     * set. */
    struct vmcs12_place promoted[SHADOW_PROMOTED_MAX];
    unsigned count;
    struct vmcs12_field_set promoted_set;
    /* The same fields grouped by width code, group w at
     * by_width[width_start[w] .. width_start[w + 1]): a walk of a group
     * moves fields of one constant width, with no mask. */
    struct shadow_field_ref by_width[SHADOW_PROMOTED_MAX];
    unsigned width_start[5];
};

/* L1's VMREAD or VMWRITE of the field `encoding` (its full encoding; one
 * the caller found promotable) exited to L0 when L1 had made `entries` VM
 * entries: counted; true if that promotes the field (it is in the list
 * then). A full list promotes nothing more. */
bool shadow_promote_note(struct shadow_promotion *p, uint32_t encoding, uint64_t entries);
#endif
