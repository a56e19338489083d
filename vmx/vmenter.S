/*
 * VM entry and exit. vmx_enter_guest(regs in RDI, launched in ESI) loads the
 * guest's general registers from `regs` and executes VMLAUNCH (launched ==
 * 0) or VMRESUME. The CPU comes back at vmx_exit_entry (HOST_RIP) with the
 * stack pointer from HOST_RSP, which is this function's frame; the guest
 * registers are stored back into `regs` and it returns 0 in EAX. If the
 * entry itself fails it returns 1 (VMfailValid) or 2 (VMfailInvalid) (SDM
 * Vol. 3C 31.3, VMLAUNCH); either way it stamps the TSC into
 * regs->exit_tsc. It is called only from vmx_enter (its asm statement in
 * vmx/guest_regs.h), which tells the compiler that every register but RSP,
 * RBP and RBX is lost: the stub keeps only those of the caller's (RBP the
 * frame pointer, RBX the one the run loop keeps its vCPU in), and the
 * compiler saves whatever else it still needs after the exit.
 */
#include "vmx/guest_regs.h"

    .text
    .globl vmx_enter_guest
vmx_enter_guest:
    push %rbp                           /* the frame pointer */
    push %rbx
    push %rdi                           /* regs, found again at the exit */
    /* HOST_RSP changes only if the call depth does: VMWRITE it only then. */
    cmp GUEST_REGS_HOST_RSP(%rdi), %rsp
    je 1f
    mov %rsp, GUEST_REGS_HOST_RSP(%rdi)
    mov $VMCS_HOST_RSP_ENCODING, %eax
    vmwrite %rsp, %rax
1:
    test %esi, %esi                     /* launched? decides the instruction */
    mov GUEST_REGS_RAX(%rdi), %rax
    mov GUEST_REGS_RBX(%rdi), %rbx
    mov GUEST_REGS_RCX(%rdi), %rcx
    mov GUEST_REGS_RDX(%rdi), %rdx
    mov GUEST_REGS_RSI(%rdi), %rsi
    mov GUEST_REGS_RBP(%rdi), %rbp
    mov GUEST_REGS_R8(%rdi), %r8
    mov GUEST_REGS_R9(%rdi), %r9
    mov GUEST_REGS_R10(%rdi), %r10
    mov GUEST_REGS_R11(%rdi), %r11
    mov GUEST_REGS_R12(%rdi), %r12
    mov GUEST_REGS_R13(%rdi), %r13
    mov GUEST_REGS_R14(%rdi), %r14
    mov GUEST_REGS_R15(%rdi), %r15
    mov GUEST_REGS_RDI(%rdi), %rdi      /* last: it held the pointer */
    jnz 2f                              /* flags still from the test above */
    vmlaunch
    jmp 3f
2:  vmresume
3:  /* Entry failed: CF=1 VMfailInvalid, ZF=1 VMfailValid. */
    mov $2, %ecx
    jc 4f
    mov $1, %ecx
4:  pop %rdi
    rdtsc
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, GUEST_REGS_EXIT_TSC(%rdi)
    mov %ecx, %eax
    pop %rbx
    pop %rbp
    ret

    .globl vmx_exit_entry
vmx_exit_entry:
    push %rdi                           /* guest RDI; regs pointer is above it */
    mov 8(%rsp), %rdi
    mov %rax, GUEST_REGS_RAX(%rdi)
    mov %rbx, GUEST_REGS_RBX(%rdi)
    mov %rcx, GUEST_REGS_RCX(%rdi)
    mov %rdx, GUEST_REGS_RDX(%rdi)
    mov %rsi, GUEST_REGS_RSI(%rdi)
    mov %rbp, GUEST_REGS_RBP(%rdi)
    mov %r8, GUEST_REGS_R8(%rdi)
    mov %r9, GUEST_REGS_R9(%rdi)
    mov %r10, GUEST_REGS_R10(%rdi)
    mov %r11, GUEST_REGS_R11(%rdi)
    mov %r12, GUEST_REGS_R12(%rdi)
    mov %r13, GUEST_REGS_R13(%rdi)
    mov %r14, GUEST_REGS_R14(%rdi)
    mov %r15, GUEST_REGS_R15(%rdi)
    pop GUEST_REGS_RDI(%rdi)
    pop %rdi
    /* The exit's time, for the run loop's accounting: taken here, it
     * needs no register kept across the call's return. */
    rdtsc
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, GUEST_REGS_EXIT_TSC(%rdi)
    pop %rbx
    pop %rbp
    xor %eax, %eax
    ret
