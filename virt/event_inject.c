#include "virt/event_inject.h"
#include "vmx/vmcs.h"
#include "arch/cpu.h"

/* VM-entry interruption-information field (SDM Vol. 3C 25.8.3). */
#define INTR_INFO_VALID           (1u << 31)
#define INTR_INFO_DELIVER_ERROR   (1u << 11)
#define INTR_TYPE_HW_EXCEPTION    (3u << 8)

void inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error_code, uint32_t error_code)
{
    (void)vcpu;     /* the vCPU's VMCS is current */
    uint32_t info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | vector;
    /* Real mode (unrestricted guest, CR0.PE = 0) pushes no error code, and
     * the entry checks insist the field says so (SDM Vol. 3C 27.2.1.3). */
    if (has_error_code && (vmcs_read(GUEST_CR0) & CR0_PE)) {
        info |= INTR_INFO_DELIVER_ERROR;
        vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, error_code);
    }
    vmcs_write(VM_ENTRY_INTR_INFO, info);
}

