/*
 * Bare-metal start of a test guest (the image build/guests/NAME_bare.elf):
 * GRUB loads it with `multiboot2` and enters bare_entry32 in 32-bit
 * protected mode with paging off (Multiboot2 spec, "I386 machine state").
 * This makes the start state vmxvisor gives an ELF test guest as a VM
 * (loader/guest_boot.c, virt/vmcs_setup.c write_guest_state_long_mode):
 * long mode, an identity map of the first 4 GiB in 2 MiB pages,
 * CR0 = PE|ET|NE|PG, CR4 = PAE, EFER = LME|NXE|SCE, flat 64-bit code at
 * GUEST_SEL_CODE64 and data at GUEST_SEL_DATA; then it enters the runtime's
 * own entry, _start (start.S), as vCPU 0 of 1 with the command line from the
 * Multiboot2 information (bare.c, which also sets up COM1). The stack is the image's own: GRUB may
 * have put its information anywhere in low memory.
 */
#include "virt/guest_layout.h"

#define MB2_MAGIC     0xe85250d6
#define MB2_ARCH_I386 0
#define CR0_PE        (1 << 0)
#define CR0_ET        (1 << 4)
#define CR0_NE        (1 << 5)
#define CR0_PG        (1 << 31)
#define CR4_PAE       (1 << 5)
#define MSR_EFER      0xc0000080
#define EFER_SCE      (1 << 0)
#define EFER_LME      (1 << 8)
#define EFER_NXE      (1 << 11)
#define PTE_P         (1 << 0)
#define PTE_W         (1 << 1)
#define PTE_PS        (1 << 7)
#define PAGE_SIZE     4096
#define HUGE_PAGE     0x200000
#define STACK_SIZE    16384

    /* Only the end tag: GRUB loads the ELF image as its program headers say. */
    .section .multiboot2, "a"
    .balign 8
mb2_header:
    .long MB2_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    .short 0
    .short 0
    .long 8
mb2_header_end:

    .text
    .code32
    .globl bare_entry32
bare_entry32:
    cld
    mov %eax, %edi              /* Multiboot2 magic: bare_boot's first argument */
    mov %ebx, %esi              /* the information's address: its second */
    mov $CR4_PAE, %eax
    mov %eax, %cr4
    mov $bare_pml4, %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    mov $(EFER_LME | EFER_NXE | EFER_SCE), %eax
    xor %edx, %edx
    wrmsr
    mov $(CR0_PE | CR0_ET | CR0_NE | CR0_PG), %eax
    mov %eax, %cr0
    lgdt bare_gdt_ptr
    ljmp $GUEST_SEL_CODE64, $bare_entry64

    .code64
bare_entry64:
    mov $GUEST_SEL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov %eax, %fs
    mov %eax, %gs
    /* Upper halves are undefined after the switch from 32-bit code. */
    mov $bare_stack_top, %esp
    mov %edi, %edi
    mov %esi, %esi
    call bare_boot
    mov %rax, %rdx
    xor %edi, %edi
    mov $1, %esi
    jmp _start

    .section .rodata
    .balign 16
bare_gdt:
    .quad 0
    .org bare_gdt + GUEST_SEL_CODE64
    .quad 0x00af9b000000ffff    /* 64-bit code, DPL 0 */
    .org bare_gdt + GUEST_SEL_DATA
    .quad 0x00cf93000000ffff    /* data, 4 GiB */
bare_gdt_end:
bare_gdt_ptr:
    .short bare_gdt_end - bare_gdt - 1
    .long bare_gdt

    /* The identity map, written out at build time: PML4[0] -> PDPT,
     * PDPT[0..3] -> four page directories of 2 MiB pages. */
    .data
    .balign PAGE_SIZE
bare_pml4:
    .quad bare_pdpt + (PTE_P | PTE_W)
    .fill 511, 8, 0
bare_pdpt:
    .set pd, 0
    .rept 4
    .quad bare_pd + pd * PAGE_SIZE + (PTE_P | PTE_W)
    .set pd, pd + 1
    .endr
    .fill 508, 8, 0
bare_pd:
    .set addr, 0
    .rept 4 * 512
    .quad addr + (PTE_P | PTE_W | PTE_PS)
    .set addr, addr + HUGE_PAGE
    .endr

    .bss
    .balign 16
    .skip STACK_SIZE
bare_stack_top:
