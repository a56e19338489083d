#ifndef NESTED_VMX_CAPS_H
#define NESTED_VMX_CAPS_H
/*
 * What a VM with nested VMX sees of VMX: the IA32_VMX_* capability MSRs it
 * reads (SDM Vol. 3D Appendix A). KVM's rule (nested_vmx_setup_ctls_msrs):
 * a control may be 1 only if the negotiated configuration of this machine
 * offers it AND vmxvisor emulates it for L1 (NESTED_*_EMULATED below); it
 * must be 1 only where the SDM's default1 bits say so, so that L1 may clear
 * what L0 itself needs (L0 ORs its own bits into vmcs02 and keeps those
 * exits). Pure: computed from a vmcs_config, unit-tested with the recorded
 * Bochs capability MSRs.
 */
#include <stdint.h>
#include <stdbool.h>
#include "vmx/vmcs_config.h"

/* Our vmcs12 revision identifier (IA32_VMX_BASIC[30:0]): not the CPU's,
 * since vmcs12 is our own layout (nested/vmcs12.h); bit 31 clear. */
#define VMCS12_REVISION 0x766d7831u     /* "vmx1" */

/* The capability MSRs L1 reads, MSR 0x480 + index (IA32_VMX_BASIC ..
 * IA32_VMX_VMFUNC); MSRs of the range that are not offered read as 0 and
 * their RDMSR raises #GP (see nested_vmx_msr_offered). */
enum nested_vmx_msr_index {
    NESTED_VMX_BASIC, NESTED_VMX_PINBASED, NESTED_VMX_PROCBASED, NESTED_VMX_EXIT,
    NESTED_VMX_ENTRY, NESTED_VMX_MISC, NESTED_VMX_CR0_FIXED0, NESTED_VMX_CR0_FIXED1,
    NESTED_VMX_CR4_FIXED0, NESTED_VMX_CR4_FIXED1, NESTED_VMX_VMCS_ENUM, NESTED_VMX_PROCBASED2,
    NESTED_VMX_EPT_VPID_CAP, NESTED_VMX_TRUE_PINBASED, NESTED_VMX_TRUE_PROCBASED,
    NESTED_VMX_TRUE_EXIT, NESTED_VMX_TRUE_ENTRY, NESTED_VMX_VMFUNC,
    NESTED_VMX_MSR_COUNT
};
#define NESTED_VMX_MSR_FIRST 0x480u

struct nested_vmx_caps {
    uint64_t msr[NESTED_VMX_MSR_COUNT];
    /* The same, decoded, for the entry checks and the merge: per control
     * class (enum vmx_control_class), the bits that must be 1 (from the TRUE
     * MSRs) and the bits that may be 1. */
    uint32_t must_be_1[VMX_CTL_CLASSES];
    uint32_t may_be_1[VMX_CTL_CLASSES];
};

/* Computes what L1 sees from this machine's negotiated configuration and
 * its raw capability MSRs (for the bits the configuration does not keep:
 * INS/OUTS reporting, CR0/CR4 fixed-1, the activity states). */
void nested_vmx_caps_init(struct nested_vmx_caps *caps, const struct vmcs_config *cfg,
                          const struct vmx_capability_msrs *hw);
/* Whether RDMSR of `msr` (0x480..0x491) is offered to L1: false for
 * PROCBASED2 without secondary controls, EPT_VPID_CAP without EPT or VPID,
 * VMFUNC without VM functions, and anything outside the range. */
bool nested_vmx_msr_offered(const struct nested_vmx_caps *caps, uint32_t msr);
#endif
