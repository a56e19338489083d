#ifndef NESTED_EPT02_H
#define NESTED_EPT02_H
/*
 * The shadow EPT roots of one VM (EPT02: L1's EPT12 composed with EPT01,
 * KVM's nested TDP roots), kept per L1 EPTP so that an L2 that comes back
 * finds its tables, and shared by the VM's vCPUs as L1's EPTP is. Bounded
 * twice: at most EPT02_LIVE_ROOTS roots are kept for reuse (the least
 * recently entered one goes first), and all roots together hold at most
 * `table_budget` table pages, so that an L1 that makes EPTPs or touches
 * memory without end costs a bounded amount of host memory; every eviction
 * is counted.
 *
 * A root a vCPU's vmcs02 points at (users > 0) is never freed: dropping it
 * (INVEPT, eviction) makes it stale, so that no lookup finds it, and the
 * last vCPU to leave it frees it. INVEPT invalidates only the executing
 * logical processor's mappings (SDM Vol. 3C 31.3), so another vCPU may
 * well go on with a stale root until its own INVEPT or next nested entry.
 *
 * Pure: table pages come from the caller's allocator and the caller
 * serializes calls (one lock per VM), so the cache is unit-tested.
 */
#include <stdint.h>
#include <stdbool.h>
#include "mmu/ept.h"
#include "virt/vm_config.h"

#define EPT02_LIVE_ROOTS 8
/* Every vCPU may hold a stale root besides the live ones: a free slot
 * always exists. */
#define EPT02_SLOTS (EPT02_LIVE_ROOTS + VM_MAX_VCPUS)

struct ept02_root {
    uint64_t key;               /* L1's EPTP bits 51:12, what INVEPT names */
    struct ept ept;             /* ept.pml4 NULL: the slot is free */
    uint64_t eptp;              /* ept_pointer(&ept), for every nested entry */
    uint32_t users;             /* vCPUs whose vmcs02 points at it */
    bool stale;                 /* dropped: found by no lookup, freed unused */
    uint64_t last_entered;      /* the cache's clock at its last nested entry */
    /* The CPUs that invalidated its EP4TA since it was made: its PML4 page
     * may have been another root's, whose translations a CPU may still
     * cache (SDM Vol. 3C 30.4.1), so each CPU flushes it before first use. */
    uint64_t flushed_cpus;
};

struct ept02_stats {
    uint64_t created, reused;
    uint64_t evicted;           /* LRU: more than EPT02_LIVE_ROOTS live roots */
    uint64_t invalidated;       /* dropped by INVEPT, VMXOFF or reset */
    uint64_t over_budget;       /* restarted: the table budget ran out */
};

struct ept02_cache {
    void *(*alloc_table)(void);
    void (*free_table)(void *page);
    uint64_t table_budget;      /* table pages all roots may hold */
    uint64_t tables;            /* table pages they hold */
    uint64_t clock;
    struct ept02_root slots[EPT02_SLOTS];
    struct ept02_stats stats;
};

void ept02_cache_init(struct ept02_cache *cache, void *(*alloc_table)(void),
                      void (*free_table)(void *page), uint64_t table_budget);
/* The key of an EPTP: its EP4TA (SDM Vol. 3C 30.4.1). */
static inline uint64_t ept02_key(uint64_t eptp12)
{
    return eptp12 & EPT_ADDR_MASK;
}
/* A live root for L1's `eptp12`, found or made, with one more user; NULL
 * when no table page is left. */
struct ept02_root *ept02_get(struct ept02_cache *cache, uint64_t eptp12);
/* One user fewer; a stale root left without users is freed. */
void ept02_put(struct ept02_cache *cache, struct ept02_root *root);
/* Drops the live roots of `eptp12`'s key, or all live roots (`all`):
 * INVEPT single-context and all-context. */
void ept02_drop(struct ept02_cache *cache, uint64_t eptp12, bool all);
/* Removes from every root, stale ones in use too, the leaves that map the
 * host page at `hpa`; the EPTPs of the roots that had one go into `eptps`
 * (room for EPT02_SLOTS): how many. */
unsigned ept02_unmap_host_page(struct ept02_cache *cache, uint64_t hpa, uint64_t *eptps);

enum ept02_map_result {
    EPT02_MAPPED,
    EPT02_RESTART,      /* the root went stale: put it, get a fresh one, retry */
    EPT02_NO_MEMORY,
};
/* Maps `l2_gpa` (aligned to `size`) to `hpa` in `root` with `perms`,
 * replacing what was there for the same size. Over the budget, unused
 * roots are freed first (least recently entered first); if that is not
 * enough, or the mapping conflicts with pages of another size there, the
 * root itself is dropped (EPT02_RESTART). */
enum ept02_map_result ept02_map(struct ept02_cache *cache, struct ept02_root *root,
                                uint64_t l2_gpa, uint64_t hpa, uint64_t size, uint64_t perms);
/* Frees every root (the VM's end: no vCPU runs any of them). */
void ept02_cache_destroy(struct ept02_cache *cache);
#endif
