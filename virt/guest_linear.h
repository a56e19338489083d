#ifndef VIRT_GUEST_LINEAR_H
#define VIRT_GUEST_LINEAR_H
/* Guest memory by linear address, as an instruction the hypervisor
 * completes for the guest touches it (a VMX instruction's operand, a string
 * I/O element): through the guest's paging (its VMCS current). */
#include <stdint.h>
#include <stdbool.h>
#include "virt/guest_walk.h"

struct vcpu;

/* Moves `len` bytes between `buf` and the guest's memory at `linear`, page
 * by page; memory that is not RAM reads all ones and drops writes, as
 * unclaimed physical addresses do. False if a page is not mapped: the
 * guest takes a #PF for the address, which this injects (CR2 and a W error
 * code for writes), and nothing was moved past the fault. */
bool vcpu_linear_access(struct vcpu *vcpu, uint64_t linear, void *buf, unsigned len, bool write);

/* The same for a guest whose physical addresses are not the VM's: an L2
 * on nested EPT, whose are L1's through L1's EPT tables. `map` gives the
 * VM's address of one of the guest's (the whole page maps alike), or
 * false where there is none, which is then as memory that is not RAM. */
typedef bool (*guest_phys_map_fn)(void *ctx, uint64_t gpa, uint64_t *vm_gpa);
bool vcpu_linear_access_mapped(struct vcpu *vcpu, uint64_t linear, void *buf, unsigned len,
                               bool write, guest_phys_map_fn map, void *map_ctx);

/* The translations of the last pages vcpu_linear_access_memo reached, each
 * with the page-table entries its walk read: where they are in the host's
 * memory and what they held, and the host address of the page it reached
 * (RAM: a translation to anything else is not kept). The same page under the same paging
 * translates alike while every one of those entries holds its value, as a
 * walk through them would find (the guest may change its tables without
 * an exit; then the walk is made again). Host addresses of guest RAM stay
 * valid until the VM's reboot or end, which must drop the memo first (as
 * struct guest_page_ref's holders). */
#define LINEAR_MEMO_PAGES 2
#define LINEAR_MEMO_ENTRIES 5       /* a walk's most: 5-level paging */
struct linear_translation {
    bool valid;
    uint64_t linear_page;
    struct guest_paging paging;
    uint64_t gpa_page;
    uint8_t *host_page;
    unsigned entries;
    const uint8_t *entry_host[LINEAR_MEMO_ENTRIES];
    uint64_t entry_value[LINEAR_MEMO_ENTRIES];
    uint8_t entry_bytes[LINEAR_MEMO_ENTRIES];
};
struct linear_memo {
    struct linear_translation page[LINEAR_MEMO_PAGES];
    unsigned next;          /* the one the next new page replaces */
};
/* vcpu_linear_access through `memo`: a page it holds is not walked again
 * while its page-table entries are unchanged, and read in place. For the
 * accesses a hypervisor emulates over and over at the same few addresses
 * (a nested hypervisor's VMX instruction operands, each otherwise a walk
 * of four levels). */
bool vcpu_linear_access_memo(struct vcpu *vcpu, uint64_t linear, void *buf, unsigned len,
                             bool write, struct linear_memo *memo);
#endif
