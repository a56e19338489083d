#ifndef VIRT_VCPU_REGS_H
#define VIRT_VCPU_REGS_H
/* Guest general registers by the x86 encoding number (0 RAX, 1 RCX, 2 RDX,
 * 3 RBX, 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15), as exit qualifications
 * and instruction information name them (RSP lives in the VMCS); and RIP
 * moved past an emulated instruction. */
#include <stdint.h>
#include "vmx/vmcs.h"

struct vcpu;
uint64_t vcpu_read_gpr(struct vcpu *vcpu, unsigned n);
void vcpu_write_gpr(struct vcpu *vcpu, unsigned n, uint64_t value);

/* Moves RIP past an emulated instruction of `length` bytes and drops any
 * STI/MOV-SS blocking it created (SDM Vol. 3C 26.4.2: blocking ends after
 * one instruction). Inline: every instruction exit takes this path. */
static inline void advance_rip(struct vcpu *vcpu, uint64_t length)
{
    (void)vcpu;     /* its VMCS is current */
    vmcs_write(GUEST_RIP, vmcs_read(GUEST_RIP) + length);
    uint64_t blocking = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
    if (blocking & INTERRUPTIBILITY_STI_MOV_SS)
        vmcs_write(GUEST_INTERRUPTIBILITY_INFO, blocking & ~INTERRUPTIBILITY_STI_MOV_SS);
}

/* The same for the instruction that caused the exit. */
static inline void skip_instruction(struct vcpu *vcpu)
{
    advance_rip(vcpu, vmcs_read(VM_EXIT_INSTRUCTION_LEN));
}
/* Says what happened to the vCPU (`why`) and what the VM does about it
 * (`then`), with a register and VMCS dump (exits/vcpu_dump.c). */
void report_with_dump(const struct vcpu *vcpu, const char *why, const char *then);

#endif
