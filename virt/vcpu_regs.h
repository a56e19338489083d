#ifndef VIRT_VCPU_REGS_H
#define VIRT_VCPU_REGS_H
/* Guest general registers by the x86 encoding number (0 RAX, 1 RCX, 2 RDX,
 * 3 RBX, 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15), as exit qualifications
 * and instruction information name them (RSP lives in the VMCS); and RIP
 * moved past an emulated instruction. */
#include <stdint.h>
#include "vmx/vmcs.h"
#include "arch/cpu.h"

struct vcpu;
uint64_t vcpu_read_gpr(struct vcpu *vcpu, unsigned n);
/* Where register `n` is kept while the guest is out; NULL for RSP. */
uint64_t *vcpu_gpr_slot(struct vcpu *vcpu, unsigned n);
void vcpu_write_gpr(struct vcpu *vcpu, unsigned n, uint64_t value);

/* Moves RIP past an emulated instruction of `length` bytes and completes it
 * as the processor would (KVM's kvm_skip_emulated_instruction): the STI or
 * MOV-SS blocking before it ends (SDM Vol. 3C 26.4.2), RFLAGS.RF is
 * cleared, and with RFLAGS.TF set its single-step trap comes next: BS in
 * the pending debug exceptions, which the processor delivers as #DB with
 * DR6.BS right after the VM entry (SDM Vol. 3A 18.3.1.4, Vol. 3C 27.7.3).
 * Inline: every instruction exit takes this path. */
static inline void advance_rip(struct vcpu *vcpu, uint64_t length)
{
    (void)vcpu;     /* its VMCS is current */
    vmcs_write_base(GUEST_RIP, vmcs_read_base(GUEST_RIP) + length);
    uint64_t blocking = vmcs_read_base(GUEST_INTERRUPTIBILITY_INFO);
    if (blocking & INTERRUPTIBILITY_STI_MOV_SS)
        vmcs_write(GUEST_INTERRUPTIBILITY_INFO, blocking & ~INTERRUPTIBILITY_STI_MOV_SS);
    uint64_t rflags = vmcs_read_base(GUEST_RFLAGS);
    if (__builtin_expect(rflags & (RFLAGS_TF | RFLAGS_RF), 0)) {
        vmcs_write(GUEST_RFLAGS, rflags & ~RFLAGS_RF);
        if (rflags & RFLAGS_TF)
            vmcs_set_bits(GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS);
    }
}

/* The same for the instruction that caused the exit. */
static inline void skip_instruction(struct vcpu *vcpu)
{
    advance_rip(vcpu, vmcs_read_base(VM_EXIT_INSTRUCTION_LEN));
}
/* Says what happened to the vCPU (`why`) and what the VM does about it
 * (`then`), with a register and VMCS dump (exits/vcpu_dump.c). */
void report_with_dump(const struct vcpu *vcpu, const char *why, const char *then);

#endif
