#ifndef NESTED_VMX_INSN_H
#define NESTED_VMX_INSN_H
/* L1's VMX instructions (SDM Vol. 3C ch. 31), emulated by L0. */
#include <stdint.h>
#include <stdbool.h>

struct vcpu;

/* Emulates the VMX instruction whose exit reason is `reason` (VMXON ..
 * VMWRITE but VMLAUNCH and VMRESUME, INVEPT, INVVPID) for a vCPU whose VM
 * has nested VMX: its fault is injected, or its outcome (VMsucceed,
 * VMfail) is in RFLAGS and RIP is past it. */
void nested_vmx_instruction(struct vcpu *vcpu, uint32_t reason);
/* VMLAUNCH (resume false) or VMRESUME, as nested_vmx_instruction: the
 * fault, the VMfail, or the nested VM entry (L2 runs next, or L1 gets the
 * entry's failure as a VM exit). */
void nested_vm_entry_instruction(struct vcpu *vcpu, bool resume);
#endif
