/*
 * VM entry and exit. vmx_enter(regs, launched) loads the guest's general
 * registers from `regs` and executes VMLAUNCH (launched == 0) or VMRESUME.
 * The CPU comes back at vmx_exit_entry (HOST_RIP) with the stack pointer
 * from HOST_RSP, which is this function's frame; the guest registers are
 * stored back into `regs` and vmx_enter returns 0. If the entry itself fails
 * it returns 1 (VMfailValid) or 2 (VMfailInvalid) (SDM Vol. 3C 31.3, VMLAUNCH).
 * Callee-saved host registers live on the stack; everything else is
 * recomputed by the caller.
 */
#include "vmx/guest_regs.h"

    .text
    .globl vmx_enter
vmx_enter:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
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
    mov $2, %eax
    jc 4f
    mov $1, %eax
4:  pop %rdi
    jmp vmx_return

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
    pop %rax
    mov %rax, GUEST_REGS_RDI(%rdi)
    pop %rdi
    xor %eax, %eax
vmx_return:
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret
