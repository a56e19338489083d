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
#endif
