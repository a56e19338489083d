#ifndef VIRT_WRITE_WATCH_H
#define VIRT_WRITE_WATCH_H
/*
 * Pages of a VM's RAM whose writes L0 hears of (KVM's write tracking): a
 * nested hypervisor's MSR bitmap, of which vmcs02's merged bitmap is made,
 * so that an entry merges it again only after it may have changed. A
 * watched page loses write permission in EPT01 (its large leaf split to 4
 * KiB first), and a write to it by anyone stops the watch and bumps the
 * VM's generation, which a user compares with the one it saw when it read
 * the page:
 *  - the guest: the EPT violation (write_watch_fault), which gives the
 *    permission back;
 *  - an L2 through its shadow EPT, whose leaves map a watched page read-only
 *    (nested/nested_ept.c, which calls write_watch_fault at L2's write);
 *  - L0 itself, into the guest's memory: guest_mem_write, and the nested
 *    code's writes into L1's VMCS regions and EPT tables (write_watch_note).
 * At most WRITE_WATCH_PAGES pages: beyond, a page is not watched and its
 * user reads it every time. A page watched stays so until written, its
 * user gone or not; the VM's reboot clears the table with its RAM.
 */
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "virt/vm.h"

/* The generation a user compares (acquire: what it reads of the page after
 * comes after the writes the generation counts). */
static inline uint64_t write_watch_generation(const struct vm *vm)
{
    return __atomic_load_n(&vm->write_watch.generation, __ATOMIC_ACQUIRE);
}

/* Watches the page at `gpa`, which must be RAM mapped in EPT01 (a user has
 * translated it); every CPU has dropped what it cached of its write
 * permission when this returns. Read the page only after. */
enum write_watch_added {
    WRITE_WATCH_REFUSED,    /* not watched: the table is full, or no memory to split a leaf */
    WRITE_WATCH_KEPT,       /* watched already */
    WRITE_WATCH_BEGUN,      /* watched from now on */
};
enum write_watch_added write_watch_add(struct vm *vm, uint64_t gpa);
/* A write to `gpa` faulted in EPT01 (or in L2's shadow EPT): true if its
 * page was watched, which it is no more (and writable in EPT01 again, the
 * generation bumped); false if it was not. The fault handlers call it
 * through dirty_log_watched_write, which counts the write for a dirty-rate
 * measurement. */
bool write_watch_fault(struct vm *vm, uint64_t gpa);
/* Whether `gpa`'s page is watched: with vm->lock held, or for a caller
 * that orders the answer with a change of the table itself. */
bool write_watch_covers(const struct vm *vm, uint64_t gpa);
/* L0 wrote [gpa, gpa + len) of the guest's memory (after the write): the
 * generation moves if that reached a watched page. */
void write_watch_note(struct vm *vm, uint64_t gpa, size_t len);
/* The VM's RAM goes: no page is watched; vm->lock held. */
void write_watch_reset_locked(struct vm *vm);
#endif
