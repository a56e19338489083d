#include "virt/event_inject.h"
#include "virt/vm.h"
#include "vmx/vmx_cpu.h"
#include "arch/cpu.h"

enum { TYPE_SOFT_INTERRUPT = 4, TYPE_PRIV_SOFT_EXCEPTION = 5, TYPE_SOFT_EXCEPTION = 6 };
#define VECTORING_INFO_KEPT       0x80000fffu   /* valid, error code, type, vector */

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


void reinject_interrupted_event(struct vcpu *vcpu)
{
    (void)vcpu;
    /* An exit in the middle of delivering an event (an EPT violation on the
     * IDT or stack, say) leaves it in the IDT-vectoring information; the
     * guest never saw it, so it is delivered again on the next entry (SDM
     * Vol. 3C 28.2.4, 29.2.4 "Re-injection"). */
    uint32_t info = (uint32_t)vmcs_read(IDT_VECTORING_INFO);
    if (!(info & INTR_INFO_VALID))
        return;
    vmcs_write(VM_ENTRY_INTR_INFO, info & VECTORING_INFO_KEPT);
    if (info & INTR_INFO_DELIVER_ERROR)
        vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read(IDT_VECTORING_ERROR_CODE));
    unsigned type = INTR_INFO_TYPE(info);
    if (type == TYPE_SOFT_INTERRUPT || type == TYPE_PRIV_SOFT_EXCEPTION ||
        type == TYPE_SOFT_EXCEPTION)
        vmcs_write(VM_ENTRY_INSTRUCTION_LEN, vmcs_read(VM_EXIT_INSTRUCTION_LEN));
}
