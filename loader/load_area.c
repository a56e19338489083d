/* Where a loader may put an image (loader/load_area.h). */
#include "loader/load_area.h"
#include "lib/error.h"

bool load_area_allows(const struct load_area *area, uint64_t start, uint64_t end, char *why,
                      size_t why_size)
{
    if (end < start || end > area->limit)
        return fail(why, why_size, "0x%lx-0x%lx is not below 0x%lx", (unsigned long)start,
                    (unsigned long)end, (unsigned long)area->limit);
    if (!guest_ram_holding(area->memory_map, area->memory_map_count, start, end))
        return fail(why, why_size, "0x%lx-0x%lx is not in one range of guest RAM",
                    (unsigned long)start, (unsigned long)end);
    for (size_t i = 0; i < area->reserved_count; i++) {
        const struct load_reserved *r = &area->reserved[i];
        if (start < r->end && end > r->start)
            return fail(why, why_size, "0x%lx-0x%lx overlaps %s at 0x%lx-0x%lx",
                        (unsigned long)start, (unsigned long)end, r->what,
                        (unsigned long)r->start, (unsigned long)r->end);
    }
    return true;
}
