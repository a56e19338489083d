/* A VM's interrupt lines and its legacy interrupt controllers: routes
 * device lines to the 8259 pair (dev/pic.c) and the I/O APIC
 * (dev/ioapic.c), puts the I/O APIC's messages on the virtual local APICs
 * and hands the 8259's INTR to vCPU 0. One lock per VM covers both
 * controllers; deliveries made under it may wake vCPUs (the scheduler's
 * lock nests inside it, never the other way round). */
#include "dev/devices.h"
#include "virt/vcpu_state.h"
#include "dev/irq.h"
#include "virt/event_inject.h"
#include "dev/apic_bus.h"
#include "dev/apicv.h"
#include "dev/platform.h"
#include "virt/vm.h"

#define IOAPIC_PAGE_MASK    0xfffull
/* I/O APIC messages have no shorthand, so no sender (no APIC has this ID). */
#define NO_SENDER           0xffffffffu

/* The I/O APIC's message on the APIC bus. Fixed, lowest priority and NMI
 * reach the local APICs; SMI, INIT and ExtINT entries are not virtualised
 * (as the APICs' own SMI IPIs are not), and no APIC accepts them. */
static bool ioapic_deliver(void *ctx, const struct ioapic_msg *msg)
{
    static const uint8_t as_ipi[] = { [IOAPIC_FIXED] = IPI_FIXED, [IOAPIC_LOWEST] = IPI_LOWEST,
                                      [IOAPIC_NMI] = IPI_NMI };
    if (msg->delivery != IOAPIC_FIXED && msg->delivery != IOAPIC_LOWEST &&
        msg->delivery != IOAPIC_NMI)
        return false;
    struct apic_ipi ipi = {
        .vector = msg->vector,
        .delivery = as_ipi[msg->delivery],
        .shorthand = IPI_DEST_FIELD,
        .logical = msg->logical,
        .destination = msg->destination,
    };
    return apic_deliver_interrupt(ctx, NO_SENDER, &ipi, msg->level);
}

void vm_irq_init(struct vm *vm)
{
    /* Under the lock: at a machine reset a device may still be driving a
     * line (the UART with typed input). */
    spin_lock(&vm->dev->irq_lock);
    vpic_reset(&vm->dev->pic);
    vm->dev->pic_intr = false;
    vioapic_reset(&vm->dev->ioapic, PLATFORM_IOAPIC_ID, ioapic_deliver, vm);
    spin_unlock(&vm->dev->irq_lock);
}

/* After any change to the 8259s (under irq_lock): the INTR output. */
static bool pic_update(struct vm *vm)
{
    bool intr = vpic_output(&vm->dev->pic);
    __atomic_store_n(&vm->dev->pic_intr, intr, __ATOMIC_SEQ_CST);
    return intr;
}

/* INTR is up: vCPU 0 looks at it before its next entry, or wakes for it. */
static void pic_kick(struct vm *vm)
{
    struct vcpu *v = &vm->vcpus[0];
    vcpu_request(v, REQ_EVENT);
    vcpu_wake(v);
}

void vm_set_irq(struct vm *vm, unsigned gsi, bool level)
{
    if (gsi >= PLATFORM_IOAPIC_PINS || gsi == PIC_CASCADE_IRQ)
        return;     /* ISA IRQ 2 is the cascade: no device has it */
    spin_lock(&vm->dev->irq_lock);
    bool intr = false;
    if (gsi < 16) {
        vpic_set_irq(&vm->dev->pic, gsi, level);
        intr = pic_update(vm);
    }
    vioapic_set_irq(&vm->dev->ioapic, gsi == PLATFORM_IRQ_PIT ? PLATFORM_GSI_PIT : gsi, level);
    spin_unlock(&vm->dev->irq_lock);
    if (intr)
        pic_kick(vm);
}

void vm_irq_eoi(struct vm *vm, uint8_t vector)
{
    spin_lock(&vm->dev->irq_lock);
    vioapic_eoi(&vm->dev->ioapic, vector);
    spin_unlock(&vm->dev->irq_lock);
}

/* Whether the 8259's INTR is up and reaches `v` (vCPU 0's LINT0). */
static bool vm_extint_pending(const struct vcpu *v)
{
    return v->id == 0 && __atomic_load_n(&v->vm->dev->pic_intr, __ATOMIC_SEQ_CST) &&
           vlapic_accepts_pic_interrupt(v->apic);
}

/* The interrupt acknowledge cycle: the 8259's vector (maybe spurious). */
static uint8_t vm_extint_acknowledge(struct vm *vm)
{
    spin_lock(&vm->dev->irq_lock);
    uint8_t vector = vpic_acknowledge(&vm->dev->pic);
    pic_update(vm);
    spin_unlock(&vm->dev->irq_lock);
    return vector;
}

bool ioapic_mmio_access(struct vm *vm, uint64_t gpa, bool write, unsigned size,
                        uint64_t *value)
{
    if ((gpa & ~IOAPIC_PAGE_MASK) != PLATFORM_IOAPIC_GPA)
        return false;
    /* Registers are 32 bits wide (82093AA 3.0); narrower reads see part of
     * one, narrower writes reach only IOREGSEL, an 8-bit register. */
    uint32_t offset = (uint32_t)gpa & 0xff0;
    unsigned shift = 8 * ((unsigned)gpa & 3);
    spin_lock(&vm->dev->irq_lock);
    if (write) {
        if ((gpa & 0xf) == 0 && (size >= 4 || offset == IOAPIC_REGSEL))
            vioapic_write(&vm->dev->ioapic, offset, (uint32_t)*value);
    } else {
        uint32_t reg = (gpa & 0xf) < 4 ? vioapic_read(&vm->dev->ioapic, offset) : 0;
        *value = (reg >> shift) & (size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
    }
    spin_unlock(&vm->dev->irq_lock);
    return true;
}

bool pic_port_access(struct vm *vm, uint16_t port, unsigned size, bool is_write,
                     uint32_t *value)
{
    (void)size;     /* byte registers: a wider access sees the first */
    spin_lock(&vm->dev->irq_lock);
    if (is_write)
        vpic_write(&vm->dev->pic, port, (uint8_t)*value);
    else
        *value = vpic_read(&vm->dev->pic, port);
    bool intr = pic_update(vm);
    spin_unlock(&vm->dev->irq_lock);
    if (intr)
        pic_kick(vm);
    return true;
}

bool vcpu_interrupt_waiting(const struct vcpu *v)
{
    return vm_extint_pending(v) || vlapic_pending_vector(v->apic) >= 0;
}

bool vcpu_interrupt_waiting_loaded(const struct vcpu *v)
{
    /* RVI and SVI stand for the page only once synced: not after the
     * model's own changes, nor before controls being rewritten are. */
    if (!apicv_delivers(v) || v->apic->irr_isr_changed || v->apicv.controls_stale)
        return vcpu_interrupt_waiting(v);
    return vm_extint_pending(v) || apicv_request_deliverable(v);
}

/* The interrupt acknowledge: the 8259 gives its vector (spurious if its
 * request has gone meanwhile), or the APIC moves IRR to ISR. */
static uint8_t acknowledge(struct vcpu *v, bool extint, int vector)
{
    if (extint)
        return vm_extint_acknowledge(v->vm);
    vlapic_accept(v->apic, (uint8_t)vector);
    return (uint8_t)vector;
}

int vcpu_acknowledge_interrupt(struct vcpu *v)
{
    bool extint = vm_extint_pending(v);
    int vector = extint ? 0 : vlapic_pending_vector(v->apic);
    return vector < 0 ? -1 : acknowledge(v, extint, vector);
}

void inject_pending_interrupt(struct vcpu *v)
{
    /* With virtual-interrupt delivery the processor takes the APIC's
     * interrupts from RVI: only the 8259's go in by injection. But not
     * while the guest cannot take one (IF clear, an STI or MOV-SS shadow,
     * an event being injected): interrupt-window exiting then keeps the
     * processor from recognizing it (SDM Vol. 3C 30.2.1) until the window
     * opens, as injection would wait. With IF clear a recognized virtual
     * interrupt waits on IF alone, and Bochs 2.7 delivers it anyway when
     * a host interrupt comes (dev/apicv.c, the EOI guard). */
    bool by_injection = !apicv_delivers(v);
    bool extint = vm_extint_pending(v);
    int vector = extint ? 0 : by_injection ? vlapic_pending_vector(v->apic) : -1;
    if (vector < 0) {
        /* The window first: mostly open, and then RVI need not be read. */
        set_interrupt_window(v, !by_injection && !interrupt_window_open() &&
                                    apicv_interrupt_recognizable(v));
        return;
    }
    if (!interrupt_window_open()) {
        set_interrupt_window(v, true);
        return;
    }
    inject_external_interrupt(v, acknowledge(v, extint, vector));
    /* More may be waiting behind this one: look again after it is taken. */
    set_interrupt_window(v, by_injection ? vcpu_interrupt_waiting(v)
                                         : vm_extint_pending(v) || apicv_interrupt_recognizable(v));
    if (by_injection)
        apicv_sync(v);      /* the TPR threshold, for what is left (after inject_pending_events') */
}
