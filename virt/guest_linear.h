#ifndef VIRT_GUEST_LINEAR_H
#define VIRT_GUEST_LINEAR_H
/* Guest memory by linear address, as an instruction the hypervisor
 * completes for the guest touches it (a VMX instruction's operand, a string
 * I/O element): through the guest's paging (its VMCS current). */
#include <stdint.h>
#include <stdbool.h>

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
#endif
