/* Shadowed fields learnt per vmcs12 (nested/shadow_promote.h). */
#include "nested/shadow_promote.h"
#include "lib/string.h"

bool shadow_promote_note(struct shadow_promotion *p, uint32_t encoding, uint64_t entries)
{
    uint64_t window = entries >> SHADOW_PROMOTE_WINDOW_SHIFT;
    if (window != p->window) {
        memset(p->exits, 0, sizeof(p->exits));
        p->window = window;
    }
    if (vmcs12_field_set_has(&p->promoted_set, encoding) || p->count == SHADOW_PROMOTED_MAX)
        return false;
    uint8_t *exits = &p->exits[VMCS12_FIELD_TYPE(encoding)][VMCS12_FIELD_WIDTH(encoding)]
                              [VMCS12_FIELD_INDEX(encoding)];
    if (++*exits < SHADOW_PROMOTE_THRESHOLD)
        return false;
    p->promoted[p->count++] = vmcs12_place_of(encoding);
    vmcs12_field_set_add(&p->promoted_set, encoding);
    /* At the end of its width's group: the later groups move up by one. */
    unsigned width = VMCS12_FIELD_WIDTH(encoding), at = p->width_start[width + 1];
    memmove(&p->by_width[at + 1], &p->by_width[at], (p->width_start[4] - at) * sizeof(p->by_width[0]));
    p->by_width[at] = (struct shadow_field_ref){ encoding, VMCS12_FIELD_OFFSET(encoding) };
    for (unsigned w = width + 1; w <= 4; w++)
        p->width_start[w]++;
    return true;
}
