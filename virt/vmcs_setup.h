#ifndef VIRT_VMCS_SETUP_H
#define VIRT_VMCS_SETUP_H
/* Filling a vCPU's VMCS, like KVM's init_vmcs (vmx_vcpu_setup). */
#include <stdint.h>

struct vcpu;

/* The host fields that differ between physical CPUs (GS base = per-CPU
 * area, TR/GDTR bases, SYSENTER_ESP): the one place a migration to another
 * CPU has to rewrite. The vCPU's VMCS must be current. */
void vmcs_write_host_per_cpu_state(void);
/* All of the host state, the per-CPU fields included (a new VMCS). */
void vmcs_write_host_state(void);
/* A guest's CR0 and CR4 as the processor runs them: with the bits VMX
 * fixes (unrestricted guest exempts PE and PG). */
uint64_t vmcs_guest_cr0(uint64_t cr0);
uint64_t vmcs_guest_cr4(uint64_t cr4);
/* The guest's CR0 and CR4 as it sees them (the read shadows) and as the
 * processor runs them. */
void vmcs_write_control_registers(uint64_t cr0, uint64_t cr4);
/* Controls, CPU-independent host state and the guest's start state. The
 * vCPU's VMCS must be current and clear. */
void vmcs_init(struct vcpu *vcpu);
/* The state a start-up IPI gives a CPU waiting for it: real mode at
 * vector:0000, registers cleared (SDM Vol. 3A 9.1.1 Table 9-1, 9.4.4). */
void vmcs_enter_startup_state(struct vcpu *vcpu, uint8_t vector);
#endif
