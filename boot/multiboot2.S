/*
 * Multiboot2 header and 32-bit entry. GRUB enters in 32-bit protected mode
 * with paging off (Multiboot2 spec, "I386 machine state"). We build minimal
 * identity page tables for the first 4 GiB, enter long mode (SDM Vol. 3A
 * 10.8.5 "Initializing IA-32e Mode") and call kmain(magic, info).
 */
#define MB2_MAGIC        0xe85250d6
#define MB2_ARCH_I386    0
#define CR0_PG           (1 << 31)
#define CR4_PAE          (1 << 5)
#define MSR_EFER         0xc0000080
#define EFER_LME         (1 << 8)
#define EFER_NXE         (1 << 11)
#define PTE_P            (1 << 0)
#define PTE_W            (1 << 1)
#define PTE_PS           (1 << 7)
#define BOOT_STACK_SIZE  16384

    .section .multiboot2, "a"
    .balign 8
mb2_header:
    .long MB2_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    /* end tag */
    .short 0
    .short 0
    .long 8
mb2_header_end:

    .section .text.boot32, "ax"
    .code32
    .globl boot_entry32
boot_entry32:
    cli
    cld
    mov $boot_stack_top, %esp
    mov %eax, %edi              /* multiboot2 magic -> kmain arg 1 */
    mov %ebx, %esi              /* info pointer     -> kmain arg 2 */

    /* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages. */
    mov $boot_pdpt, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, boot_pml4
    mov $boot_pd, %eax
    or $(PTE_P | PTE_W), %eax
    xor %ecx, %ecx
1:  mov %eax, boot_pdpt(,%ecx,8)
    add $4096, %eax
    inc %ecx
    cmp $4, %ecx
    jne 1b
    xor %ecx, %ecx              /* 2048 PDEs covering 0..4 GiB */
2:  mov %ecx, %eax
    shl $21, %eax
    or $(PTE_P | PTE_W | PTE_PS), %eax
    mov %eax, boot_pd(,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jne 2b

    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov %cr0, %eax
    or $CR0_PG, %eax
    mov %eax, %cr0
    lgdt boot_gdt_ptr
    ljmp $0x08, $boot_entry64

    .code64
boot_entry64:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    mov $boot_stack_top, %rsp
    xor %ebp, %ebp              /* terminates backtraces */
    push %rdi
    push %rsi
    /* zero .bss (the page tables and stack live in .data, not .bss) */
    mov $__bss_start, %rdi
    mov $__bss_end, %rcx
    sub %rdi, %rcx
    xor %eax, %eax
    rep stosb
    pop %rsi
    pop %rdi
    call kmain
3:  cli
    hlt
    jmp 3b

    .section .rodata
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: data */
boot_gdt_end:
    .globl boot_gdt_ptr
boot_gdt_ptr:
    .short boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .section .data
    .balign 4096
    .globl boot_pml4
boot_pml4:  .fill 512, 8, 0
boot_pdpt:  .fill 512, 8, 0
boot_pd:    .fill 4 * 512, 8, 0
    .balign 16
boot_stack: .fill BOOT_STACK_SIZE, 1, 0
    .globl boot_stack_top
boot_stack_top:
