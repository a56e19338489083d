#ifndef MMU_EPT_H
#define MMU_EPT_H
/*
 * Extended page tables of one VM (SDM Vol. 3C 30.3 "The Extended Page Table
 * Mechanism"): 4 levels, write-back, leaves of 4 KiB, 2 MiB or 1 GiB.
 * Pure table logic: pages come from a caller-supplied allocator and table
 * pointers are their physical addresses (the hypervisor is identity-mapped),
 * so the same code runs in unit tests on the host.
 */
#include <stdint.h>
#include <stdbool.h>

#define EPT_READ        (1ull << 0)
#define EPT_WRITE       (1ull << 1)
#define EPT_EXEC        (1ull << 2)
#define EPT_RWX         (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MEMTYPE_WB  (6ull << 3)
#define EPT_LARGE       (1ull << 7)
#define EPT_ACCESSED    (1ull << 8)
#define EPT_DIRTY       (1ull << 9)
#define EPT_ADDR_MASK   0x000ffffffffff000ull

#define EPT_SIZE_4K     (1ull << 12)
#define EPT_SIZE_2M     (1ull << 21)
#define EPT_SIZE_1G     (1ull << 30)

struct ept {
    uint64_t *pml4;
    bool accessed_dirty;            /* EPTP bit 6: the CPU sets A/D flags */
    void *(*alloc_table)(void);     /* a zeroed 4 KiB page, NULL when out of memory */
    uint64_t tables;                /* paging-structure pages in use */
    uint64_t leaves[3];             /* mappings by size: 4K, 2M, 1G */
};

enum ept_result { EPT_OK, EPT_NO_MEMORY, EPT_CONFLICT, EPT_BAD_ARGUMENT };

bool ept_init(struct ept *ept, void *(*alloc_table)(void), bool accessed_dirty);
/* The EPT pointer for the VMCS (SDM Vol. 3C 25.6.11). */
uint64_t ept_pointer(const struct ept *ept);
/* Maps [gpa, gpa+size) to [hpa, hpa+size) with `perms`; size is one of the
 * EPT_SIZE_* and both addresses are aligned to it. Refuses (EPT_CONFLICT)
 * to replace an existing mapping or to put a large page over a table. */
enum ept_result ept_map(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t size,
                        uint64_t perms);
/* The same, but a leaf of that size already there is replaced (a wider
 * permission or another page for the same address; the caller flushes
 * what CPUs may have cached of the old one where that matters). */
enum ept_result ept_remap(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t size,
                          uint64_t perms);
/* Translates a guest-physical address; false if it is not mapped. */
bool ept_translate(const struct ept *ept, uint64_t gpa, uint64_t *hpa, uint64_t *page_size);
/* Whether any mapping exists inside [gpa, gpa+size), size an EPT_SIZE_*. */
bool ept_range_has_mappings(const struct ept *ept, uint64_t gpa, uint64_t size);
/* Frees every paging-structure page through `free_table`, after handing
 * each leaf mapping to `release_leaf` (may be NULL) so its backing can go. */
void ept_destroy(struct ept *ept, void (*free_table)(void *page),
                 void (*release_leaf)(void *ctx, uint64_t gpa, uint64_t hpa, uint64_t size),
                 void *ctx);

/*
 * The huge-page choice of the TDP fault path (KVM's kvm_mmu_hugepage_adjust):
 * the largest page size, among those the CPU offers (`allow_2m`, `allow_1g`),
 * whose aligned region around `gpa` lies wholly inside the guest RAM slot
 * [slot_start, slot_end) and holds no mapping yet.
 */
/* Every 2 MiB and 1 GiB leaf becomes a table of 4 KiB leaves with its
 * permissions and memory type (what dirty logging needs: a flag or a
 * permission per 4 KiB page, KVM's eager page splitting). A CPU may still
 * use the large translations until an INVEPT. */
enum ept_result ept_split_large(struct ept *ept);
/* The same for the one leaf that maps `gpa`: down to the 4 KiB leaf that
 * maps it (EPT_OK too if nothing maps `gpa` or a 4 KiB leaf does). */
enum ept_result ept_split_at(struct ept *ept, uint64_t gpa);
/* Calls `fn` for each leaf: its guest-physical address, size, and entry
 * (which `fn` may change: an 8-byte store, seen whole by a walking CPU). */
void ept_for_each_leaf(struct ept *ept,
                       void (*fn)(void *ctx, uint64_t gpa, uint64_t size, uint64_t *entry),
                       void *ctx);
/* Removes every leaf that maps the host page at `hpa` (a large one with
 * all it maps): how many. A CPU may still use them until an INVEPT. */
unsigned ept_unmap_host_page(struct ept *ept, uint64_t hpa);
/* The leaf entry that maps `gpa`, or NULL; *size its page size. */
uint64_t *ept_leaf(struct ept *ept, uint64_t gpa, uint64_t *size);

uint64_t ept_choose_page_size(const struct ept *ept, uint64_t gpa, uint64_t slot_start,
                              uint64_t slot_end, bool allow_2m, bool allow_1g);
#endif
