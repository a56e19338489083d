#include "virt/event_inject.h"
#include "vmx/vmcs.h"

/* VM-entry interruption-information field (SDM Vol. 3C 25.8.3). */
#define INTR_INFO_VALID           (1u << 31)
#define INTR_INFO_DELIVER_ERROR   (1u << 11)
#define INTR_TYPE_EXTERNAL        (0u << 8)
#define INTR_TYPE_HW_EXCEPTION    (3u << 8)

void inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error_code, uint32_t error_code)
{
    (void)vcpu;     /* the vCPU's VMCS is current */
    uint32_t info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | vector;
    if (has_error_code) {
        info |= INTR_INFO_DELIVER_ERROR;
        vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, error_code);
    }
    vmcs_write(VM_ENTRY_INTR_INFO, info);
}

void inject_interrupt(struct vcpu *vcpu, uint8_t vector)
{
    (void)vcpu;
    vmcs_write(VM_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXTERNAL | vector);
}
