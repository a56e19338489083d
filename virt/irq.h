#ifndef VIRT_IRQ_H
#define VIRT_IRQ_H
/*
 * A VM's interrupt lines (KVM's kvm_set_irq): a device drives global system
 * interrupt `gsi`; lines 0-15 reach both the 8259 pair and the IOAPIC's pins
 * (ISA IRQ 0 is wired to IOAPIC pin 2, as the MADT's override says), lines
 * 16-23 the IOAPIC only. Edge-triggered devices raise and lower the line
 * (vm_pulse_irq). Any CPU may call these, with no VM lock held.
 */
#include <stdbool.h>

struct vm;

void vm_set_irq(struct vm *vm, unsigned gsi, bool level);

static inline void vm_pulse_irq(struct vm *vm, unsigned gsi)
{
    vm_set_irq(vm, gsi, true);
    vm_set_irq(vm, gsi, false);
}
#endif
