#ifndef VIRT_EXITS_H
#define VIRT_EXITS_H
/* VM-exit handling: a const table from basic exit reason to handler (the
 * shape of ACRN's dispatch table, with a flag for handlers that need the
 * exit qualification read for them). */
#include <stdint.h>
#include <stdbool.h>

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

/* Moves RIP past the exiting instruction and drops any STI/MOV-SS blocking
 * it created (SDM Vol. 3C 26.4.2: blocking ends after one instruction). */
void skip_instruction(struct vcpu *vcpu);
/* The same for an instruction of known length (the exit did not give one,
 * as for EPT violations). */
void advance_rip(struct vcpu *vcpu, uint64_t length);
/* Stops the vCPU's whole VM with a register and VMCS dump. */
enum exit_action stop_vm_with_dump(struct vcpu *vcpu, const char *why);

/* Handlers, one concern per file. */
enum exit_action handle_cpuid(struct vcpu *vcpu, const struct vm_exit *exit);
enum exit_action handle_io(struct vcpu *vcpu, const struct vm_exit *exit);
enum exit_action handle_rdmsr(struct vcpu *vcpu, const struct vm_exit *exit);
enum exit_action handle_wrmsr(struct vcpu *vcpu, const struct vm_exit *exit);
enum exit_action handle_cr_access(struct vcpu *vcpu, const struct vm_exit *exit);
enum exit_action handle_xsetbv(struct vcpu *vcpu, const struct vm_exit *exit);
/* The XCR0 bits a guest may enable (and the vCPU switch saves). */
uint64_t guest_xcr0_supported(void);
enum exit_action handle_vmcall(struct vcpu *vcpu, const struct vm_exit *exit);
enum exit_action handle_ept_violation(struct vcpu *vcpu, const struct vm_exit *exit);
enum exit_action handle_ept_misconfig(struct vcpu *vcpu, const struct vm_exit *exit);
#endif
