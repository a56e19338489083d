#ifndef VMX_VMCS_CONFIG_H
#define VMX_VMCS_CONFIG_H
/*
 * The VMX configuration every vCPU's VMCS is built from, negotiated once
 * from a CPU's capability MSRs the way KVM's setup_vmcs_config does: each
 * control word asks for required ("min") and optional ("opt") bits, and
 *     ctl = ((min | opt) & allowed1) | allowed0,   failing if min & ~ctl.
 * Pure logic: it takes a snapshot of the MSRs, so it is unit-tested on the
 * host against values recorded from Bochs' CPU models.
 */
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "vmx/vmx_controls.h"

/* The IA32_VMX_* capability MSRs of one CPU (SDM Vol. 3D Appendix A). */
struct vmx_capability_msrs {
    uint64_t basic;             /* IA32_VMX_BASIC 0x480 */
    uint64_t pinbased;          /* 0x481 */
    uint64_t procbased;         /* 0x482 */
    uint64_t exit;              /* 0x483 */
    uint64_t entry;             /* 0x484 */
    uint64_t misc;              /* 0x485 */
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;   /* 0x486-0x489 */
    uint64_t vmcs_enum;         /* 0x48a */
    uint64_t procbased2;        /* 0x48b, 0 when secondary controls are not offered */
    uint64_t ept_vpid_cap;      /* 0x48c, 0 when neither EPT nor VPID is offered */
    uint64_t true_pinbased, true_procbased, true_exit, true_entry;  /* 0x48d-0x490 */
    uint64_t vmfunc;            /* 0x491 */
};

/* IA32_VMX_BASIC (SDM Vol. 3D A.1). */
#define VMX_BASIC_REVISION(b)      ((uint32_t)(b) & 0x7fffffff)
#define VMX_BASIC_REGION_SIZE(b)   ((uint32_t)((b) >> 32) & 0x1fff)
#define VMX_BASIC_32BIT_ADDRESSES  (1ull << 48)
#define VMX_BASIC_MEMORY_TYPE(b)   ((uint32_t)((b) >> 50) & 0xf)
#define VMX_BASIC_INS_OUTS_INFO    (1ull << 54)   /* INS/OUTS exits report instruction info */
#define VMX_BASIC_TRUE_CONTROLS    (1ull << 55)
#define VMX_MEMORY_TYPE_WB         6

/* IA32_VMX_EPT_VPID_CAP (SDM Vol. 3D A.10). */
#define EPT_CAP_EXEC_ONLY          (1ull << 0)
#define EPT_CAP_WALK_4             (1ull << 6)
#define EPT_CAP_WALK_5             (1ull << 7)
#define EPT_CAP_UC                 (1ull << 8)
#define EPT_CAP_WB                 (1ull << 14)
#define EPT_CAP_2M                 (1ull << 16)
#define EPT_CAP_1G                 (1ull << 17)
#define EPT_CAP_INVEPT             (1ull << 20)
#define EPT_CAP_AD                 (1ull << 21)
#define EPT_CAP_ADVANCED_EXIT_INFO (1ull << 22)
#define EPT_CAP_INVEPT_SINGLE      (1ull << 25)
#define EPT_CAP_INVEPT_ALL         (1ull << 26)
#define VPID_CAP_INVVPID           (1ull << 32)
#define VPID_CAP_INVVPID_ADDRESS   (1ull << 40)
#define VPID_CAP_INVVPID_SINGLE    (1ull << 41)
#define VPID_CAP_INVVPID_ALL       (1ull << 42)
#define VPID_CAP_INVVPID_SINGLE_NONGLOBAL (1ull << 43)

/* IA32_VMX_MISC (SDM Vol. 3D A.6). */
#define VMX_MISC_PREEMPTION_TIMER_RATE(m) ((uint32_t)(m) & 0x1f)
#define VMX_MISC_SAVE_EFER_LMA     (1ull << 5)    /* VM exit stores EFER.LMA into "IA-32e mode guest" */
#define VMX_MISC_ACTIVITY_HLT      (1ull << 6)
#define VMX_MISC_ACTIVITY_SHUTDOWN (1ull << 7)
#define VMX_MISC_ACTIVITY_WAIT_SIPI (1ull << 8)
#define VMX_MISC_VMWRITE_ANY_FIELD (1ull << 29)

struct vmcs_config {
    uint32_t revision_id;
    uint32_t region_size;       /* bytes of a VMXON region or VMCS */
    uint32_t ctl[VMX_CTL_CLASSES];
    uint32_t allowed1[VMX_CTL_CLASSES]; /* what a VMCS may turn on beyond ctl */
    uint64_t ept_vpid_cap;      /* only the capabilities we will use */
    uint32_t preemption_timer_rate;     /* TSC bits shifted right for the timer */
    uint64_t misc;
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    bool ins_outs_info;         /* INS/OUTS exits report instruction information */
};

/*
 * Negotiates `cfg` from `caps`. On failure returns false and writes a
 * message naming what is missing to `why`, e.g.
 * "required secondary processor-based control 'enable EPT' is not supported".
 */
/* Leaves the VMX-preemption timer off. */
void vmcs_config_drop_preemption_timer(struct vmcs_config *cfg);
bool vmcs_config_negotiate(const struct vmx_capability_msrs *caps, struct vmcs_config *cfg,
                           char *why, size_t why_size);

/* The one-line summary printed at boot:
 * "vmx: rev 4, ept 4lvl 2M 1G A/D, vpid, ple, shadow-vmcs, pml, unrestricted,
 *  preempt-timer(rate 0)". Returns the length snprintf would. */
int vmcs_config_describe(const struct vmcs_config *cfg, char *buf, size_t size);

/* Whether two CPUs negotiated the same configuration; if not, `why` names
 * the first field that differs. */
bool vmcs_config_same(const struct vmcs_config *a, const struct vmcs_config *b, char *why,
                      size_t why_size);

#endif
