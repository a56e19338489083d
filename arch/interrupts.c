/* The IDT and interrupt dispatch: a handler per vector; an exception nobody
 * handles is fatal and reported by the program's handler (the hypervisor's
 * arch/traps.c, the test guests' runtime). */
#include "arch/interrupts.h"
#include "arch/gdt.h"
#include "arch/lapic.h"
#include <stdbool.h>

#define IDT_INTERRUPT_GATE 0x8e     /* present, DPL 0, 64-bit interrupt gate */
#define FIRST_EXTERNAL_VECTOR 32

extern const uint64_t isr_stub_table[256];
static struct idt_entry idt[256] __attribute__((aligned(16)));
static interrupt_handler_t handlers[256];
static void (*fatal_exception)(struct trap_frame *frame);
static bool without_ist;

static uint8_t ist_for(unsigned vector)
{
    if (without_ist)
        return 0;
    switch (vector) {
    case 2: return IST_NMI;
    case 8: return IST_DOUBLE_FAULT;
    case 18: return IST_MACHINE_CHECK;
    default: return 0;
    }
}

struct idt_entry idt_interrupt_gate(uint64_t handler, uint8_t ist)
{
    return (struct idt_entry){
        .offset_low = handler & 0xffff, .selector = SEL_KERNEL_CODE, .ist = ist,
        .type_attr = IDT_INTERRUPT_GATE, .offset_mid = handler >> 16 & 0xffff,
        .offset_high = handler >> 32,
    };
}

static void idt_build(void)
{
    for (unsigned v = 0; v < 256; v++)
        idt[v] = idt_interrupt_gate(isr_stub_table[v], ist_for(v));
}

void idt_load(void)
{
    if (!idt[0].type_attr)
        idt_build();
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } ptr = {
        sizeof(idt) - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" :: "m"(ptr));
}

void idt_without_ist(void)
{
    without_ist = true;
}

void interrupt_register(uint8_t vector, interrupt_handler_t handler)
{
    handlers[vector] = handler;
}

void interrupt_set_fatal_handler(void (*handler)(struct trap_frame *frame))
{
    fatal_exception = handler;
}

void interrupt_dispatch(struct trap_frame *frame);     /* arch/isr.S calls it */

void interrupt_dispatch_acknowledged(uint8_t vector)
{
    struct trap_frame frame = { .vector = vector };
    interrupt_dispatch(&frame);
}

void interrupt_dispatch(struct trap_frame *frame)
{
    interrupt_handler_t h = handlers[frame->vector];
    if (h)
        h(frame);
    else if (frame->vector < FIRST_EXTERNAL_VECTOR)
        fatal_exception(frame);
    /* Unexpected device vectors are acknowledged and otherwise ignored;
     * a spurious interrupt must not be acknowledged (SDM Vol. 3A 13.9). */
    if (frame->vector >= FIRST_EXTERNAL_VECTOR && frame->vector != VECTOR_SPURIOUS)
        lapic_eoi();
}
