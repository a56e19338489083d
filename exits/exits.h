#ifndef EXITS_EXITS_H
#define EXITS_EXITS_H
/* VM-exit handling: a const table from basic exit reason to handler (the
 * shape of ACRN's dispatch table, with a flag for handlers that need the
 * exit qualification read for them). */
#include <stdint.h>
#include <stdbool.h>
#include "vmx/vmcs.h"
#include "virt/vcpu_regs.h"
#include "virt/exit_stats.h"

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

typedef enum exit_action (*exit_handler_fn)(struct vcpu *vcpu, struct vm_exit exit);
/* The part of an exit's handling that needs neither interrupts nor the run
 * loop's requests (KVM's exit fastpath): it runs right after the exit with
 * interrupts still off, and the guest is entered again at once. False
 * leaves the exit to the reason's full handler. */
typedef bool (*exit_fastpath_fn)(struct vcpu *vcpu);

/* Dispatches one VM exit. */
enum exit_action handle_vm_exit(struct vcpu *vcpu, uint32_t full_reason);
/* After an external-interrupt exit, with interrupts still off: runs the
 * host handler of the interrupt the processor acknowledged, if it did
 * (its vector; else -1); L1's exits take it in their fastpath, L2's
 * before they are looked at. */
int take_host_interrupt(void);
/* Per basic exit reason, its fastpath or NULL. Only the cheap and frequent
 * exits have one: CPUID, the WRMSRs to the APIC (its timer deadline, IPIs,
 * EOIs), the preemption timer and host interrupts (kicks). */
extern const exit_fastpath_fn exit_fastpaths[];

/* Tries the fastpath of an exit of L1 (interrupts off); true if it handled
 * it. Inline: it is on the way of every exit. A failed entry's reason (bit
 * 31) is out of the table's range too. */
static inline bool handle_vm_exit_fastpath(struct vcpu *vcpu, uint32_t full_reason)
{
    if (full_reason >= EXIT_REASON_MAX)
        return false;
    exit_fastpath_fn fastpath = exit_fastpaths[full_reason];
    return fastpath && fastpath(vcpu);
}

/* Stops the vCPU's whole VM with a register and VMCS dump. */
enum exit_action stop_vm_with_dump(struct vcpu *vcpu, const char *why);

/* Handlers, one concern per file. */
bool handle_cpuid(struct vcpu *vcpu);      /* a fastpath: it always can */
/* The CR4 bits of features the vCPU's CPUID does not show: setting one is
 * #GP (KVM's cr4_reserved_bits). One policy for a feature: its CPUID bit
 * decides whether its CR4 bit exists. */
uint64_t guest_cr4_unavailable(const struct vcpu *vcpu);
enum exit_action handle_io(struct vcpu *vcpu, struct vm_exit exit);
enum exit_action handle_rdmsr(struct vcpu *vcpu, struct vm_exit exit);
enum exit_action handle_wrmsr(struct vcpu *vcpu, struct vm_exit exit);
bool handle_wrmsr_fastpath(struct vcpu *vcpu);
enum exit_action handle_cr_access(struct vcpu *vcpu, struct vm_exit exit);
enum exit_action handle_xsetbv(struct vcpu *vcpu, struct vm_exit exit);
enum exit_action handle_vmcall(struct vcpu *vcpu, struct vm_exit exit);
enum exit_action handle_vmx_instruction(struct vcpu *vcpu, struct vm_exit exit);
/* VMLAUNCH and VMRESUME, the instructions of every nested round trip: a
 * path of their own, without the other VMX instructions' dispatch. */
enum exit_action handle_vm_entry_instruction(struct vcpu *vcpu, struct vm_exit exit);
enum exit_action handle_ept_violation(struct vcpu *vcpu, struct vm_exit exit);
enum exit_action handle_ept_misconfig(struct vcpu *vcpu, struct vm_exit exit);
enum exit_action handle_hlt(struct vcpu *vcpu, struct vm_exit exit);
/* At the start of a run on a CPU: how long the last halt that blocked
 * lasted adapts the vCPU's halt polling (exits/exit_hlt.c). */
void halt_poll_adapt(struct vcpu *vcpu, uint64_t now);
enum exit_action handle_apic_access(struct vcpu *vcpu, struct vm_exit exit);
enum exit_action handle_apic_write(struct vcpu *vcpu, struct vm_exit exit);
enum exit_action handle_eoi_induced(struct vcpu *vcpu, struct vm_exit exit);
enum exit_action handle_tpr_below_threshold(struct vcpu *vcpu, struct vm_exit exit);
#endif
