#ifndef VIRT_GUEST_WALK_H
#define VIRT_GUEST_WALK_H
/* Guest linear-to-physical translation through the guest's own page tables
 * (SDM Vol. 3A ch. 5): no paging, 32-bit, PAE, 4-level and 5-level. Used
 * to fetch the instruction at the guest's RIP and for the memory the
 * hypervisor accesses for it (virt/guest_linear.h). Pure: memory comes
 * through a callback. */
#include <stdint.h>
#include <stdbool.h>

struct guest_paging {
    uint64_t cr0, cr3, cr4, efer;
};

typedef bool (*guest_read_fn)(void *ctx, uint64_t gpa, void *dst, unsigned len);

/* False if the address is not mapped (the guest would take a #PF). */
bool guest_translate(const struct guest_paging *p, uint64_t linear, guest_read_fn read, void *ctx,
                     uint64_t *gpa);
#endif
