#ifndef ARCH_INTERRUPTS_H
#define ARCH_INTERRUPTS_H
#include <stdint.h>

/* Register state at interrupt entry; layout fixed by arch/isr.S. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* Vector assignments. */
#define VECTOR_NMI           2
#define VECTOR_SERIAL        0x24   /* COM1 via the IOAPIC */
#define VECTOR_CALL_FUNCTION 0xf0   /* cross-CPU calls */
#define VECTOR_RESCHEDULE    0xf1   /* wakes a CPU to look at its run queue */
#define VECTOR_TIMER         0xf2   /* the host LAPIC timer: wakes an idle CPU */
#define VECTOR_NOTIFY        0xf3   /* makes a CPU's guest exit: its vCPU has requests */
#define VECTOR_SPURIOUS      0xff

typedef void (*interrupt_handler_t)(struct trap_frame *frame);

/* A 64-bit IDT entry (SDM Vol. 3A 7.14.1). */
struct __attribute__((packed)) idt_entry {
    uint16_t offset_low, selector;
    uint8_t ist, type_attr;
    uint16_t offset_mid;
    uint32_t offset_high, reserved;
};

/* A present DPL-0 interrupt gate to `handler` in the kernel code segment,
 * on interrupt stack table slot `ist` (0: none). */
struct idt_entry idt_interrupt_gate(uint64_t handler, uint8_t ist);

/* The IDT gives NMI, #DF and #MC the interrupt stacks of the hypervisor's
 * TSS (arch/gdt.h); a program whose TSS has none (the test guests run on
 * the loader's, SDM Vol. 3A 7.14.5) turns that off before its first
 * idt_load, and takes them on the stack it runs on. */
void idt_without_ist(void);
/* Loads the shared IDT on this CPU (the BSP builds it first). */
void idt_load(void);
void interrupt_register(uint8_t vector, interrupt_handler_t handler);
/* An external interrupt the processor acknowledged without delivering it
 * (a VM exit with "acknowledge interrupt on exit"): its handler runs as
 * through the IDT, with interrupts off, and the LAPIC gets its EOI. The
 * handlers see only the frame's vector. */
void interrupt_dispatch_acknowledged(uint8_t vector);
/* What an exception no handler takes runs (it does not return); set by the
 * program, above arch/, before the first exception can come. */
void interrupt_set_fatal_handler(void (*handler)(struct trap_frame *frame));
#endif
