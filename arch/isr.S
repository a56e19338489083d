/*
 * Interrupt entry stubs: one per vector, so the common path knows the vector.
 * Vectors with a CPU-pushed error code (SDM Vol. 3A 7.3, Table 7-1) skip the
 * dummy push, so every frame has the same layout (struct trap_frame).
 */
    .text
    .globl isr_common
isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    cld
    call interrupt_dispatch
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp               /* vector and error code */
    iretq

.macro isr_stub vec
    .balign 16
isr_\vec:
    .if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
    .else
    push $0
    .endif
    push $\vec
    jmp isr_common
.endm

    .balign 16
    .globl isr_stubs
isr_stubs:
.altmacro
.set vec, 0
.rept 256
    isr_stub %vec
    .set vec, vec + 1
.endr

    .section .rodata
    .balign 8
    .globl isr_stub_table
isr_stub_table:
.macro stub_addr vec
    .quad isr_\vec
.endm
.set vec, 0
.rept 256
    stub_addr %vec
    .set vec, vec + 1
.endr
