/* Control negotiation against capability MSRs recorded from Bochs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "tests/unit/fixtures/bochs_vmx_caps.h"

static bool vmcs_config_has(const struct vmcs_config *cfg, enum vmx_control_class cls,
                            uint32_t mask)
{
    return (cfg->ctl[cls] & mask) == mask;
}

static struct vmcs_config negotiate_ok(const struct vmx_capability_msrs *caps)
{
    struct vmcs_config cfg;
    char why[160] = "";
    bool ok = vmcs_config_negotiate(caps, &cfg, why, sizeof(why));
    if (!ok)
        fail_msg("negotiation failed: %s", why);
    return cfg;
}

static void expect_failure(const struct vmx_capability_msrs *caps, const char *message)
{
    struct vmcs_config cfg;
    char why[160] = "";
    assert_false(vmcs_config_negotiate(caps, &cfg, why, sizeof(why)));
    assert_string_equal(why, message);
}

static void expect_line(const struct vmx_capability_msrs *caps, const char *line)
{
    struct vmcs_config cfg = negotiate_ok(caps);
    char buf[160];
    vmcs_config_describe(&cfg, buf, sizeof(buf));
    assert_string_equal(buf, line);
}

/* Every negotiated word must respect its MSR: allowed-0 bits set, nothing
 * outside allowed-1 (SDM Vol. 3D A.3). */
static void expect_words_legal(const struct vmx_capability_msrs *caps)
{
    struct vmcs_config cfg = negotiate_ok(caps);
    const uint64_t msrs[VMX_CTL_CLASSES] = { caps->true_pinbased, caps->true_procbased,
                                             caps->procbased2, caps->true_exit,
                                             caps->true_entry };
    for (int cls = 0; cls < VMX_CTL_CLASSES; cls++) {
        uint32_t allowed0 = (uint32_t)msrs[cls], allowed1 = (uint32_t)(msrs[cls] >> 32);
        assert_int_equal(cfg.ctl[cls] & allowed0, allowed0);
        assert_int_equal(cfg.ctl[cls] & ~allowed1, 0);
    }
}

static void tigerlake_capability_line(void **state)
{
    (void)state;
    expect_line(&bochs_tigerlake, "vmx: rev 4, ept 4lvl 2M 1G A/D, vpid, ple, shadow-vmcs, pml, "
                                  "unrestricted, preempt-timer(rate 0)");
}

static void haswell_has_no_pml(void **state)
{
    (void)state;
    expect_line(&bochs_corei7_haswell_4770, "vmx: rev 43, ept 4lvl 2M 1G A/D, vpid, ple, "
                                            "shadow-vmcs, unrestricted, preempt-timer(rate 0)");
    struct vmcs_config cfg = negotiate_ok(&bochs_corei7_haswell_4770);
    assert_false(cfg.ctl[VMX_CTL_PROC2] & PROC2_ENABLE_PML);
}

static void skylake_x_capability_line(void **state)
{
    (void)state;
    expect_line(&bochs_corei7_skylake_x, "vmx: rev 43, ept 4lvl 2M 1G A/D, vpid, ple, "
                                         "shadow-vmcs, pml, unrestricted, preempt-timer(rate 0)");
}

static void words_respect_allowed_settings(void **state)
{
    (void)state;
    expect_words_legal(&bochs_tigerlake);
    expect_words_legal(&bochs_corei7_haswell_4770);
    expect_words_legal(&bochs_corei7_skylake_x);
}

static void requested_controls_are_set(void **state)
{
    (void)state;
    struct vmcs_config cfg = negotiate_ok(&bochs_tigerlake);
    assert_true(vmcs_config_has(&cfg, VMX_CTL_PIN, PIN_EXTERNAL_INTERRUPT_EXITING |
                                                     PIN_NMI_EXITING | PIN_VIRTUAL_NMIS |
                                                     PIN_PREEMPTION_TIMER));
    assert_true(vmcs_config_has(&cfg, VMX_CTL_PROC, PROC_HLT_EXITING | PROC_USE_TSC_OFFSETTING |
                                                      PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS |
                                                      PROC_ACTIVATE_SECONDARY));
    /* TSC offsetting without RDTSC exiting (the seed's choice, as KVM). */
    assert_false(cfg.ctl[VMX_CTL_PROC] & PROC_RDTSC_EXITING);
    assert_true(vmcs_config_has(&cfg, VMX_CTL_PROC2, PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST |
                                                       PROC2_ENABLE_VPID | PROC2_ENABLE_PML));
    assert_true(vmcs_config_has(&cfg, VMX_CTL_EXIT, EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_EFER));
    /* Interrupts are acknowledged on exit: the exit path runs their handler
     * (exits/exit_dispatch.c take_host_interrupt), as KVM does. */
    assert_true(cfg.ctl[VMX_CTL_EXIT] & EXIT_ACK_INTERRUPT_ON_EXIT);
    assert_int_equal(cfg.allowed1[VMX_CTL_PROC], 0xfff9fffe);  /* TRUE_PROCBASED high half */
    assert_int_equal(cfg.revision_id, 4);
    assert_int_equal(cfg.region_size, 4096);
}

/* With TRUE_ MSRs, CR3-load/store exiting may be 0 (they are default-1 in
 * the plain MSR); without them they are forced on. */
static void true_msrs_are_used_when_offered(void **state)
{
    (void)state;
    struct vmcs_config cfg = negotiate_ok(&bochs_tigerlake);
    assert_false(cfg.ctl[VMX_CTL_PROC] & (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING));

    struct vmx_capability_msrs caps = bochs_tigerlake;
    caps.basic &= ~VMX_BASIC_TRUE_CONTROLS;
    cfg = negotiate_ok(&caps);
    assert_true(vmcs_config_has(&cfg, VMX_CTL_PROC, PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING));
}

static void missing_required_secondary_control(void **state)
{
    (void)state;
    struct vmx_capability_msrs caps = bochs_tigerlake;
    caps.procbased2 &= ~((uint64_t)PROC2_ENABLE_EPT << 32);
    expect_failure(&caps, "required secondary processor-based control 'enable EPT' (bit 1) is "
                          "not supported");
    caps = bochs_tigerlake;
    caps.procbased2 &= ~((uint64_t)PROC2_UNRESTRICTED_GUEST << 32);
    expect_failure(&caps, "required secondary processor-based control 'unrestricted guest' "
                          "(bit 7) is not supported");
}

static void missing_required_primary_control(void **state)
{
    (void)state;
    struct vmx_capability_msrs caps = bochs_tigerlake;
    caps.true_procbased &= ~((uint64_t)PROC_ACTIVATE_SECONDARY << 32);
    expect_failure(&caps, "required primary processor-based control 'activate secondary "
                          "controls' (bit 31) is not supported");
    caps = bochs_tigerlake;
    caps.true_procbased &= ~((uint64_t)PROC_HLT_EXITING << 32);
    expect_failure(&caps, "required primary processor-based control 'HLT exiting' (bit 7) is "
                          "not supported");
}

static void missing_required_exit_and_entry_controls(void **state)
{
    (void)state;
    struct vmx_capability_msrs caps = bochs_tigerlake;
    caps.true_exit &= ~((uint64_t)EXIT_LOAD_EFER << 32);
    expect_failure(&caps, "required VM-exit control 'load IA32_EFER' (bit 21) is not supported");
    caps = bochs_tigerlake;
    caps.true_entry &= ~((uint64_t)ENTRY_LOAD_EFER << 32);
    expect_failure(&caps, "required VM-entry control 'load IA32_EFER' (bit 15) is not supported");
}

static void optional_controls_absent_are_left_out(void **state)
{
    (void)state;
    struct vmx_capability_msrs caps = bochs_tigerlake;
    caps.true_pinbased &= ~((uint64_t)PIN_PREEMPTION_TIMER << 32);
    caps.procbased2 &= ~((uint64_t)(PROC2_PAUSE_LOOP_EXITING | PROC2_VMCS_SHADOWING) << 32);
    expect_line(&caps, "vmx: rev 4, ept 4lvl 2M 1G A/D, vpid, pml, unrestricted");
}

static void ept_capability_requirements(void **state)
{
    (void)state;
    struct vmx_capability_msrs caps = bochs_tigerlake;
    caps.ept_vpid_cap &= ~EPT_CAP_WALK_4;
    expect_failure(&caps, "EPT does not support a 4-level page walk");
    caps = bochs_tigerlake;
    caps.ept_vpid_cap &= ~EPT_CAP_WB;
    expect_failure(&caps, "EPT does not support write-back paging structures");
    caps = bochs_tigerlake;
    caps.ept_vpid_cap &= ~(EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL);
    expect_failure(&caps, "INVEPT supports neither single-context nor all-context");
}

static void pml_needs_accessed_dirty_flags(void **state)
{
    (void)state;
    struct vmx_capability_msrs caps = bochs_tigerlake;
    caps.ept_vpid_cap &= ~EPT_CAP_AD;
    struct vmcs_config cfg = negotiate_ok(&caps);
    assert_false(cfg.ctl[VMX_CTL_PROC2] & PROC2_ENABLE_PML);
    expect_line(&caps, "vmx: rev 4, ept 4lvl 2M 1G, vpid, ple, shadow-vmcs, unrestricted, "
                       "preempt-timer(rate 0)");
}

static void vpid_needs_invvpid(void **state)
{
    (void)state;
    struct vmx_capability_msrs caps = bochs_tigerlake;
    caps.ept_vpid_cap &= ~VPID_CAP_INVVPID;
    struct vmcs_config cfg = negotiate_ok(&caps);
    assert_false(cfg.ctl[VMX_CTL_PROC2] & PROC2_ENABLE_VPID);
    assert_int_equal(cfg.ept_vpid_cap & VPID_CAP_INVVPID_SINGLE, 0);
}

static void no_tpr_shadow_means_cr8_exits_and_no_apicv(void **state)
{
    (void)state;
    struct vmx_capability_msrs caps = bochs_tigerlake;
    caps.true_procbased &= ~((uint64_t)PROC_USE_TPR_SHADOW << 32);
    struct vmcs_config cfg = negotiate_ok(&caps);
    assert_true(vmcs_config_has(&cfg, VMX_CTL_PROC, PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING));
    assert_int_equal(cfg.ctl[VMX_CTL_PROC2] & (PROC2_VIRTUAL_INTR_DELIVERY | PROC2_APIC_REGISTER_VIRT |
                                               PROC2_VIRTUALIZE_X2APIC), 0);
}

static void cr8_exiting_is_required(void **state)
{
    (void)state;
    struct vmx_capability_msrs caps = bochs_tigerlake;
    caps.true_procbased &= ~((uint64_t)PROC_CR8_STORE_EXITING << 32);
    expect_failure(&caps, "required primary processor-based controls 'CR8-load exiting' and "
                          "'CR8-store exiting' are not supported");
}

static void nmi_window_needs_virtual_nmis(void **state)
{
    (void)state;
    struct vmx_capability_msrs caps = bochs_tigerlake;
    caps.true_pinbased &= ~((uint64_t)PIN_VIRTUAL_NMIS << 32);
    struct vmcs_config cfg = negotiate_ok(&caps);
    assert_false(cfg.ctl[VMX_CTL_PROC] & PROC_NMI_WINDOW_EXITING);
}

static void vmcs_basic_requirements(void **state)
{
    (void)state;
    struct vmx_capability_msrs caps = bochs_tigerlake;
    caps.basic &= ~(0xfull << 50);     /* memory type UC */
    expect_failure(&caps, "VMCS memory type 0 is not write-back");
    caps = bochs_tigerlake;
    caps.basic = (caps.basic & ~(0x1fffull << 32)) | (4352ull << 32);
    expect_failure(&caps, "VMCS size 4352 is not in 1..4096");
}

static void cpus_with_different_configs_are_told_apart(void **state)
{
    (void)state;
    struct vmcs_config a = negotiate_ok(&bochs_tigerlake);
    struct vmcs_config b = negotiate_ok(&bochs_tigerlake);
    char why[160] = "";
    assert_true(vmcs_config_same(&a, &b, why, sizeof(why)));
    struct vmcs_config sky = negotiate_ok(&bochs_corei7_skylake_x);
    assert_false(vmcs_config_same(&a, &sky, why, sizeof(why)));
    assert_string_equal(why, "VMCS revision/size differ (4/4096 vs 43/4096)");
    struct vmcs_config has = negotiate_ok(&bochs_corei7_haswell_4770);
    has.revision_id = sky.revision_id;
    assert_false(vmcs_config_same(&sky, &has, why, sizeof(why)));
    assert_string_equal(why, "secondary processor-based controls differ (0x001257fb vs "
                             "0x000057fb)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tigerlake_capability_line),
        cmocka_unit_test(haswell_has_no_pml),
        cmocka_unit_test(skylake_x_capability_line),
        cmocka_unit_test(words_respect_allowed_settings),
        cmocka_unit_test(requested_controls_are_set),
        cmocka_unit_test(true_msrs_are_used_when_offered),
        cmocka_unit_test(missing_required_secondary_control),
        cmocka_unit_test(missing_required_primary_control),
        cmocka_unit_test(missing_required_exit_and_entry_controls),
        cmocka_unit_test(optional_controls_absent_are_left_out),
        cmocka_unit_test(ept_capability_requirements),
        cmocka_unit_test(pml_needs_accessed_dirty_flags),
        cmocka_unit_test(vpid_needs_invvpid),
        cmocka_unit_test(no_tpr_shadow_means_cr8_exits_and_no_apicv),
        cmocka_unit_test(nmi_window_needs_virtual_nmis),
        cmocka_unit_test(cr8_exiting_is_required),
        cmocka_unit_test(vmcs_basic_requirements),
        cmocka_unit_test(cpus_with_different_configs_are_told_apart),
    };
    return cmocka_run_group_tests_name("vmcs_config", tests, NULL, NULL);
}
