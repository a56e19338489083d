#ifndef NESTED_L1_REGIONS_H
#define NESTED_L1_REGIONS_H
/*
 * The pages of L1's memory its VMX operation names by address (VMCS
 * regions, the link pointer's): L0 reads and writes them at VMPTRLD,
 * VMCLEAR and nested entries, several times per exit of a nested
 * hypervisor's guest. Their host addresses are kept, as struct
 * guest_page_ref keeps one: L1's RAM stays where it is until the VM's
 * reboot, which frees the vCPU's VMX operation first.
 */
#include <stdint.h>

struct vcpu;

/* The host address of L1's page at `page` (4 KiB-aligned), or NULL where
 * there is no RAM (nor memory for it yet: looked up again next time). */
void *l1_region_host(struct vcpu *vcpu, uint64_t page);
/* The revision identifier at the start of the region at `addr`; all ones
 * where no RAM is (no identifier matches that). Also before VMXON. */
uint32_t l1_region_revision(struct vcpu *vcpu, uint64_t addr);
#endif
