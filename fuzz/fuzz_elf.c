/* The ELF loader (loader/elf_loader.c) on any image: it writes only guest
 * RAM, never the reserved page, and enters inside what it loaded. */
#include "fuzz/loader_guest.h"
#include "loader/elf_loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_guest *g = fuzz_guest();
    g->placed[0].start = 0x2000;        /* like the boot page tables: nobody's to write */
    g->placed[0].end = 0x6000;
    static const struct load_reserved tables = { 0x2000, 0x6000, "the boot tables" };
    struct load_area area = { .memory_map = g->map, .memory_map_count = g->map_count,
                              .limit = FUZZ_GUEST_SIZE, .reserved = &tables, .reserved_count = 1 };
    uint64_t entry;
    char why[200];
    (void)elf_load(data, size, &area, fuzz_guest_write, g, &entry, why, sizeof(why));
    return 0;
}
