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
 * since vmcs12 is our own layout (nested/vmcs12.h); bit 31 clear. A change
 * of that layout needs a new value (the offsets of this one are pinned in
 * nested/vmcs12.c). */
#define VMCS12_REVISION 0x766d7831u     /* "vmx1" */

/* The controls vmxvisor emulates for L1, per class. L1 may set one only if
 * this machine can also run it (vmcs02 carries it), except those offered
 * without hardware below. EPT is shadowed (nested/nested_ept.h), VPID gets
 * L2 a VPID of its own, PAUSE-loop exiting runs with L1's gap and window.
 * Left out for now: APIC virtualization, VM functions, the TPR
 * shadow, NMI-window exiting and virtual NMIs, MTF, PERF_GLOBAL_CTRL and
 * BNDCFGS. */
#define NESTED_PIN_EMULATED                                                            \
    (PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING | PIN_PREEMPTION_TIMER)
#define NESTED_PROC_EMULATED                                                           \
    (PROC_INTERRUPT_WINDOW_EXITING | PROC_USE_TSC_OFFSETTING | PROC_HLT_EXITING |      \
     PROC_INVLPG_EXITING | PROC_MWAIT_EXITING | PROC_RDPMC_EXITING | PROC_RDTSC_EXITING | \
     PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING | PROC_CR8_LOAD_EXITING |          \
     PROC_CR8_STORE_EXITING | PROC_MOV_DR_EXITING | PROC_UNCONDITIONAL_IO_EXITING |    \
     PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROC_MONITOR_EXITING |               \
     PROC_PAUSE_EXITING | PROC_ACTIVATE_SECONDARY)
#define NESTED_PROC2_EMULATED                                                          \
    (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST | PROC2_WBINVD_EXITING | \
     PROC2_ENABLE_RDTSCP | PROC2_PAUSE_LOOP_EXITING)
#define NESTED_EXIT_EMULATED                                                           \
    (EXIT_SAVE_DEBUG_CONTROLS | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTERRUPT_ON_EXIT | \
     EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_EFER | EXIT_LOAD_EFER |                  \
     EXIT_SAVE_PREEMPTION_TIMER)
#define NESTED_ENTRY_EMULATED                                                          \
    (ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER)

/* Offered whether or not this machine has them: L0 emulates L1's
 * VMX-preemption timer in software (vmcs02 never carries L1's timer
 * controls), counting at this rate (IA32_VMX_MISC[4:0]: the timer counts
 * down by 1 each time TSC bit 5 changes), and saves its value on exit. */
#define NESTED_PIN_WITHOUT_HARDWARE      PIN_PREEMPTION_TIMER
#define NESTED_EXIT_WITHOUT_HARDWARE     EXIT_SAVE_PREEMPTION_TIMER
/* VMCS shadowing and PML for L1's own guests are L0's work whatever the
 * machine has: L2's VMREADs and VMWRITEs that L1's bitmaps let through are
 * served from L1's shadow VMCS in its memory (nested/vmx_insn.c), and L0
 * logs L2's writes as it sets the dirty flags of EPT12
 * (nested/nested_ept.h); neither is ever on in vmcs02. */
#define NESTED_PROC2_WITHOUT_HARDWARE    (PROC2_VMCS_SHADOWING | PROC2_ENABLE_PML)
#define NESTED_PREEMPTION_TIMER_RATE     5

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
 * its raw capability MSRs (for what the configuration does not keep: the
 * allowed-0 settings of the controls and INS/OUTS reporting). */
void nested_vmx_caps_init(struct nested_vmx_caps *caps, const struct vmcs_config *cfg,
                          const struct vmx_capability_msrs *hw);
/* Whether RDMSR of `msr` (0x480..0x491) is offered to L1: false for
 * PROCBASED2 without secondary controls, EPT_VPID_CAP without EPT or VPID,
 * VMFUNC without VM functions, and anything outside the range. */
bool nested_vmx_msr_offered(const struct nested_vmx_caps *caps, uint32_t msr);
#endif
