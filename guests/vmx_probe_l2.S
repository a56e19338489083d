/*
 * The VMX probe's L2: small programs that guests/vmx_probe.c, the L1
 * hypervisor, starts with GUEST_RIP at one of the labels below, and the
 * handlers of L2's IDT. L2 runs in L1's own 64-bit flat state (its GDT,
 * page tables and stack layout), at CPL 0.
 *
 * Each program does the one thing a check looks at, then VMCALL, which
 * always exits (SDM Vol. 3C 26.1.2): an exit with reason VMCALL means the
 * instruction before it ran without a VM exit. L1 passes the operands in the
 * general registers (struct guest_regs) and reads results there.
 */

    .text
    .balign 16

    /* CPUID exits unconditionally (SDM Vol. 3C 26.1.2); so does VMCALL;
     * HLT with "HLT exiting" (26.1.3). */
    .globl l2_cpuid
l2_cpuid:
    cpuid
    vmcall
    hlt
    vmcall

    .globl l2_vmcall
l2_vmcall:
    vmcall

    /* Counts RCX down to 0, then VMCALL: for an event from outside the
     * program to interrupt. LOOP is its only instruction before VMCALL, so
     * that RIP is the program's start wherever the event comes. */
    .globl l2_count_down
l2_count_down:
    loop l2_count_down
    vmcall

    /* HLT without "HLT exiting": L2 halts until an event wakes it. */
    .globl l2_halt
l2_halt:
    hlt
    vmcall

    /* Sends an IPI through the xAPIC page at RBX (L1's, in L1's physical
     * space): ICR high from EDX, then ICR low from EAX, which sends it. */
    .globl l2_send_ipi
l2_send_ipi:
    movl %edx, 0x310(%rbx)
    movl %eax, 0x300(%rbx)
    vmcall

    .globl l2_out_byte
l2_out_byte:
    outb %al, %dx
    vmcall

    .globl l2_out_word
l2_out_word:
    outw %ax, %dx
    vmcall

    .globl l2_rdmsr
l2_rdmsr:
    rdmsr
    vmcall

    .globl l2_wrmsr
l2_wrmsr:
    wrmsr
    vmcall

    .globl l2_read_cr0
l2_read_cr0:
    mov %cr0, %rax
    vmcall

    /* The source register is RBX (3), as the exit qualification says. */
    .globl l2_write_cr0
l2_write_cr0:
    mov %rbx, %cr0
    vmcall

    .globl l2_read_cr4
l2_read_cr4:
    mov %cr4, %rax
    vmcall

    .globl l2_write_cr4
l2_write_cr4:
    mov %rbx, %cr4
    vmcall

    .globl l2_write_cr3
l2_write_cr3:
    mov %rax, %cr3
    vmcall

    .globl l2_read_cr8
l2_read_cr8:
    mov %cr8, %rax
    vmcall

    .globl l2_write_cr8
l2_write_cr8:
    mov %rax, %cr8
    vmcall

    .globl l2_ud2
l2_ud2:
    ud2

    /* VMREAD of the field RCX names into RAX; VMWRITE of RAX to it. With
     * VMCS shadowing they reach L1's shadow VMCS where L1's bitmaps let
     * them (SDM Vol. 3C 26.1.3); the flags they leave stay for L1. */
    .globl l2_vmread
l2_vmread:
    vmread %rcx, %rax
    vmcall

    .globl l2_vmwrite
l2_vmwrite:
    vmwrite %rax, %rcx
    vmcall

    /* Reads the quadword at RBX (a page L2's page tables may not map). */
    .globl l2_load
l2_load:
    mov (%rbx), %rax
    vmcall

    /* Writes RAX to the quadword at RBX. */
    .globl l2_store
l2_store:
    mov %rax, (%rbx)
    vmcall

/*
 * The probe's modes (guests/vmx_probe.c, "bench" and "soak"): L2 loops on
 * CPUID, which always exits, and L1 handles each exit as a hypervisor
 * does (it writes L2's RAX-RDX and advances RIP).
 *
 * l2_bench: RSI round trips, each timed with RDTSC; the cycles go to the
 * array at RDI (8 bytes each, identity-mapped L1 memory), then VMCALL.
 */
    .globl l2_bench
l2_bench:
    lfence
    rdtsc
    shl $32, %rdx
    or %rax, %rdx
    mov %rdx, %r8
    xor %eax, %eax
    xor %ecx, %ecx
    cpuid
    lfence
    rdtsc
    shl $32, %rdx
    or %rax, %rdx
    sub %r8, %rdx
    mov %rdx, (%rdi)
    add $8, %rdi
    dec %rsi
    jnz l2_bench
    vmcall

/*
 * l2_soak: forever: R12 += 1, with R15 set a VMWRITE of R12 to GUEST_RIP
 * (0x681e) in the shadow VMCS L1 gives it, CPUID (L1 checks R12 and RSP,
 * and the shadow VMCS, and what it wrote to RAX comes back as R12's low 32
 * bits), then a busy wait of R13 iterations so that L2, not L1, holds the
 * CPU most of the time; every 64th round an OUT of R12's low byte to
 * COM1's scratch register (port 0x3ff, which L1 does not intercept) and an
 * IN that must read it back. What does not add up ends in VMCALL, which L1
 * counts as an error.
 */
    .globl l2_soak, l2_soak_end
l2_soak:
    inc %r12
    test %r15, %r15
    jz 2f
    mov $0x681e, %edx
    vmwrite %r12, %rdx
    jbe l2_soak_bad
2:  mov %r12, %r14
    mov %r12, %rax
    xor %ecx, %ecx
    cpuid
    cmp %r14, %r12
    jne l2_soak_bad
    cmp %eax, %r12d
    jne l2_soak_bad
    mov %r13, %rcx
1:  dec %rcx
    jnz 1b
    test $63, %r12
    jnz l2_soak
    mov $0x3ff, %dx
    mov %r12b, %al
    outb %al, %dx
    xor %eax, %eax
    inb %dx, %al
    cmp %r12b, %al
    je l2_soak
l2_soak_bad:
    vmcall
l2_soak_end:

/*
 * L2's IDT handlers, one per vector: each reports the event to L1 with
 * VMCALL, RBX = the vector, RCX = the return RIP the event pushed, RDX =
 * its error code (0 for the vectors without one: SDM Vol. 3A 7.3, Table
 * 7-1). They do not return: L1 sets up L2 afresh for what follows.
 */
    .balign 16
l2_event:
    mov (%rsp), %rcx
    vmcall

.macro l2_handler vec
    .balign 16
l2_handler_\vec:
    .if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
    pop %rdx
    .else
    xor %edx, %edx
    .endif
    mov $\vec, %ebx
    jmp l2_event
.endm

.altmacro
.set vec, 0
.rept 256
    l2_handler %vec
    .set vec, vec + 1
.endr

    .section .rodata
    .balign 8
    .globl l2_handlers
l2_handlers:
.macro l2_handler_addr vec
    .quad l2_handler_\vec
.endm
.set vec, 0
.rept 256
    l2_handler_addr %vec
    .set vec, vec + 1
.endr
