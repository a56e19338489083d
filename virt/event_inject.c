#include "virt/event_inject.h"
#include "virt/vm.h"
#include "vmx/vmcs_config.h"
#include "vmx/vmx_cpu.h"
#include "arch/cpu.h"

enum { TYPE_NMI = 2, TYPE_SOFT_INTERRUPT = 4, TYPE_PRIV_SOFT_EXCEPTION = 5, TYPE_SOFT_EXCEPTION = 6 };
#define NMI_UNBLOCKED_BY_IRET (1u << 12)    /* exit qualification of EPT violations */
#define VECTORING_INFO_KEPT       0x80000fffu   /* valid, error code, type, vector */

/* A fault-class exception is delivered with RFLAGS.RF set in the frame it
 * pushes, so that the faulting instruction, once restarted, does not hit
 * its instruction breakpoint again (SDM Vol. 3A 18.3.1.1); an injected
 * one gets it only if L0 sets it first, as KVM does. #DB is taken as a
 * trap here (what L0 injects: single steps), #BP and #OF are traps, #DF and
 * #MC aborts. */
static void set_rf_for_fault(uint8_t vector)
{
    const uint32_t not_faults = 1u << 1 | 1u << 3 | 1u << 4 | 1u << 8 | 1u << 18;
    if (vector < 32 && !(not_faults & 1u << vector))
        vmcs_set_bits(GUEST_RFLAGS, RFLAGS_RF);
}

void inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error_code, uint32_t error_code)
{
    (void)vcpu;     /* the vCPU's VMCS is current */
    uint32_t info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | vector;
    set_rf_for_fault(vector);
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
    /* An NMI goes in again with virtual-NMI blocking clear, as entry
     * requires (SDM Vol. 3C 27.3.1.5); its delivery sets it. */
    if (type == INTR_INFO_TYPE(INTR_TYPE_HW_EXCEPTION))
        set_rf_for_fault((uint8_t)info);
    if (type == TYPE_NMI) {
        vmcs_clear_bits(GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_NMI);
        vcpu->vmcs->nmi_blocking_possible = true;
    }
    if (type == TYPE_SOFT_INTERRUPT || type == TYPE_PRIV_SOFT_EXCEPTION ||
        type == TYPE_SOFT_EXCEPTION)
        vmcs_write(VM_ENTRY_INSTRUCTION_LEN, vmcs_read(VM_EXIT_INSTRUCTION_LEN));
}

bool nmis_virtualised(void)
{
    return (vmcs_config.ctl[VMX_CTL_PIN] & PIN_VIRTUAL_NMIS) &&
           (vmcs_config.ctl[VMX_CTL_PROC] & PROC_NMI_WINDOW_EXITING);
}

/* NMI-window exiting on or off: an exit as soon as the guest could take an
 * NMI (SDM Vol. 3C 25.6.2, 26.2). */
static void set_nmi_window(struct vcpu *v, bool on)
{
    set_window_exiting(v, &v->nmi_window_exiting, PROC_NMI_WINDOW_EXITING, on);
}

/* Virtual-NMI blocking as the VMCS says, but only if L0 caused it: an
 * injected NMI (or one put back, or whose blocking L0 restored) sets it and
 * the guest's IRET ends it (SDM Vol. 3C 27.6, 26.3 on IRET), which the VMCS
 * shows when it stops being current (nmi_note_vmcs_leaving). Bochs 2.7 also
 * saves it set for a guest that merely ran on a CPU after one that was
 * blocked: its VM entry sets the CPU's blocking from the VMCS but never
 * clears it (cpu/vmx.cc, fixed after 2.7). That is dropped here, as it never
 * exists on a processor that follows the SDM. */
static bool nmi_blocked(struct vcpu *v)
{
    uint32_t state = (uint32_t)vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
    if (!(state & INTERRUPTIBILITY_NMI))
        return false;
    if (v->vmcs->nmi_blocking_possible)
        return true;
    vmcs_write(GUEST_INTERRUPTIBILITY_INFO, state & ~INTERRUPTIBILITY_NMI);
    return false;
}

/* Whether an NMI can be injected at the next entry: no other event goes in
 * with it, no (virtual-)NMI blocking, and no STI or MOV-SS blocking (entry
 * refuses MOV SS with an NMI, some processors STI too: SDM Vol. 3C
 * 27.3.1.5; KVM waits for both to end, as here). */
static bool nmi_window_open(struct vcpu *v)
{
    return !(vmcs_read(VM_ENTRY_INTR_INFO) & INTR_INFO_VALID) &&
           !(vmcs_read(GUEST_INTERRUPTIBILITY_INFO) & INTERRUPTIBILITY_STI_MOV_SS) &&
           !nmi_blocked(v);
}

bool take_pending_nmi(struct vcpu *v)
{
    bool pending = __atomic_load_n(&v->nmi_pending, __ATOMIC_SEQ_CST);
    bool now = pending && nmi_window_open(v);
    set_nmi_window(v, pending && !now);
    return now && __atomic_exchange_n(&v->nmi_pending, false, __ATOMIC_SEQ_CST);
}

bool inject_pending_nmi(struct vcpu *v)
{
    if (!take_pending_nmi(v))
        return false;
    vmcs_write(VM_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_NMI | VECTOR_NMI);
    v->vmcs->nmi_blocking_possible = true;
    v->stats.nmis_injected++;
    return true;
}

void restore_nmi_blocking(struct vcpu *v, uint64_t qualification)
{
    /* Not when the exit interrupted an event's delivery: that was no IRET. */
    if ((qualification & NMI_UNBLOCKED_BY_IRET) &&
        !(vmcs_read(IDT_VECTORING_INFO) & INTR_INFO_VALID) && nmis_virtualised()) {
        vmcs_set_bits(GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_NMI);
        v->vmcs->nmi_blocking_possible = true;
    }
}
