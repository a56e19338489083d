#ifndef VMX_GUEST_REGS_H
#define VMX_GUEST_REGS_H
/* The guest registers the VMCS does not hold (RSP, RIP, RFLAGS are VMCS
 * fields), saved and loaded by vmx/vmenter.S. Offsets are shared with it. */
#define GUEST_REGS_RAX 0
#define GUEST_REGS_RCX 8
#define GUEST_REGS_RDX 16
#define GUEST_REGS_RBX 24
#define GUEST_REGS_RBP 40
#define GUEST_REGS_RSI 48
#define GUEST_REGS_RDI 56
#define GUEST_REGS_R8  64
#define GUEST_REGS_R9  72
#define GUEST_REGS_R10 80
#define GUEST_REGS_R11 88
#define GUEST_REGS_R12 96
#define GUEST_REGS_R13 104
#define GUEST_REGS_R14 112
#define GUEST_REGS_R15 120
#define GUEST_REGS_HOST_RSP 128
#define GUEST_REGS_EXIT_TSC 136
#define VMCS_HOST_RSP_ENCODING 0x6c14

#ifndef __ASSEMBLER__
#include <stdint.h>
#include <stddef.h>

/* In the instruction encoding's order (RAX, RCX, RDX, RBX, RSP, RBP, RSI,
 * RDI, R8-R15), so that decoders index them as an array (guest_regs_array).
 * RSP lives in the VMCS: its slot holds a copy only while an emulator
 * works on the registers. */
struct guest_regs {
    uint64_t rax, rcx, rdx, rbx, rsp_copy, rbp, rsi, rdi;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t host_rsp;          /* last HOST_RSP written to this vCPU's VMCS */
    uint64_t exit_tsc;          /* the TSC right after the last VM exit or failed entry */
};

static inline uint64_t *guest_regs_array(struct guest_regs *r)
{
    return &r->rax;
}

_Static_assert(offsetof(struct guest_regs, rbx) == GUEST_REGS_RBX, "guest_regs layout");
_Static_assert(offsetof(struct guest_regs, rdi) == GUEST_REGS_RDI, "guest_regs layout");
_Static_assert(offsetof(struct guest_regs, r8) == GUEST_REGS_R8, "guest_regs layout");
_Static_assert(offsetof(struct guest_regs, r15) == GUEST_REGS_R15, "guest_regs layout");
_Static_assert(offsetof(struct guest_regs, host_rsp) == GUEST_REGS_HOST_RSP, "guest_regs layout");
_Static_assert(offsetof(struct guest_regs, exit_tsc) == GUEST_REGS_EXIT_TSC, "guest_regs layout");

/* Enters the guest (vmx/vmenter.S): 0 after a VM exit; 1 VMfailValid,
 * 2 VMfailInvalid when the entry failed; regs->exit_tsc is the TSC just
 * after. The stub keeps no register of the caller's but RSP, RBP and RBX:
 * said here, the compiler saves only what it still needs, rather than the
 * stub pushing and popping all the callee-saved registers on every exit
 * (measured on cpuid_exit: 5 ticks less than the stub keeping them all,
 * and 3 less than keeping none, where the run loop reloads its vCPU pointer
 * at every use).
 * A call from an asm statement is safe: the code is built without a red
 * zone (-mno-red-zone). */
static inline int vmx_enter(struct guest_regs *regs, int launched)
{
    int failure;
    __asm__ volatile("call vmx_enter_guest"
                     : "=a"(failure), "+D"(regs), "+S"(launched)
                     :
                     : "rcx", "rdx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
                       "memory", "cc");
    return failure;
}
void vmx_exit_entry(void);
#endif
#endif
