/* Entry from a multiboot boot loader, and the APs' way into the same
 * 32-bit flat world. */
#include "guests/mb1/mb1.h"

#define MB_HEADER_MAGIC 0x1badb002
/* Flags 0 and 1 (3.1.2): modules page-aligned, memory information wanted.
 * No a.out kludge: the loader reads the ELF program headers. */
#define MB_HEADER_FLAGS 0x00000003

    .section .multiboot, "a"
    .balign 4
    .long MB_HEADER_MAGIC, MB_HEADER_FLAGS, -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

    .text
    .code32
    .globl _start
_start:
    /* 3.2: flat segments, but GDTR may be invalid and ESP is undefined, so
     * load our own GDT and stack before anything uses them. EAX and EBX
     * (magic, information) go to mb1_main untouched. */
    lgdt gdt_desc
    ljmp $MB1_SEL_CODE, $1f
1:  mov $MB1_SEL_DATA, %ecx
    mov %ecx, %ds
    mov %ecx, %es
    mov %ecx, %fs
    mov %ecx, %gs
    mov %ecx, %ss
    mov $stack_top, %esp
    push %ebx
    push %eax
    call mb1_main
2:  cli
    hlt
    jmp 2b

/* An AP arrives here from the trampoline in protected mode: it checks in
 * and halts for good; it needs no stack. */
ap_entry32:
    mov $MB1_SEL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    lock incl aps_started
3:  cli
    hlt
    jmp 3b

    .section .rodata
    .balign 8
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* MB1_SEL_CODE: flat 32-bit code */
    .quad 0x00cf92000000ffff        /* MB1_SEL_DATA: flat data */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

/* Copied to MB1_AP_TRAMPOLINE by smp.c. A start-up IPI with vector
 * MB1_AP_TRAMPOLINE >> 12 starts an AP here in real mode at CS:IP =
 * (vector << 8):0; it loads the GDT (through a copy of the descriptor that
 * a 16-bit offset reaches), sets CR0.PE and jumps to 32-bit code. */
    .balign 16
    .globl ap_trampoline, ap_trampoline_end
    .code16
ap_trampoline:
    cli
    xor %ax, %ax
    mov %ax, %ds
    lgdtl MB1_AP_TRAMPOLINE + (trampoline_gdt_desc - ap_trampoline)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $MB1_SEL_CODE, $ap_entry32
trampoline_gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt
ap_trampoline_end:
    .code32

    .bss
    .balign 16
    .skip 16384
stack_top:
