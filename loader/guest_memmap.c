#include "loader/guest_memmap.h"
#include "virt/guest_mem.h"

size_t guest_memory_map(uint64_t ram_size, struct guest_mem_range out[GUEST_MEMMAP_MAX])
{
    uint64_t low_end = guest_low_ram_end(ram_size);
    size_t n = 0;
    out[n++] = (struct guest_mem_range){ 0, GUEST_EBDA_GPA, GUEST_MEM_RAM };
    out[n++] = (struct guest_mem_range){ GUEST_EBDA_GPA, 0xa0000 - GUEST_EBDA_GPA,
                                         GUEST_MEM_RESERVED };
    out[n++] = (struct guest_mem_range){ GUEST_BIOS_AREA_GPA, 0x100000 - GUEST_BIOS_AREA_GPA,
                                         GUEST_MEM_RESERVED };
    if (low_end > 0x100000)
        out[n++] = (struct guest_mem_range){ 0x100000, low_end - 0x100000, GUEST_MEM_RAM };
    if (ram_size > low_end)
        out[n++] = (struct guest_mem_range){ GUEST_HIGH_RAM_BASE, ram_size - low_end,
                                             GUEST_MEM_RAM };
    return n;
}

const struct guest_mem_range *guest_ram_holding(const struct guest_mem_range *map, size_t count,
                                                uint64_t start, uint64_t end)
{
    for (size_t i = 0; i < count; i++)
        if (map[i].type == GUEST_MEM_RAM && start >= map[i].start && start <= end &&
            end <= map[i].start + map[i].size)
            return &map[i];
    return NULL;
}
