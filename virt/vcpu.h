#ifndef VIRT_VCPU_H
#define VIRT_VCPU_H
/* Running a vCPU on the current physical CPU (KVM's vcpu_load, the run
 * loop of vcpu_enter_guest, vcpu_put). */
#include "virt/vm.h"

/* Creates the vCPU's VMCS state on the current CPU the first time. */
void vcpu_load(struct vcpu *vcpu);
/* Enters the guest until the vCPU stops or halts, the CPU loop is needed,
 * or `slice` TSC cycles of guest time have passed (VMX-preemption timer). */
void vcpu_run(struct vcpu *vcpu, uint64_t slice);
void vcpu_put(struct vcpu *vcpu);
/* Releases what the vCPU holds on this CPU (VMCS, VPID) once it stopped. */
void vcpu_release(struct vcpu *vcpu);
#endif
