/* The capability MSRs L1 sees, computed for the recorded Bochs models. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "nested/vmcs12.h"
#include "nested/vmx_caps.h"
#include "tests/unit/fixtures/bochs_vmx_caps.h"

static const struct {
    const char *name;
    const struct vmx_capability_msrs *msrs;
} models[] = {
    { "tigerlake", &bochs_tigerlake },
    { "corei7_haswell_4770", &bochs_corei7_haswell_4770 },
    { "corei7_skylake_x", &bochs_corei7_skylake_x },
};
#define MODEL_COUNT (sizeof(models) / sizeof(models[0]))

static const uint32_t default1[VMX_CTL_CLASSES] = {
    [VMX_CTL_PIN] = VMX_PIN_DEFAULT1, [VMX_CTL_PROC] = VMX_PROC_DEFAULT1,
    [VMX_CTL_EXIT] = VMX_EXIT_DEFAULT1, [VMX_CTL_ENTRY] = VMX_ENTRY_DEFAULT1,
};
static const uint32_t emulated[VMX_CTL_CLASSES] = {
    NESTED_PIN_EMULATED, NESTED_PROC_EMULATED, NESTED_PROC2_EMULATED,
    NESTED_EXIT_EMULATED, NESTED_ENTRY_EMULATED,
};
/* The emulated VMX-preemption timer: offered on any machine. */
static const uint32_t always_offered[VMX_CTL_CLASSES] = {
    [VMX_CTL_PIN] = PIN_PREEMPTION_TIMER, [VMX_CTL_EXIT] = EXIT_SAVE_PREEMPTION_TIMER,
    [VMX_CTL_PROC2] = PROC2_VMCS_SHADOWING | PROC2_ENABLE_PML,
};
/* Must-be-1 in TRUE: the default1 bits but CR3-load/store exiting and
 * save/load debug controls, which L1 may clear. */
static const uint32_t true_must_be_1[VMX_CTL_CLASSES] = {
    [VMX_CTL_PIN] = 0x00000016, [VMX_CTL_PROC] = 0x04006172,
    [VMX_CTL_EXIT] = 0x00036dfb, [VMX_CTL_ENTRY] = 0x000011fb,
};

static const enum nested_vmx_msr_index true_msr[VMX_CTL_CLASSES] = {
    NESTED_VMX_TRUE_PINBASED, NESTED_VMX_TRUE_PROCBASED, NESTED_VMX_PROCBASED2,
    NESTED_VMX_TRUE_EXIT, NESTED_VMX_TRUE_ENTRY,
};
static const enum nested_vmx_msr_index plain_msr[VMX_CTL_CLASSES] = {
    NESTED_VMX_PINBASED, NESTED_VMX_PROCBASED, NESTED_VMX_PROCBASED2,
    NESTED_VMX_EXIT, NESTED_VMX_ENTRY,
};

/* The model's allowed-1 settings (all recorded models have TRUE MSRs). */
static uint32_t model_may_be_1(const struct vmx_capability_msrs *hw, int cls)
{
    const uint64_t msrs[VMX_CTL_CLASSES] = { hw->true_pinbased, hw->true_procbased,
                                             hw->procbased2, hw->true_exit, hw->true_entry };
    return (uint32_t)(msrs[cls] >> 32);
}

static struct nested_vmx_caps caps_for(const struct vmx_capability_msrs *hw)
{
    struct vmcs_config cfg;
    struct nested_vmx_caps caps;
    char why[160] = "";
    if (!vmcs_config_negotiate(hw, &cfg, why, sizeof(why)))
        fail_msg("negotiation failed: %s", why);
    nested_vmx_caps_init(&caps, &cfg, hw);
    return caps;
}

static void allowed1_is_what_the_model_allows_and_we_emulate(void **state)
{
    (void)state;
    for (size_t m = 0; m < MODEL_COUNT; m++) {
        struct nested_vmx_caps caps = caps_for(models[m].msrs);
        for (int cls = 0; cls < VMX_CTL_CLASSES; cls++) {
            uint32_t may = caps.may_be_1[cls];
            uint32_t allowed = (model_may_be_1(models[m].msrs, cls) & emulated[cls]) |
                               always_offered[cls];
            /* Default1 bits must be allowed 1: the plain MSR forces them. */
            assert_int_equal(may & default1[cls], default1[cls]);
            if (may & ~default1[cls] & ~allowed)
                fail_msg("%s: %s controls 0x%08x offered beyond model & emulated", models[m].name,
                         vmx_control_class_name(cls), may & ~default1[cls] & ~allowed);
            assert_int_equal(may & always_offered[cls], always_offered[cls]);
            assert_int_equal(caps.must_be_1[cls] & ~may, 0);
        }
    }
}

static void must_be_1_is_the_forced_default1_bits(void **state)
{
    (void)state;
    for (size_t m = 0; m < MODEL_COUNT; m++) {
        struct nested_vmx_caps caps = caps_for(models[m].msrs);
        for (int cls = 0; cls < VMX_CTL_CLASSES; cls++)
            assert_int_equal(caps.must_be_1[cls], true_must_be_1[cls]);
        assert_false(caps.must_be_1[VMX_CTL_PROC] &
                     (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING));
        assert_false(caps.must_be_1[VMX_CTL_EXIT] & EXIT_SAVE_DEBUG_CONTROLS);
        assert_false(caps.must_be_1[VMX_CTL_ENTRY] & ENTRY_LOAD_DEBUG_CONTROLS);
    }
}

/* A machine without TRUE MSRs forces every default1 bit: L1 still gets
 * the TRUE MSRs and may still clear the free ones. */
static void machine_without_true_msrs(void **state)
{
    (void)state;
    struct vmx_capability_msrs hw = bochs_tigerlake;
    hw.basic &= ~VMX_BASIC_TRUE_CONTROLS;
    struct nested_vmx_caps caps = caps_for(&hw);
    for (int cls = 0; cls < VMX_CTL_CLASSES; cls++)
        assert_int_equal(caps.must_be_1[cls], true_must_be_1[cls]);
    assert_true(caps.msr[NESTED_VMX_BASIC] & VMX_BASIC_TRUE_CONTROLS);
}

static void plain_msrs_are_true_with_default1_forced(void **state)
{
    (void)state;
    for (size_t m = 0; m < MODEL_COUNT; m++) {
        struct nested_vmx_caps caps = caps_for(models[m].msrs);
        for (int cls = 0; cls < VMX_CTL_CLASSES; cls++)
            assert_int_equal(caps.msr[plain_msr[cls]], caps.msr[true_msr[cls]] | default1[cls]);
    }
}

static void decoded_halves_match_the_msrs(void **state)
{
    (void)state;
    for (size_t m = 0; m < MODEL_COUNT; m++) {
        struct nested_vmx_caps caps = caps_for(models[m].msrs);
        for (int cls = 0; cls < VMX_CTL_CLASSES; cls++) {
            assert_int_equal(caps.must_be_1[cls], (uint32_t)caps.msr[true_msr[cls]]);
            assert_int_equal(caps.may_be_1[cls], (uint32_t)(caps.msr[true_msr[cls]] >> 32));
        }
    }
}

static void tigerlake_msrs(void **state)
{
    (void)state;
    static const uint64_t expect[NESTED_VMX_MSR_COUNT] = {
        [NESTED_VMX_BASIC] = 0x00d81000766d7831,
        [NESTED_VMX_PINBASED] = 0x0000005f00000016,
        [NESTED_VMX_PROCBASED] = 0xf799fffe0401e172,
        [NESTED_VMX_EXIT] = 0x007fefff00036dff,
        [NESTED_VMX_ENTRY] = 0x0000d3ff000011ff,
        [NESTED_VMX_MISC] = 0x0000000020000065,
        [NESTED_VMX_CR0_FIXED0] = 0x0000000080000021,
        [NESTED_VMX_CR0_FIXED1] = 0x00000000ffffffff,
        [NESTED_VMX_CR4_FIXED0] = 0x0000000000002000,
        [NESTED_VMX_CR4_FIXED1] = 0x0000000000f72fff,
        [NESTED_VMX_VMCS_ENUM] = 0x0000000000000032,
        [NESTED_VMX_PROCBASED2] = 0x000244ea00000000,
        [NESTED_VMX_EPT_VPID_CAP] = 0x00000f0106334041,
        [NESTED_VMX_TRUE_PINBASED] = 0x0000005f00000016,
        [NESTED_VMX_TRUE_PROCBASED] = 0xf799fffe04006172,
        [NESTED_VMX_TRUE_EXIT] = 0x007fefff00036dfb,
        [NESTED_VMX_TRUE_ENTRY] = 0x0000d3ff000011fb,
        [NESTED_VMX_VMFUNC] = 0,
    };
    struct nested_vmx_caps caps = caps_for(&bochs_tigerlake);
    for (int i = 0; i < NESTED_VMX_MSR_COUNT; i++)
        if (caps.msr[i] != expect[i])
            fail_msg("MSR 0x%x: 0x%016llx, expected 0x%016llx", NESTED_VMX_MSR_FIRST + i,
                     (unsigned long long)caps.msr[i], (unsigned long long)expect[i]);
}

static void basic_misc_and_fixed_msrs(void **state)
{
    (void)state;
    for (size_t m = 0; m < MODEL_COUNT; m++) {
        const struct vmx_capability_msrs *hw = models[m].msrs;
        struct nested_vmx_caps caps = caps_for(hw);
        /* Revision, 4096 bytes, WB, INS/OUTS info (all models have it), TRUE MSRs. */
        assert_int_equal(caps.msr[NESTED_VMX_BASIC], 0x00d81000766d7831);
        assert_int_equal(VMX_BASIC_REVISION(caps.msr[NESTED_VMX_BASIC]), VMCS12_REVISION);
        assert_int_equal(VMX_BASIC_REGION_SIZE(caps.msr[NESTED_VMX_BASIC]), VMCS12_SIZE);
        /* Rate 5, EFER.LMA saved (all models), HLT, VMWRITE to any field. */
        assert_int_equal(caps.msr[NESTED_VMX_MISC], 0x20000065);
        assert_int_equal(caps.msr[NESTED_VMX_CR0_FIXED0], 0x80000021);
        assert_int_equal(caps.msr[NESTED_VMX_CR0_FIXED1], hw->cr0_fixed1);
        assert_int_equal(caps.msr[NESTED_VMX_CR4_FIXED0], 0x2000);
        assert_int_equal(caps.msr[NESTED_VMX_CR4_FIXED1], hw->cr4_fixed1);
        assert_int_equal(caps.msr[NESTED_VMX_VMCS_ENUM], 0x32);
        /* 4 levels, WB, 2M and 1G, A/D, INVEPT both types, INVVPID all
         * four; execute-only as the hardware (all models have it). */
        assert_int_equal(caps.msr[NESTED_VMX_EPT_VPID_CAP], 0x00000f0106334041);
        assert_int_equal(caps.msr[NESTED_VMX_VMFUNC], 0);
    }
}

/* INS/OUTS information and the EFER.LMA save follow the machine. */
static void hardware_dependent_bits_follow_the_machine(void **state)
{
    (void)state;
    struct vmx_capability_msrs hw = bochs_tigerlake;
    hw.basic &= ~VMX_BASIC_INS_OUTS_INFO;
    hw.misc &= ~VMX_MISC_SAVE_EFER_LMA;
    struct nested_vmx_caps caps = caps_for(&hw);
    assert_int_equal(caps.msr[NESTED_VMX_BASIC], 0x00981000766d7831);
    assert_int_equal(caps.msr[NESTED_VMX_MISC], 0x20000045);
}

#define PROC2_OFFERED (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST | PROC2_PAUSE_LOOP_EXITING | \
                       PROC2_ENABLE_RDTSCP | PROC2_WBINVD_EXITING | PROC2_VMCS_SHADOWING | \
                       PROC2_ENABLE_PML)

static void secondary_controls_are_ept_vpid_ug_rdtscp_wbinvd_exiting_and_shadowing(void **state)
{
    (void)state;
    for (size_t m = 0; m < MODEL_COUNT; m++) {
        struct nested_vmx_caps caps = caps_for(models[m].msrs);
        assert_int_equal(caps.may_be_1[VMX_CTL_PROC2], PROC2_OFFERED);
        assert_int_equal(caps.must_be_1[VMX_CTL_PROC2], 0);
    }
}

static void preemption_timer_is_offered_without_hardware(void **state)
{
    (void)state;
    struct vmx_capability_msrs hw = bochs_tigerlake;
    hw.true_pinbased &= ~((uint64_t)PIN_PREEMPTION_TIMER << 32);
    hw.pinbased &= ~((uint64_t)PIN_PREEMPTION_TIMER << 32);
    hw.true_exit &= ~((uint64_t)EXIT_SAVE_PREEMPTION_TIMER << 32);
    hw.exit &= ~((uint64_t)EXIT_SAVE_PREEMPTION_TIMER << 32);
    struct nested_vmx_caps caps = caps_for(&hw);
    assert_true(caps.may_be_1[VMX_CTL_PIN] & PIN_PREEMPTION_TIMER);
    assert_true(caps.may_be_1[VMX_CTL_EXIT] & EXIT_SAVE_PREEMPTION_TIMER);
    assert_int_equal(VMX_MISC_PREEMPTION_TIMER_RATE(caps.msr[NESTED_VMX_MISC]), 5);
}

static void shadowing_pml_and_ept_ad_are_offered_without_hardware(void **state)
{
    (void)state;
    struct vmx_capability_msrs hw = bochs_tigerlake;
    hw.procbased2 &= ~((uint64_t)(PROC2_VMCS_SHADOWING | PROC2_ENABLE_PML) << 32);
    hw.ept_vpid_cap &= ~EPT_CAP_AD;
    struct nested_vmx_caps caps = caps_for(&hw);
    assert_true(caps.may_be_1[VMX_CTL_PROC2] & PROC2_VMCS_SHADOWING);
    assert_true(caps.may_be_1[VMX_CTL_PROC2] & PROC2_ENABLE_PML);
    assert_true(caps.msr[NESTED_VMX_EPT_VPID_CAP] & EPT_CAP_AD);
}

static void emulated_controls_the_machine_lacks_are_not_offered(void **state)
{
    (void)state;
    struct vmx_capability_msrs hw = bochs_tigerlake;
    hw.true_procbased &= ~((uint64_t)PROC_MOV_DR_EXITING << 32);
    hw.procbased2 &= ~((uint64_t)PROC2_WBINVD_EXITING << 32);
    hw.true_exit &= ~((uint64_t)EXIT_ACK_INTERRUPT_ON_EXIT << 32);
    struct nested_vmx_caps caps = caps_for(&hw);
    assert_false(caps.may_be_1[VMX_CTL_PROC] & PROC_MOV_DR_EXITING);
    assert_int_equal(caps.may_be_1[VMX_CTL_PROC2], PROC2_OFFERED & ~PROC2_WBINVD_EXITING);
    assert_false(caps.may_be_1[VMX_CTL_EXIT] & EXIT_ACK_INTERRUPT_ON_EXIT);
}

static void offered_msrs(void **state)
{
    (void)state;
    for (size_t m = 0; m < MODEL_COUNT; m++) {
        struct nested_vmx_caps caps = caps_for(models[m].msrs);
        for (uint32_t msr = 0x480; msr <= 0x490; msr++)
            assert_true(nested_vmx_msr_offered(&caps, msr));
        assert_false(nested_vmx_msr_offered(&caps, 0x491));    /* no VM functions */
        assert_false(nested_vmx_msr_offered(&caps, 0x47f));
        assert_false(nested_vmx_msr_offered(&caps, 0x492));    /* PROCBASED_CTLS3 */
        assert_false(nested_vmx_msr_offered(&caps, 0));
        assert_false(nested_vmx_msr_offered(&caps, 0x80000480u));
        assert_false(nested_vmx_msr_offered(&caps, 0xffffffffu));
    }
}

static void procbased2_needs_secondary_controls(void **state)
{
    (void)state;
    struct nested_vmx_caps caps = caps_for(&bochs_tigerlake);
    caps.may_be_1[VMX_CTL_PROC] &= ~PROC_ACTIVATE_SECONDARY;
    assert_false(nested_vmx_msr_offered(&caps, 0x48b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(allowed1_is_what_the_model_allows_and_we_emulate),
        cmocka_unit_test(must_be_1_is_the_forced_default1_bits),
        cmocka_unit_test(machine_without_true_msrs),
        cmocka_unit_test(plain_msrs_are_true_with_default1_forced),
        cmocka_unit_test(decoded_halves_match_the_msrs),
        cmocka_unit_test(tigerlake_msrs),
        cmocka_unit_test(basic_misc_and_fixed_msrs),
        cmocka_unit_test(hardware_dependent_bits_follow_the_machine),
        cmocka_unit_test(secondary_controls_are_ept_vpid_ug_rdtscp_wbinvd_exiting_and_shadowing),
        cmocka_unit_test(preemption_timer_is_offered_without_hardware),
        cmocka_unit_test(shadowing_pml_and_ept_ad_are_offered_without_hardware),
        cmocka_unit_test(emulated_controls_the_machine_lacks_are_not_offered),
        cmocka_unit_test(offered_msrs),
        cmocka_unit_test(procbased2_needs_secondary_controls),
    };
    return cmocka_run_group_tests_name("vmx_caps", tests, NULL, NULL);
}
