#ifndef VMX_VMCS_CONTROLS_H
#define VMX_VMCS_CONTROLS_H
/*
 * A VMCS's VM-execution, VM-exit and VM-entry controls, exception bitmap and
 * CR0/CR4 guest/host masks as L0 last wrote them (KVM's controls shadow):
 * kept with the VMCS (vmx/loaded_vmcs.h) so that reading one costs no
 * VMREAD and writing one that does not change costs no VMWRITE. The nested
 * entry reads vmcs01's on every round trip. The processor changes one bit
 * of them itself: every VM exit stores EFER.LMA into the IA-32e mode guest
 * entry control (SDM Vol. 3C 28.2), so `entry` holds the others and that
 * bit is read and written in the VMCS.
 */
#include <stdint.h>
#include <stdbool.h>
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_controls.h"

/* The kept controls: type, member, VMCS field. */
#define VMCS_CONTROLS(X)                                                                       \
    X(uint32_t, pin, PIN_BASED_VM_EXEC_CONTROL) X(uint32_t, proc, CPU_BASED_VM_EXEC_CONTROL)    \
    X(uint32_t, proc2, SECONDARY_VM_EXEC_CONTROL) X(uint32_t, exit, VM_EXIT_CONTROLS)           \
    X(uint32_t, entry, VM_ENTRY_CONTROLS) X(uint32_t, exception_bitmap, EXCEPTION_BITMAP)       \
    X(uint64_t, cr0_mask, CR0_GUEST_HOST_MASK) X(uint64_t, cr4_mask, CR4_GUEST_HOST_MASK)

struct vmcs_controls {
#define VMCS_CONTROL_MEMBER(type, name, field) type name;
    VMCS_CONTROLS(VMCS_CONTROL_MEMBER)
#undef VMCS_CONTROL_MEMBER
};

/* Whether a change of the primary processor-based controls from `old` to
 * `now` changes what is made from them (struct loaded_vmcs's generation):
 * any change but of the event windows, which hypervisors open and close
 * between most entries. */
static inline bool vmcs_proc_change_counts(uint32_t old, uint32_t now)
{
    return ((old ^ now) & ~(uint32_t)PROC_EVENT_WINDOW_CONTROLS) != 0;
}
#endif
