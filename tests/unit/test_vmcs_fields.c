/* The VMCS field table: encodings unique and well-formed, widths derived. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "vmx/vmcs_fields.h"

static void encodings_are_unique_and_well_formed(void **state)
{
    (void)state;
    assert_true(vmcs_field_count > 150);
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        uint32_t e = vmcs_field_table[i].encoding;
        assert_int_equal(e & 1, 0);             /* full fields only: access type 0 */
        assert_int_equal(e & 0xffff9000, 0);    /* reserved bits (SDM 25.11.2) */
        for (unsigned j = i + 1; j < vmcs_field_count; j++)
            assert_int_not_equal(e, vmcs_field_table[j].encoding);
    }
}

static void widths_and_types_come_from_the_encoding(void **state)
{
    (void)state;
    assert_int_equal(vmcs_field_width(VIRTUAL_PROCESSOR_ID), VMCS_WIDTH_16);
    assert_int_equal(vmcs_field_width(EPT_POINTER), VMCS_WIDTH_64);
    assert_int_equal(vmcs_field_width(VM_EXIT_REASON), VMCS_WIDTH_32);
    assert_int_equal(vmcs_field_width(GUEST_RIP), VMCS_WIDTH_NATURAL);
    assert_int_equal(vmcs_field_type(GUEST_RIP), VMCS_TYPE_GUEST);
    assert_int_equal(vmcs_field_type(HOST_RIP), VMCS_TYPE_HOST);
    assert_int_equal(vmcs_field_type(EXIT_QUALIFICATION), VMCS_TYPE_READ_ONLY);
    assert_int_equal(vmcs_field_type(PIN_BASED_VM_EXEC_CONTROL), VMCS_TYPE_CONTROL);
}

static void lookup_by_encoding(void **state)
{
    (void)state;
    const struct vmcs_field_info *f = vmcs_field_lookup(0x681e);
    assert_non_null(f);
    assert_string_equal(f->id, "GUEST_RIP");
    assert_string_equal(f->name, "guest RIP");
    assert_null(vmcs_field_lookup(0x681f));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encodings_are_unique_and_well_formed),
        cmocka_unit_test(widths_and_types_come_from_the_encoding),
        cmocka_unit_test(lookup_by_encoding),
    };
    return cmocka_run_group_tests_name("vmcs_fields", tests, NULL, NULL);
}
