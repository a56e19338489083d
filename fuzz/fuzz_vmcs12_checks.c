/* The nested VM-entry checks (nested/entry_checks.c) on a vmcs12 whose
 * every field comes from the input, with the capabilities L1 sees on
 * Bochs' tigerlake: they return a defined error or pass, and a failing
 * guest-state check names an SDM qualification. */
#include "fuzz/fuzz.h"
#include "nested/entry_checks.h"
#include "nested/vmcs12.h"
#include "nested/vmx_caps.h"
#include "vmx/vmcs_fields.h"
#include "tests/unit/fixtures/bochs_vmx_caps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct nested_vmx_caps caps;
    static bool made;
    if (!made) {
        struct vmcs_config cfg;
        char err[128];
        FUZZ_ASSERT(vmcs_config_negotiate(&bochs_tigerlake, &cfg, err, sizeof(err)));
        nested_vmx_caps_init(&caps, &cfg, &bochs_tigerlake);
        made = true;
    }
    static struct vmcs12 v12;
    memset(&v12, 0, sizeof(v12));
    struct fuzz_input in = { data, size, 0 };
    for (size_t i = 0; i < vmcs_field_count; i++) {
        uint64_t value = fuzz_take(&in, 8);
        /* Most inputs keep the must-be-1 controls, so the checks go deep. */
        (void)vmcs12_write(&v12, vmcs_field_table[i].encoding, value);
    }
    unsigned width = 36 + (unsigned)fuzz_take(&in, 1) % 17;
    uint32_t error = nested_check_controls(&v12, &caps, width, NULL);
    FUZZ_ASSERT(error == 0 || error == VMXERR_ENTRY_INVALID_CONTROL_FIELD);
    error = nested_check_host_state(&v12, &caps, width, 48, fuzz_take(&in, 1) & 1, NULL);
    FUZZ_ASSERT(error == 0 || error == VMXERR_ENTRY_INVALID_HOST_STATE_FIELD);
    struct nested_segment_memo memo = { 0 };
    uint64_t qualification = 0;
    uint32_t link_revision = (uint32_t)fuzz_take(&in, 4);
    bool passed = nested_check_guest_state(&v12, &caps, width, link_revision, &memo,
                                           &qualification, NULL);
    if (!passed)
        FUZZ_ASSERT(qualification <= 4);
    /* The recheck is a subset of the checks: what passed them passes it. */
    uint64_t requalification = 0;
    bool repassed = nested_recheck_guest_state(&v12, &caps, width, link_revision,
                                               &requalification, NULL);
    FUZZ_ASSERT(!passed || repassed);
    if (!repassed)
        FUZZ_ASSERT(requalification == 0 || requalification == 4);
    return 0;
}
