/* Host page tables (SDM Vol. 3A 5.5 "4-Level Paging"). */
#include "arch/paging.h"
#include "arch/cpu.h"
#include "lib/page_alloc.h"
#include "arch/platform.h"

#define PTE_PRESENT  (1ull << 0)
#define PTE_WRITE    (1ull << 1)
#define PTE_PWT      (1ull << 3)
#define PTE_PCD      (1ull << 4)
#define PTE_LARGE    (1ull << 7)
#define SIZE_2M      (2ull << 20)
#define SIZE_1G      (1ull << 30)
#define MMIO_WINDOW_START 0xfec00000ull   /* IOAPIC, HPET, local APIC, up to 4 GiB */
#define MMIO_WINDOW_END   0x100000000ull

static uint64_t *table_alloc(void)
{
    uint64_t *t = page_alloc(1);
    if (!t)
        panic("out of memory building the host page tables");
    return t;
}

static uint64_t *next_level(uint64_t *table, unsigned index)
{
    if (!(table[index] & PTE_PRESENT))
        table[index] = (uint64_t)table_alloc() | PTE_PRESENT | PTE_WRITE;
    return (uint64_t *)(table[index] & ~0xfffull);
}

static void map_2m(uint64_t *pml4, uint64_t addr, uint64_t flags)
{
    uint64_t *pdpt = next_level(pml4, addr >> 39 & 511);
    uint64_t *pd = next_level(pdpt, addr >> 30 & 511);
    pd[addr >> 21 & 511] = addr | PTE_PRESENT | PTE_WRITE | PTE_LARGE | flags;
}

uint64_t paging_init_host(uint64_t ram_top)
{
    uint64_t *pml4 = table_alloc();
    uint64_t end = (ram_top + SIZE_2M - 1) & ~(SIZE_2M - 1);
    /* Below 4 GiB everything is mapped: firmware tables and MMIO live there. */
    if (end < MMIO_WINDOW_START)
        end = MMIO_WINDOW_START & ~(SIZE_2M - 1);
    for (uint64_t a = 0; a < end; a += SIZE_2M)
        map_2m(pml4, a, 0);
    for (uint64_t a = MMIO_WINDOW_START & ~(SIZE_2M - 1); a < MMIO_WINDOW_END; a += SIZE_2M)
        map_2m(pml4, a, PTE_PCD | PTE_PWT);
    uint64_t cr3 = (uint64_t)pml4;
    write_cr3(cr3);
    return cr3;
}
