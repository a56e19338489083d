/* The host state a VM exit to L1 loads (nested/l1_host_image.c): the
 * limits and access rights SDM Vol. 3C 28.5.2 gives each segment, null
 * selectors unusable, CS's L or D bit by the host address-space size, and
 * the segment slots in the order of their VMCS encodings, which the exit's
 * writer (nested/switch.c) walks by stride. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "nested/l1_host_image.h"
#include "nested/vmcs12.h"
#include "vmx/vmx_controls.h"

#define AR_UNUSABLE (1u << 16)

static const struct l1_host_segment *segment(const struct l1_host_image *image, uint32_t selector_field)
{
    return &image->segment[(selector_field - GUEST_ES_SELECTOR) / 2];
}

/* A 64-bit host as Linux runs one: DS, ES and GS null. */
static void host_64(struct vmcs12 *v12)
{
    memset(v12, 0, sizeof(*v12));
    vmcs12_set(v12, VM_EXIT_CONTROLS, EXIT_HOST_ADDR_SPACE_SIZE);
    vmcs12_set(v12, HOST_CR3, 0x1234000);
    vmcs12_set(v12, HOST_CS_SELECTOR, 0x10);
    vmcs12_set(v12, HOST_SS_SELECTOR, 0x18);
    vmcs12_set(v12, HOST_FS_SELECTOR, 0x2b);
    vmcs12_set(v12, HOST_TR_SELECTOR, 0x40);
    vmcs12_set(v12, HOST_FS_BASE, 0x7f0000001000);
    vmcs12_set(v12, HOST_GS_BASE, 0xffff888000002000);
    vmcs12_set(v12, HOST_TR_BASE, 0xfffffe0000003000);
    vmcs12_set(v12, HOST_GDTR_BASE, 0xfffffe0000004000);
    vmcs12_set(v12, HOST_IDTR_BASE, 0xfffffe0000005000);
    vmcs12_set(v12, HOST_IA32_SYSENTER_CS, 0x10);
    vmcs12_set(v12, HOST_IA32_SYSENTER_ESP, 0xfffffe0000006000);
    vmcs12_set(v12, HOST_IA32_SYSENTER_EIP, 0xffffffff81007000);
    vmcs12_set(v12, HOST_RIP, 0xffffffff81008000);
}

static void a_64_bit_host_gets_flat_segments_and_its_bases(void **state)
{
    (void)state;
    struct vmcs12 v12;
    struct l1_host_image image;
    host_64(&v12);
    l1_host_image_build(&v12, &image);
    assert_int_equal(image.cr3, 0x1234000);
    assert_int_equal(image.rip, 0xffffffff81008000);
    assert_int_equal(image.gdtr_base, 0xfffffe0000004000);
    assert_int_equal(image.idtr_base, 0xfffffe0000005000);
    assert_int_equal(image.sysenter_cs, 0x10);
    assert_int_equal(image.sysenter_esp, 0xfffffe0000006000);
    assert_int_equal(image.sysenter_eip, 0xffffffff81007000);
    const struct l1_host_segment *cs = segment(&image, GUEST_CS_SELECTOR);
    assert_int_equal(cs->selector, 0x10);
    assert_int_equal(cs->base, 0);
    assert_int_equal(cs->limit, 0xffffffff);
    assert_int_equal(cs->access_rights, 0xa09b);      /* L set, D clear */
    const struct l1_host_segment *ss = segment(&image, GUEST_SS_SELECTOR);
    assert_int_equal(ss->selector, 0x18);
    assert_int_equal(ss->access_rights, 0xc093);
    const struct l1_host_segment *fs = segment(&image, GUEST_FS_SELECTOR);
    assert_int_equal(fs->base, 0x7f0000001000);
    assert_int_equal(fs->access_rights, 0xc093);
    const struct l1_host_segment *gs = segment(&image, GUEST_GS_SELECTOR);
    assert_int_equal(gs->selector, 0);
    assert_int_equal(gs->base, 0xffff888000002000);    /* loaded even when null */
    assert_int_equal(gs->access_rights, 0xc093 | AR_UNUSABLE);
    const struct l1_host_segment *tr = segment(&image, GUEST_TR_SELECTOR);
    assert_int_equal(tr->selector, 0x40);
    assert_int_equal(tr->base, 0xfffffe0000003000);
    assert_int_equal(tr->limit, 0x67);
    assert_int_equal(tr->access_rights, 0x8b);
    const struct l1_host_segment *ldtr = segment(&image, GUEST_LDTR_SELECTOR);
    assert_int_equal(ldtr->selector, 0);
    assert_int_equal(ldtr->access_rights, AR_UNUSABLE);
}

static void null_data_selectors_are_unusable(void **state)
{
    (void)state;
    struct vmcs12 v12;
    struct l1_host_image image;
    host_64(&v12);
    l1_host_image_build(&v12, &image);
    assert_true(segment(&image, GUEST_DS_SELECTOR)->access_rights & AR_UNUSABLE);
    assert_true(segment(&image, GUEST_ES_SELECTOR)->access_rights & AR_UNUSABLE);
    assert_false(segment(&image, GUEST_SS_SELECTOR)->access_rights & AR_UNUSABLE);
    vmcs12_set(&v12, HOST_DS_SELECTOR, 0x18);
    l1_host_image_build(&v12, &image);
    assert_int_equal(segment(&image, GUEST_DS_SELECTOR)->selector, 0x18);
    assert_int_equal(segment(&image, GUEST_DS_SELECTOR)->access_rights, 0xc093);
}

static void a_32_bit_host_gets_a_32_bit_code_segment(void **state)
{
    (void)state;
    struct vmcs12 v12;
    struct l1_host_image image;
    host_64(&v12);
    vmcs12_set(&v12, VM_EXIT_CONTROLS, 0);
    l1_host_image_build(&v12, &image);
    assert_int_equal(segment(&image, GUEST_CS_SELECTOR)->access_rights, 0xc09b);  /* D set, L clear */
}

/* EFER and PAT only with their exit controls; L1's translations flushed
 * unless L2 ran with a VPID (SDM Vol. 3C 29.4.3.1). */
static void controls_choose_efer_pat_and_the_flush(void **state)
{
    (void)state;
    struct vmcs12 v12;
    struct l1_host_image image;
    host_64(&v12);
    vmcs12_set(&v12, HOST_CR0, 0x80050033);
    vmcs12_set(&v12, HOST_CR4, 0x2020);
    vmcs12_set(&v12, HOST_IA32_EFER, 0xd01);
    vmcs12_set(&v12, HOST_IA32_PAT, 0x0007040600070406);
    l1_host_image_build(&v12, &image);
    assert_true(image.built);
    assert_int_equal(image.cr0, 0x80050033);
    assert_int_equal(image.cr4, 0x2020);
    assert_false(image.load_efer);
    assert_false(image.load_pat);
    assert_true(image.flush_vpid);
    vmcs12_set(&v12, VM_EXIT_CONTROLS, EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_EFER | EXIT_LOAD_PAT);
    vmcs12_set(&v12, CPU_BASED_VM_EXEC_CONTROL, PROC_ACTIVATE_SECONDARY);
    vmcs12_set(&v12, SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_VPID);
    l1_host_image_build(&v12, &image);
    assert_true(image.load_efer);
    assert_int_equal(image.efer, 0xd01);
    assert_true(image.load_pat);
    assert_int_equal(image.pat, 0x0007040600070406);
    assert_false(image.flush_vpid);
    vmcs12_set(&v12, CPU_BASED_VM_EXEC_CONTROL, 0);     /* VPID not active without secondary controls */
    l1_host_image_build(&v12, &image);
    assert_true(image.flush_vpid);
}

/* The writer takes segment i's fields at GUEST_ES_<field> + 2 * i. */
static void segment_slots_follow_the_encodings(void **state)
{
    (void)state;
    static const struct { uint32_t selector, base, limit, ar; } each[L1_HOST_SEGMENTS] = {
        { GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES },
        { GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES },
        { GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES },
        { GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES },
        { GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES },
        { GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES },
        { GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_AR_BYTES },
        { GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR_BYTES },
    };
    for (unsigned i = 0; i < L1_HOST_SEGMENTS; i++) {
        assert_int_equal(each[i].selector, GUEST_ES_SELECTOR + 2 * i);
        assert_int_equal(each[i].base, GUEST_ES_BASE + 2 * i);
        assert_int_equal(each[i].limit, GUEST_ES_LIMIT + 2 * i);
        assert_int_equal(each[i].ar, GUEST_ES_AR_BYTES + 2 * i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_64_bit_host_gets_flat_segments_and_its_bases),
        cmocka_unit_test(null_data_selectors_are_unusable),
        cmocka_unit_test(a_32_bit_host_gets_a_32_bit_code_segment),
        cmocka_unit_test(segment_slots_follow_the_encodings),
        cmocka_unit_test(controls_choose_efer_pat_and_the_flush),
    };
    return cmocka_run_group_tests_name("l1_host_image", tests, NULL, NULL);
}
