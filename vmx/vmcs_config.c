/* VMCS control negotiation (see vmcs_config.h). */
#include "vmx/vmcs_config.h"
#include "lib/error.h"
#include "lib/printf.h"
#include "lib/string.h"

/* What the hypervisor cannot run without, and what it uses when offered. */
static const uint32_t required[VMX_CTL_CLASSES] = {
    [VMX_CTL_PIN] = PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING,
    [VMX_CTL_PROC] = PROC_INTERRUPT_WINDOW_EXITING | PROC_USE_TSC_OFFSETTING | PROC_HLT_EXITING |
                     PROC_MWAIT_EXITING | PROC_MONITOR_EXITING | PROC_RDPMC_EXITING |
                     PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROC_ACTIVATE_SECONDARY,
    /* EPT and unrestricted guest: guest memory and real-mode starts depend on them. */
    [VMX_CTL_PROC2] = PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST,
    [VMX_CTL_EXIT] = EXIT_SAVE_DEBUG_CONTROLS | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_EFER |
                     EXIT_LOAD_EFER,
    [VMX_CTL_ENTRY] = ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_LOAD_EFER,
};

static const uint32_t optional[VMX_CTL_CLASSES] = {
    [VMX_CTL_PIN] = PIN_VIRTUAL_NMIS | PIN_PREEMPTION_TIMER,
    [VMX_CTL_PROC] = PROC_USE_TPR_SHADOW | PROC_NMI_WINDOW_EXITING | PROC_MONITOR_TRAP_FLAG,
    [VMX_CTL_PROC2] = PROC2_ENABLE_VPID | PROC2_PAUSE_LOOP_EXITING | PROC2_VMCS_SHADOWING |
                      PROC2_ENABLE_PML | PROC2_VIRTUALIZE_APIC_ACCESSES |
                      PROC2_VIRTUALIZE_X2APIC | PROC2_APIC_REGISTER_VIRT |
                      PROC2_VIRTUAL_INTR_DELIVERY | PROC2_ENABLE_RDTSCP |
                      PROC2_ENABLE_INVPCID | PROC2_ENABLE_XSAVES | PROC2_WBINVD_EXITING,
    [VMX_CTL_EXIT] = EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_ACK_INTERRUPT_ON_EXIT,
    [VMX_CTL_ENTRY] = ENTRY_LOAD_PAT,
};

/* EPT capabilities without which EPT is unusable for us (KVM disables EPT
 * without them; we cannot run without EPT). */
static const struct {
    uint64_t bit;
    const char *what;
} required_ept_caps[] = {
    { EPT_CAP_WALK_4, "a 4-level page walk" },
    { EPT_CAP_WB, "write-back paging structures" },
    { EPT_CAP_INVEPT, "the INVEPT instruction" },
};

#define EPT_CAPS_USED (EPT_CAP_WALK_4 | EPT_CAP_WB | EPT_CAP_2M | EPT_CAP_1G | EPT_CAP_INVEPT | \
                       EPT_CAP_AD | EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)
#define VPID_CAPS_USED (VPID_CAP_INVVPID | VPID_CAP_INVVPID_ADDRESS | VPID_CAP_INVVPID_SINGLE | \
                        VPID_CAP_INVVPID_ALL | VPID_CAP_INVVPID_SINGLE_NONGLOBAL)

/* SDM Vol. 3D A.3-A.5: bits 31:0 of a control MSR are the allowed 0-settings
 * (a 1 there forces the control on), bits 63:32 the allowed 1-settings. */
static bool adjust_controls(enum vmx_control_class cls, uint32_t min, uint32_t opt,
                            uint64_t msr, uint32_t *ctl, char *why, size_t why_size)
{
    uint32_t allowed0 = (uint32_t)msr, allowed1 = (uint32_t)(msr >> 32);
    uint32_t v = ((min | opt) & allowed1) | allowed0;
    uint32_t missing = min & ~v;
    if (missing) {
        unsigned bit = (unsigned)__builtin_ctz(missing);
        const char *name = vmx_control_name(cls, bit);
        return fail(why, why_size, "required %s control '%s' (bit %u) is not supported",
                    vmx_control_class_name(cls), name ? name : "?", bit);
    }
    *ctl = v;
    return true;
}

/* The capability MSR that governs each control word: the TRUE_ variants
 * when IA32_VMX_BASIC[55] says they exist (SDM Vol. 3D A.2). */
static uint64_t control_msr(const struct vmx_capability_msrs *caps, enum vmx_control_class cls)
{
    bool use_true = caps->basic & VMX_BASIC_TRUE_CONTROLS;
    switch (cls) {
    case VMX_CTL_PIN: return use_true ? caps->true_pinbased : caps->pinbased;
    case VMX_CTL_PROC: return use_true ? caps->true_procbased : caps->procbased;
    case VMX_CTL_PROC2: return caps->procbased2;
    case VMX_CTL_EXIT: return use_true ? caps->true_exit : caps->exit;
    case VMX_CTL_ENTRY: return use_true ? caps->true_entry : caps->entry;
    default: return 0;
    }
}

static bool check_basic(const struct vmx_capability_msrs *caps, struct vmcs_config *cfg,
                        char *why, size_t why_size)
{
    cfg->revision_id = VMX_BASIC_REVISION(caps->basic);
    cfg->region_size = VMX_BASIC_REGION_SIZE(caps->basic);
    if (!cfg->region_size || cfg->region_size > 4096)
        return fail(why, why_size, "VMCS size %u is not in 1..4096", cfg->region_size);
    if (caps->basic & VMX_BASIC_32BIT_ADDRESSES)
        return fail(why, why_size, "VMX regions are limited to 32-bit physical addresses");
    if (VMX_BASIC_MEMORY_TYPE(caps->basic) != VMX_MEMORY_TYPE_WB)
        return fail(why, why_size, "VMCS memory type %u is not write-back",
                    VMX_BASIC_MEMORY_TYPE(caps->basic));
    return true;
}

/* Drops optional features whose prerequisites are missing. */
static void drop_unusable_features(struct vmcs_config *cfg)
{
    uint32_t *proc2 = &cfg->ctl[VMX_CTL_PROC2];
    /* NMI-window exiting is only legal with virtual NMIs (SDM 27.2.1.1). */
    if (!(cfg->ctl[VMX_CTL_PIN] & PIN_VIRTUAL_NMIS))
        cfg->ctl[VMX_CTL_PROC] &= ~PROC_NMI_WINDOW_EXITING;
    /* x2APIC virtualization, APIC-register virtualization and virtual-interrupt
     * delivery all need the TPR shadow (SDM 27.2.1.1). */
    if (!(cfg->ctl[VMX_CTL_PROC] & PROC_USE_TPR_SHADOW))
        *proc2 &= ~(PROC2_VIRTUALIZE_X2APIC | PROC2_APIC_REGISTER_VIRT |
                    PROC2_VIRTUAL_INTR_DELIVERY);
    /* PML logs pages whose EPT dirty flag gets set: useless without A/D. */
    if (!(cfg->ept_vpid_cap & EPT_CAP_AD))
        *proc2 &= ~PROC2_ENABLE_PML;
    /* Without INVVPID we could not flush a reused VPID: run without VPIDs. */
    if (!(cfg->ept_vpid_cap & VPID_CAP_INVVPID) ||
        !(cfg->ept_vpid_cap & (VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL)))
        *proc2 &= ~PROC2_ENABLE_VPID;
    if (!(*proc2 & PROC2_ENABLE_VPID))
        cfg->ept_vpid_cap &= ~VPID_CAPS_USED;
    /* Loading the guest's PAT without restoring the host's on exit (or the
     * reverse) would leave one's memory types in force for the other. */
    if (!(cfg->ctl[VMX_CTL_ENTRY] & ENTRY_LOAD_PAT) || !(cfg->ctl[VMX_CTL_EXIT] & EXIT_LOAD_PAT)) {
        cfg->ctl[VMX_CTL_ENTRY] &= ~ENTRY_LOAD_PAT;
        cfg->ctl[VMX_CTL_EXIT] &= ~(EXIT_LOAD_PAT | EXIT_SAVE_PAT);
    }
    cfg->preemption_timer_rate = (cfg->ctl[VMX_CTL_PIN] & PIN_PREEMPTION_TIMER)
                                     ? VMX_MISC_PREEMPTION_TIMER_RATE(cfg->misc) : 0;
}

bool vmcs_config_negotiate(const struct vmx_capability_msrs *caps, struct vmcs_config *cfg,
                           char *why, size_t why_size)
{
    memset(cfg, 0, sizeof(*cfg));
    if (!check_basic(caps, cfg, why, why_size))
        return false;
    for (int cls = 0; cls < VMX_CTL_CLASSES; cls++) {
        uint64_t msr = control_msr(caps, cls);
        /* Secondary controls exist only if the primary ones can activate them. */
        if (cls == VMX_CTL_PROC2 && !(cfg->ctl[VMX_CTL_PROC] & PROC_ACTIVATE_SECONDARY))
            msr = 0;
        if (!adjust_controls(cls, required[cls], optional[cls], msr, &cfg->ctl[cls], why,
                             why_size))
            return false;
        cfg->allowed1[cls] = (uint32_t)(msr >> 32);
    }
    /* Without a TPR shadow, CR8 accesses must exit (KVM does the same). Until
     * the virtual APIC uses the TPR shadow, vCPUs make CR8 accesses exit in
     * any case, so the CPU must allow that. */
    const uint32_t cr8_exits = PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING;
    if (!(cfg->ctl[VMX_CTL_PROC] & PROC_USE_TPR_SHADOW) &&
        !adjust_controls(VMX_CTL_PROC, required[VMX_CTL_PROC] | cr8_exits,
                         optional[VMX_CTL_PROC], control_msr(caps, VMX_CTL_PROC),
                         &cfg->ctl[VMX_CTL_PROC], why, why_size))
        return false;
    if ((cfg->allowed1[VMX_CTL_PROC] & cr8_exits) != cr8_exits)
        return fail(why, why_size, "required primary processor-based controls 'CR8-load "
                                   "exiting' and 'CR8-store exiting' are not supported");

    for (size_t i = 0; i < sizeof(required_ept_caps) / sizeof(required_ept_caps[0]); i++)
        if (!(caps->ept_vpid_cap & required_ept_caps[i].bit))
            return fail(why, why_size, "EPT does not support %s", required_ept_caps[i].what);
    if (!(caps->ept_vpid_cap & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)))
        return fail(why, why_size, "INVEPT supports neither single-context nor all-context");
    cfg->ept_vpid_cap = caps->ept_vpid_cap & (EPT_CAPS_USED | VPID_CAPS_USED);
    cfg->misc = caps->misc;
    cfg->ins_outs_info = caps->basic & VMX_BASIC_INS_OUTS_INFO;
    cfg->cr0_fixed0 = caps->cr0_fixed0;
    cfg->cr0_fixed1 = caps->cr0_fixed1;
    cfg->cr4_fixed0 = caps->cr4_fixed0;
    cfg->cr4_fixed1 = caps->cr4_fixed1;
    drop_unusable_features(cfg);
    return true;
}

int vmcs_config_describe(const struct vmcs_config *cfg, char *buf, size_t size)
{
    uint32_t proc2 = cfg->ctl[VMX_CTL_PROC2];
    uint64_t cap = cfg->ept_vpid_cap;
    char timer[32] = "";
    if (cfg->ctl[VMX_CTL_PIN] & PIN_PREEMPTION_TIMER)
        snprintf(timer, sizeof(timer), ", preempt-timer(rate %u)", cfg->preemption_timer_rate);
    return snprintf(buf, size, "vmx: rev %u, ept 4lvl%s%s%s%s%s%s%s%s%s", cfg->revision_id,
                    cap & EPT_CAP_2M ? " 2M" : "", cap & EPT_CAP_1G ? " 1G" : "",
                    cap & EPT_CAP_AD ? " A/D" : "",
                    proc2 & PROC2_ENABLE_VPID ? ", vpid" : "",
                    proc2 & PROC2_PAUSE_LOOP_EXITING ? ", ple" : "",
                    proc2 & PROC2_VMCS_SHADOWING ? ", shadow-vmcs" : "",
                    proc2 & PROC2_ENABLE_PML ? ", pml" : "",
                    proc2 & PROC2_UNRESTRICTED_GUEST ? ", unrestricted" : "", timer);
}

bool vmcs_config_same(const struct vmcs_config *a, const struct vmcs_config *b, char *why,
                      size_t why_size)
{
    if (a->revision_id != b->revision_id || a->region_size != b->region_size)
        return fail(why, why_size, "VMCS revision/size differ (%u/%u vs %u/%u)", a->revision_id,
                    a->region_size, b->revision_id, b->region_size);
    for (int cls = 0; cls < VMX_CTL_CLASSES; cls++)
        if (a->ctl[cls] != b->ctl[cls])
            return fail(why, why_size, "%s controls differ (0x%08x vs 0x%08x)",
                        vmx_control_class_name(cls), a->ctl[cls], b->ctl[cls]);
    if (a->ept_vpid_cap != b->ept_vpid_cap)
        return fail(why, why_size, "EPT/VPID capabilities differ (0x%lx vs 0x%lx)",
                    (unsigned long)a->ept_vpid_cap, (unsigned long)b->ept_vpid_cap);
    if (a->misc != b->misc)
        return fail(why, why_size, "IA32_VMX_MISC differs (0x%lx vs 0x%lx)",
                    (unsigned long)a->misc, (unsigned long)b->misc);
    if (a->cr0_fixed0 != b->cr0_fixed0 || a->cr0_fixed1 != b->cr0_fixed1 ||
        a->cr4_fixed0 != b->cr4_fixed0 || a->cr4_fixed1 != b->cr4_fixed1)
        return fail(why, why_size, "CR0/CR4 fixed bits differ");
    return true;
}

void vmcs_config_drop_preemption_timer(struct vmcs_config *cfg)
{
    cfg->ctl[VMX_CTL_PIN] &= ~PIN_PREEMPTION_TIMER;
    cfg->preemption_timer_rate = 0;
}
