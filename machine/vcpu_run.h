#ifndef MACHINE_VCPU_RUN_H
#define MACHINE_VCPU_RUN_H
#include <stdint.h>
#include <stdbool.h>

struct vcpu;

/* Enters the guest until the vCPU stops or blocks, the CPU loop is needed,
 * or `slice` TSC cycles have passed; injects its APIC's interrupts and
 * brings it out for its APIC timer on the way. */
void vcpu_run(struct vcpu *vcpu, uint64_t slice, bool boosted);
#endif
