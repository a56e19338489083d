#ifndef EXITS_EXITS_H
#define EXITS_EXITS_H
/* VM-exit handling: a const table from basic exit reason to handler (the
 * shape of ACRN's dispatch table, with a flag for handlers that need the
 * exit qualification read for them). */
#include <stdint.h>
#include <stdbool.h>
#include "vmx/vmcs.h"

struct vcpu;

struct vm_exit {
    uint32_t reason;            /* basic exit reason, bits 15:0 */
    uint64_t qualification;     /* only read when the handler asks for it */
};

enum exit_action {
    EXIT_RESUME,                /* enter the guest again */
    EXIT_RESCHEDULE,            /* back to the CPU loop (monitor, other vCPUs) */
    EXIT_STOP_VCPU,             /* this vCPU cannot continue: it has been stopped */
};

typedef enum exit_action (*exit_handler_fn)(struct vcpu *vcpu, const struct vm_exit *exit);

/* Dispatches one VM exit. */
enum exit_action handle_vm_exit(struct vcpu *vcpu, uint32_t full_reason);

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
/* Stops the vCPU's whole VM with a register and VMCS dump. */
enum exit_action stop_vm_with_dump(struct vcpu *vcpu, const char *why);

/* Handlers, one concern per file. */
enum exit_action handle_cpuid(struct vcpu *vcpu, const struct vm_exit *exit);
enum exit_action handle_io(struct vcpu *vcpu, const struct vm_exit *exit);
enum exit_action handle_rdmsr(struct vcpu *vcpu, const struct vm_exit *exit);
enum exit_action handle_wrmsr(struct vcpu *vcpu, const struct vm_exit *exit);
enum exit_action handle_cr_access(struct vcpu *vcpu, const struct vm_exit *exit);
enum exit_action handle_xsetbv(struct vcpu *vcpu, const struct vm_exit *exit);
enum exit_action handle_vmcall(struct vcpu *vcpu, const struct vm_exit *exit);
enum exit_action handle_ept_violation(struct vcpu *vcpu, const struct vm_exit *exit);
enum exit_action handle_ept_misconfig(struct vcpu *vcpu, const struct vm_exit *exit);
#endif
