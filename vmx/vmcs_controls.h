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

/* Whether `a` and `b` are the same but for the primary processor-based
 * controls in `proc_ignored`. */
static inline bool vmcs_controls_equal(const struct vmcs_controls *a, const struct vmcs_controls *b,
                                       uint32_t proc_ignored)
{
#define VMCS_CONTROL_SAME(type, name, field)                                                   \
    &&!((uint64_t)(a->name ^ b->name) & ~(uint64_t)(field == CPU_BASED_VM_EXEC_CONTROL ? proc_ignored : 0))
    return true VMCS_CONTROLS(VMCS_CONTROL_SAME);
#undef VMCS_CONTROL_SAME
}
#endif
