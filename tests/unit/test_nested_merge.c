/* vmcs02 from vmcs01 and vmcs12: the control merge, the CR0/CR4 views,
 * MSR bitmap bits and the merged MSR bitmap. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "nested/entry_checks.h"
#include "nested/merge.h"
#include "vmx/vmx_controls.h"

#define CR0_TS (1ull << 3)
#define CR0_NE (1ull << 5)
#define CR0_PG (1ull << 31)
#define CR4_VMXE (1ull << 13)

/* vmcs01 as virt/vmcs_setup.c builds it on Bochs' tigerlake: EPT, VPID,
 * unrestricted guest, HLT and CR8 exiting, the preemption timer, PLE. */
static const struct vmcs_controls l0 = {
    .pin = VMX_PIN_DEFAULT1 | PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING |
           PIN_PREEMPTION_TIMER,
    .proc = VMX_PROC_DEFAULT1 | PROC_HLT_EXITING | PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING |
            PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROC_ACTIVATE_SECONDARY |
            PROC_INTERRUPT_WINDOW_EXITING,
    .proc2 = PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST |
             PROC2_PAUSE_LOOP_EXITING | PROC2_ENABLE_RDTSCP,
    .exit = VMX_EXIT_DEFAULT1 | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_EFER | EXIT_SAVE_EFER,
    .entry = VMX_ENTRY_DEFAULT1 | ENTRY_LOAD_EFER | ENTRY_IA32E_MODE_GUEST,
    .exception_bitmap = 0,
    .cr0_mask = CR0_NE,
    .cr4_mask = CR4_VMXE,
};

static struct vmcs12_controls l1_typical(void)
{
    return (struct vmcs12_controls){
        .pin = VMX_PIN_DEFAULT1 | PIN_EXTERNAL_INTERRUPT_EXITING | PIN_PREEMPTION_TIMER,
        .proc = VMX_PROC_DEFAULT1 | PROC_USE_IO_BITMAPS | PROC_RDTSC_EXITING,
        .exit = VMX_EXIT_DEFAULT1 | EXIT_HOST_ADDR_SPACE_SIZE,
        .entry = VMX_ENTRY_DEFAULT1,
        .exception_bitmap = 1u << 6,
        .pf_error_code_mask = 2, .pf_error_code_match = 2,
        .cr0_mask = CR0_TS, .cr4_mask = 0,
    };
}

static void l0_and_l1_exits_both_happen(void **state)
{
    (void)state;
    struct vmcs12_controls l1 = l1_typical();
    struct vmcs02_controls out;
    nested_merge_controls(&l0, &l1, &out);
    assert_true(out.proc & PROC_HLT_EXITING);       /* L0's */
    assert_true(out.proc & PROC_RDTSC_EXITING);     /* L1's */
    assert_true(out.pin & PIN_EXTERNAL_INTERRUPT_EXITING);
    assert_int_equal(out.exception_bitmap, 1u << 6);
    assert_int_equal(out.cr0_mask, CR0_NE | CR0_TS);
    assert_int_equal(out.cr4_mask, CR4_VMXE);
    assert_int_equal(out.exit, l0.exit);            /* the exit goes to L0 */
}

static void l0_keeps_its_preemption_timer_and_not_l1s(void **state)
{
    (void)state;
    struct vmcs12_controls l1 = l1_typical();
    struct vmcs02_controls out;
    struct vmcs_controls no_timer = l0;
    no_timer.pin &= ~PIN_PREEMPTION_TIMER;
    nested_merge_controls(&no_timer, &l1, &out);
    assert_false(out.pin & PIN_PREEMPTION_TIMER);   /* L1's is emulated */
    nested_merge_controls(&l0, &l1, &out);
    assert_true(out.pin & PIN_PREEMPTION_TIMER);    /* L0's slices */
}

static void io_always_exits_to_l0_and_msrs_through_the_merged_bitmap(void **state)
{
    (void)state;
    struct vmcs12_controls l1 = l1_typical();
    struct vmcs02_controls out;
    nested_merge_controls(&l0, &l1, &out);
    assert_true(out.proc & PROC_UNCONDITIONAL_IO_EXITING);
    assert_false(out.proc & PROC_USE_IO_BITMAPS);
    assert_true(out.proc & PROC_USE_MSR_BITMAPS);
}

static void l0s_event_windows_start_off(void **state)
{
    (void)state;
    struct vmcs12_controls l1 = l1_typical();
    struct vmcs02_controls out;
    nested_merge_controls(&l0, &l1, &out);
    assert_false(out.proc & PROC_INTERRUPT_WINDOW_EXITING);
    l1.proc |= PROC_INTERRUPT_WINDOW_EXITING;
    nested_merge_controls(&l0, &l1, &out);
    assert_true(out.proc & PROC_INTERRUPT_WINDOW_EXITING);
}

/* vmcs01's event windows (L0's for L1) leave the merge as it was: the
 * generation that decides whether to merge again ignores their changes,
 * and only theirs. */
static void vmcs01_event_windows_do_not_change_the_merge(void **state)
{
    (void)state;
    struct vmcs12_controls l1 = l1_typical();
    struct vmcs_controls windows = l0;
    windows.proc |= PROC_EVENT_WINDOW_CONTROLS;
    struct vmcs02_controls without, with;
    nested_merge_controls(&l0, &l1, &without);
    nested_merge_controls(&windows, &l1, &with);
    assert_memory_equal(&without, &with, sizeof(with));
    assert_false(vmcs_proc_change_counts(l0.proc, windows.proc));
    assert_true(vmcs_proc_change_counts(windows.proc, windows.proc | PROC_RDTSC_EXITING));
    assert_false(vmcs_proc_change_counts(l0.proc | PROC_RDTSC_EXITING,
                                         l0.proc | PROC_RDTSC_EXITING | PROC_NMI_WINDOW_EXITING));
}

static void cr8_exits_without_a_tpr_shadow(void **state)
{
    (void)state;
    struct vmcs_controls no_cr8 = l0;
    no_cr8.proc &= ~(PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING);
    struct vmcs12_controls l1 = l1_typical();
    struct vmcs02_controls out;
    nested_merge_controls(&no_cr8, &l1, &out);
    assert_true(out.proc & PROC_CR8_LOAD_EXITING);
    assert_true(out.proc & PROC_CR8_STORE_EXITING);
    /* L0's own TPR shadow (APIC virtualization for L1) is not L2's. */
    no_cr8.proc |= PROC_USE_TPR_SHADOW;
    l1.proc &= ~PROC_USE_TPR_SHADOW;
    nested_merge_controls(&no_cr8, &l1, &out);
    assert_false(out.proc & PROC_USE_TPR_SHADOW);
    assert_true(out.proc & PROC_CR8_LOAD_EXITING);
}

static void secondary_controls_l2_gets(void **state)
{
    (void)state;
    struct vmcs12_controls l1 = l1_typical();
    struct vmcs02_controls out;
    nested_merge_controls(&l0, &l1, &out);
    /* L1's secondary controls are not active: no RDTSCP for L2, and not
     * L0's unrestricted guest or PLE, which are for L1. */
    assert_true(out.proc2 & PROC2_ENABLE_EPT);
    assert_true(out.proc2 & PROC2_ENABLE_VPID);
    assert_false(out.proc2 & PROC2_UNRESTRICTED_GUEST);
    assert_false(out.proc2 & PROC2_PAUSE_LOOP_EXITING);
    assert_false(out.proc2 & PROC2_ENABLE_RDTSCP);
    l1.proc |= PROC_ACTIVATE_SECONDARY;
    l1.proc2 = PROC2_ENABLE_RDTSCP | PROC2_WBINVD_EXITING;
    nested_merge_controls(&l0, &l1, &out);
    assert_true(out.proc2 & PROC2_ENABLE_RDTSCP);
    assert_true(out.proc2 & PROC2_WBINVD_EXITING);
    assert_false(out.proc2 & PROC2_PAUSE_LOOP_EXITING);
    /* L1's own unrestricted guest and PLE (with its gap and window). */
    l1.proc2 |= PROC2_UNRESTRICTED_GUEST | PROC2_PAUSE_LOOP_EXITING;
    nested_merge_controls(&l0, &l1, &out);
    assert_true(out.proc2 & PROC2_UNRESTRICTED_GUEST);
    assert_true(out.proc2 & PROC2_PAUSE_LOOP_EXITING);
}

static void entry_takes_l2s_mode(void **state)
{
    (void)state;
    struct vmcs12_controls l1 = l1_typical();
    struct vmcs02_controls out;
    nested_merge_controls(&l0, &l1, &out);
    assert_false(out.entry & ENTRY_IA32E_MODE_GUEST);
    l1.entry |= ENTRY_IA32E_MODE_GUEST;
    nested_merge_controls(&l0, &l1, &out);
    assert_true(out.entry & ENTRY_IA32E_MODE_GUEST);
}

static void page_fault_filter(void **state)
{
    (void)state;
    struct vmcs12_controls l1 = l1_typical();
    struct vmcs02_controls out;
    nested_merge_controls(&l0, &l1, &out);
    assert_int_equal(out.pf_error_code_mask, 2);
    assert_int_equal(out.pf_error_code_match, 2);
    struct vmcs_controls l0_pf = l0;
    l0_pf.exception_bitmap = 1u << 14;
    nested_merge_controls(&l0_pf, &l1, &out);
    /* L0 wants every #PF: mask 0 and match 0 make each one exit. */
    assert_int_equal(out.pf_error_code_mask, 0);
    assert_int_equal(out.pf_error_code_match, 0);
}

static void read_shadow_for_l2(void **state)
{
    (void)state;
    /* L1 owns TS and shows it set; the other bits are L2's own. */
    uint64_t guest12 = CR0_PG | CR0_NE, shadow12 = CR0_TS;
    assert_int_equal(nested_cr_read_shadow(guest12, CR0_TS, shadow12), CR0_PG | CR0_NE | CR0_TS);
    assert_int_equal(nested_cr_read_shadow(guest12 | CR0_TS, CR0_TS, 0), CR0_PG | CR0_NE);
}

static void three_way_cr_rule(void **state)
{
    (void)state;
    /* NE is L0's only (vmcs02's read shadow has what L2 wrote), TS L1's
     * (vmcs12 keeps it), PG nobody's (the processor's value). */
    uint64_t mask02 = CR0_NE | CR0_TS, mask12 = CR0_TS;
    uint64_t guest02 = CR0_PG | CR0_NE, shadow02 = 0;
    uint64_t guest12 = CR0_TS;
    assert_int_equal(nested_cr_for_vmcs12(guest02, shadow02, mask02, guest12, mask12),
                     CR0_PG | CR0_TS);
    assert_int_equal(nested_cr_for_vmcs12(guest02, CR0_NE, mask02, 0, mask12), CR0_PG | CR0_NE);
}

static void msr_bitmap_layout(void **state)
{
    (void)state;
    unsigned byte, bit;
    assert_true(nested_msr_bitmap_bit(0x174, false, &byte, &bit));
    assert_int_equal(byte, 0x174 / 8);
    assert_int_equal(bit, 0x174 % 8);
    assert_true(nested_msr_bitmap_bit(0x174, true, &byte, &bit));
    assert_int_equal(byte, 2048 + 0x174 / 8);
    assert_true(nested_msr_bitmap_bit(0xc0000081, false, &byte, &bit));
    assert_int_equal(byte, 1024 + 0x81 / 8);
    assert_int_equal(bit, 0x81 % 8);
    assert_true(nested_msr_bitmap_bit(0xc0001fff, true, &byte, &bit));
    assert_int_equal(byte, 3072 + 0x1fff / 8);
    assert_false(nested_msr_bitmap_bit(0x2000, false, &byte, &bit));
    assert_false(nested_msr_bitmap_bit(0xc0002000, false, &byte, &bit));
    assert_false(nested_msr_bitmap_bit(0x40000000, true, &byte, &bit));
}

/* Merging only at L0's open words, over an all-ones page, gives what
 * OR-ing the whole pages gives, whatever L1's bitmap. */
static void merged_msr_bitmap_exits_if_either_does(void **state)
{
    (void)state;
    static uint64_t l0[NESTED_MSR_BITMAP_WORDS], l1[NESTED_MSR_BITMAP_WORDS];
    static uint64_t merged[NESTED_MSR_BITMAP_WORDS];
    static uint16_t words[NESTED_MSR_BITMAP_WORDS];
    memset(l0, 0xff, sizeof(l0));
    /* L0 lets SYSENTER_CS read and written, and EFER's write, through */
    uint8_t *bytes = (uint8_t *)l0;
    bytes[0x174 / 8] &= (uint8_t)~(1u << (0x174 % 8));
    bytes[2048 + 0x174 / 8] &= (uint8_t)~(1u << (0x174 % 8));
    bytes[3072 + 0x80 / 8] &= (uint8_t)~(1u << (0x80 % 8));
    unsigned count = nested_msr_bitmap_open_words(l0, words);
    assert_int_equal(count, NESTED_MSR_MERGE_STRIDE);    /* 3, filled to a stride */
    assert_int_equal(words[0], 0x174 / 64);
    assert_int_equal(words[1], (2048 * 8 + 0x174) / 64);
    assert_int_equal(words[2], (3072 * 8 + 0x80) / 64);
    for (unsigned i = 3; i < count; i++)
        assert_int_equal(words[i], words[2]);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (unsigned round = 0; round < 16; round++) {
        for (unsigned i = 0; i < NESTED_MSR_BITMAP_WORDS; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            l1[i] = round == 0 ? 0 : seed;
        }
        memset(merged, 0xff, sizeof(merged));
        for (unsigned i = 0; i < count; i++)
            merged[words[i]] = l0[words[i]] | l1[words[i]];
        for (unsigned i = 0; i < NESTED_MSR_BITMAP_WORDS; i++)
            assert_int_equal(merged[i], l0[i] | l1[i]);
    }
    memset(l0, 0xff, sizeof(l0));
    assert_int_equal(nested_msr_bitmap_open_words(l0, words), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(l0_and_l1_exits_both_happen),
        cmocka_unit_test(l0_keeps_its_preemption_timer_and_not_l1s),
        cmocka_unit_test(io_always_exits_to_l0_and_msrs_through_the_merged_bitmap),
        cmocka_unit_test(l0s_event_windows_start_off),
        cmocka_unit_test(vmcs01_event_windows_do_not_change_the_merge),
        cmocka_unit_test(cr8_exits_without_a_tpr_shadow),
        cmocka_unit_test(secondary_controls_l2_gets),
        cmocka_unit_test(entry_takes_l2s_mode),
        cmocka_unit_test(page_fault_filter),
        cmocka_unit_test(read_shadow_for_l2),
        cmocka_unit_test(three_way_cr_rule),
        cmocka_unit_test(msr_bitmap_layout),
        cmocka_unit_test(merged_msr_bitmap_exits_if_either_does),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
