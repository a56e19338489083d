#include "virt/guest_walk.h"

#define CR0_PG   (1ull << 31)
#define CR4_PSE  (1ull << 4)
#define CR4_PAE  (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)
#define PTE_P    1ull
#define PTE_PS   (1ull << 7)
#define ADDR_MASK 0x000ffffffffff000ull

static bool read_entry(guest_read_fn read, void *ctx, uint64_t gpa, unsigned size, uint64_t *e)
{
    *e = 0;
    return read(ctx, gpa, e, size) && (*e & PTE_P);
}

/* Walks `levels` levels of 512-entry tables (PAE, 4-level, 5-level). */
static bool walk_64bit_entries(uint64_t table, uint64_t linear, int top_level, guest_read_fn read,
                               void *ctx, uint64_t *gpa)
{
    for (int level = top_level; level >= 0; level--) {
        unsigned shift = 12 + 9 * (unsigned)level;
        uint64_t e;
        if (!read_entry(read, ctx, (table & ADDR_MASK) + (linear >> shift & 511) * 8, 8, &e))
            return false;
        if (level == 0 || ((e & PTE_PS) && level <= 2)) {
            uint64_t page = 1ull << shift;
            *gpa = (e & ADDR_MASK & ~(page - 1)) | (linear & (page - 1));
            return true;
        }
        table = e;
    }
    return false;
}

bool guest_translate(const struct guest_paging *p, uint64_t linear, guest_read_fn read, void *ctx,
                     uint64_t *gpa)
{
    if (!(p->cr0 & CR0_PG)) {
        /* No paging is no IA-32e mode: linear addresses have 32 bits
         * (SDM Vol. 3A 4.1.1; found by fuzz/). */
        *gpa = linear & 0xffffffffull;
        return true;
    }
    if (p->efer & EFER_LMA)
        return walk_64bit_entries(p->cr3, linear, p->cr4 & CR4_LA57 ? 4 : 3, read, ctx, gpa);
    linear &= 0xffffffffull;
    if (p->cr4 & CR4_PAE) {
        uint64_t pdpte;     /* 4 PDPTEs at CR3[31:5] */
        if (!read_entry(read, ctx, (p->cr3 & 0xffffffe0ull) + (linear >> 30) * 8, 8, &pdpte))
            return false;
        return walk_64bit_entries(pdpte, linear, 1, read, ctx, gpa);
    }
    uint64_t pde, pte;
    if (!read_entry(read, ctx, (p->cr3 & 0xfffff000ull) + (linear >> 22) * 4, 4, &pde))
        return false;
    if ((pde & PTE_PS) && (p->cr4 & CR4_PSE)) {
        /* 4 MiB page; PSE-36 puts physical bits 39:32 in PDE bits 20:13 */
        *gpa = (pde & 0xffc00000ull) | ((pde >> 13 & 0xff) << 32) | (linear & 0x3fffff);
        return true;
    }
    if (!read_entry(read, ctx, (pde & 0xfffff000ull) + (linear >> 12 & 1023) * 4, 4, &pte))
        return false;
    *gpa = (pte & 0xfffff000ull) | (linear & 0xfff);
    return true;
}
