/* A walk of L1's EPT (nested/ept12.h). */
#include "nested/ept12.h"
#include "mmu/ept.h"

#define LEVELS EPT12_LEVELS
#define ENTRY_INDEX(gpa, level) ((gpa) >> (12 + 9 * ((level) - 1)) & 0x1ff)
#define LEVEL_SIZE(level) (1ull << (12 + 9 * ((level) - 1)))
#define MEMTYPE(entry) ((unsigned)((entry) >> 3) & 7)

/* Bits 51:MAXPHYADDR of an entry (SDM Vol. 3C 30.3.2: reserved). */
static uint64_t beyond_phys_width(unsigned phys_addr_bits)
{
    return EPT_ADDR_MASK & ~((1ull << phys_addr_bits) - 1);
}

/* The reserved bits of a present entry at `level` (4: PML4E ... 1: PTE),
 * besides those beyond the physical width (SDM Vol. 3C 30.3.2, Tables
 * 30-1 to 30-6): bits 7:3 of a PML4E and of a PDPTE or PDE that references
 * a table (bit 7 clear: 6:3); the address bits below a large leaf's
 * alignment; a 1 GiB leaf where the processor offers none. */
static uint64_t reserved_bits(uint64_t entry, unsigned level, const struct ept12_format *f)
{
    bool leaf = level == 1 || (level < 4 && (entry & EPT_LARGE));
    if (level == 4)
        return 0xf8;
    if (!leaf)
        return 0x78;
    if (level == 3 && !f->huge_1g)
        return EPT_LARGE;
    return level == 1 ? 0 : (LEVEL_SIZE(level) - 1) & ~0xfffull;
}

/* Misconfigured (SDM Vol. 3C 28.3.3.1, "EPT Misconfigurations"): write
 * permission without read; execute-only where it is not offered; a
 * reserved bit set; a leaf's memory type 2, 3 or 7. */
static bool misconfigured(uint64_t entry, unsigned level, bool leaf,
                          const struct ept12_format *f)
{
    unsigned rwx = (unsigned)(entry & EPT_RWX);
    if ((rwx & EPT12_ACCESS_WRITE) && !(rwx & EPT12_ACCESS_READ))
        return true;
    if (rwx == EPT12_ACCESS_EXEC && !f->execute_only)
        return true;
    if (entry & (reserved_bits(entry, level, f) | beyond_phys_width(f->phys_addr_bits)))
        return true;
    unsigned memtype = MEMTYPE(entry);
    return leaf && (memtype == 2 || memtype == 3 || memtype == 7);
}

void ept12_walk(uint64_t eptp, uint64_t l2_gpa, unsigned access,
                const struct ept12_format *format, ept12_read_fn read, void *ctx,
                struct ept12_walk *out)
{
    *out = (struct ept12_walk){ .outcome = EPT12_VIOLATION, .perms = EPT12_ACCESS_READ |
                                                                     EPT12_ACCESS_WRITE |
                                                                     EPT12_ACCESS_EXEC };
    uint64_t table = eptp & EPT_ADDR_MASK;
    for (unsigned level = LEVELS; level >= 1; level--) {
        uint64_t entry, at = table + 8 * ENTRY_INDEX(l2_gpa, level);
        if (!read(ctx, at, &entry))
            entry = ~0ull;
        out->entry[out->used] = entry;
        out->entry_gpa[out->used++] = at;
        out->perms &= (unsigned)(entry & EPT_RWX);
        if (!(entry & EPT_RWX))
            return;     /* not present: a violation */
        bool leaf = level == 1 || (level < 4 && (entry & EPT_LARGE));
        if (misconfigured(entry, level, leaf, format)) {
            out->outcome = EPT12_MISCONFIG;
            return;
        }
        if (!leaf) {
            table = entry & EPT_ADDR_MASK;
            continue;
        }
        if (access & ~out->perms)
            return;
        uint64_t size = LEVEL_SIZE(level);
        out->outcome = EPT12_MAPPED;
        out->l1_gpa = (entry & EPT_ADDR_MASK & ~(size - 1)) | (l2_gpa & (size - 1));
        out->page_size = size;
        out->memory_type = MEMTYPE(entry);
        return;
    }
}

void ept12_ad_updates(const struct ept12_walk *walk, bool write, uint64_t set[EPT12_LEVELS])
{
    for (unsigned i = 0; i < EPT12_LEVELS; i++) {
        uint64_t want = i < walk->used ? EPT12_ACCESSED : 0;
        if (i + 1 == walk->used && write)
            want |= EPT12_DIRTY;
        set[i] = want & ~(i < walk->used ? walk->entry[i] : 0);
    }
}
