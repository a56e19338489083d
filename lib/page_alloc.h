#ifndef LIB_PAGE_ALLOC_H
#define LIB_PAGE_ALLOC_H
/* Physical page allocator. Memory is identity-mapped, so a page's physical
 * address is also its pointer. */
#include <stdint.h>
#include <stddef.h>

#define PAGE_SIZE  ((uint64_t)4096)
#define PAGE_SHIFT 12
/* Highest physical address the allocator manages (its bitmap is static). */
#define PAGE_ALLOC_MAX_PHYS ((uint64_t)64 << 30)

void page_alloc_add_ram(uint64_t base, uint64_t length);
void page_alloc_reserve(uint64_t base, uint64_t length);
/* Zeroed, contiguous pages aligned to `align_pages` pages; NULL when none. */
void *page_alloc_aligned(size_t pages, size_t align_pages);
static inline void *page_alloc(size_t pages) { return page_alloc_aligned(pages, 1); }
void page_free(void *p, size_t pages);
size_t page_alloc_free_pages(void);
uint64_t page_alloc_ram_top(void);
#endif
