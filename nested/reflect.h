#ifndef NESTED_REFLECT_H
#define NESTED_REFLECT_H
/*
 * Which VM exits from L2 go to L1 (KVM's nested_vmx_reflect_vmexit): a
 * const table beside the exit dispatch table says, per exit reason, whether
 * L0 keeps the exit (its own external interrupts, EPT faults in L1's
 * memory, its preemption-timer slices, NMIs), L1 always gets it (CPUID,
 * VMCALL, triple fault, INVD, XSETBV, every VMX instruction), or L1's
 * controls decide (a control bit, its I/O and MSR bitmaps, its exception
 * bitmap, its CR masks). An exit L1 did not ask for is L0's to handle on
 * L2's behalf, as L1 would have let it happen.
 */
#include <stdint.h>
#include <stdbool.h>

struct vcpu;

/* Whether the exit `reason` that just came from L2 (vmcs02 current) goes to L1. */
bool nested_l1_wants_exit(struct vcpu *vcpu, uint32_t reason);
#endif
