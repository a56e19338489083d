#ifndef VIRT_VCPU_H
#define VIRT_VCPU_H
/* Running a vCPU on the current physical CPU (KVM's vcpu_load, the run
 * loop of vcpu_enter_guest, vcpu_put). */
#include "virt/vm.h"

/* Makes the vCPU's state current on this CPU (creating its VMCS the first
 * time). False if it cannot run (out of memory: its VM has been ended). */
bool vcpu_load(struct vcpu *vcpu);
/* Enters the guest until the vCPU stops or blocks, the CPU loop is needed,
 * or `slice` TSC cycles have passed; injects its APIC's interrupts and
 * brings it out for its APIC timer on the way. */
void vcpu_run(struct vcpu *vcpu, uint64_t slice, bool boosted);
void vcpu_put(struct vcpu *vcpu);
/* Releases what the vCPU holds on this CPU (VMCS, VPID) once it stopped. */
void vcpu_release(struct vcpu *vcpu);
#endif
