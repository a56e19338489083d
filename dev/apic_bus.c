/* Interrupt messages on the VM's APIC bus (dev/apic_bus.h). */
#include "dev/apic_bus.h"
#include "dev/vlapic.h"
#include "virt/vcpu_state.h"
#include "virt/vm.h"

/* Sends `vector` as a fixed interrupt to the vCPU (any CPU may call);
 * false if its APIC does not accept it. */
static bool deliver_fixed(struct vcpu *target, uint8_t vector, bool level)
{
    if (!vlapic_set_irr_trigger(target->apic, vector, level))
        return false;
    vcpu_request(target, REQ_EVENT);
    vcpu_wake(target);
    return true;
}

bool apic_deliver_interrupt(struct vm *vm, uint32_t sender, const struct apic_ipi *msg,
                            bool level)
{
    bool accepted = false;
    for (uint32_t i = 0; i < vm->vcpu_count; i++) {
        struct vcpu *target = &vm->vcpus[i];
        if (!vlapic_ipi_reaches(target->apic, sender, msg))
            continue;
        if (msg->delivery == IPI_NMI) {
            accepted |= vcpu_nmi(target);
            continue;
        }
        if (!deliver_fixed(target, msg->vector, level))
            continue;
        accepted = true;
        /* Lowest priority: any one of the destinations will do, the first
         * that takes it. */
        if (msg->delivery == IPI_LOWEST)
            break;
    }
    return accepted;
}

