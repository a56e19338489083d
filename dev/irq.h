#ifndef DEV_IRQ_H
#define DEV_IRQ_H
/*
 * A VM's interrupt lines (KVM's kvm_set_irq): a device drives global system
 * interrupt `gsi`; lines 0-15 reach both the 8259 pair and the IOAPIC's pins
 * (ISA IRQ 0 is wired to IOAPIC pin 2, as the MADT's override says), lines
 * 16-23 the IOAPIC only. Edge-triggered devices raise and lower the line
 * (vm_pulse_irq). Any CPU may call these, with no VM lock held.
 */
#include <stdbool.h>
#include <stdint.h>
#include "dev/apicv.h"
#include "virt/event_inject.h"
#include "virt/vm.h"
#include "dev/devices.h"

struct vm;
struct vcpu;

void vm_set_irq(struct vm *vm, unsigned gsi, bool level);

static inline void vm_pulse_irq(struct vm *vm, unsigned gsi)
{
    vm_set_irq(vm, gsi, true);
    vm_set_irq(vm, gsi, false);
}

/* The VM's interrupt controllers (dev/irq.c): the 8259 pair and the I/O
 * APIC in their power-up state, at VM creation and machine reset. */
void vm_irq_init(struct vm *vm);
/* A local APIC's EOI of a level-triggered vector, for the I/O APIC. */
void vm_irq_eoi(struct vm *vm, uint8_t vector);
/* Whether an external interrupt waits for the vCPU: the 8259's through
 * LINT0 first (it bypasses the APIC's priorities, and KVM takes it first
 * too), else its APIC's highest deliverable vector. */
bool vcpu_interrupt_waiting(const struct vcpu *vcpu);
/* The same on the vCPU's own CPU, its VMCS current, the guest not running
 * (a halt's polling): with virtual-interrupt delivery the guest interrupt
 * status stands for the scans of IRR and ISR. */
bool vcpu_interrupt_waiting_loaded(const struct vcpu *vcpu);
/* Whether any interrupt is requested of the vCPU, deliverable now or not
 * (masked, below its priority): a cheap superset of vcpu_interrupt_waiting
 * for paths that only need to know whether to look closer. Inline: every
 * nested entry and exit asks. */
static inline bool vcpu_interrupt_requested(struct vcpu *v)
{
    if (v->id == 0 && __atomic_load_n(&v->vm->dev->pic_intr, __ATOMIC_RELAXED))
        return true;
    return vlapic_irr_nonempty(v->apic);
}
/* Before an entry: injects that interrupt if the guest can take it now,
 * else turns on interrupt-window exiting. */
void inject_pending_interrupt(struct vcpu *vcpu);
/* The same with NMIs, which go first: a pending NMI, else an interrupt.
 * Inline: before most entries there is no NMI to inject and no NMI window
 * to close. */
static inline void inject_pending_events(struct vcpu *v)
{
    apicv_sync(v);
    bool nmi_work = __atomic_load_n(&v->nmi_pending, __ATOMIC_RELAXED) || v->nmi_window_exiting;
    if (__builtin_expect(nmi_work, 0) && inject_pending_nmi(v))
        /* An interrupt waits for the NMI's entry: its window then. */
        set_interrupt_window(v, vcpu_interrupt_waiting(v));
    else
        inject_pending_interrupt(v);
}
/* Acknowledges that interrupt without injecting it (a nested exit that
 * acknowledges interrupts on exit hands it to L1): its vector, or -1. */
int vcpu_acknowledge_interrupt(struct vcpu *vcpu);
/* The I/O APIC's page: true if `gpa` is in it (and the access was done). */
bool ioapic_mmio_access(struct vm *vm, uint64_t gpa, bool write, unsigned size,
                        uint64_t *value);
/* The 8259 ports and the ELCR (a exits/pio.c handler). */
bool pic_port_access(struct vm *vm, uint16_t port, unsigned size, bool is_write,
                     uint32_t *value);
#endif
