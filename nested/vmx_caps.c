/* The capability MSRs L1 reads (see vmx_caps.h). */
#include "nested/vmx_caps.h"
#include "nested/vmcs12.h"

static const uint32_t default1[VMX_CTL_CLASSES] = {
    [VMX_CTL_PIN] = VMX_PIN_DEFAULT1,
    [VMX_CTL_PROC] = VMX_PROC_DEFAULT1,
    [VMX_CTL_EXIT] = VMX_EXIT_DEFAULT1,
    [VMX_CTL_ENTRY] = VMX_ENTRY_DEFAULT1,
};

/* Default1 controls L1 may clear even where this machine forces them (KVM
 * calls them free controls): L0 ORs its own controls into vmcs02 and
 * handles the exits L1 did not ask for itself, so an L1 without CR3 exits
 * or debug-control loads costs nothing. The TRUE MSRs report them 0, the
 * plain ones 1, as on hardware (SDM Vol. 3D A.3.2, A.4, A.5). */
static const uint32_t default1_free_for_l1[VMX_CTL_CLASSES] = {
    [VMX_CTL_PROC] = PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING,
    [VMX_CTL_EXIT] = EXIT_SAVE_DEBUG_CONTROLS,
    [VMX_CTL_ENTRY] = ENTRY_LOAD_DEBUG_CONTROLS,
};

static const uint32_t emulated[VMX_CTL_CLASSES] = {
    [VMX_CTL_PIN] = NESTED_PIN_EMULATED,
    [VMX_CTL_PROC] = NESTED_PROC_EMULATED,
    [VMX_CTL_PROC2] = NESTED_PROC2_EMULATED,
    [VMX_CTL_EXIT] = NESTED_EXIT_EMULATED,
    [VMX_CTL_ENTRY] = NESTED_ENTRY_EMULATED,
};

static const uint32_t offered_without_hardware[VMX_CTL_CLASSES] = {
    [VMX_CTL_PIN] = NESTED_PIN_WITHOUT_HARDWARE,
    [VMX_CTL_PROC2] = NESTED_PROC2_WITHOUT_HARDWARE,
    [VMX_CTL_EXIT] = NESTED_EXIT_WITHOUT_HARDWARE,
};

/* Where each class is reported: the TRUE_* MSR and the plain one. The
 * secondary controls have a single MSR and no default1 bits, so both name
 * it and get the same value. */
static const struct {
    enum nested_vmx_msr_index true_msr, plain_msr;
} control_msrs[VMX_CTL_CLASSES] = {
    [VMX_CTL_PIN] = { NESTED_VMX_TRUE_PINBASED, NESTED_VMX_PINBASED },
    [VMX_CTL_PROC] = { NESTED_VMX_TRUE_PROCBASED, NESTED_VMX_PROCBASED },
    [VMX_CTL_PROC2] = { NESTED_VMX_PROCBASED2, NESTED_VMX_PROCBASED2 },
    [VMX_CTL_EXIT] = { NESTED_VMX_TRUE_EXIT, NESTED_VMX_EXIT },
    [VMX_CTL_ENTRY] = { NESTED_VMX_TRUE_ENTRY, NESTED_VMX_ENTRY },
};

/* The controls this machine forces to 1: the allowed-0 settings (bits
 * 31:0) of the TRUE_* MSRs if IA32_VMX_BASIC[55] says they exist, else of
 * the plain ones (SDM Vol. 3D A.2). */
static uint32_t hardware_must_be_1(const struct vmx_capability_msrs *hw,
                                   enum vmx_control_class cls)
{
    bool use_true = hw->basic & VMX_BASIC_TRUE_CONTROLS;
    switch (cls) {
    case VMX_CTL_PIN: return (uint32_t)(use_true ? hw->true_pinbased : hw->pinbased);
    case VMX_CTL_PROC: return (uint32_t)(use_true ? hw->true_procbased : hw->procbased);
    case VMX_CTL_PROC2: return (uint32_t)hw->procbased2;
    case VMX_CTL_EXIT: return (uint32_t)(use_true ? hw->true_exit : hw->exit);
    case VMX_CTL_ENTRY: return (uint32_t)(use_true ? hw->true_entry : hw->entry);
    default: return 0;
    }
}

/* SDM Vol. 3D A.3-A.5: allowed-0 settings in bits 31:0 (1 = must be 1),
 * allowed-1 settings in bits 63:32 (1 = may be 1). */
static uint64_t control_msr(uint32_t must_be_1, uint32_t may_be_1)
{
    return (uint64_t)may_be_1 << 32 | must_be_1;
}

static void init_controls(struct nested_vmx_caps *caps, const struct vmcs_config *cfg,
                          const struct vmx_capability_msrs *hw)
{
    for (int cls = 0; cls < VMX_CTL_CLASSES; cls++) {
        uint32_t machine_may_be_1 = cfg->ctl[cls] | cfg->allowed1[cls];
        caps->must_be_1[cls] =
            hardware_must_be_1(hw, cls) & default1[cls] & ~default1_free_for_l1[cls];
        /* A control that must be 1 in the plain MSR must be allowed to be 1. */
        caps->may_be_1[cls] = (machine_may_be_1 & emulated[cls]) |
                              offered_without_hardware[cls] | default1[cls];
        caps->msr[control_msrs[cls].true_msr] =
            control_msr(caps->must_be_1[cls], caps->may_be_1[cls]);
        /* The plain MSR reports every default1 control as must-be-1 (SDM
         * Vol. 3D A.2), as for an L1 that does not know the TRUE MSRs. */
        caps->msr[control_msrs[cls].plain_msr] =
            control_msr(caps->must_be_1[cls] | default1[cls], caps->may_be_1[cls]);
    }
}

/* CR0 bits fixed to 1 in VMX operation (SDM Vol. 3D A.7): PE, NE and PG;
 * unrestricted guest frees PE and PG for L2 (27.3.1.1). CR4: VMXE (A.8). */
#define NESTED_CR0_FIXED0 0x80000021ull
#define NESTED_CR4_FIXED0 0x00002000ull

void nested_vmx_caps_init(struct nested_vmx_caps *caps, const struct vmcs_config *cfg,
                          const struct vmx_capability_msrs *hw)
{
    *caps = (struct nested_vmx_caps){ 0 };
    init_controls(caps, cfg, hw);

    /* SDM Vol. 3D A.1: our revision and a one-page VMCS in write-back
     * memory, anywhere in the physical-address space (bit 48 clear), no
     * dual-monitor treatment of SMM (bit 49 clear), instruction information
     * for INS/OUTS exits if this machine gives it (L0 passes on what
     * vmcs02's exits report), and the TRUE_* control MSRs. */
    caps->msr[NESTED_VMX_BASIC] = VMCS12_REVISION | (uint64_t)VMCS12_SIZE << 32 |
                                  (uint64_t)VMX_MEMORY_TYPE_WB << 50 |
                                  (hw->basic & VMX_BASIC_INS_OUTS_INFO) |
                                  VMX_BASIC_TRUE_CONTROLS;

    /* SDM Vol. 3D A.6: the emulated timer's rate; EFER.LMA stored into
     * "IA-32e mode guest" on exit if this machine does it (L0 copies that
     * control back from vmcs02); the HLT activity state only (L0 blocks
     * the vCPU);
     * CR3-target count 0, since CR3-target values are not emulated; bits
     * 27:25 = 0, i.e. up to 512 entries per MSR list; VMWRITE to any
     * field (bit 29), as KVM offers: vmcs12 holds every field, and an L1
     * that fills its own shadow VMCS for its guests (the exit information
     * among the rest) needs it; MSEG revision 0. */
    caps->msr[NESTED_VMX_MISC] = NESTED_PREEMPTION_TIMER_RATE |
                                 (cfg->misc & VMX_MISC_SAVE_EFER_LMA) | VMX_MISC_ACTIVITY_HLT |
                                 VMX_MISC_VMWRITE_ANY_FIELD;

    /* SDM Vol. 3D A.7, A.8: the fixed-1 MSRs (bits that may be 1) are the
     * hardware's, since L2's CR0 and CR4 end up in vmcs02. */
    caps->msr[NESTED_VMX_CR0_FIXED0] = NESTED_CR0_FIXED0;
    caps->msr[NESTED_VMX_CR0_FIXED1] = cfg->cr0_fixed1;
    caps->msr[NESTED_VMX_CR4_FIXED0] = NESTED_CR4_FIXED0;
    caps->msr[NESTED_VMX_CR4_FIXED1] = cfg->cr4_fixed1;

    /* SDM Vol. 3D A.9: bits 9:1 = the highest field index of vmcs12. */
    caps->msr[NESTED_VMX_VMCS_ENUM] = (uint64_t)vmcs12_highest_index() << 1;

    /* SDM Vol. 3D A.10: 4-level EPT in write-back memory with 2 MiB and
     * 1 GiB leaves (EPT02 maps L2 with pages no larger than both levels
     * allow, so L1 may use sizes the hardware lacks), execute-only
     * entries only if EPT02 can have them, the hardware's advanced
     * EPT-violation information (the exit's linear-access bits go to L1
     * as the hardware reported them); accessed and dirty flags, which L0
     * sets in EPT12 as its walks find them needed (nested/nested_ept.h),
     * whatever the hardware has; INVEPT single- and all-context. INVVPID
     * of all four types. VMFUNC stays 0: no VM functions. */
    caps->msr[NESTED_VMX_EPT_VPID_CAP] =
        (hw->ept_vpid_cap & (EPT_CAP_EXEC_ONLY | EPT_CAP_ADVANCED_EXIT_INFO)) | EPT_CAP_WALK_4 |
        EPT_CAP_WB | EPT_CAP_2M | EPT_CAP_1G | EPT_CAP_AD | EPT_CAP_INVEPT | EPT_CAP_INVEPT_SINGLE |
        EPT_CAP_INVEPT_ALL | VPID_CAP_INVVPID | VPID_CAP_INVVPID_ADDRESS |
        VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL | VPID_CAP_INVVPID_SINGLE_NONGLOBAL;
}

bool nested_vmx_msr_offered(const struct nested_vmx_caps *caps, uint32_t msr)
{
    uint32_t proc2 = caps->may_be_1[VMX_CTL_PROC2];
    if (msr < NESTED_VMX_MSR_FIRST || msr >= NESTED_VMX_MSR_FIRST + NESTED_VMX_MSR_COUNT)
        return false;
    /* SDM Vol. 3D A.3.3, A.10, A.11: these exist only with the features
     * they describe. */
    switch (msr - NESTED_VMX_MSR_FIRST) {
    case NESTED_VMX_PROCBASED2:
        return caps->may_be_1[VMX_CTL_PROC] & PROC_ACTIVATE_SECONDARY;
    case NESTED_VMX_EPT_VPID_CAP:
        return proc2 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID);
    case NESTED_VMX_VMFUNC:
        return proc2 & PROC2_ENABLE_VMFUNC;
    case NESTED_VMX_TRUE_PINBASED:
    case NESTED_VMX_TRUE_PROCBASED:
    case NESTED_VMX_TRUE_EXIT:
    case NESTED_VMX_TRUE_ENTRY:
        return caps->msr[NESTED_VMX_BASIC] & VMX_BASIC_TRUE_CONTROLS;
    default:
        return true;
    }
}
