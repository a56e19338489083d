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

struct vmcs_controls {
    uint32_t pin, proc, proc2, exit, entry;
    uint32_t exception_bitmap;
    uint64_t cr0_mask, cr4_mask;
};

/* Whether `a` and `b` are the same but for the primary processor-based
 * controls in `proc_ignored`. */
static inline bool vmcs_controls_equal(const struct vmcs_controls *a, const struct vmcs_controls *b,
                                       uint32_t proc_ignored)
{
    return a->pin == b->pin && !((a->proc ^ b->proc) & ~proc_ignored) && a->proc2 == b->proc2 &&
           a->exit == b->exit && a->entry == b->entry &&
           a->exception_bitmap == b->exception_bitmap && a->cr0_mask == b->cr0_mask &&
           a->cr4_mask == b->cr4_mask;
}
#endif
