#include "mmu/ept.h"
#include <stddef.h>

#define ENTRIES 512
/* Non-leaf entries grant everything; leaves decide (SDM 30.3.3: access is
 * the intersection over the walk). */
#define EPT_TABLE_PERMS EPT_RWX

static unsigned index_at(uint64_t gpa, int level)   /* level 3 = PML4 ... 0 = PT */
{
    return (unsigned)(gpa >> (12 + 9 * level)) & (ENTRIES - 1);
}

static uint64_t size_at(int level)
{
    return 1ull << (12 + 9 * level);
}

static int level_of_size(uint64_t size)
{
    switch (size) {
    case EPT_SIZE_4K: return 0;
    case EPT_SIZE_2M: return 1;
    case EPT_SIZE_1G: return 2;
    default: return -1;
    }
}

static bool present(uint64_t e)
{
    return e & EPT_RWX;
}

static uint64_t *table_of(uint64_t e)
{
    return (uint64_t *)(uintptr_t)(e & EPT_ADDR_MASK);
}

bool ept_init(struct ept *ept, void *(*alloc_table)(void), bool accessed_dirty)
{
    *ept = (struct ept){ .alloc_table = alloc_table, .accessed_dirty = accessed_dirty };
    ept->pml4 = alloc_table();
    if (!ept->pml4)
        return false;
    ept->tables = 1;
    return true;
}

uint64_t ept_pointer(const struct ept *ept)
{
    const uint64_t walk_length_4 = 3ull << 3;   /* page-walk length minus one */
    return (uint64_t)(uintptr_t)ept->pml4 | EPT_MEMTYPE_WB >> 3 | walk_length_4 |
           (ept->accessed_dirty ? 1ull << 6 : 0);
}

/* Installs a leaf; an existing leaf of the same size is replaced only with
 * `replace` (then the leaf counts stay as they were). */
static enum ept_result set_leaf(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t size,
                                uint64_t perms, bool replace)
{
    int leaf_level = level_of_size(size);
    if (leaf_level < 0 || (gpa | hpa) & (size - 1) || !(perms & EPT_RWX) || perms & ~EPT_RWX)
        return EPT_BAD_ARGUMENT;
    uint64_t *table = ept->pml4;
    for (int level = 3; level > leaf_level; level--) {
        uint64_t *e = &table[index_at(gpa, level)];
        if (!present(*e)) {
            uint64_t *next = ept->alloc_table();
            if (!next)
                return EPT_NO_MEMORY;
            ept->tables++;
            *e = (uint64_t)(uintptr_t)next | EPT_TABLE_PERMS;
        } else if (*e & EPT_LARGE) {
            return EPT_CONFLICT;            /* a larger page already covers it */
        }
        table = table_of(*e);
    }
    uint64_t *leaf = &table[index_at(gpa, leaf_level)];
    if (!present(*leaf))
        ept->leaves[leaf_level]++;
    else if (!replace || (leaf_level && !(*leaf & EPT_LARGE)))
        return EPT_CONFLICT;                /* a mapping, or a table of smaller ones */
    /* One 8-byte store: a CPU walking the table concurrently sees the old
     * leaf or the new one (SDM Vol. 3C 30.3.3). */
    __atomic_store_n(leaf, hpa | perms | EPT_MEMTYPE_WB | (leaf_level ? EPT_LARGE : 0),
                     __ATOMIC_RELEASE);
    return EPT_OK;
}

enum ept_result ept_map(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t size,
                        uint64_t perms)
{
    return set_leaf(ept, gpa, hpa, size, perms, false);
}

enum ept_result ept_remap(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t size,
                          uint64_t perms)
{
    return set_leaf(ept, gpa, hpa, size, perms, true);
}

bool ept_translate(const struct ept *ept, uint64_t gpa, uint64_t *hpa, uint64_t *page_size)
{
    const uint64_t *table = ept->pml4;
    for (int level = 3; level >= 0; level--) {
        uint64_t e = table[index_at(gpa, level)];
        if (!present(e))
            return false;
        if (level == 0 || e & EPT_LARGE) {
            uint64_t size = size_at(level);
            *hpa = (e & EPT_ADDR_MASK & ~(size - 1)) | (gpa & (size - 1));
            if (page_size)
                *page_size = size;
            return true;
        }
        table = table_of(e);
    }
    return false;
}

bool ept_range_has_mappings(const struct ept *ept, uint64_t gpa, uint64_t size)
{
    int target = level_of_size(size);
    const uint64_t *table = ept->pml4;
    for (int level = 3; level > target; level--) {
        uint64_t e = table[index_at(gpa, level)];
        if (!present(e))
            return false;
        if (e & EPT_LARGE)
            return true;
        table = table_of(e);
    }
    return present(table[index_at(gpa, target)]);
}

/* The leaf of `level` (1: 2 MiB, 2: 1 GiB) at *e as a table of leaves one
 * level down, each with its permissions and memory type, its accessed and
 * dirty flags clear. */
static enum ept_result split_leaf(struct ept *ept, uint64_t *e, int level)
{
    uint64_t *table = ept->alloc_table();
    if (!table)
        return EPT_NO_MEMORY;
    ept->tables++;
    uint64_t child = size_at(level - 1);
    uint64_t base = *e & EPT_ADDR_MASK & ~(size_at(level) - 1);
    uint64_t bits = (*e & 0xfffull & ~(EPT_LARGE | EPT_ACCESSED | EPT_DIRTY)) |
                    (level - 1 ? EPT_LARGE : 0);
    for (unsigned i = 0; i < ENTRIES; i++)
        table[i] = (base + i * child) | bits;
    __atomic_store_n(e, (uint64_t)(uintptr_t)table | EPT_TABLE_PERMS, __ATOMIC_RELEASE);
    ept->leaves[level]--;
    ept->leaves[level - 1] += ENTRIES;
    return EPT_OK;
}

static enum ept_result split_level(struct ept *ept, uint64_t *table, int level)
{
    for (unsigned i = 0; i < ENTRIES; i++) {
        if (!present(table[i]))
            continue;
        if (table[i] & EPT_LARGE) {
            enum ept_result r = split_leaf(ept, &table[i], level);
            if (r != EPT_OK)
                return r;
        }
        if (level > 1) {
            enum ept_result r = split_level(ept, table_of(table[i]), level - 1);
            if (r != EPT_OK)
                return r;
        }
    }
    return EPT_OK;
}

enum ept_result ept_split_large(struct ept *ept)
{
    return split_level(ept, ept->pml4, 3);
}

enum ept_result ept_split_at(struct ept *ept, uint64_t gpa)
{
    uint64_t *table = ept->pml4;
    for (int level = 3; level > 0; level--) {
        uint64_t *e = &table[index_at(gpa, level)];
        if (!present(*e))
            return EPT_OK;
        if (*e & EPT_LARGE) {
            enum ept_result r = split_leaf(ept, e, level);
            if (r != EPT_OK)
                return r;
        }
        table = table_of(*e);
    }
    return EPT_OK;
}

static void each_leaf(uint64_t *table, int level, uint64_t gpa,
                      void (*fn)(void *ctx, uint64_t gpa, uint64_t size, uint64_t *entry),
                      void *ctx)
{
    for (unsigned i = 0; i < ENTRIES; i++) {
        uint64_t entry_gpa = gpa + i * size_at(level);
        if (!present(table[i]))
            continue;
        if (level == 0 || table[i] & EPT_LARGE)
            fn(ctx, entry_gpa, size_at(level), &table[i]);
        else
            each_leaf(table_of(table[i]), level - 1, entry_gpa, fn, ctx);
    }
}

void ept_for_each_leaf(struct ept *ept,
                       void (*fn)(void *ctx, uint64_t gpa, uint64_t size, uint64_t *entry),
                       void *ctx)
{
    each_leaf(ept->pml4, 3, 0, fn, ctx);
}

struct unmap_host_page {
    struct ept *ept;
    uint64_t hpa;
    unsigned removed;
};

static void unmap_if_host_page(void *ctx, uint64_t gpa, uint64_t size, uint64_t *entry)
{
    (void)gpa;
    struct unmap_host_page *u = ctx;
    if ((*entry & EPT_ADDR_MASK & ~(size - 1)) != (u->hpa & ~(size - 1)))
        return;
    __atomic_store_n(entry, 0, __ATOMIC_RELEASE);
    u->ept->leaves[size == EPT_SIZE_4K ? 0 : size == EPT_SIZE_2M ? 1 : 2]--;
    u->removed++;
}

unsigned ept_unmap_host_page(struct ept *ept, uint64_t hpa)
{
    struct unmap_host_page u = { ept, hpa & ~0xfffull, 0 };
    ept_for_each_leaf(ept, unmap_if_host_page, &u);
    return u.removed;
}

uint64_t *ept_leaf(struct ept *ept, uint64_t gpa, uint64_t *size)
{
    uint64_t *table = ept->pml4;
    for (int level = 3; level >= 0; level--) {
        uint64_t *e = &table[index_at(gpa, level)];
        if (!present(*e))
            return NULL;
        if (level == 0 || *e & EPT_LARGE) {
            *size = size_at(level);
            return e;
        }
        table = table_of(*e);
    }
    return NULL;
}

struct teardown {
    void (*free_table)(void *);
    void (*release_leaf)(void *ctx, uint64_t gpa, uint64_t hpa, uint64_t size);
    void *ctx;
};

static void free_level(const struct teardown *t, uint64_t *table, int level, uint64_t gpa)
{
    for (unsigned i = 0; i < ENTRIES; i++) {
        uint64_t e = table[i], entry_gpa = gpa + i * size_at(level);
        if (!present(e))
            continue;
        if (level == 0 || e & EPT_LARGE) {
            if (t->release_leaf)
                t->release_leaf(t->ctx, entry_gpa, e & EPT_ADDR_MASK, size_at(level));
        } else {
            free_level(t, table_of(e), level - 1, entry_gpa);
        }
    }
    t->free_table(table);
}

void ept_destroy(struct ept *ept, void (*free_table)(void *page),
                 void (*release_leaf)(void *ctx, uint64_t gpa, uint64_t hpa, uint64_t size),
                 void *ctx)
{
    const struct teardown t = { free_table, release_leaf, ctx };
    if (ept->pml4)
        free_level(&t, ept->pml4, 3, 0);
    ept->pml4 = NULL;
}

uint64_t ept_choose_page_size(const struct ept *ept, uint64_t gpa, uint64_t slot_start,
                              uint64_t slot_end, bool allow_2m, bool allow_1g)
{
    const struct { uint64_t size; bool allowed; } candidates[] = {
        { EPT_SIZE_1G, allow_1g }, { EPT_SIZE_2M, allow_2m },
    };
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        uint64_t size = candidates[i].size;
        uint64_t base = gpa & ~(size - 1);
        if (candidates[i].allowed && base >= slot_start && base + size <= slot_end &&
            !ept_range_has_mappings(ept, base, size))
            return size;
    }
    return EPT_SIZE_4K;
}
