/*
 * Application-processor start-up code. The BSP copies this blob to
 * AP_TRAMPOLINE_ADDR and sends INIT-SIPI-SIPI with vector
 * AP_TRAMPOLINE_ADDR >> 12 (SDM Vol. 3A 9.4.4 "MP Initialization Example").
 * The AP starts in real mode at CS:IP = (vector << 8):0, switches to
 * protected mode, then long mode with the BSP's page tables, and jumps to
 * the C entry on the stack the BSP put in the parameter block.
 */
#include "arch/ap_trampoline.h"

#define REL(x)  ((x) - ap_tramp_start)
#define ABS(x)  (AP_TRAMPOLINE_ADDR + REL(x))

    .section .ap_trampoline, "a"
    .code16
ap_tramp_start:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    lgdtl REL(ap_gdt_ptr)
    mov %cr0, %eax
    or $1, %eax                 /* CR0.PE */
    mov %eax, %cr0
    ljmpl $0x08, $ABS(ap_pm32)

    .code32
ap_pm32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $(1 << 5), %eax          /* CR4.PAE */
    mov %eax, %cr4
    mov ABS(ap_param_cr3), %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx       /* IA32_EFER.LME */
    rdmsr
    or $(1 << 8), %eax
    wrmsr
    mov %cr0, %eax
    or $(1 << 31), %eax         /* CR0.PG */
    mov %eax, %cr0
    ljmp $0x18, $ABS(ap_lm64)

    .code64
ap_lm64:
    mov ABS(ap_param_stack), %rsp
    xor %ebp, %ebp
    mov ABS(ap_param_entry), %rax
    call *%rax
1:  cli
    hlt
    jmp 1b

    .balign 8
ap_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff    /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: data */
    .quad 0x00af9a000000ffff    /* 0x18: 64-bit code */
ap_gdt_end:
ap_gdt_ptr:
    .short ap_gdt_end - ap_gdt - 1
    .long ABS(ap_gdt)

    /* Parameter block, filled by the BSP at AP_TRAMPOLINE_PARAMS. */
    .org AP_TRAMPOLINE_PARAMS_OFFSET   /* fails to assemble if the code grew past it */
ap_params:
ap_param_cr3:   .quad 0
ap_param_stack: .quad 0
ap_param_entry: .quad 0
