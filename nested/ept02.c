/* The shadow EPT roots of a VM (nested/ept02.h). */
#include "nested/ept02.h"
#include <stddef.h>

/* The most table pages one mapping adds: a PDPT, a PD and a PT. */
#define TABLES_PER_MAPPING 3
/* A root this small is kept even over the budget, so that a fresh root can
 * always map a page (the PML4 and one mapping's tables). */
#define ROOT_MINIMUM_TABLES (1 + TABLES_PER_MAPPING)

void ept02_cache_init(struct ept02_cache *cache, void *(*alloc_table)(void),
                      void (*free_table)(void *page), uint64_t table_budget)
{
    *cache = (struct ept02_cache){ .alloc_table = alloc_table, .free_table = free_table,
                                   .table_budget = table_budget };
}

static bool slot_used(const struct ept02_root *root)
{
    return root->ept.pml4 != NULL;
}

static void free_root(struct ept02_cache *cache, struct ept02_root *root)
{
    cache->tables -= root->ept.tables;
    ept_destroy(&root->ept, cache->free_table, NULL, NULL);
    *root = (struct ept02_root){ 0 };
}

/* A root leaves the cache: freed now if no vCPU uses it, else when the
 * last one leaves it. */
static void retire(struct ept02_cache *cache, struct ept02_root *root)
{
    if (root->users)
        root->stale = true;
    else
        free_root(cache, root);
}

/* The live root entered least recently, other than `keep`; with
 * `unused_only`, among those no vCPU uses. NULL if none. */
static struct ept02_root *least_recent(struct ept02_cache *cache, const struct ept02_root *keep,
                                       bool unused_only)
{
    struct ept02_root *oldest = NULL;
    for (unsigned i = 0; i < EPT02_SLOTS; i++) {
        struct ept02_root *r = &cache->slots[i];
        if (!slot_used(r) || r->stale || r == keep || (unused_only && r->users))
            continue;
        if (!oldest || r->last_entered < oldest->last_entered)
            oldest = r;
    }
    return oldest;
}

static unsigned live_roots(const struct ept02_cache *cache)
{
    unsigned n = 0;
    for (unsigned i = 0; i < EPT02_SLOTS; i++)
        n += slot_used(&cache->slots[i]) && !cache->slots[i].stale;
    return n;
}

struct ept02_root *ept02_get(struct ept02_cache *cache, uint64_t eptp12)
{
    uint64_t key = ept02_key(eptp12);
    struct ept02_root *free_slot = NULL;
    cache->clock++;
    for (unsigned i = 0; i < EPT02_SLOTS; i++) {
        struct ept02_root *r = &cache->slots[i];
        if (slot_used(r) && !r->stale && r->key == key) {
            r->users++;
            r->last_entered = cache->clock;
            cache->stats.reused++;
            return r;
        }
        if (!slot_used(r) && !free_slot)
            free_slot = r;
    }
    if (live_roots(cache) >= EPT02_LIVE_ROOTS) {
        retire(cache, least_recent(cache, NULL, false));
        cache->stats.evicted++;
    }
    /* Live roots and the stale ones other vCPUs hold fill at most
     * EPT02_LIVE_ROOTS + VM_MAX_VCPUS - 1 slots here. */
    for (unsigned i = 0; !free_slot && i < EPT02_SLOTS; i++)
        if (!slot_used(&cache->slots[i]))
            free_slot = &cache->slots[i];
    struct ept02_root *r = free_slot;
    if (!r || !ept_init(&r->ept, cache->alloc_table, false))
        return NULL;
    r->key = key;
    r->eptp = ept_pointer(&r->ept);
    r->users = 1;
    r->last_entered = cache->clock;
    cache->tables += r->ept.tables;
    cache->stats.created++;
    return r;
}

void ept02_put(struct ept02_cache *cache, struct ept02_root *root)
{
    if (--root->users == 0 && root->stale)
        free_root(cache, root);
}

void ept02_drop(struct ept02_cache *cache, uint64_t eptp12, bool all)
{
    uint64_t key = ept02_key(eptp12);
    for (unsigned i = 0; i < EPT02_SLOTS; i++) {
        struct ept02_root *r = &cache->slots[i];
        if (slot_used(r) && !r->stale && (all || r->key == key)) {
            retire(cache, r);
            cache->stats.invalidated++;
        }
    }
}

unsigned ept02_unmap_host_page(struct ept02_cache *cache, uint64_t hpa, uint64_t *eptps)
{
    unsigned changed = 0;
    for (unsigned i = 0; i < EPT02_SLOTS; i++) {
        struct ept02_root *r = &cache->slots[i];
        if (slot_used(r) && ept_unmap_host_page(&r->ept, hpa))
            eptps[changed++] = r->eptp;
    }
    return changed;
}

/* Room for one more mapping: unused roots go, least recently entered
 * first; false if the budget is still short. */
static bool make_room(struct ept02_cache *cache, const struct ept02_root *root)
{
    while (cache->tables + TABLES_PER_MAPPING > cache->table_budget) {
        struct ept02_root *victim = least_recent(cache, root, true);
        if (!victim)
            return false;
        free_root(cache, victim);
        cache->stats.evicted++;
    }
    return true;
}

enum ept02_map_result ept02_map(struct ept02_cache *cache, struct ept02_root *root,
                                uint64_t l2_gpa, uint64_t hpa, uint64_t size, uint64_t perms)
{
    if (!make_room(cache, root) && root->ept.tables >= ROOT_MINIMUM_TABLES) {
        retire(cache, root);
        cache->stats.over_budget++;
        return EPT02_RESTART;
    }
    uint64_t before = root->ept.tables;
    enum ept_result r = ept_remap(&root->ept, l2_gpa, hpa, size, perms);
    cache->tables += root->ept.tables - before;
    switch (r) {
    case EPT_OK:
        return EPT02_MAPPED;
    case EPT_NO_MEMORY:
        return EPT02_NO_MEMORY;
    default:
        /* Pages of another size there: L1 changed the size of a mapping
         * without INVEPT. The root starts over. */
        retire(cache, root);
        cache->stats.invalidated++;
        return EPT02_RESTART;
    }
}

void ept02_cache_destroy(struct ept02_cache *cache)
{
    for (unsigned i = 0; i < EPT02_SLOTS; i++)
        if (slot_used(&cache->slots[i]))
            free_root(cache, &cache->slots[i]);
}
