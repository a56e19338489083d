#include "dev/vlapic.h"
#include "virt/vcpu_state.h"
#include "dev/apic_access.h"
#include "dev/irq.h"
#include "dev/apic_bus.h"
#include "virt/event_inject.h"
#include "virt/vm.h"
#include "virt/vmcs_setup.h"
#include "arch/cpu.h"
#include "arch/cpuid_cache.h"
#include "arch/msr.h"

/* Every IPI the guest sends goes through here (SDM Vol. 3A 11.6). */
static void send_ipi(struct vcpu *sender, const struct apic_ipi *ipi)
{
    struct vm *vm = sender->vm;
    sender->stats.ipis_sent++;
    if (ipi->delivery == IPI_NMI && !nmis_virtualised()) {
        sender->stats.ipis_dropped++;
        return;
    }
    if (ipi->delivery == IPI_FIXED || ipi->delivery == IPI_LOWEST || ipi->delivery == IPI_NMI) {
        apic_deliver_interrupt(vm, sender->id, ipi, false);
        return;
    }
    for (uint32_t i = 0; i < vm->vcpu_count; i++) {
        struct vcpu *target = &vm->vcpus[i];
        if (!vlapic_ipi_reaches(target->apic, sender->id, ipi))
            continue;
        switch (ipi->delivery) {
        case IPI_INIT:
            if (!ipi->level_assert)     /* INIT level de-assert: no effect (11.6.1) */
                break;
            __atomic_store_n(&target->init_pending, true, __ATOMIC_SEQ_CST);
            vcpu_request(target, REQ_INIT_SIPI);
            vcpu_wake(target);
            break;
        case IPI_STARTUP:
            /* Latched always; the target takes it only if it is waiting for
             * one, once any INIT before it is processed (SDM 9.4.4). */
            __atomic_store_n(&target->sipi_vector, ipi->vector, __ATOMIC_SEQ_CST);
            vcpu_request(target, REQ_INIT_SIPI);
            vcpu_wake(target);
            break;
        default:
            /* SMI and reserved modes are not virtualised: counted. */
            sender->stats.ipis_dropped++;
            break;
        }
    }
}

bool apic_lint1_edge(struct vcpu *v)
{
    uint8_t vector = 0;
    switch (vlapic_lint1_event(v->apic, &vector)) {
    case LINT_NMI:
        return vcpu_nmi(v);
    case LINT_FIXED:
        if (vlapic_set_irr(v->apic, vector)) {
            vcpu_request(v, REQ_EVENT);
            vcpu_wake(v);
        }
        return false;
    case LINT_NOTHING:
        break;
    }
    return false;
}

static bool write_register(struct vcpu *v, uint32_t offset, uint64_t value)
{
    struct apic_ipi ipi;
    switch (vlapic_write(v->apic, offset, value, rdtsc(), &ipi)) {
    case APIC_FAULT:
        return false;
    case APIC_SEND_IPI:
        /* Its targets, this vCPU too, are asked to look (dev/apic_bus.c). */
        send_ipi(v, &ipi);
        return true;
    case APIC_EOI_LEVEL:
        vm_irq_eoi(v->vm, ipi.vector);
        break;
    case APIC_OK:
        break;
    }
    /* EOI, TPR, SVR may let an interrupt through; the timer may have moved. */
    vcpu_request(v, REQ_EVENT | REQ_TIMER);
    return true;
}

bool apic_msr_read(struct vcpu *v, uint32_t msr, uint64_t *value, bool *handled)
{
    *handled = true;
    if (msr == MSR_IA32_APIC_BASE) {
        *value = v->apic->base_msr;
        return true;
    }
    if (msr == MSR_IA32_TSC_DEADLINE) {
        *value = vlapic_read_tsc_deadline(v->apic);
        return true;
    }
    if (msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST) {
        *handled = false;
        return false;
    }
    /* The x2APIC MSRs exist only in x2APIC mode (SDM 11.12.1.2). */
    return vlapic_mode(v->apic) == APIC_MODE_X2APIC &&
           vlapic_read(v->apic, (msr - X2APIC_MSR_FIRST) << 4, rdtsc(), value) == APIC_OK;
}

bool apic_msr_write(struct vcpu *v, uint32_t msr, uint64_t value, bool *handled)
{
    *handled = true;
    if (msr == MSR_IA32_APIC_BASE) {
        bool ok = vlapic_set_base(v->apic, value, cpu_phys_addr_mask());
        /* The APIC virtualization controls depend on the mode and base. */
        v->apicv.controls_stale = v->vm->apicv != APICV_OFF;
        vcpu_request(v, REQ_EVENT | REQ_TIMER);
        return ok;
    }
    if (msr == MSR_IA32_TSC_DEADLINE) {
        vlapic_write_tsc_deadline(v->apic, value, v->tsc_offset, rdtsc());
        vcpu_request(v, REQ_TIMER);
        return true;
    }
    if (msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST) {
        *handled = false;
        return false;
    }
    /* IPIs straight from the ICR to the bus, past the generic register
     * write: an IPI's round trip waits for its sending (KVM's fastpath
     * takes ICR writes the same way). */
    if (msr == X2APIC_MSR_FIRST + (APIC_REG_ICR_LOW >> 4)) {
        struct apic_ipi ipi;
        if (!vlapic_write_x2apic_icr(v->apic, value, &ipi))
            return false;
        send_ipi(v, &ipi);
        return true;
    }
    return vlapic_mode(v->apic) == APIC_MODE_X2APIC &&
           write_register(v, (msr - X2APIC_MSR_FIRST) << 4, value);
}

bool apic_mmio_access(struct vcpu *v, uint64_t gpa, bool write, unsigned size, uint64_t *value)
{
    /* The page answers only in xAPIC mode; disabled or in x2APIC mode the
     * APIC is not on the bus there (SDM 11.12.2). */
    if (vlapic_mode(v->apic) != APIC_MODE_XAPIC ||
        (gpa & ~0xfffull) != (v->apic->base_msr & ~0xfffull))
        return false;
    /* Registers are 32 bits wide at 16-byte strides; narrower accesses see
     * part of one (SDM 11.4.1: other widths are undefined). */
    uint32_t offset = (uint32_t)gpa & 0xff0;
    unsigned shift = 8 * ((unsigned)gpa & 3);
    if (write) {
        if (size >= 4 && !(gpa & 0xf))
            write_register(v, offset, (uint32_t)*value);
        return true;
    }
    uint64_t reg = 0;
    if ((gpa & 0xf) < 4)    /* bytes 4-15 of each 16-byte slot are reserved: 0 */
        vlapic_read(v->apic, offset, rdtsc(), &reg);
    *value = ((uint32_t)reg >> shift) & (size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
    return true;
}

void apic_write_trap(struct vcpu *v, uint32_t offset)
{
    /* The processor put the value in the page; the model does the rest as
     * for any write (KVM's kvm_apic_write_nodecode). */
    write_register(v, offset, vlapic_get(v->apic, offset));
}

void apic_eoi_induced(struct vcpu *v, uint8_t vector)
{
    /* The processor has done the EOI on the page (SDM Vol. 3C 30.1.4); a
     * level-triggered vector's goes on to the I/O APIC. */
    if (vlapic_tmr_word(v->apic, vector >> 5) >> (vector & 31) & 1)
        vm_irq_eoi(v->vm, vector);
    vcpu_request(v, REQ_EVENT);
}

void apic_set_cr8(struct vcpu *v, uint64_t value)
{
    vlapic_set_cr8(v->apic, value);
    vcpu_request(v, REQ_EVENT);
}

uint64_t apic_get_cr8(const struct vcpu *v)
{
    return vlapic_get_cr8(v->apic);
}

bool apic_process_init_sipi(struct vcpu *v)
{
    if (__atomic_exchange_n(&v->init_pending, false, __ATOMIC_SEQ_CST)) {
        /* INIT: the CPU waits for SIPI (SDM Vol. 3A 9.1), and an NMI
         * latched before it is gone with the rest of its state (KVM's
         * kvm_vcpu_reset on INIT does the same). */
        vlapic_init_signal(v->apic);
        v->timer_wake_deadline = 0;
        __atomic_store_n(&v->nmi_pending, false, __ATOMIC_SEQ_CST);
        v->waiting_for_sipi = true;
    }
    int vector = __atomic_exchange_n(&v->sipi_vector, -1, __ATOMIC_SEQ_CST);
    if (!v->waiting_for_sipi)
        return true;        /* a start-up IPI to a running CPU is ignored */
    if (vector < 0)
        return false;
    v->waiting_for_sipi = false;
    vmcs_enter_startup_state(v, (uint8_t)vector);
    vcpu_request(v, REQ_EVENT | REQ_TIMER);
    return true;
}
