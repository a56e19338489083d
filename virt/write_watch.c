/* Write-watched guest pages (virt/write_watch.h). */
#include "virt/write_watch.h"
#include "mmu/ept.h"
#include "vmx/tlb.h"
#include "lib/spinlock.h"

#define PAGE_MASK (~0xfffull)

/* The slot of `gpa`'s page, or -1. */
static int slot_of(const struct write_watch *w, uint64_t gpa)
{
    uint32_t count = __atomic_load_n(&w->count, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < count; i++)
        if (__atomic_load_n(&w->page[i], __ATOMIC_RELAXED) == (gpa & PAGE_MASK))
            return (int)i;
    return -1;
}

bool write_watch_covers(const struct vm *vm, uint64_t gpa)
{
    return slot_of(&vm->write_watch, gpa) >= 0;
}

static void bump(struct write_watch *w)
{
    __atomic_fetch_add(&w->generation, 1, __ATOMIC_SEQ_CST);
}

enum write_watch_added write_watch_add(struct vm *vm, uint64_t gpa)
{
    struct write_watch *w = &vm->write_watch;
    uint64_t page = gpa & PAGE_MASK, size, *leaf;
    bool added = false;
    spin_lock(&vm->lock);
    if (slot_of(w, page) >= 0) {
        spin_unlock(&vm->lock);
        return WRITE_WATCH_KEPT;
    }
    if (w->count < WRITE_WATCH_PAGES && ept_split_at(&vm->ept, page) == EPT_OK &&
        (leaf = ept_leaf(&vm->ept, page, &size)) && size == EPT_SIZE_4K && (*leaf & EPT_READ)) {
        __atomic_fetch_and(leaf, ~EPT_WRITE, __ATOMIC_RELAXED);
        __atomic_store_n(&w->page[w->count], page, __ATOMIC_RELAXED);
        __atomic_store_n(&w->count, w->count + 1, __ATOMIC_RELEASE);
        added = true;
    }
    spin_unlock(&vm->lock);
    if (!added)
        return WRITE_WATCH_REFUSED;
    /* The table before the page is read (write_watch_note's fence pairs
     * with this one: an L0 write either sees the page watched or comes
     * before the user's read), and no CPU keeps writing through a cached
     * translation. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    tlb_flush_ept_everywhere(ept_pointer(&vm->ept));
    return WRITE_WATCH_BEGUN;
}

bool write_watch_fault(struct vm *vm, uint64_t gpa)
{
    struct write_watch *w = &vm->write_watch;
    spin_lock(&vm->lock);
    int slot = slot_of(w, gpa);
    if (slot < 0) {
        spin_unlock(&vm->lock);
        return false;
    }
    uint32_t last = w->count - 1;
    __atomic_store_n(&w->page[slot], w->page[last], __ATOMIC_RELAXED);
    __atomic_store_n(&w->count, last, __ATOMIC_RELEASE);
    bump(w);
    /* The write goes ahead: writable again (dirty_log_watched_write counts
     * it for a dirty-rate measurement). Other CPUs may still hold the read-only
     * translation: theirs fault once more and find it writable. */
    uint64_t size, *leaf = ept_leaf(&vm->ept, gpa, &size);
    if (leaf)
        __atomic_fetch_or(leaf, EPT_WRITE, __ATOMIC_RELAXED);
    spin_unlock(&vm->lock);
    return true;
}

void write_watch_note(struct vm *vm, uint64_t gpa, size_t len)
{
    struct write_watch *w = &vm->write_watch;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint32_t count = __atomic_load_n(&w->count, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < count; i++) {
        uint64_t page = __atomic_load_n(&w->page[i], __ATOMIC_RELAXED);
        if (page < gpa + len && gpa < page + 4096) {
            bump(w);
            return;
        }
    }
}

void write_watch_reset_locked(struct vm *vm)
{
    __atomic_store_n(&vm->write_watch.count, 0, __ATOMIC_RELEASE);
    bump(&vm->write_watch);
}
