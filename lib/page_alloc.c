/* A bitmap over physical page frames: set = used or not RAM. Simple,
 * contiguous and aligned allocations (VMCS, EPT tables, 2M guest pages). */
#include "lib/page_alloc.h"
#include "lib/bitmap.h"
#include "lib/spinlock.h"
#include "lib/string.h"

#define MAX_PFN (PAGE_ALLOC_MAX_PHYS >> PAGE_SHIFT)

static uint64_t frame_used[BITMAP_WORDS(MAX_PFN)];
static spinlock_t alloc_lock = SPINLOCK_INIT;
static size_t free_pages;
static uint64_t ram_top;
static bool initialised;

static void mark_all_used_once(void)
{
    if (initialised)
        return;
    memset(frame_used, 0xff, sizeof(frame_used));
    initialised = true;
}

void page_alloc_add_ram(uint64_t base, uint64_t length)
{
    mark_all_used_once();
    uint64_t first = (base + PAGE_SIZE - 1) >> PAGE_SHIFT;
    uint64_t end = (base + length) >> PAGE_SHIFT;
    if (end > MAX_PFN)
        end = MAX_PFN;
    for (uint64_t pfn = first; pfn < end; pfn++) {
        if (bitmap_test(frame_used, pfn)) {
            bitmap_clear(frame_used, pfn);
            free_pages++;
        }
    }
    if (end << PAGE_SHIFT > ram_top)
        ram_top = end << PAGE_SHIFT;
}

void page_alloc_reserve(uint64_t base, uint64_t length)
{
    mark_all_used_once();
    uint64_t end = (base + length + PAGE_SIZE - 1) >> PAGE_SHIFT;
    if (end > MAX_PFN)
        end = MAX_PFN;
    for (uint64_t pfn = base >> PAGE_SHIFT; pfn < end; pfn++) {
        if (!bitmap_test(frame_used, pfn)) {
            bitmap_set(frame_used, pfn);
            free_pages--;
        }
    }
}

void *page_alloc_aligned(size_t pages, size_t align_pages)
{
    spin_lock(&alloc_lock);
    size_t pfn = bitmap_find_clear_run(frame_used, MAX_PFN, pages, align_pages);
    if (pfn == MAX_PFN) {
        spin_unlock(&alloc_lock);
        return NULL;
    }
    for (size_t i = 0; i < pages; i++)
        bitmap_set(frame_used, pfn + i);
    free_pages -= pages;
    spin_unlock(&alloc_lock);
    void *p = (void *)(pfn << PAGE_SHIFT);
    memset(p, 0, pages * PAGE_SIZE);
    return p;
}

void page_free(void *p, size_t pages)
{
    size_t pfn = (uintptr_t)p >> PAGE_SHIFT;
    spin_lock(&alloc_lock);
    for (size_t i = 0; i < pages; i++)
        bitmap_clear(frame_used, pfn + i);
    free_pages += pages;
    spin_unlock(&alloc_lock);
}

size_t page_alloc_free_pages(void) { return free_pages; }
uint64_t page_alloc_ram_top(void) { return ram_top; }
