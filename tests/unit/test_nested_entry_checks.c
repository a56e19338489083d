/* The software checks of a nested VM entry: a valid vmcs12 (a 64-bit L1
 * launching a 64-bit L2 with the controls a KVM-like L1 uses) passes all
 * three; each mutation below breaks one check and must fail at that check,
 * with the right error number or exit qualification, after the earlier
 * stages passed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "nested/entry_checks.h"

/* ---- Architectural bits ---- */

#define CR0_PE      (1ull << 0)
#define CR0_NE      (1ull << 5)
#define CR0_WP      (1ull << 16)
#define CR0_NW      (1ull << 29)
#define CR0_CD      (1ull << 30)
#define CR0_PG      (1ull << 31)
#define CR4_PAE     (1ull << 5)
#define CR4_LA57    (1ull << 12)
#define CR4_VMXE    (1ull << 13)
#define CR4_PCIDE   (1ull << 17)
#define CR4_CET     (1ull << 23)
#define EFER_SCE    (1ull << 0)
#define EFER_LME    (1ull << 8)
#define EFER_LMA    (1ull << 10)
#define EFER_NXE    (1ull << 11)
#define RFLAGS_FIXED 0x2ull
#define RFLAGS_TF   (1ull << 8)
#define RFLAGS_IF   (1ull << 9)
#define RFLAGS_VM   (1ull << 17)
#define DEBUGCTL_BTF 2ull
#define PENDING_BS  (1ull << 14)

/* Segment access rights: present, S, type; DPL, L, D/B, G, unusable. */
#define CODE64_AR   0xa09bull       /* execute/read accessed code, L, G */
#define CODE32_AR   0xc09bull       /* the same with D/B instead of L */
#define DATA_AR_DPL0 0xc093ull      /* read/write accessed data, D/B, G */
#define TSS_AR      0x8bull         /* busy TSS, S = 0 */
#define LDT_AR      0x82ull
#define V86_AR      0xf3ull
#define UNUSABLE_AR 0x1c000ull      /* a null selector's, as VM exits save it */
#define AR_DPL(dpl) ((uint64_t)(dpl) << 5)

/* VM-entry interruption information: valid, type, vector, error code. */
#define EVENT(type, vector) (1u << 31 | (type) << 8 | (vector))
#define WITH_ERROR_CODE     (1u << 11)
enum { EXT_INT = 0, NMI = 2, HW_EXC = 3, SW_INT = 4, PRIV_SW_EXC = 5, SW_EXC = 6, OTHER = 7 };

#define STI     1u
#define MOV_SS  2u
#define SMI     4u
#define NMI_BLOCKED 8u

enum { ACTIVE, HLT, SHUTDOWN, WAIT_FOR_SIPI };

/* ---- What L1 is offered: as nested/vmx_caps.c computes it on a Bochs
 * model (the emulated controls that the machine has, the timer always; no
 * EPT, VPID, TPR shadow, virtual NMIs, MTF, APIC virtualization) ---- */

/* The default1 bits that must stay 1 (the TRUE capability MSRs, Bochs). */
#define PIN_DEFAULT1    0x00000016u
#define PROC_DEFAULT1   0x04006172u
#define EXIT_DEFAULT1   0x00036dfbu
#define ENTRY_DEFAULT1  0x000011fbu

#define PHYS_BITS   40
#define ABOVE_PHYS  (1ull << PHYS_BITS)
#define WB_4LEVEL   0x1eull                     /* EPTP: WB, walk length 4 */

static struct nested_vmx_caps typical_caps(void)
{
    struct nested_vmx_caps caps = {
        .must_be_1 = {
            [VMX_CTL_PIN] = PIN_DEFAULT1, [VMX_CTL_PROC] = PROC_DEFAULT1,
            [VMX_CTL_EXIT] = EXIT_DEFAULT1, [VMX_CTL_ENTRY] = ENTRY_DEFAULT1,
        },
        .may_be_1 = {
            [VMX_CTL_PIN] = PIN_DEFAULT1 | PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING |
                            PIN_PREEMPTION_TIMER,
            [VMX_CTL_PROC] = PROC_DEFAULT1 | PROC_INTERRUPT_WINDOW_EXITING |
                             PROC_USE_TSC_OFFSETTING | PROC_HLT_EXITING | PROC_INVLPG_EXITING |
                             PROC_MWAIT_EXITING | PROC_RDPMC_EXITING | PROC_RDTSC_EXITING |
                             PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING |
                             PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING |
                             PROC_MOV_DR_EXITING | PROC_UNCONDITIONAL_IO_EXITING |
                             PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROC_MONITOR_EXITING |
                             PROC_PAUSE_EXITING | PROC_ACTIVATE_SECONDARY,
            [VMX_CTL_PROC2] = PROC2_ENABLE_RDTSCP | PROC2_WBINVD_EXITING,
            [VMX_CTL_EXIT] = EXIT_DEFAULT1 | EXIT_SAVE_DEBUG_CONTROLS |
                             EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTERRUPT_ON_EXIT |
                             EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_EFER | EXIT_LOAD_EFER |
                             EXIT_SAVE_PREEMPTION_TIMER,
            [VMX_CTL_ENTRY] = ENTRY_DEFAULT1 | ENTRY_LOAD_DEBUG_CONTROLS |
                              ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER,
        },
    };
    /* Only the MSRs the checks read. No BASIC[56]; MISC: timer rate 5, LMA
     * saved, HLT; no CR3 targets; 512-entry lists; no zero-length
     * injection. EPT_VPID_CAP and VMFUNC: 0. */
    caps.msr[NESTED_VMX_BASIC] = VMCS12_REVISION | 4096ull << 32 | 6ull << 50 | 1ull << 55;
    caps.msr[NESTED_VMX_MISC] = 5 | 1ull << 5 | VMX_MISC_ACTIVITY_HLT;
    caps.msr[NESTED_VMX_CR0_FIXED0] = CR0_PG | CR0_NE | CR0_PE;
    caps.msr[NESTED_VMX_CR0_FIXED1] = 0xffffffff;
    caps.msr[NESTED_VMX_CR4_FIXED0] = CR4_VMXE;
    caps.msr[NESTED_VMX_CR4_FIXED1] = 0x3727ff;
    return caps;
}

/* Caps that offer more, to reach the checks of controls not offered today:
 * EPT and VPID as KVM offers them (4-level, WB), or every control with
 * every EPT feature and EPTP switching. */
#define EPT_CAPS (EPT_CAP_EXEC_ONLY | EPT_CAP_WALK_4 | EPT_CAP_WB | EPT_CAP_2M | EPT_CAP_1G | \
                  EPT_CAP_INVEPT | EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL |             \
                  VPID_CAP_INVVPID | VPID_CAP_INVVPID_ADDRESS | VPID_CAP_INVVPID_SINGLE |   \
                  VPID_CAP_INVVPID_ALL | VPID_CAP_INVVPID_SINGLE_NONGLOBAL)
static void offer_ept(struct nested_vmx_caps *caps)
{
    caps->may_be_1[VMX_CTL_PROC2] |= PROC2_ENABLE_EPT | PROC2_ENABLE_VPID;
    caps->msr[NESTED_VMX_EPT_VPID_CAP] = EPT_CAPS;
}
static void offer_every_control(struct nested_vmx_caps *caps)
{
    for (int cls = 0; cls < VMX_CTL_CLASSES; cls++)
        caps->may_be_1[cls] = ~0u;
    caps->msr[NESTED_VMX_EPT_VPID_CAP] = EPT_CAPS | EPT_CAP_UC | EPT_CAP_WALK_5 | EPT_CAP_AD;
    caps->msr[NESTED_VMX_VMFUNC] = 1;   /* EPTP switching */
}
static void offer_mtf(struct nested_vmx_caps *caps)
{
    caps->may_be_1[VMX_CTL_PROC] |= PROC_MONITOR_TRAP_FLAG;
}
static void offer_zero_length_injection(struct nested_vmx_caps *caps)
{
    caps->msr[NESTED_VMX_MISC] |= 1ull << 30;
}
static void offer_any_error_code(struct nested_vmx_caps *caps)
{
    caps->msr[NESTED_VMX_BASIC] |= 1ull << 56;
}
static void offer_cet(struct nested_vmx_caps *caps)
{
    caps->msr[NESTED_VMX_CR4_FIXED1] |= CR4_CET;
}
static void offer_la57(struct nested_vmx_caps *caps)
{
    caps->msr[NESTED_VMX_CR4_FIXED1] |= CR4_LA57;
}
static void offer_shutdown_and_wait_for_sipi(struct nested_vmx_caps *caps)
{
    caps->msr[NESTED_VMX_MISC] |= VMX_MISC_ACTIVITY_SHUTDOWN | VMX_MISC_ACTIVITY_WAIT_SIPI;
}
static void fixed1_without_cd_nw(struct nested_vmx_caps *caps)
{
    caps->msr[NESTED_VMX_CR0_FIXED1] &= ~(CR0_CD | CR0_NW);
}

/* ---- The valid vmcs12: a 64-bit Linux-like L1 (KVM without EPT: shadow
 * paging with CR3 and INVLPG exits) and a 64-bit L2 ---- */

#define BASE_PIN (PIN_DEFAULT1 | PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING)
#define BASE_PROC (PROC_DEFAULT1 | PROC_USE_TSC_OFFSETTING | PROC_HLT_EXITING | \
                   PROC_INVLPG_EXITING | PROC_MWAIT_EXITING | PROC_RDPMC_EXITING | \
                   PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING | PROC_CR8_LOAD_EXITING | \
                   PROC_CR8_STORE_EXITING | PROC_MOV_DR_EXITING | \
                   PROC_UNCONDITIONAL_IO_EXITING | PROC_USE_MSR_BITMAPS | \
                   PROC_MONITOR_EXITING | PROC_ACTIVATE_SECONDARY)
#define BASE_PROC2 PROC2_ENABLE_RDTSCP
#define BASE_EXIT (EXIT_DEFAULT1 | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTERRUPT_ON_EXIT | \
                   EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_EFER | EXIT_LOAD_EFER)
#define BASE_ENTRY (ENTRY_DEFAULT1 | ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_IA32E_MODE_GUEST | \
                    ENTRY_LOAD_PAT | ENTRY_LOAD_EFER)
#define BASE_CR0 (CR0_PG | CR0_WP | CR0_NE | CR0_PE | 0x40032ull)   /* + AM, ET, MP */
#define BASE_CR4 (CR4_VMXE | CR4_PAE | 0x680ull)                    /* + PGE, OSFXSR, OSXMMEXCPT */
#define BASE_EFER (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)
#define LINUX_PAT 0x0007040600070406ull
#define BASE_RIP  0xffffffffc0a01000ull
#define FLAT      0xffffffffull                 /* a 4-GiB segment limit */

static const struct { uint32_t encoding; uint64_t value; } valid_fields[] = {
    { PIN_BASED_VM_EXEC_CONTROL, BASE_PIN },
    { CPU_BASED_VM_EXEC_CONTROL, BASE_PROC },
    { SECONDARY_VM_EXEC_CONTROL, BASE_PROC2 },
    { VM_EXIT_CONTROLS, BASE_EXIT },
    { VM_ENTRY_CONTROLS, BASE_ENTRY },
    { CR3_TARGET_COUNT, 0 },
    { MSR_BITMAP, 0x10000 },
    { VM_EXIT_MSR_STORE_COUNT, 1 },
    { VM_EXIT_MSR_STORE_ADDR, 0x13000 },
    { VM_EXIT_MSR_LOAD_COUNT, 2 },
    { VM_EXIT_MSR_LOAD_ADDR, 0x14000 },
    { VM_ENTRY_MSR_LOAD_COUNT, 2 },
    { VM_ENTRY_MSR_LOAD_ADDR, 0x15000 },
    { VM_ENTRY_INTR_INFO, 0 },
    /* host: L1's kernel */
    { HOST_CR0, BASE_CR0 },
    { HOST_CR3, 0x1000000 },
    { HOST_CR4, BASE_CR4 },
    { HOST_ES_SELECTOR, 0 }, { HOST_CS_SELECTOR, 0x10 }, { HOST_SS_SELECTOR, 0x18 },
    { HOST_DS_SELECTOR, 0 }, { HOST_FS_SELECTOR, 0 }, { HOST_GS_SELECTOR, 0 },
    { HOST_TR_SELECTOR, 0x40 },
    { HOST_FS_BASE, 0 },
    { HOST_GS_BASE, 0xffff888237c00000ull },
    { HOST_TR_BASE, 0xfffffe0000003000ull },
    { HOST_GDTR_BASE, 0xfffffe0000001000ull },
    { HOST_IDTR_BASE, 0xfffffe0000000000ull },
    { HOST_IA32_SYSENTER_ESP, 0xfffffe0000004000ull },
    { HOST_IA32_SYSENTER_EIP, 0xffffffff81c01b10ull },
    { HOST_IA32_PAT, LINUX_PAT },
    { HOST_IA32_EFER, BASE_EFER },
    { HOST_RSP, 0xffffc90000123f00ull },
    { HOST_RIP, BASE_RIP },
    /* guest: a 64-bit kernel */
    { GUEST_CR0, BASE_CR0 },
    { GUEST_CR3, 0x2000000 },
    { GUEST_CR4, BASE_CR4 },
    { GUEST_IA32_DEBUGCTL, 0 },
    { GUEST_DR7, 0x400 },
    { GUEST_IA32_PAT, LINUX_PAT },
    { GUEST_IA32_EFER, BASE_EFER },
    { GUEST_SYSENTER_ESP, 0xfffffe0000004000ull },
    { GUEST_SYSENTER_EIP, 0xffffffff81c01b10ull },
    /* flat code and data at CPL 0; FS and GS null (unusable) with the user's
     * TLS and the kernel's per-CPU bases; no LDT; a busy 64-bit TSS */
    { GUEST_CS_SELECTOR, 0x10 }, { GUEST_CS_LIMIT, FLAT }, { GUEST_CS_AR_BYTES, CODE64_AR },
    { GUEST_SS_SELECTOR, 0x18 }, { GUEST_SS_LIMIT, FLAT }, { GUEST_SS_AR_BYTES, DATA_AR_DPL0 },
    { GUEST_DS_SELECTOR, 0x18 }, { GUEST_DS_LIMIT, FLAT }, { GUEST_DS_AR_BYTES, DATA_AR_DPL0 },
    { GUEST_ES_SELECTOR, 0x18 }, { GUEST_ES_LIMIT, FLAT }, { GUEST_ES_AR_BYTES, DATA_AR_DPL0 },
    { GUEST_FS_SELECTOR, 0 }, { GUEST_FS_BASE, 0x7f3a1c2e5740ull },
    { GUEST_FS_AR_BYTES, UNUSABLE_AR },
    { GUEST_GS_SELECTOR, 0 }, { GUEST_GS_BASE, 0xffff888237c00000ull },
    { GUEST_GS_AR_BYTES, UNUSABLE_AR },
    { GUEST_LDTR_SELECTOR, 0 }, { GUEST_LDTR_AR_BYTES, UNUSABLE_AR },
    { GUEST_TR_SELECTOR, 0x40 }, { GUEST_TR_BASE, 0xfffffe0000003000ull },
    { GUEST_TR_LIMIT, 0x206f }, { GUEST_TR_AR_BYTES, TSS_AR },
    { GUEST_GDTR_BASE, 0xfffffe0000001000ull }, { GUEST_GDTR_LIMIT, 0x7f },
    { GUEST_IDTR_BASE, 0xfffffe0000000000ull }, { GUEST_IDTR_LIMIT, 0xfff },
    { GUEST_RSP, 0xffffc90000093e80ull },
    { GUEST_RIP, 0xffffffff81e4d0b2ull },
    { GUEST_RFLAGS, RFLAGS_FIXED | RFLAGS_IF },
    { GUEST_PENDING_DBG_EXCEPTIONS, 0 },
    { GUEST_ACTIVITY_STATE, ACTIVE },
    { GUEST_INTERRUPTIBILITY_INFO, 0 },
    { VMCS_LINK_POINTER, ~0ull },
};

static void make_valid(struct vmcs12 *vmcs12)
{
    memset(vmcs12, 0, sizeof(*vmcs12));
    vmcs12->revision = VMCS12_REVISION;
    for (unsigned i = 0; i < sizeof(valid_fields) / sizeof(valid_fields[0]); i++)
        vmcs12_write(vmcs12, valid_fields[i].encoding, valid_fields[i].value);
}

static void valid_vmcs12_passes_all_checks(void **state)
{
    (void)state;
    static struct vmcs12 vmcs12;
    make_valid(&vmcs12);
    struct nested_vmx_caps caps = typical_caps();
    const char *failed = NULL;
    uint64_t qualification = 0xdead;
    assert_int_equal(nested_check_controls(&vmcs12, &caps, PHYS_BITS, &failed), 0);
    assert_int_equal(nested_check_host_state(&vmcs12, &caps, PHYS_BITS, 48, true, &failed), 0);
    assert_true(nested_check_guest_state(&vmcs12, &caps, PHYS_BITS, UINT32_MAX, NULL,
                                         &qualification, &failed));
    assert_null(failed);
    assert_int_equal(qualification, 0xdead);
}

static void failed_check_may_be_ignored(void **state)
{
    (void)state;
    static struct vmcs12 vmcs12;
    make_valid(&vmcs12);
    struct nested_vmx_caps caps = typical_caps();
    vmcs12_write(&vmcs12, CR3_TARGET_COUNT, 1);
    vmcs12_write(&vmcs12, HOST_TR_SELECTOR, 0);
    vmcs12_write(&vmcs12, VMCS_LINK_POINTER, 0);
    uint64_t qualification = 0;
    assert_int_equal(nested_check_controls(&vmcs12, &caps, PHYS_BITS, NULL),
                     VMXERR_ENTRY_INVALID_CONTROL_FIELD);
    assert_int_equal(nested_check_host_state(&vmcs12, &caps, PHYS_BITS, 48, true, NULL),
                     VMXERR_ENTRY_INVALID_HOST_STATE_FIELD);
    assert_false(nested_check_guest_state(&vmcs12, &caps, PHYS_BITS, UINT32_MAX, NULL,
                                          &qualification, NULL));
    assert_int_equal(qualification, NESTED_ENTRY_FAILURE_LINK_POINTER);
}

/* The segment checks are skipped only for the very inputs they last passed
 * on: a changed segment field, or RFLAGS.VM, which selects their rules,
 * runs them again. */
static void segment_memo_skips_only_unchanged_state(void **state)
{
    (void)state;
    static struct vmcs12 vmcs12;
    make_valid(&vmcs12);
    struct nested_vmx_caps caps = typical_caps();
    struct nested_segment_memo memo = { 0 };
    uint64_t qualification;
    const char *failed = NULL;
    assert_true(nested_check_guest_state(&vmcs12, &caps, PHYS_BITS, UINT32_MAX, &memo,
                                         &qualification, NULL));
    assert_true(memo.valid);
    assert_true(nested_check_guest_state(&vmcs12, &caps, PHYS_BITS, UINT32_MAX, &memo,
                                         &qualification, NULL));
    uint64_t ar;
    vmcs12_read(&vmcs12, GUEST_CS_AR_BYTES, &ar);
    vmcs12_write(&vmcs12, GUEST_CS_AR_BYTES, ar & ~(1ull << 7));       /* CS not present */
    assert_false(nested_check_guest_state(&vmcs12, &caps, PHYS_BITS, UINT32_MAX, &memo,
                                          &qualification, &failed));
    assert_string_equal(failed, "guest CS/SS/DS/ES/FS/GS P bit");
    vmcs12_write(&vmcs12, GUEST_CS_AR_BYTES, ar);
    uint64_t rflags;
    vmcs12_read(&vmcs12, GUEST_RFLAGS, &rflags);
    vmcs12_write(&vmcs12, GUEST_RFLAGS, rflags | (1ull << 17));       /* virtual-8086 mode */
    failed = NULL;
    assert_false(nested_check_guest_state(&vmcs12, &caps, PHYS_BITS, UINT32_MAX, &memo,
                                          &qualification, &failed));
    assert_non_null(failed);
}

/* A link pointer naming a region with our revision and bit 31 clear is
 * valid without VMCS shadowing (SDM Vol. 3C 27.3.1.5). */
static void link_pointer_to_a_vmcs_region(void **state)
{
    (void)state;
    static struct vmcs12 vmcs12;
    make_valid(&vmcs12);
    struct nested_vmx_caps caps = typical_caps();
    uint64_t qualification = 0;
    vmcs12_write(&vmcs12, VMCS_LINK_POINTER, 0x1d000);
    assert_true(nested_check_guest_state(&vmcs12, &caps, PHYS_BITS, VMCS12_REVISION,
                                         NULL, &qualification, NULL));
    assert_false(nested_check_guest_state(&vmcs12, &caps, PHYS_BITS, VMCS12_REVISION | 1u << 31,
                                          NULL, &qualification, NULL));
    assert_int_equal(qualification, NESTED_ENTRY_FAILURE_LINK_POINTER);
    vmcs12_write(&vmcs12, VMCS_LINK_POINTER, 0x1d080);
    assert_false(nested_check_guest_state(&vmcs12, &caps, PHYS_BITS, VMCS12_REVISION,
                                          NULL, &qualification, NULL));
    vmcs12_write(&vmcs12, VMCS_LINK_POINTER, 1ull << PHYS_BITS);
    assert_false(nested_check_guest_state(&vmcs12, &caps, PHYS_BITS, VMCS12_REVISION,
                                          NULL, &qualification, NULL));
}

/* With VMCS shadowing the region must be a shadow VMCS: bit 31 set. */
static void link_pointer_to_a_shadow_vmcs(void **state)
{
    (void)state;
    static struct vmcs12 vmcs12;
    make_valid(&vmcs12);
    struct nested_vmx_caps caps = typical_caps();
    uint64_t qualification = 0;
    vmcs12_write(&vmcs12, CPU_BASED_VM_EXEC_CONTROL,
                 vmcs12_get(&vmcs12, CPU_BASED_VM_EXEC_CONTROL) | PROC_ACTIVATE_SECONDARY);
    vmcs12_write(&vmcs12, SECONDARY_VM_EXEC_CONTROL,
                 vmcs12_get(&vmcs12, SECONDARY_VM_EXEC_CONTROL) | PROC2_VMCS_SHADOWING);
    vmcs12_write(&vmcs12, VMCS_LINK_POINTER, 0x1d000);
    assert_true(nested_check_guest_state(&vmcs12, &caps, PHYS_BITS,
                                         VMCS12_REVISION | VMCS12_SHADOW_INDICATOR, NULL,
                                         &qualification, NULL));
    assert_false(nested_check_guest_state(&vmcs12, &caps, PHYS_BITS, VMCS12_REVISION, NULL,
                                          &qualification, NULL));
    assert_int_equal(qualification, NESTED_ENTRY_FAILURE_LINK_POINTER);
    /* all ones: no shadow VMCS, and a VMREAD in L2 fails (not an entry check) */
    vmcs12_write(&vmcs12, VMCS_LINK_POINTER, ~0ull);
    assert_true(nested_check_guest_state(&vmcs12, &caps, PHYS_BITS, UINT32_MAX, NULL,
                                         &qualification, NULL));
}

/* PDPTEs as VM entry loads them for a PAE guest (27.3.1.6): a present one
 * with bits 2:1 or 8:5 set, or beyond the physical width (bit 63
 * included), is invalid; a non-present one is anything. */
static void pdpte_reserved_bits(void **state)
{
    (void)state;
    assert_true(nested_pdpte_valid(0, PHYS_BITS));
    assert_true(nested_pdpte_valid(0xfffffffffffffffeull, PHYS_BITS));    /* not present */
    assert_true(nested_pdpte_valid(0x12345001ull, PHYS_BITS));
    assert_true(nested_pdpte_valid(0x12345019ull, PHYS_BITS));            /* PWT, PCD */
    for (unsigned bit = 1; bit <= 8; bit++) {
        bool reserved = bit == 1 || bit == 2 || (bit >= 5 && bit <= 8);
        assert_int_equal(nested_pdpte_valid(0x12345001ull | 1ull << bit, PHYS_BITS), !reserved);
    }
    assert_false(nested_pdpte_valid(1ull | 1ull << PHYS_BITS, PHYS_BITS));
    assert_false(nested_pdpte_valid(1ull | 1ull << 63, PHYS_BITS));
}

static void entry_failure_exit_reason(void **state)
{
    (void)state;
    assert_int_equal(NESTED_ENTRY_FAILURE_EXIT_REASON, 0x80000021u);
}

/* ---- One mutation per check ---- */

enum stage { PASSES, CONTROLS, HOST_STATE, GUEST_STATE };

struct field_value {
    uint32_t encoding;
    uint64_t value;
    bool used;
};
#define SET(encoding, value) { (encoding), (value), true }

struct mutation {
    const char *name;
    struct field_value fields[12];
    void (*adjust_vmcs12)(struct vmcs12 *vmcs12);   /* before the fields */
    void (*adjust_caps)(struct nested_vmx_caps *caps);
    bool l1_outside_ia32e_mode;
    unsigned linear_addr_bits;      /* 0: 48 */
    enum stage fails_at;
    const char *check;
    uint64_t qualification;         /* for GUEST_STATE */
};

/* L2 in 32-bit PAE mode; L1 in 32-bit mode too (with .l1_outside_ia32e_mode). */
#define L2_32BIT                                                        \
    SET(VM_ENTRY_CONTROLS, BASE_ENTRY & ~ENTRY_IA32E_MODE_GUEST),       \
    SET(GUEST_IA32_EFER, EFER_NXE), SET(GUEST_CS_AR_BYTES, CODE32_AR),  \
    SET(GUEST_RIP, 0xc1000000)
/* L2 at CPL n: its code and stack selectors and descriptors of ring n. */
#define L2_AT_CPL(n)                                                            \
    SET(GUEST_CS_SELECTOR, 0x30 | (n)), SET(GUEST_CS_AR_BYTES, CODE64_AR | AR_DPL(n)),  \
    SET(GUEST_SS_SELECTOR, 0x28 | (n)), SET(GUEST_SS_AR_BYTES, DATA_AR_DPL0 | AR_DPL(n))
/* A usable LDTR with these access rights. */
#define LDTR_USABLE(ar)                                                         \
    SET(GUEST_LDTR_SELECTOR, 0x50), SET(GUEST_LDTR_BASE, 0xfffffe0000010000ull), \
    SET(GUEST_LDTR_LIMIT, 0xffff), SET(GUEST_LDTR_AR_BYTES, (ar))
#define HOST_32BIT                                                      \
    SET(VM_EXIT_CONTROLS, BASE_EXIT & ~EXIT_HOST_ADDR_SPACE_SIZE),      \
    SET(HOST_IA32_EFER, EFER_NXE), SET(HOST_RIP, 0xc0101000)
/* EPT with these secondary controls too (caps: offer_ept or more). */
#define EPTP_VALID (0x12000 | WB_4LEVEL)
#define EPT_ON(proc2)                                                               \
    SET(SECONDARY_VM_EXEC_CONTROL, BASE_PROC2 | PROC2_ENABLE_EPT | (proc2)),        \
    SET(EPT_POINTER, EPTP_VALID)
/* A TPR shadow (caps: offer_every_control). */
#define TPR_SHADOW_ON                                                               \
    SET(CPU_BASED_VM_EXEC_CONTROL, BASE_PROC | PROC_USE_TPR_SHADOW),                \
    SET(VIRTUAL_APIC_PAGE_ADDR, 0x11000)
/* L2 in real mode under "unrestricted guest" (caps: offer_every_control). */
#define L2_REAL_MODE EPT_ON(PROC2_UNRESTRICTED_GUEST), SET(GUEST_CR0, CR0_NE | 0x10), L2_32BIT

/* L2 in virtual-8086 mode under a 32-bit L2 kernel: CS, SS, DS, ES, FS
 * and GS as real mode has them (base = selector * 16, 64 KiB, 0xf3). */
static void l2_virtual_8086(struct vmcs12 *vmcs12)
{
    static const struct { uint32_t selector, base, limit, ar; } segments[] = {
        { GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES },
        { GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES },
        { GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES },
        { GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES },
        { GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES },
        { GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES },
    };
    for (unsigned i = 0; i < sizeof(segments) / sizeof(segments[0]); i++) {
        uint16_t selector = (uint16_t)(0x1000 + 0x100 * i);
        vmcs12_write(vmcs12, segments[i].selector, selector);
        vmcs12_write(vmcs12, segments[i].base, (uint64_t)selector << 4);
        vmcs12_write(vmcs12, segments[i].limit, 0xffff);
        vmcs12_write(vmcs12, segments[i].ar, V86_AR);
    }
    vmcs12_write(vmcs12, VM_ENTRY_CONTROLS, BASE_ENTRY & ~ENTRY_IA32E_MODE_GUEST);
    vmcs12_write(vmcs12, GUEST_IA32_EFER, EFER_NXE);
    vmcs12_write(vmcs12, GUEST_RIP, 0x100);
    vmcs12_write(vmcs12, GUEST_RFLAGS, RFLAGS_FIXED | RFLAGS_IF | RFLAGS_VM);
}

#define CONTROL_FAILS(name) .fails_at = CONTROLS, .check = (name)
#define HOST_FAILS(name) .fails_at = HOST_STATE, .check = (name)
#define GUEST_FAILS(name) .fails_at = GUEST_STATE, .check = (name), \
                          .qualification = NESTED_ENTRY_FAILURE_DEFAULT

static const struct mutation mutations[] = {
    /* ---- VM-execution controls (27.2.1.1) ---- */
    { "pin: a must-be-1 bit clear", { SET(PIN_BASED_VM_EXEC_CONTROL, BASE_PIN & ~4u) },
      CONTROL_FAILS("pin-based controls") },
    { "pin: posted interrupts not offered",
      { SET(PIN_BASED_VM_EXEC_CONTROL, BASE_PIN | PIN_POSTED_INTERRUPTS) },
      CONTROL_FAILS("pin-based controls") },
    { "primary: a must-be-1 bit clear", { SET(CPU_BASED_VM_EXEC_CONTROL, BASE_PROC & ~2u) },
      CONTROL_FAILS("primary processor-based controls") },
    { "primary: TPR shadow not offered",
      { SET(CPU_BASED_VM_EXEC_CONTROL, BASE_PROC | PROC_USE_TPR_SHADOW) },
      CONTROL_FAILS("primary processor-based controls") },
    { "secondary: EPT not offered", { EPT_ON(0) },
      CONTROL_FAILS("secondary processor-based controls") },
    { "secondary: unchecked and ignored when not activated",
      { SET(CPU_BASED_VM_EXEC_CONTROL, BASE_PROC & ~PROC_ACTIVATE_SECONDARY),
        SET(SECONDARY_VM_EXEC_CONTROL, ~0u) },
      .fails_at = PASSES },
    { "CR3-target count above MISC's", { SET(CR3_TARGET_COUNT, 1) },
      CONTROL_FAILS("CR3-target count") },
    { "I/O bitmap B not page-aligned",
      { SET(CPU_BASED_VM_EXEC_CONTROL, BASE_PROC | PROC_USE_IO_BITMAPS),
        SET(IO_BITMAP_A, 0x20000), SET(IO_BITMAP_B, 0x21800) },
      CONTROL_FAILS("I/O-bitmap addresses") },
    { "I/O bitmap A beyond the physical-address width",
      { SET(CPU_BASED_VM_EXEC_CONTROL, BASE_PROC | PROC_USE_IO_BITMAPS),
        SET(IO_BITMAP_A, ABOVE_PHYS), SET(IO_BITMAP_B, 0x21000) },
      CONTROL_FAILS("I/O-bitmap addresses") },
    { "I/O bitmaps in use",
      { SET(CPU_BASED_VM_EXEC_CONTROL, BASE_PROC | PROC_USE_IO_BITMAPS),
        SET(IO_BITMAP_A, 0x20000), SET(IO_BITMAP_B, 0x21000) },
      .fails_at = PASSES },
    { "I/O bitmaps unused: their addresses unchecked",
      { SET(IO_BITMAP_A, 0x123), SET(IO_BITMAP_B, ABOVE_PHYS) }, .fails_at = PASSES },
    { "MSR bitmap not page-aligned", { SET(MSR_BITMAP, 0x10008) },
      CONTROL_FAILS("MSR-bitmap address") },
    { "MSR bitmap beyond the physical-address width", { SET(MSR_BITMAP, ABOVE_PHYS) },
      CONTROL_FAILS("MSR-bitmap address") },
    { "virtual-APIC page not page-aligned",
      { TPR_SHADOW_ON, SET(VIRTUAL_APIC_PAGE_ADDR, 0x11001) },
      .adjust_caps = offer_every_control, CONTROL_FAILS("virtual-APIC address") },
    { "TPR threshold above 15", { TPR_SHADOW_ON, SET(TPR_THRESHOLD, 0x10) },
      .adjust_caps = offer_every_control, CONTROL_FAILS("TPR threshold") },
    { "TPR threshold unchecked with virtual-interrupt delivery",
      { TPR_SHADOW_ON, SET(SECONDARY_VM_EXEC_CONTROL, BASE_PROC2 | PROC2_VIRTUAL_INTR_DELIVERY),
        SET(TPR_THRESHOLD, 0x10) },
      .adjust_caps = offer_every_control, .fails_at = PASSES },
    { "x2APIC virtualization without a TPR shadow",
      { SET(SECONDARY_VM_EXEC_CONTROL, BASE_PROC2 | PROC2_VIRTUALIZE_X2APIC) },
      .adjust_caps = offer_every_control,
      CONTROL_FAILS("APIC virtualization needs a TPR shadow") },
    { "virtual NMIs without NMI exiting",
      { SET(PIN_BASED_VM_EXEC_CONTROL, (BASE_PIN & ~PIN_NMI_EXITING) | PIN_VIRTUAL_NMIS) },
      .adjust_caps = offer_every_control, CONTROL_FAILS("virtual NMIs need NMI exiting") },
    { "NMI-window exiting without virtual NMIs",
      { SET(CPU_BASED_VM_EXEC_CONTROL, BASE_PROC | PROC_NMI_WINDOW_EXITING) },
      .adjust_caps = offer_every_control,
      CONTROL_FAILS("NMI-window exiting needs virtual NMIs") },
    { "NMI-window exiting with virtual NMIs",
      { SET(PIN_BASED_VM_EXEC_CONTROL, BASE_PIN | PIN_VIRTUAL_NMIS),
        SET(CPU_BASED_VM_EXEC_CONTROL, BASE_PROC | PROC_NMI_WINDOW_EXITING) },
      .adjust_caps = offer_every_control, .fails_at = PASSES },
    { "APIC-access page not page-aligned",
      { SET(SECONDARY_VM_EXEC_CONTROL, BASE_PROC2 | PROC2_VIRTUALIZE_APIC_ACCESSES),
        SET(APIC_ACCESS_ADDR, 0x16800) },
      .adjust_caps = offer_every_control, CONTROL_FAILS("APIC-access address") },
    { "x2APIC virtualization with APIC-access virtualization",
      { TPR_SHADOW_ON,
        SET(SECONDARY_VM_EXEC_CONTROL,
            BASE_PROC2 | PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_VIRTUALIZE_X2APIC),
        SET(APIC_ACCESS_ADDR, 0x16000) },
      .adjust_caps = offer_every_control,
      CONTROL_FAILS("x2APIC virtualization excludes APIC-access virtualization") },
    { "virtual-interrupt delivery without external-interrupt exiting",
      { TPR_SHADOW_ON,
        SET(PIN_BASED_VM_EXEC_CONTROL, BASE_PIN & ~PIN_EXTERNAL_INTERRUPT_EXITING),
        SET(SECONDARY_VM_EXEC_CONTROL, BASE_PROC2 | PROC2_VIRTUAL_INTR_DELIVERY) },
      .adjust_caps = offer_every_control,
      CONTROL_FAILS("virtual-interrupt delivery needs external-interrupt exiting") },
    { "posted interrupts without virtual-interrupt delivery",
      { SET(PIN_BASED_VM_EXEC_CONTROL, BASE_PIN | PIN_POSTED_INTERRUPTS) },
      .adjust_caps = offer_every_control,
      CONTROL_FAILS("posted interrupts need virtual-interrupt delivery and interrupt "
                    "acknowledgement") },
    { "posted interrupts without acknowledging interrupts on exit",
      { TPR_SHADOW_ON, SET(PIN_BASED_VM_EXEC_CONTROL, BASE_PIN | PIN_POSTED_INTERRUPTS),
        SET(SECONDARY_VM_EXEC_CONTROL, BASE_PROC2 | PROC2_VIRTUAL_INTR_DELIVERY),
        SET(VM_EXIT_CONTROLS, BASE_EXIT & ~EXIT_ACK_INTERRUPT_ON_EXIT) },
      .adjust_caps = offer_every_control,
      CONTROL_FAILS("posted interrupts need virtual-interrupt delivery and interrupt "
                    "acknowledgement") },
    { "posted-interrupt notification vector above 255",
      { TPR_SHADOW_ON, SET(PIN_BASED_VM_EXEC_CONTROL, BASE_PIN | PIN_POSTED_INTERRUPTS),
        SET(SECONDARY_VM_EXEC_CONTROL, BASE_PROC2 | PROC2_VIRTUAL_INTR_DELIVERY),
        SET(POSTED_INTR_NOTIFICATION_VECTOR, 0x1f2), SET(POSTED_INTR_DESC_ADDR, 0x17000) },
      .adjust_caps = offer_every_control, CONTROL_FAILS("posted-interrupt notification vector") },
    { "posted-interrupt descriptor not 64-byte aligned",
      { TPR_SHADOW_ON, SET(PIN_BASED_VM_EXEC_CONTROL, BASE_PIN | PIN_POSTED_INTERRUPTS),
        SET(SECONDARY_VM_EXEC_CONTROL, BASE_PROC2 | PROC2_VIRTUAL_INTR_DELIVERY),
        SET(POSTED_INTR_NOTIFICATION_VECTOR, 0xf2), SET(POSTED_INTR_DESC_ADDR, 0x17020) },
      .adjust_caps = offer_every_control, CONTROL_FAILS("posted-interrupt descriptor address") },
    { "posted-interrupt descriptor beyond the physical-address width",
      { TPR_SHADOW_ON, SET(PIN_BASED_VM_EXEC_CONTROL, BASE_PIN | PIN_POSTED_INTERRUPTS),
        SET(SECONDARY_VM_EXEC_CONTROL, BASE_PROC2 | PROC2_VIRTUAL_INTR_DELIVERY),
        SET(POSTED_INTR_NOTIFICATION_VECTOR, 0xf2), SET(POSTED_INTR_DESC_ADDR, ABOVE_PHYS) },
      .adjust_caps = offer_every_control, CONTROL_FAILS("posted-interrupt descriptor address") },
    { "posted interrupts set up right",
      { TPR_SHADOW_ON, SET(PIN_BASED_VM_EXEC_CONTROL, BASE_PIN | PIN_POSTED_INTERRUPTS),
        SET(SECONDARY_VM_EXEC_CONTROL, BASE_PROC2 | PROC2_VIRTUAL_INTR_DELIVERY),
        SET(POSTED_INTR_NOTIFICATION_VECTOR, 0xf2), SET(POSTED_INTR_DESC_ADDR, 0x17040) },
      .adjust_caps = offer_every_control, .fails_at = PASSES },
    { "VPID 0", { SET(SECONDARY_VM_EXEC_CONTROL, BASE_PROC2 | PROC2_ENABLE_VPID) },
      .adjust_caps = offer_ept, CONTROL_FAILS("VPID") },
    { "EPT with VPID 1", { EPT_ON(PROC2_ENABLE_VPID), SET(VIRTUAL_PROCESSOR_ID, 1) },
      .adjust_caps = offer_ept, .fails_at = PASSES },
    { "EPTP memory type UC not offered", { EPT_ON(0), SET(EPT_POINTER, 0x12000 | 3 << 3) },
      .adjust_caps = offer_ept, CONTROL_FAILS("EPT pointer") },
    { "EPTP memory type 5", { EPT_ON(0), SET(EPT_POINTER, 0x12000 | 3 << 3 | 5) },
      .adjust_caps = offer_ept, CONTROL_FAILS("EPT pointer") },
    { "EPTP 5-level walk not offered", { EPT_ON(0), SET(EPT_POINTER, 0x12000 | 4 << 3 | 6) },
      .adjust_caps = offer_ept, CONTROL_FAILS("EPT pointer") },
    { "EPTP 3-level walk", { EPT_ON(0), SET(EPT_POINTER, 0x12000 | 2 << 3 | 6) },
      .adjust_caps = offer_ept, CONTROL_FAILS("EPT pointer") },
    { "EPTP accessed/dirty flags not offered",
      { EPT_ON(0), SET(EPT_POINTER, EPTP_VALID | 1 << 6) },
      .adjust_caps = offer_ept, CONTROL_FAILS("EPT pointer") },
    { "EPTP reserved bit 7", { EPT_ON(0), SET(EPT_POINTER, EPTP_VALID | 1 << 7) },
      .adjust_caps = offer_ept, CONTROL_FAILS("EPT pointer") },
    { "EPTP beyond the physical-address width",
      { EPT_ON(0), SET(EPT_POINTER, ABOVE_PHYS | WB_4LEVEL) },
      .adjust_caps = offer_ept, CONTROL_FAILS("EPT pointer") },
    { "EPTP with UC, A/D and a 5-level walk where offered",
      { EPT_ON(0), SET(EPT_POINTER, 0x12000 | 1 << 6 | 4 << 3 | 0) },
      .adjust_caps = offer_every_control, .fails_at = PASSES },
    { "PML without EPT",
      { SET(SECONDARY_VM_EXEC_CONTROL, BASE_PROC2 | PROC2_ENABLE_PML),
        SET(PML_ADDRESS, 0x18000) },
      .adjust_caps = offer_every_control, CONTROL_FAILS("PML needs EPT and a PML address") },
    { "PML address not page-aligned", { EPT_ON(PROC2_ENABLE_PML), SET(PML_ADDRESS, 0x18010) },
      .adjust_caps = offer_every_control, CONTROL_FAILS("PML needs EPT and a PML address") },
    { "unrestricted guest without EPT",
      { SET(SECONDARY_VM_EXEC_CONTROL, BASE_PROC2 | PROC2_UNRESTRICTED_GUEST) },
      .adjust_caps = offer_every_control, CONTROL_FAILS("unrestricted guest needs EPT") },
    { "mode-based execute control without EPT",
      { SET(SECONDARY_VM_EXEC_CONTROL, BASE_PROC2 | PROC2_MODE_BASED_EPT_EXEC) },
      .adjust_caps = offer_every_control, CONTROL_FAILS("mode-based execute control needs EPT") },
    { "VM function not offered",
      { SET(SECONDARY_VM_EXEC_CONTROL, BASE_PROC2 | PROC2_ENABLE_VMFUNC),
        SET(VM_FUNCTION_CONTROL, 2) },
      .adjust_caps = offer_every_control, CONTROL_FAILS("VM-function controls") },
    { "EPTP list not page-aligned",
      { EPT_ON(PROC2_ENABLE_VMFUNC), SET(VM_FUNCTION_CONTROL, 1),
        SET(EPTP_LIST_ADDRESS, 0x19008) },
      .adjust_caps = offer_every_control,
      CONTROL_FAILS("EPTP switching needs EPT and an EPTP-list address") },
    { "EPTP switching without EPT",
      { SET(SECONDARY_VM_EXEC_CONTROL, BASE_PROC2 | PROC2_ENABLE_VMFUNC),
        SET(VM_FUNCTION_CONTROL, 1), SET(EPTP_LIST_ADDRESS, 0x19000) },
      .adjust_caps = offer_every_control,
      CONTROL_FAILS("EPTP switching needs EPT and an EPTP-list address") },
    { "VMWRITE bitmap not page-aligned",
      { SET(SECONDARY_VM_EXEC_CONTROL, BASE_PROC2 | PROC2_VMCS_SHADOWING),
        SET(VMREAD_BITMAP, 0x1a000), SET(VMWRITE_BITMAP, 0x1b004) },
      .adjust_caps = offer_every_control, CONTROL_FAILS("VMREAD/VMWRITE-bitmap addresses") },
    { "#VE information address not page-aligned",
      { EPT_ON(PROC2_EPT_VIOLATION_VE), SET(VE_INFO_ADDRESS, 0x1c100) },
      .adjust_caps = offer_every_control,
      CONTROL_FAILS("virtualization-exception information address") },
    /* ---- VM-exit controls (27.2.1.2) ---- */
    { "exit: a must-be-1 bit clear", { SET(VM_EXIT_CONTROLS, BASE_EXIT & ~1u) },
      CONTROL_FAILS("VM-exit controls") },
    { "saving the preemption timer without the timer",
      { SET(VM_EXIT_CONTROLS, BASE_EXIT | EXIT_SAVE_PREEMPTION_TIMER) },
      CONTROL_FAILS("saving the preemption timer needs the timer") },
    { "exit MSR-store list not 16-byte aligned", { SET(VM_EXIT_MSR_STORE_ADDR, 0x13008) },
      CONTROL_FAILS("VM-exit MSR-store list") },
    { "exit MSR-store list longer than 512", { SET(VM_EXIT_MSR_STORE_COUNT, 513) },
      CONTROL_FAILS("VM-exit MSR-store list") },
    { "exit MSR-store list ending beyond the physical-address width",
      { SET(VM_EXIT_MSR_STORE_ADDR, ABOVE_PHYS - 16), SET(VM_EXIT_MSR_STORE_COUNT, 2) },
      CONTROL_FAILS("VM-exit MSR-store list") },
    { "exit MSR-store list ending at the top of the physical-address width",
      { SET(VM_EXIT_MSR_STORE_ADDR, ABOVE_PHYS - 16), SET(VM_EXIT_MSR_STORE_COUNT, 1) },
      .fails_at = PASSES },
    { "empty exit MSR-store list: its address unchecked",
      { SET(VM_EXIT_MSR_STORE_ADDR, ~0ull), SET(VM_EXIT_MSR_STORE_COUNT, 0) },
      .fails_at = PASSES },
    { "exit MSR-load list not 16-byte aligned", { SET(VM_EXIT_MSR_LOAD_ADDR, 0x14004) },
      CONTROL_FAILS("VM-exit MSR-load list") },
    /* ---- VM-entry controls (27.2.1.3) ---- */
    { "entry: entry to SMM not offered",
      { SET(VM_ENTRY_CONTROLS, BASE_ENTRY | ENTRY_TO_SMM) }, CONTROL_FAILS("VM-entry controls") },
    { "entry MSR-load list beyond the physical-address width",
      { SET(VM_ENTRY_MSR_LOAD_ADDR, ABOVE_PHYS) }, CONTROL_FAILS("VM-entry MSR-load list") },
    { "entry MSR-load list longer than 512 * (MISC[27:25] + 1)",
      { SET(VM_ENTRY_MSR_LOAD_COUNT, 1025) }, CONTROL_FAILS("VM-entry MSR-load list") },
    { "injected event of type 1", { SET(VM_ENTRY_INTR_INFO, EVENT(1, 0x20)) },
      CONTROL_FAILS("injected event type") },
    { "injected other event without the monitor trap flag",
      { SET(VM_ENTRY_INTR_INFO, EVENT(OTHER, 0)) }, CONTROL_FAILS("injected event type") },
    { "injected NMI with vector 3", { SET(VM_ENTRY_INTR_INFO, EVENT(NMI, 3)) },
      CONTROL_FAILS("injected event vector") },
    { "injected hardware exception with vector 32",
      { SET(VM_ENTRY_INTR_INFO, EVENT(HW_EXC, 32)) }, CONTROL_FAILS("injected event vector") },
    { "injected hardware exception with vector 31",
      { SET(VM_ENTRY_INTR_INFO, EVENT(HW_EXC, 31)) }, .fails_at = PASSES },
    { "injected other event with vector 1", { SET(VM_ENTRY_INTR_INFO, EVENT(OTHER, 1)) },
      .adjust_caps = offer_mtf, CONTROL_FAILS("injected event vector") },
    { "injected pending MTF exit where MTF is offered",
      { SET(VM_ENTRY_INTR_INFO, EVENT(OTHER, 0)) }, .adjust_caps = offer_mtf,
      .fails_at = PASSES },
    { "injected #GP without its error code", { SET(VM_ENTRY_INTR_INFO, EVENT(HW_EXC, 13)) },
      CONTROL_FAILS("injected event deliver-error-code bit") },
    { "injected #CP without its error code", { SET(VM_ENTRY_INTR_INFO, EVENT(HW_EXC, 21)) },
      CONTROL_FAILS("injected event deliver-error-code bit") },
    { "injected #AC without its error code", { SET(VM_ENTRY_INTR_INFO, EVENT(HW_EXC, 17)) },
      CONTROL_FAILS("injected event deliver-error-code bit") },
    { "injected #UD with an error code",
      { SET(VM_ENTRY_INTR_INFO, EVENT(HW_EXC, 6) | WITH_ERROR_CODE) },
      CONTROL_FAILS("injected event deliver-error-code bit") },
    { "injected external interrupt with an error code",
      { SET(VM_ENTRY_INTR_INFO, EVENT(EXT_INT, 0x30) | WITH_ERROR_CODE) },
      CONTROL_FAILS("injected event deliver-error-code bit") },
    { "injected #GP with an error code into real mode",
      { L2_REAL_MODE, SET(VM_ENTRY_INTR_INFO, EVENT(HW_EXC, 13) | WITH_ERROR_CODE) },
      .adjust_caps = offer_every_control,
      CONTROL_FAILS("injected event deliver-error-code bit") },
    { "injected #PF with its error code",
      { SET(VM_ENTRY_INTR_INFO, EVENT(HW_EXC, 14) | WITH_ERROR_CODE),
        SET(VM_ENTRY_EXCEPTION_ERROR_CODE, 2) },
      .fails_at = PASSES },
    { "injected #UD with an error code where IA32_VMX_BASIC[56] allows it",
      { SET(VM_ENTRY_INTR_INFO, EVENT(HW_EXC, 6) | WITH_ERROR_CODE) },
      .adjust_caps = offer_any_error_code, .fails_at = PASSES },
    { "injected event with reserved bit 12",
      { SET(VM_ENTRY_INTR_INFO, EVENT(EXT_INT, 0x30) | 1u << 12) },
      CONTROL_FAILS("injected event reserved bits") },
    { "injected error code above 16 bits",
      { SET(VM_ENTRY_INTR_INFO, EVENT(HW_EXC, 13) | WITH_ERROR_CODE),
        SET(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x10000) },
      CONTROL_FAILS("injected event error code") },
    { "injected software interrupt of length 0",
      { SET(VM_ENTRY_INTR_INFO, EVENT(SW_INT, 0x80)), SET(VM_ENTRY_INSTRUCTION_LEN, 0) },
      CONTROL_FAILS("injected event instruction length") },
    { "injected software exception of length 16",
      { SET(VM_ENTRY_INTR_INFO, EVENT(SW_EXC, 3)), SET(VM_ENTRY_INSTRUCTION_LEN, 16) },
      CONTROL_FAILS("injected event instruction length") },
    { "injected software exception of length 15",
      { SET(VM_ENTRY_INTR_INFO, EVENT(SW_EXC, 3)), SET(VM_ENTRY_INSTRUCTION_LEN, 15) },
      .fails_at = PASSES },
    { "injected privileged software exception of length 0 where MISC[30] allows it",
      { SET(VM_ENTRY_INTR_INFO, EVENT(PRIV_SW_EXC, 1)), SET(VM_ENTRY_INSTRUCTION_LEN, 0) },
      .adjust_caps = offer_zero_length_injection, .fails_at = PASSES },
    { "injected software interrupt of length 2",
      { SET(VM_ENTRY_INTR_INFO, EVENT(SW_INT, 0x80)), SET(VM_ENTRY_INSTRUCTION_LEN, 2) },
      .fails_at = PASSES },

    /* ---- Host control registers and MSRs (27.2.2) ---- */
    { "host CR0.NE clear", { SET(HOST_CR0, BASE_CR0 & ~CR0_NE) }, HOST_FAILS("host CR0") },
    { "host CR0 bit 32", { SET(HOST_CR0, BASE_CR0 | 1ull << 32) }, HOST_FAILS("host CR0") },
    { "host CR4.VMXE clear", { SET(HOST_CR4, BASE_CR4 & ~CR4_VMXE) }, HOST_FAILS("host CR4") },
    { "host CR4.LA57 not offered", { SET(HOST_CR4, BASE_CR4 | CR4_LA57) },
      HOST_FAILS("host CR4") },
    { "host CR4.CET without CR0.WP",
      { SET(HOST_CR4, BASE_CR4 | CR4_CET), SET(HOST_CR0, BASE_CR0 & ~CR0_WP) },
      .adjust_caps = offer_cet, HOST_FAILS("host CR4.CET needs CR0.WP") },
    { "host CR3 beyond the physical-address width", { SET(HOST_CR3, ABOVE_PHYS) },
      HOST_FAILS("host CR3") },
    { "host SYSENTER_ESP not canonical", { SET(HOST_IA32_SYSENTER_ESP, 1ull << 47) },
      HOST_FAILS("host IA32_SYSENTER_ESP/EIP canonical") },
    { "host SYSENTER_EIP not canonical", { SET(HOST_IA32_SYSENTER_EIP, 0x8000000000000000ull) },
      HOST_FAILS("host IA32_SYSENTER_ESP/EIP canonical") },
    { "host SYSENTER_ESP canonical with 57 bits", { SET(HOST_IA32_SYSENTER_ESP, 1ull << 47) },
      .linear_addr_bits = 57, .fails_at = PASSES },
    { "host IA32_PERF_GLOBAL_CTRL with a counter enabled",
      { SET(VM_EXIT_CONTROLS, BASE_EXIT | EXIT_LOAD_PERF_GLOBAL_CTRL),
        SET(HOST_IA32_PERF_GLOBAL_CTRL, 1) },
      .adjust_caps = offer_every_control, HOST_FAILS("host IA32_PERF_GLOBAL_CTRL") },
    { "host IA32_PAT with memory type 2", { SET(HOST_IA32_PAT, 0x0007040600070402ull) },
      HOST_FAILS("host IA32_PAT") },
    { "host IA32_PAT with memory type 8", { SET(HOST_IA32_PAT, 0x0807040600070406ull) },
      HOST_FAILS("host IA32_PAT") },
    { "host IA32_PAT not loaded: unchecked",
      { SET(VM_EXIT_CONTROLS, BASE_EXIT & ~EXIT_LOAD_PAT), SET(HOST_IA32_PAT, ~0ull) },
      .fails_at = PASSES },
    { "host IA32_EFER bit 12", { SET(HOST_IA32_EFER, BASE_EFER | 1ull << 12) },
      HOST_FAILS("host IA32_EFER reserved bits") },
    { "host IA32_EFER.LME clear with a 64-bit host",
      { SET(HOST_IA32_EFER, BASE_EFER & ~EFER_LME) },
      HOST_FAILS("host IA32_EFER.LMA/LME match the host address-space size") },
    { "host IA32_EFER.LMA set with a 32-bit host",
      { HOST_32BIT, L2_32BIT, SET(HOST_IA32_EFER, EFER_LMA) }, .l1_outside_ia32e_mode = true,
      HOST_FAILS("host IA32_EFER.LMA/LME match the host address-space size") },
    /* ---- Host segment and descriptor-table registers (27.2.3) ---- */
    { "host CS selector with RPL 3", { SET(HOST_CS_SELECTOR, 0x13) },
      HOST_FAILS("host selectors' RPL and TI") },
    { "host DS selector with TI", { SET(HOST_DS_SELECTOR, 0x1c) },
      HOST_FAILS("host selectors' RPL and TI") },
    { "host TR selector with TI", { SET(HOST_TR_SELECTOR, 0x44) },
      HOST_FAILS("host selectors' RPL and TI") },
    { "host CS selector 0", { SET(HOST_CS_SELECTOR, 0) },
      HOST_FAILS("host CS and TR selectors nonzero") },
    { "host TR selector 0", { SET(HOST_TR_SELECTOR, 0) },
      HOST_FAILS("host CS and TR selectors nonzero") },
    { "host SS selector 0 with a 32-bit host",
      { HOST_32BIT, L2_32BIT, SET(HOST_SS_SELECTOR, 0) }, .l1_outside_ia32e_mode = true,
      HOST_FAILS("host SS selector nonzero for a 32-bit host") },
    { "host SS selector 0 with a 64-bit host", { SET(HOST_SS_SELECTOR, 0) },
      .fails_at = PASSES },
    { "host GS base not canonical", { SET(HOST_GS_BASE, 0x0000800000000000ull) },
      HOST_FAILS("host FS/GS/GDTR/IDTR/TR bases canonical") },
    { "host TR base not canonical", { SET(HOST_TR_BASE, 0xfff0000000000000ull) },
      HOST_FAILS("host FS/GS/GDTR/IDTR/TR bases canonical") },
    { "host GS base canonical with 57 bits", { SET(HOST_GS_BASE, 0xff00800000000000ull) },
      .linear_addr_bits = 57, .fails_at = PASSES },
    /* ---- Address-space size (27.2.4) ---- */
    { "L1 outside IA-32e mode with a 64-bit host", { { 0 } }, .l1_outside_ia32e_mode = true,
      HOST_FAILS("outside IA-32e mode: no IA-32e guest, no 64-bit host") },
    { "L1 outside IA-32e mode launching an IA-32e guest",
      { HOST_32BIT }, .l1_outside_ia32e_mode = true,
      HOST_FAILS("outside IA-32e mode: no IA-32e guest, no 64-bit host") },
    { "L1 in IA-32e mode with a 32-bit host",
      { HOST_32BIT, L2_32BIT }, HOST_FAILS("in IA-32e mode: a 64-bit host") },
    { "32-bit L1 launching a 32-bit L2", { HOST_32BIT, L2_32BIT },
      .l1_outside_ia32e_mode = true, .fails_at = PASSES },
    { "host CR4.PCIDE with a 32-bit host",
      { HOST_32BIT, L2_32BIT, SET(HOST_CR4, BASE_CR4 | CR4_PCIDE) },
      .l1_outside_ia32e_mode = true, HOST_FAILS("host CR4.PCIDE for a 32-bit host") },
    { "host RIP above 4 GiB with a 32-bit host",
      { HOST_32BIT, L2_32BIT, SET(HOST_RIP, 0x100000000ull) },
      .l1_outside_ia32e_mode = true, HOST_FAILS("host RIP for a 32-bit host") },
    { "host CR4.PAE clear with a 64-bit host", { SET(HOST_CR4, BASE_CR4 & ~CR4_PAE) },
      HOST_FAILS("host CR4.PAE for a 64-bit host") },
    { "host RIP not canonical", { SET(HOST_RIP, 0x0000800000000000ull) },
      HOST_FAILS("host RIP canonical for a 64-bit host") },
    { "host RIP canonical with the host's CR4.LA57",
      { SET(HOST_CR4, BASE_CR4 | CR4_LA57), SET(HOST_RIP, 0xff00800000000000ull) },
      .adjust_caps = offer_la57, .linear_addr_bits = 57, .fails_at = PASSES },
    { "host RIP of 57 bits without the host's CR4.LA57",
      { SET(HOST_RIP, 0xff00800000000000ull) }, .adjust_caps = offer_la57,
      .linear_addr_bits = 57, HOST_FAILS("host RIP canonical for a 64-bit host") },

    /* ---- Guest control registers, debug registers and MSRs (27.3.1.1) ---- */
    { "guest CR0.NE clear", { SET(GUEST_CR0, BASE_CR0 & ~CR0_NE) }, GUEST_FAILS("guest CR0") },
    { "guest CR0.PE clear", { SET(GUEST_CR0, BASE_CR0 & ~CR0_PE) }, GUEST_FAILS("guest CR0") },
    { "guest CR0.CD and NW never checked",
      { SET(GUEST_CR0, BASE_CR0 | CR0_CD | CR0_NW) }, .adjust_caps = fixed1_without_cd_nw,
      .fails_at = PASSES },
    { "unrestricted guest in real mode", { L2_REAL_MODE },
      .adjust_caps = offer_every_control, .fails_at = PASSES },
    { "unrestricted guest with CR0.PG but not PE",
      { L2_REAL_MODE, SET(GUEST_CR0, CR0_PG | CR0_NE | 0x10) },
      .adjust_caps = offer_every_control, GUEST_FAILS("guest CR0.PG needs CR0.PE") },
    { "guest CR4.VMXE clear", { SET(GUEST_CR4, BASE_CR4 & ~CR4_VMXE) },
      GUEST_FAILS("guest CR4") },
    { "guest CR4.CET without CR0.WP",
      { SET(GUEST_CR4, BASE_CR4 | CR4_CET), SET(GUEST_CR0, BASE_CR0 & ~CR0_WP) },
      .adjust_caps = offer_cet, GUEST_FAILS("guest CR4.CET needs CR0.WP") },
    { "guest CR3 beyond the physical-address width", { SET(GUEST_CR3, ABOVE_PHYS | 0x1000) },
      GUEST_FAILS("guest CR3") },
    { "guest IA32_DEBUGCTL.BTS", { SET(GUEST_IA32_DEBUGCTL, 1 << 7) },
      GUEST_FAILS("guest IA32_DEBUGCTL") },
    { "guest IA32_DEBUGCTL reserved bit 2", { SET(GUEST_IA32_DEBUGCTL, 1 << 2) },
      GUEST_FAILS("guest IA32_DEBUGCTL") },
    { "guest IA32_DEBUGCTL.BTF and LBR", { SET(GUEST_IA32_DEBUGCTL, 3) }, .fails_at = PASSES },
    { "guest DR7 bit 32", { SET(GUEST_DR7, 0x400 | 1ull << 32) }, GUEST_FAILS("guest DR7") },
    { "debug controls not loaded: DEBUGCTL and DR7 unchecked",
      { SET(VM_ENTRY_CONTROLS, BASE_ENTRY & ~ENTRY_LOAD_DEBUG_CONTROLS),
        SET(GUEST_IA32_DEBUGCTL, ~0ull), SET(GUEST_DR7, ~0ull) },
      .fails_at = PASSES },
    { "IA-32e mode guest without CR4.PAE", { SET(GUEST_CR4, BASE_CR4 & ~CR4_PAE) },
      GUEST_FAILS("IA-32e mode guest needs CR0.PG and CR4.PAE") },
    { "guest CR4.PCIDE outside IA-32e mode",
      { L2_32BIT, SET(GUEST_CR4, BASE_CR4 | CR4_PCIDE) },
      GUEST_FAILS("guest CR4.PCIDE needs IA-32e mode") },
    { "guest IA32_SYSENTER_EIP not canonical",
      { SET(GUEST_SYSENTER_EIP, 0x0000800000000000ull) },
      GUEST_FAILS("guest IA32_SYSENTER_ESP/EIP canonical") },
    { "guest IA32_SYSENTER_ESP of 57 bits without 5-level paging",
      { SET(GUEST_SYSENTER_ESP, 0xff00800000000000ull) },
      GUEST_FAILS("guest IA32_SYSENTER_ESP/EIP canonical") },
    { "guest IA32_SYSENTER_ESP of 57 bits where L1 may use 5-level paging",
      { SET(GUEST_SYSENTER_ESP, 0xff00800000000000ull) }, .adjust_caps = offer_la57,
      .fails_at = PASSES },
    { "guest IA32_PERF_GLOBAL_CTRL with a counter enabled",
      { SET(VM_ENTRY_CONTROLS, BASE_ENTRY | ENTRY_LOAD_PERF_GLOBAL_CTRL),
        SET(GUEST_IA32_PERF_GLOBAL_CTRL, 1ull << 32) },
      .adjust_caps = offer_every_control, GUEST_FAILS("guest IA32_PERF_GLOBAL_CTRL") },
    { "guest IA32_PAT with memory type 3", { SET(GUEST_IA32_PAT, 0x0007040603070406ull) },
      GUEST_FAILS("guest IA32_PAT") },
    { "guest IA32_EFER bit 9", { SET(GUEST_IA32_EFER, BASE_EFER | 1ull << 9) },
      GUEST_FAILS("guest IA32_EFER reserved bits") },
    { "guest IA32_EFER.LMA clear in an IA-32e mode guest",
      { SET(GUEST_IA32_EFER, BASE_EFER & ~EFER_LMA) },
      GUEST_FAILS("guest IA32_EFER.LMA matches IA-32e mode guest") },
    { "guest IA32_EFER.LMA set outside IA-32e mode",
      { L2_32BIT, SET(GUEST_IA32_EFER, EFER_LMA | EFER_LME) },
      GUEST_FAILS("guest IA32_EFER.LMA matches IA-32e mode guest") },
    { "guest IA32_EFER.LME clear with LMA and paging",
      { SET(GUEST_IA32_EFER, BASE_EFER & ~EFER_LME) },
      GUEST_FAILS("guest IA32_EFER.LME matches LMA with paging") },
    { "guest IA32_EFER.LME set without paging",
      { L2_REAL_MODE, SET(GUEST_IA32_EFER, EFER_LME) },
      .adjust_caps = offer_every_control, .fails_at = PASSES },
    /* ---- Guest segment registers (27.3.1.2) ---- */
    { "guest TR selector with TI", { SET(GUEST_TR_SELECTOR, 0x44) },
      GUEST_FAILS("guest TR selector TI") },
    { "usable LDTR", { LDTR_USABLE(LDT_AR) }, .fails_at = PASSES },
    { "usable LDTR selector with TI", { LDTR_USABLE(LDT_AR), SET(GUEST_LDTR_SELECTOR, 0x54) },
      GUEST_FAILS("guest LDTR selector TI") },
    { "unusable LDTR selector with TI", { SET(GUEST_LDTR_SELECTOR, 0x54) }, .fails_at = PASSES },
    { "guest SS.RPL unlike CS.RPL", { SET(GUEST_SS_SELECTOR, 0x1b) },
      GUEST_FAILS("guest SS.RPL equals CS.RPL") },
    { "unrestricted guest: SS.RPL unlike CS.RPL", { L2_REAL_MODE, SET(GUEST_SS_SELECTOR, 0x1b) },
      .adjust_caps = offer_every_control, .fails_at = PASSES },
    { "L2 at CPL 3", { L2_AT_CPL(3) }, .fails_at = PASSES },
    { "virtual-8086 L2", { { 0 } }, .adjust_vmcs12 = l2_virtual_8086, .fails_at = PASSES },
    { "virtual-8086: SS.RPL unlike CS.RPL unchecked",
      { SET(GUEST_SS_SELECTOR, 0x2003), SET(GUEST_SS_BASE, 0x20030) },
      .adjust_vmcs12 = l2_virtual_8086, .fails_at = PASSES },
    { "virtual-8086: DS base not selector * 16", { SET(GUEST_DS_BASE, 0) },
      .adjust_vmcs12 = l2_virtual_8086, GUEST_FAILS("virtual-8086 segment bases") },
    { "guest TR base not canonical", { SET(GUEST_TR_BASE, 0xfff0000000003000ull) },
      GUEST_FAILS("guest TR/FS/GS bases canonical") },
    { "unusable FS with a base not canonical", { SET(GUEST_FS_BASE, 0x0000800000000000ull) },
      GUEST_FAILS("guest TR/FS/GS bases canonical") },
    { "guest GS base of 57 bits without 5-level paging",
      { SET(GUEST_GS_BASE, 0xff00800000000000ull) },
      GUEST_FAILS("guest TR/FS/GS bases canonical") },
    { "guest GS base of 57 bits where L1 may use 5-level paging",
      { SET(GUEST_GS_BASE, 0xff00800000000000ull) }, .adjust_caps = offer_la57,
      .fails_at = PASSES },
    { "usable LDTR base not canonical",
      { LDTR_USABLE(LDT_AR), SET(GUEST_LDTR_BASE, 0x0000800000000000ull) },
      GUEST_FAILS("guest LDTR base canonical") },
    { "unusable LDTR base not canonical", { SET(GUEST_LDTR_BASE, 0x0000800000000000ull) },
      .fails_at = PASSES },
    { "guest CS base bit 32", { SET(GUEST_CS_BASE, 1ull << 32) },
      GUEST_FAILS("guest CS base bits 63:32") },
    { "guest DS base above 4 GiB", { SET(GUEST_DS_BASE, 0x123400000000ull) },
      GUEST_FAILS("guest SS/DS/ES base bits 63:32") },
    { "unusable ES base above 4 GiB",
      { SET(GUEST_ES_AR_BYTES, UNUSABLE_AR), SET(GUEST_ES_BASE, 1ull << 32) },
      .fails_at = PASSES },
    { "virtual-8086: CS limit 0x1ffff", { SET(GUEST_CS_LIMIT, 0x1ffff) },
      .adjust_vmcs12 = l2_virtual_8086, GUEST_FAILS("virtual-8086 segment limits") },
    { "virtual-8086: SS a 32-bit stack", { SET(GUEST_SS_AR_BYTES, DATA_AR_DPL0 | AR_DPL(3)) },
      .adjust_vmcs12 = l2_virtual_8086, GUEST_FAILS("virtual-8086 segment access rights") },
    { "virtual-8086: GS unusable", { SET(GUEST_GS_AR_BYTES, V86_AR | 1u << 16) },
      .adjust_vmcs12 = l2_virtual_8086, GUEST_FAILS("virtual-8086 segment access rights") },
    { "guest CS a data segment", { SET(GUEST_CS_AR_BYTES, DATA_AR_DPL0) },
      GUEST_FAILS("guest CS type") },
    { "guest CS not accessed", { SET(GUEST_CS_AR_BYTES, CODE64_AR & ~1ull) },
      GUEST_FAILS("guest CS type") },
    { "unrestricted guest: CS a data segment",
      { L2_REAL_MODE, SET(GUEST_CS_AR_BYTES, DATA_AR_DPL0) },
      .adjust_caps = offer_every_control, .fails_at = PASSES },
    { "guest SS read-only", { SET(GUEST_SS_AR_BYTES, 0xc091) }, GUEST_FAILS("guest SS type") },
    { "guest SS expand-down", { SET(GUEST_SS_AR_BYTES, 0xc097) }, .fails_at = PASSES },
    { "unusable SS: type, S and P unchecked", { SET(GUEST_SS_AR_BYTES, 1u << 16) },
      .fails_at = PASSES },
    { "guest DS not accessed", { SET(GUEST_DS_AR_BYTES, 0xc092) },
      GUEST_FAILS("guest DS/ES/FS/GS type") },
    { "guest ES execute-only code", { SET(GUEST_ES_AR_BYTES, 0xc099) },
      GUEST_FAILS("guest DS/ES/FS/GS type") },
    { "guest DS readable code", { SET(GUEST_DS_AR_BYTES, CODE32_AR) }, .fails_at = PASSES },
    { "unusable GS: type, S, P, reserved bits and G unchecked",
      { SET(GUEST_GS_AR_BYTES, 0x38f00), SET(GUEST_GS_LIMIT, 0x12345) }, .fails_at = PASSES },
    { "guest CS a system descriptor", { SET(GUEST_CS_AR_BYTES, CODE64_AR & ~0x10ull) },
      GUEST_FAILS("guest CS/SS/DS/ES/FS/GS S bit") },
    { "guest DS a system descriptor", { SET(GUEST_DS_AR_BYTES, DATA_AR_DPL0 & ~0x10ull) },
      GUEST_FAILS("guest CS/SS/DS/ES/FS/GS S bit") },
    { "non-conforming CS of DPL 3 at CPL 0", { SET(GUEST_CS_AR_BYTES, CODE64_AR | AR_DPL(3)) },
      GUEST_FAILS("guest CS DPL") },
    { "conforming CS of DPL 3 at CPL 0", { SET(GUEST_CS_AR_BYTES, CODE64_AR | 4 | AR_DPL(3)) },
      GUEST_FAILS("guest CS DPL") },
    { "conforming CS of DPL 0 at CPL 3", { L2_AT_CPL(3), SET(GUEST_CS_AR_BYTES, CODE64_AR | 4) },
      .fails_at = PASSES },
    { "unrestricted guest: data CS of DPL 3",
      { L2_REAL_MODE, SET(GUEST_CS_AR_BYTES, DATA_AR_DPL0 | AR_DPL(3)) },
      .adjust_caps = offer_every_control, GUEST_FAILS("guest CS DPL") },
    { "guest SS.DPL 3 with RPL 0",
      { SET(GUEST_CS_AR_BYTES, CODE64_AR | AR_DPL(3)),
        SET(GUEST_SS_AR_BYTES, DATA_AR_DPL0 | AR_DPL(3)) },
      GUEST_FAILS("guest SS.DPL equals SS.RPL") },
    { "unrestricted guest: SS.DPL 3 in real mode",
      { L2_REAL_MODE, SET(GUEST_CS_AR_BYTES, CODE32_AR | AR_DPL(3)),
        SET(GUEST_SS_AR_BYTES, DATA_AR_DPL0 | AR_DPL(3)) },
      .adjust_caps = offer_every_control, GUEST_FAILS("guest SS.DPL 0 in real mode") },
    { "unrestricted guest: SS.DPL 3 with a data CS",
      { EPT_ON(PROC2_UNRESTRICTED_GUEST), L2_32BIT, SET(GUEST_CS_AR_BYTES, DATA_AR_DPL0),
        SET(GUEST_SS_AR_BYTES, DATA_AR_DPL0 | AR_DPL(3)) },
      .adjust_caps = offer_every_control, GUEST_FAILS("guest SS.DPL 0 in real mode") },
    { "guest DS.DPL below its RPL", { SET(GUEST_DS_SELECTOR, 0x1b) },
      GUEST_FAILS("guest DS/ES/FS/GS DPL") },
    { "conforming code in DS below its RPL",
      { SET(GUEST_DS_SELECTOR, 0x1b), SET(GUEST_DS_AR_BYTES, CODE32_AR | 4) },
      .fails_at = PASSES },
    { "unusable ES below its RPL",
      { SET(GUEST_ES_SELECTOR, 0x1b), SET(GUEST_ES_AR_BYTES, UNUSABLE_AR) },
      .fails_at = PASSES },
    { "unrestricted guest: DS.DPL below its RPL", { L2_REAL_MODE, SET(GUEST_DS_SELECTOR, 0x1b) },
      .adjust_caps = offer_every_control, .fails_at = PASSES },
    { "guest CS not present", { SET(GUEST_CS_AR_BYTES, CODE64_AR & ~0x80ull) },
      GUEST_FAILS("guest CS/SS/DS/ES/FS/GS P bit") },
    { "guest SS not present", { SET(GUEST_SS_AR_BYTES, DATA_AR_DPL0 & ~0x80ull) },
      GUEST_FAILS("guest CS/SS/DS/ES/FS/GS P bit") },
    { "guest CS access-rights bit 8", { SET(GUEST_CS_AR_BYTES, CODE64_AR | 1u << 8) },
      GUEST_FAILS("guest CS/SS/DS/ES/FS/GS access-rights reserved bits") },
    { "guest DS access-rights bit 17", { SET(GUEST_DS_AR_BYTES, DATA_AR_DPL0 | 1u << 17) },
      GUEST_FAILS("guest CS/SS/DS/ES/FS/GS access-rights reserved bits") },
    { "guest CS.L and D/B in IA-32e mode", { SET(GUEST_CS_AR_BYTES, CODE64_AR | CODE32_AR) },
      GUEST_FAILS("guest CS.D/B clear with CS.L in IA-32e mode") },
    { "guest CS.L and D/B outside IA-32e mode",
      { L2_32BIT, SET(GUEST_CS_AR_BYTES, CODE64_AR | CODE32_AR) }, .fails_at = PASSES },
    { "guest CS limit above 1 MiB with G clear", { SET(GUEST_CS_AR_BYTES, CODE64_AR & ~0x8000ull) },
      GUEST_FAILS("guest CS/SS/DS/ES/FS/GS G bit and limit") },
    { "guest DS limit 0xffffe with G set", { SET(GUEST_DS_LIMIT, 0xffffe) },
      GUEST_FAILS("guest CS/SS/DS/ES/FS/GS G bit and limit") },
    { "guest DS limit 0xfffff with G clear",
      { SET(GUEST_DS_LIMIT, 0xfffff), SET(GUEST_DS_AR_BYTES, DATA_AR_DPL0 & ~0x8000ull) },
      .fails_at = PASSES },
    { "guest SS limit 0xfff with G set", { SET(GUEST_SS_LIMIT, 0xfff) }, .fails_at = PASSES },
    { "guest TR a 16-bit TSS in IA-32e mode", { SET(GUEST_TR_AR_BYTES, 0x83) },
      GUEST_FAILS("guest TR type") },
    { "guest TR a 16-bit TSS outside IA-32e mode", { L2_32BIT, SET(GUEST_TR_AR_BYTES, 0x83) },
      .fails_at = PASSES },
    { "guest TR an available TSS", { SET(GUEST_TR_AR_BYTES, 0x89) },
      GUEST_FAILS("guest TR type") },
    { "guest TR with S set", { SET(GUEST_TR_AR_BYTES, TSS_AR | 0x10) },
      GUEST_FAILS("guest TR S bit") },
    { "guest TR not present", { SET(GUEST_TR_AR_BYTES, TSS_AR & ~0x80ull) },
      GUEST_FAILS("guest TR P bit") },
    { "guest TR access-rights bit 11", { SET(GUEST_TR_AR_BYTES, TSS_AR | 1u << 11) },
      GUEST_FAILS("guest TR access-rights reserved bits") },
    { "guest TR limit 0x206f with G set", { SET(GUEST_TR_AR_BYTES, TSS_AR | 0x8000) },
      GUEST_FAILS("guest TR G bit and limit") },
    { "guest TR limit of 1 MiB with G clear", { SET(GUEST_TR_LIMIT, 0x100000) },
      GUEST_FAILS("guest TR G bit and limit") },
    { "guest TR unusable", { SET(GUEST_TR_AR_BYTES, TSS_AR | 1u << 16) },
      GUEST_FAILS("guest TR usable") },
    { "usable LDTR of type 3", { LDTR_USABLE(0x83) }, GUEST_FAILS("guest LDTR type") },
    { "usable LDTR with S set", { LDTR_USABLE(LDT_AR | 0x10) }, GUEST_FAILS("guest LDTR S bit") },
    { "usable LDTR not present", { LDTR_USABLE(LDT_AR & ~0x80ull) },
      GUEST_FAILS("guest LDTR P bit") },
    { "usable LDTR access-rights bit 9", { LDTR_USABLE(LDT_AR | 1u << 9) },
      GUEST_FAILS("guest LDTR access-rights reserved bits") },
    { "usable LDTR limit 0x1000 with G set",
      { LDTR_USABLE(LDT_AR | 0x8000), SET(GUEST_LDTR_LIMIT, 0x1000) },
      GUEST_FAILS("guest LDTR G bit and limit") },
    { "usable LDTR limit of 1 MiB with G clear",
      { LDTR_USABLE(LDT_AR), SET(GUEST_LDTR_LIMIT, 0x100000) },
      GUEST_FAILS("guest LDTR G bit and limit") },
    { "unusable LDTR: type, S, P, reserved bits and G unchecked",
      { SET(GUEST_LDTR_AR_BYTES, 0x38f1f), SET(GUEST_LDTR_LIMIT, 0x12345) },
      .fails_at = PASSES },
    /* ---- Guest descriptor-table registers (27.3.1.3) ---- */
    { "guest GDTR base not canonical", { SET(GUEST_GDTR_BASE, 0x0000800000001000ull) },
      GUEST_FAILS("guest GDTR/IDTR bases canonical") },
    { "guest IDTR base not canonical", { SET(GUEST_IDTR_BASE, 0xfff0000000000000ull) },
      GUEST_FAILS("guest GDTR/IDTR bases canonical") },
    { "guest IDTR limit 0x10000", { SET(GUEST_IDTR_LIMIT, 0x10000) },
      GUEST_FAILS("guest GDTR/IDTR limits") },
    { "guest GDTR limit bit 31", { SET(GUEST_GDTR_LIMIT, 0x8000007f) },
      GUEST_FAILS("guest GDTR/IDTR limits") },
    /* ---- Guest RIP and RFLAGS (27.3.1.4) ---- */
    { "guest RIP above 4 GiB outside IA-32e mode", { L2_32BIT, SET(GUEST_RIP, 1ull << 32) },
      GUEST_FAILS("guest RIP bits 63:32 outside 64-bit mode") },
    { "guest RIP above 4 GiB in compatibility mode", { SET(GUEST_CS_AR_BYTES, CODE32_AR) },
      GUEST_FAILS("guest RIP bits 63:32 outside 64-bit mode") },
    { "guest RIP not canonical", { SET(GUEST_RIP, 0x0000800000000000ull) },
      GUEST_FAILS("guest RIP canonical in 64-bit mode") },
    { "guest RIP of 57 bits where L1 may use 5-level paging",
      { SET(GUEST_RIP, 0xff00800000000000ull) }, .adjust_caps = offer_la57,
      .fails_at = PASSES },
    { "guest RFLAGS bit 1 clear", { SET(GUEST_RFLAGS, RFLAGS_IF) },
      GUEST_FAILS("guest RFLAGS reserved bits") },
    { "guest RFLAGS bit 3", { SET(GUEST_RFLAGS, RFLAGS_FIXED | RFLAGS_IF | 1u << 3) },
      GUEST_FAILS("guest RFLAGS reserved bits") },
    { "guest RFLAGS bit 15", { SET(GUEST_RFLAGS, RFLAGS_FIXED | RFLAGS_IF | 1u << 15) },
      GUEST_FAILS("guest RFLAGS reserved bits") },
    { "guest RFLAGS bit 22", { SET(GUEST_RFLAGS, RFLAGS_FIXED | RFLAGS_IF | 1u << 22) },
      GUEST_FAILS("guest RFLAGS reserved bits") },
    { "guest RFLAGS.VM in an IA-32e mode guest",
      { SET(VM_ENTRY_CONTROLS, BASE_ENTRY), SET(GUEST_IA32_EFER, BASE_EFER) },
      .adjust_vmcs12 = l2_virtual_8086,
      GUEST_FAILS("guest RFLAGS.VM needs protected mode outside IA-32e mode") },
    { "unrestricted guest: RFLAGS.VM with CR0.PE clear",
      { EPT_ON(PROC2_UNRESTRICTED_GUEST), SET(GUEST_CR0, CR0_NE | 0x10) },
      .adjust_vmcs12 = l2_virtual_8086, .adjust_caps = offer_every_control,
      GUEST_FAILS("guest RFLAGS.VM needs protected mode outside IA-32e mode") },
    { "external interrupt injected with RFLAGS.IF clear",
      { SET(VM_ENTRY_INTR_INFO, EVENT(EXT_INT, 0x30)), SET(GUEST_RFLAGS, RFLAGS_FIXED) },
      GUEST_FAILS("RFLAGS.IF for an injected external interrupt") },
    /* ---- Guest non-register state (27.3.1.5) ---- */
    { "activity state shutdown not offered", { SET(GUEST_ACTIVITY_STATE, SHUTDOWN) },
      GUEST_FAILS("activity state") },
    { "activity state 4", { SET(GUEST_ACTIVITY_STATE, 4) },
      .adjust_caps = offer_shutdown_and_wait_for_sipi, GUEST_FAILS("activity state") },
    { "activity state HLT", { SET(GUEST_ACTIVITY_STATE, HLT) }, .fails_at = PASSES },
    { "HLT at CPL 3", { SET(GUEST_ACTIVITY_STATE, HLT), L2_AT_CPL(3) },
      GUEST_FAILS("HLT needs SS.DPL 0") },
    { "HLT at CPL 2", { SET(GUEST_ACTIVITY_STATE, HLT), L2_AT_CPL(2) },
      GUEST_FAILS("HLT needs SS.DPL 0") },
    { "HLT with blocking by STI",
      { SET(GUEST_ACTIVITY_STATE, HLT), SET(GUEST_INTERRUPTIBILITY_INFO, STI) },
      GUEST_FAILS("STI or MOV-SS blocking needs the active state") },
    { "HLT with a software interrupt injected",
      { SET(GUEST_ACTIVITY_STATE, HLT), SET(VM_ENTRY_INTR_INFO, EVENT(SW_INT, 0x80)),
        SET(VM_ENTRY_INSTRUCTION_LEN, 2) },
      GUEST_FAILS("injected event allowed in the activity state") },
    { "HLT with #GP injected",
      { SET(GUEST_ACTIVITY_STATE, HLT), SET(VM_ENTRY_INTR_INFO, EVENT(HW_EXC, 13) |
                                                                 WITH_ERROR_CODE) },
      GUEST_FAILS("injected event allowed in the activity state") },
    { "HLT with an external interrupt injected",
      { SET(GUEST_ACTIVITY_STATE, HLT), SET(VM_ENTRY_INTR_INFO, EVENT(EXT_INT, 0x30)) },
      .fails_at = PASSES },
    { "HLT with #DB injected",
      { SET(GUEST_ACTIVITY_STATE, HLT), SET(VM_ENTRY_INTR_INFO, EVENT(HW_EXC, 1)) },
      .fails_at = PASSES },
    { "HLT with a pending MTF exit injected",
      { SET(GUEST_ACTIVITY_STATE, HLT), SET(VM_ENTRY_INTR_INFO, EVENT(OTHER, 0)) },
      .adjust_caps = offer_mtf, .fails_at = PASSES },
    { "shutdown with an NMI injected",
      { SET(GUEST_ACTIVITY_STATE, SHUTDOWN), SET(VM_ENTRY_INTR_INFO, EVENT(NMI, 2)) },
      .adjust_caps = offer_shutdown_and_wait_for_sipi, .fails_at = PASSES },
    { "shutdown with an external interrupt injected",
      { SET(GUEST_ACTIVITY_STATE, SHUTDOWN), SET(VM_ENTRY_INTR_INFO, EVENT(EXT_INT, 0x30)) },
      .adjust_caps = offer_shutdown_and_wait_for_sipi,
      GUEST_FAILS("injected event allowed in the activity state") },
    { "wait-for-SIPI with an NMI injected",
      { SET(GUEST_ACTIVITY_STATE, WAIT_FOR_SIPI), SET(VM_ENTRY_INTR_INFO, EVENT(NMI, 2)) },
      .adjust_caps = offer_shutdown_and_wait_for_sipi,
      GUEST_FAILS("injected event allowed in the activity state") },
    { "interruptibility: enclave interruption", { SET(GUEST_INTERRUPTIBILITY_INFO, 1u << 4) },
      GUEST_FAILS("interruptibility reserved bits") },
    { "interruptibility: bit 5", { SET(GUEST_INTERRUPTIBILITY_INFO, 1u << 5) },
      GUEST_FAILS("interruptibility reserved bits") },
    { "blocking by STI and MOV SS", { SET(GUEST_INTERRUPTIBILITY_INFO, STI | MOV_SS) },
      GUEST_FAILS("blocking by both STI and MOV SS") },
    { "blocking by STI with RFLAGS.IF clear",
      { SET(GUEST_INTERRUPTIBILITY_INFO, STI), SET(GUEST_RFLAGS, RFLAGS_FIXED) },
      GUEST_FAILS("STI blocking needs RFLAGS.IF") },
    { "external interrupt injected under MOV-SS blocking",
      { SET(GUEST_INTERRUPTIBILITY_INFO, MOV_SS), SET(VM_ENTRY_INTR_INFO, EVENT(EXT_INT, 0x30)) },
      GUEST_FAILS("STI or MOV-SS blocking with an injected external interrupt") },
    { "external interrupt injected under STI blocking",
      { SET(GUEST_INTERRUPTIBILITY_INFO, STI), SET(VM_ENTRY_INTR_INFO, EVENT(EXT_INT, 0x30)) },
      GUEST_FAILS("STI or MOV-SS blocking with an injected external interrupt") },
    { "NMI injected under MOV-SS blocking",
      { SET(GUEST_INTERRUPTIBILITY_INFO, MOV_SS), SET(VM_ENTRY_INTR_INFO, EVENT(NMI, 2)) },
      GUEST_FAILS("MOV-SS blocking with an injected NMI") },
    { "NMI injected under STI blocking",
      { SET(GUEST_INTERRUPTIBILITY_INFO, STI), SET(VM_ENTRY_INTR_INFO, EVENT(NMI, 2)) },
      .fails_at = PASSES },
    { "blocking by SMI outside SMM", { SET(GUEST_INTERRUPTIBILITY_INFO, SMI) },
      GUEST_FAILS("SMI blocking outside SMM") },
    { "NMI injected under virtual-NMI blocking",
      { SET(PIN_BASED_VM_EXEC_CONTROL, BASE_PIN | PIN_VIRTUAL_NMIS),
        SET(GUEST_INTERRUPTIBILITY_INFO, NMI_BLOCKED), SET(VM_ENTRY_INTR_INFO, EVENT(NMI, 2)) },
      .adjust_caps = offer_every_control,
      GUEST_FAILS("virtual-NMI blocking with an injected NMI") },
    { "NMI injected under NMI blocking without virtual NMIs",
      { SET(GUEST_INTERRUPTIBILITY_INFO, NMI_BLOCKED), SET(VM_ENTRY_INTR_INFO, EVENT(NMI, 2)) },
      .fails_at = PASSES },
    { "pending debug exceptions bit 4", { SET(GUEST_PENDING_DBG_EXCEPTIONS, 1u << 4) },
      GUEST_FAILS("guest pending debug exceptions reserved bits") },
    { "pending debug exceptions: RTM with an enabled breakpoint",
      { SET(GUEST_PENDING_DBG_EXCEPTIONS, 1u << 16 | 1u << 12) },
      GUEST_FAILS("guest pending debug exceptions reserved bits") },
    { "pending B0, enabled breakpoint and BS while active and unblocked",
      { SET(GUEST_PENDING_DBG_EXCEPTIONS, 0x5001) }, .fails_at = PASSES },
    { "blocking by STI with RFLAGS.TF and BS clear",
      { SET(GUEST_INTERRUPTIBILITY_INFO, STI),
        SET(GUEST_RFLAGS, RFLAGS_FIXED | RFLAGS_IF | RFLAGS_TF) },
      GUEST_FAILS("guest pending BS with STI or MOV-SS blocking or HLT") },
    { "blocking by STI with RFLAGS.TF and BS set",
      { SET(GUEST_INTERRUPTIBILITY_INFO, STI),
        SET(GUEST_RFLAGS, RFLAGS_FIXED | RFLAGS_IF | RFLAGS_TF),
        SET(GUEST_PENDING_DBG_EXCEPTIONS, PENDING_BS) },
      .fails_at = PASSES },
    { "HLT with BS set and RFLAGS.TF clear",
      { SET(GUEST_ACTIVITY_STATE, HLT), SET(GUEST_PENDING_DBG_EXCEPTIONS, PENDING_BS) },
      GUEST_FAILS("guest pending BS with STI or MOV-SS blocking or HLT") },
    { "blocking by MOV SS with RFLAGS.TF, BTF and BS set",
      { SET(GUEST_INTERRUPTIBILITY_INFO, MOV_SS), SET(GUEST_RFLAGS, RFLAGS_FIXED | RFLAGS_TF),
        SET(GUEST_IA32_DEBUGCTL, DEBUGCTL_BTF), SET(GUEST_PENDING_DBG_EXCEPTIONS, PENDING_BS) },
      GUEST_FAILS("guest pending BS with STI or MOV-SS blocking or HLT") },
    { "blocking by MOV SS with RFLAGS.TF and BTF, BS clear",
      { SET(GUEST_INTERRUPTIBILITY_INFO, MOV_SS), SET(GUEST_RFLAGS, RFLAGS_FIXED | RFLAGS_TF),
        SET(GUEST_IA32_DEBUGCTL, DEBUGCTL_BTF) },
      .fails_at = PASSES },
    { "VMCS link pointer not all ones", { SET(VMCS_LINK_POINTER, 0x1d000) },
      .fails_at = GUEST_STATE, .check = "VMCS link pointer",
      .qualification = NESTED_ENTRY_FAILURE_LINK_POINTER },
    /* ---- Guest PDPTEs (27.3.1.6) ---- */
    { "PDPTE with reserved bit 1",
      { EPT_ON(0), L2_32BIT, SET(GUEST_PDPTE0, 0x3000 | 1), SET(GUEST_PDPTE2, 0x4000 | 2 | 1) },
      .adjust_caps = offer_ept, .fails_at = GUEST_STATE, .check = "guest PDPTEs",
      .qualification = NESTED_ENTRY_FAILURE_PDPTE },
    { "PDPTE beyond the physical-address width",
      { EPT_ON(0), L2_32BIT, SET(GUEST_PDPTE3, ABOVE_PHYS | 1) },
      .adjust_caps = offer_ept, .fails_at = GUEST_STATE, .check = "guest PDPTEs",
      .qualification = NESTED_ENTRY_FAILURE_PDPTE },
    { "PDPTEs present and valid",
      { EPT_ON(0), L2_32BIT, SET(GUEST_PDPTE0, 0x3000 | 0x19),
        SET(GUEST_PDPTE3, (ABOVE_PHYS - 0x1000) | 0xe01) },
      .adjust_caps = offer_ept, .fails_at = PASSES },
    { "PDPTE not present: its other bits unchecked",
      { EPT_ON(0), L2_32BIT, SET(GUEST_PDPTE1, ~1ull) }, .adjust_caps = offer_ept,
      .fails_at = PASSES },
    { "PDPTEs unchecked in an IA-32e mode guest",
      { EPT_ON(0), SET(GUEST_PDPTE0, 0x3000 | 0x1e7) }, .adjust_caps = offer_ept,
      .fails_at = PASSES },
    { "PDPTEs unchecked without EPT",
      { L2_32BIT, SET(GUEST_PDPTE0, 0x3000 | 0x1e7) }, .fails_at = PASSES },
};

static void run_mutation(void **state)
{
    const struct mutation *m = *state;
    static struct vmcs12 vmcs12;
    make_valid(&vmcs12);
    if (m->adjust_vmcs12)
        m->adjust_vmcs12(&vmcs12);
    for (unsigned i = 0; i < sizeof(m->fields) / sizeof(m->fields[0]); i++)
        if (m->fields[i].used)
            vmcs12_write(&vmcs12, m->fields[i].encoding, m->fields[i].value);
    struct nested_vmx_caps caps = typical_caps();
    if (m->adjust_caps)
        m->adjust_caps(&caps);
    unsigned linear_addr_bits = m->linear_addr_bits ? m->linear_addr_bits : 48;

    const char *failed = NULL;
    uint32_t error = nested_check_controls(&vmcs12, &caps, PHYS_BITS, &failed);
    if (m->fails_at == CONTROLS) {
        assert_int_equal(error, VMXERR_ENTRY_INVALID_CONTROL_FIELD);
        assert_string_equal(failed, m->check);
        return;
    }
    if (error)
        fail_msg("controls failed: %s", failed);

    error = nested_check_host_state(&vmcs12, &caps, PHYS_BITS, linear_addr_bits,
                                    !m->l1_outside_ia32e_mode, &failed);
    if (m->fails_at == HOST_STATE) {
        assert_int_equal(error, VMXERR_ENTRY_INVALID_HOST_STATE_FIELD);
        assert_string_equal(failed, m->check);
        return;
    }
    if (error)
        fail_msg("host state failed: %s", failed);

    uint64_t qualification = ~0ull;
    bool valid = nested_check_guest_state(&vmcs12, &caps, PHYS_BITS, UINT32_MAX, NULL,
                                          &qualification, &failed);
    if (m->fails_at == GUEST_STATE) {
        assert_false(valid);
        assert_string_equal(failed, m->check);
        assert_int_equal(qualification, m->qualification);
        return;
    }
    if (!valid)
        fail_msg("guest state failed: %s", failed);
}

#define MUTATIONS (sizeof(mutations) / sizeof(mutations[0]))

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_vmcs12_passes_all_checks),
        cmocka_unit_test(failed_check_may_be_ignored),
        cmocka_unit_test(link_pointer_to_a_vmcs_region),
        cmocka_unit_test(link_pointer_to_a_shadow_vmcs),
        cmocka_unit_test(entry_failure_exit_reason),
        cmocka_unit_test(pdpte_reserved_bits),
        cmocka_unit_test(segment_memo_skips_only_unchanged_state),
    };
    int failures = cmocka_run_group_tests_name("nested_entry_checks", tests, NULL, NULL);

    static struct CMUnitTest mutation_tests[MUTATIONS];
    for (unsigned i = 0; i < MUTATIONS; i++)
        mutation_tests[i] = (struct CMUnitTest){
            .name = mutations[i].name,
            .test_func = run_mutation,
            .initial_state = (void *)&mutations[i],
        };
    return failures + _cmocka_run_group_tests("nested_entry_checks: one mutation per check",
                                              mutation_tests, MUTATIONS, NULL, NULL);
}
