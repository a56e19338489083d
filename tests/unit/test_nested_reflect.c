/* The reflection table: which exits from L2 go to L1, by L1's vmcs12 and
 * its bitmaps in memory (SDM Vol. 3C 26.1-26.2). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "nested/reflect.h"
#include "vmx/exit_reasons.h"
#include "vmx/vmx_controls.h"

#define CR0_PE (1ull << 0)
#define CR0_TS (1ull << 3)
#define CR0_NE (1ull << 5)

/* L1's memory: its I/O bitmaps A and B and its MSR bitmap. */
#define IO_A 0x10000ull
#define IO_B 0x11000ull
#define MSRS 0x12000ull
static uint8_t memory[0x3000];

static bool read_l1(void *ctx, uint64_t gpa, void *dst, unsigned len)
{
    (void)ctx;
    if (gpa < IO_A || gpa + len > IO_A + sizeof(memory))
        return false;
    memcpy(dst, memory + (gpa - IO_A), len);
    return true;
}

static struct vmcs12 v12;

static void set(enum vmcs_field field, uint64_t value)
{
    assert_true(vmcs12_write(&v12, field, value));
}

static int setup(void **state)
{
    (void)state;
    memset(&v12, 0, sizeof(v12));
    memset(memory, 0, sizeof(memory));
    set(CPU_BASED_VM_EXEC_CONTROL, VMX_PROC_DEFAULT1 & ~(PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING));
    set(IO_BITMAP_A, IO_A);
    set(IO_BITMAP_B, IO_B);
    set(MSR_BITMAP, MSRS);
    return 0;
}

static bool to_l1(const struct l2_exit *exit)
{
    return nested_reflect(&v12, exit, read_l1, NULL);
}

static bool reason_to_l1(uint32_t reason)
{
    struct l2_exit exit = { .reason = reason };
    return to_l1(&exit);
}

static void l1_always_gets_these(void **state)
{
    (void)state;
    assert_true(reason_to_l1(EXIT_REASON_CPUID));
    assert_true(reason_to_l1(EXIT_REASON_VMCALL));
    assert_true(reason_to_l1(EXIT_REASON_TRIPLE_FAULT));
    assert_true(reason_to_l1(EXIT_REASON_INVD));
    assert_true(reason_to_l1(EXIT_REASON_XSETBV));
    for (uint32_t r = EXIT_REASON_VMCLEAR; r <= EXIT_REASON_VMXON; r++)
        assert_true(reason_to_l1(r));       /* VMREAD and VMWRITE: no shadowing here */
    assert_true(reason_to_l1(EXIT_REASON_INVEPT));
    assert_true(reason_to_l1(EXIT_REASON_INVVPID));
    /* A failed entry of vmcs02 is L1's VMLAUNCH failing. */
    assert_true(reason_to_l1(EXIT_REASON_INVALID_GUEST_STATE | EXIT_REASON_ENTRY_FAILURE));
}

/* With VMCS shadowing, VMREAD and VMWRITE go to L1 only where its bitmaps
 * say so (SDM Vol. 3C 26.1.3); its bitmaps here: VMREAD at IO_A, VMWRITE
 * at IO_B. */
static void vmread_vmwrite_follow_the_shadowing_bitmaps(void **state)
{
    (void)state;
    struct l2_exit read = { .reason = EXIT_REASON_VMREAD, .vmcs_field = 0x681e };   /* guest RIP */
    struct l2_exit write = { .reason = EXIT_REASON_VMWRITE, .vmcs_field = 0x681e };
    assert_true(to_l1(&read));              /* no shadowing: every one */
    assert_true(to_l1(&write));
    set(CPU_BASED_VM_EXEC_CONTROL, vmcs12_get(&v12, CPU_BASED_VM_EXEC_CONTROL) | PROC_ACTIVATE_SECONDARY);
    set(SECONDARY_VM_EXEC_CONTROL, PROC2_VMCS_SHADOWING);
    set(VMREAD_BITMAP, IO_A);
    set(VMWRITE_BITMAP, IO_B);
    assert_false(to_l1(&read));             /* both bitmaps all clear */
    assert_false(to_l1(&write));
    memory[0x681e >> 3] = 1u << (0x681e & 7);                   /* VMREAD bit */
    assert_true(to_l1(&read));
    assert_false(to_l1(&write));
    memory[0x1000 + (0x681e >> 3)] = 1u << (0x681e & 7);        /* VMWRITE bit */
    assert_true(to_l1(&write));
    /* bits 63:15 of the encoding set: always L1's */
    struct l2_exit wide = { .reason = EXIT_REASON_VMREAD, .vmcs_field = 0x8000 };
    assert_true(to_l1(&wide));
    wide.vmcs_field = 0x1ull << 32 | 0x4402;
    assert_true(to_l1(&wide));
    /* a bitmap where L1 has no memory: all ones */
    set(VMREAD_BITMAP, 0x80000);
    read.vmcs_field = 0x4402;
    assert_true(to_l1(&read));
}

static void l0_keeps_these(void **state)
{
    (void)state;
    assert_false(reason_to_l1(EXIT_REASON_EXTERNAL_INTERRUPT));
    assert_false(reason_to_l1(EXIT_REASON_EPT_VIOLATION));
    assert_false(reason_to_l1(EXIT_REASON_EPT_MISCONFIG));
    assert_false(reason_to_l1(EXIT_REASON_NMI_WINDOW));
}

static void exits_by_l1s_controls(void **state)
{
    (void)state;
    assert_false(reason_to_l1(EXIT_REASON_HLT));
    assert_false(reason_to_l1(EXIT_REASON_RDTSC));
    assert_false(reason_to_l1(EXIT_REASON_PAUSE));
    assert_false(reason_to_l1(EXIT_REASON_INTERRUPT_WINDOW));
    set(CPU_BASED_VM_EXEC_CONTROL, VMX_PROC_DEFAULT1 | PROC_HLT_EXITING | PROC_RDTSC_EXITING |
                                       PROC_PAUSE_EXITING | PROC_INTERRUPT_WINDOW_EXITING);
    assert_true(reason_to_l1(EXIT_REASON_HLT));
    assert_true(reason_to_l1(EXIT_REASON_RDTSC));
    assert_true(reason_to_l1(EXIT_REASON_RDTSCP));
    assert_true(reason_to_l1(EXIT_REASON_PAUSE));
    assert_true(reason_to_l1(EXIT_REASON_INTERRUPT_WINDOW));
    /* A secondary control counts only with the secondary controls active. */
    set(SECONDARY_VM_EXEC_CONTROL, PROC2_WBINVD_EXITING);
    assert_false(reason_to_l1(EXIT_REASON_WBINVD));
    set(CPU_BASED_VM_EXEC_CONTROL, VMX_PROC_DEFAULT1 | PROC_ACTIVATE_SECONDARY);
    assert_true(reason_to_l1(EXIT_REASON_WBINVD));
    /* A PAUSE exit under L1's PAUSE-loop exiting (vmcs02 has only L1's). */
    assert_false(reason_to_l1(EXIT_REASON_PAUSE));
    set(SECONDARY_VM_EXEC_CONTROL, PROC2_PAUSE_LOOP_EXITING);
    assert_true(reason_to_l1(EXIT_REASON_PAUSE));
}

static struct l2_exit io(uint16_t port, unsigned size)
{
    return (struct l2_exit){ .reason = EXIT_REASON_IO_INSTRUCTION,
                             .qualification = (uint64_t)port << 16 | (size - 1) };
}

static void io_by_bitmaps(void **state)
{
    (void)state;
    struct l2_exit out80 = io(0x80, 1);
    assert_false(to_l1(&out80));                    /* neither control: L0 */
    set(CPU_BASED_VM_EXEC_CONTROL, VMX_PROC_DEFAULT1 | PROC_UNCONDITIONAL_IO_EXITING);
    assert_true(to_l1(&out80));
    set(CPU_BASED_VM_EXEC_CONTROL,
        VMX_PROC_DEFAULT1 | PROC_UNCONDITIONAL_IO_EXITING | PROC_USE_IO_BITMAPS);
    assert_false(to_l1(&out80));                    /* bitmaps win over unconditional */
    memory[0x80 / 8] = 1u << (0x80 % 8);
    assert_true(to_l1(&out80));
    struct l2_exit word = io(0x7f, 2);              /* its second byte's bit */
    assert_true(to_l1(&word));
    struct l2_exit high = io(0x8001, 1);
    assert_false(to_l1(&high));
    memory[0x1000 + 1 / 8] = 1u << 1;               /* bitmap B, port 0x8001 */
    assert_true(to_l1(&high));
    struct l2_exit wraps = io(0xffff, 2);
    assert_true(to_l1(&wraps));
    set(IO_BITMAP_A, 0x900000);                     /* no memory there: exits */
    assert_true(to_l1(&out80));
}

static struct l2_exit msr(uint32_t reason, uint32_t index)
{
    return (struct l2_exit){ .reason = reason, .msr = index };
}

static void msrs_by_bitmap(void **state)
{
    (void)state;
    struct l2_exit rd = msr(EXIT_REASON_RDMSR, 0x174), wr = msr(EXIT_REASON_WRMSR, 0x174);
    assert_true(to_l1(&rd));                        /* no MSR bitmaps: every access */
    set(CPU_BASED_VM_EXEC_CONTROL, VMX_PROC_DEFAULT1 | PROC_USE_MSR_BITMAPS);
    assert_false(to_l1(&rd));
    assert_false(to_l1(&wr));
    memory[0x2000 + 2048 + 0x174 / 8] = 1u << (0x174 % 8);  /* its write bit */
    assert_false(to_l1(&rd));
    assert_true(to_l1(&wr));
    struct l2_exit star = msr(EXIT_REASON_RDMSR, 0xc0000081);
    assert_false(to_l1(&star));
    memory[0x2000 + 1024 + 0x81 / 8] = 1u << (0x81 % 8);
    assert_true(to_l1(&star));
    struct l2_exit outside = msr(EXIT_REASON_RDMSR, 0x40000000);
    assert_true(to_l1(&outside));
}

static struct l2_exit exception(unsigned type, unsigned vector, uint32_t error)
{
    return (struct l2_exit){ .reason = EXIT_REASON_EXCEPTION_NMI,
                             .interruption_info = 0x80000000u | type << 8 | vector,
                             .interruption_error = error };
}

static void exceptions_by_bitmap_and_pf_filter(void **state)
{
    (void)state;
    struct l2_exit ud = exception(3, 6, 0), nmi = exception(2, 2, 0);
    assert_false(to_l1(&ud));
    set(EXCEPTION_BITMAP, 1u << 6 | 1u << 2);
    assert_true(to_l1(&ud));
    assert_false(to_l1(&nmi));                      /* NMIs are the host's */
    /* #PF: with bit 14 set it exits when PFEC & mask == match; clear, when
     * it differs (SDM Vol. 3C 25.6.3). */
    struct l2_exit pf_write = exception(3, 14, 2), pf_read = exception(3, 14, 0);
    set(PAGE_FAULT_ERROR_CODE_MASK, 2);
    set(PAGE_FAULT_ERROR_CODE_MATCH, 2);
    assert_false(to_l1(&pf_write));
    assert_true(to_l1(&pf_read));
    set(EXCEPTION_BITMAP, 1u << 14);
    assert_true(to_l1(&pf_write));
    assert_false(to_l1(&pf_read));
}

static struct l2_exit mov_to_cr(unsigned cr, uint64_t value)
{
    return (struct l2_exit){ .reason = EXIT_REASON_CR_ACCESS, .qualification = cr,
                             .cr_source = value };
}

static void cr_accesses_by_masks_and_shadows(void **state)
{
    (void)state;
    set(CR0_GUEST_HOST_MASK, CR0_TS);
    set(CR0_READ_SHADOW, CR0_TS);
    struct l2_exit keeps_ts = mov_to_cr(0, CR0_TS | CR0_NE), clears_ts = mov_to_cr(0, CR0_NE);
    assert_false(to_l1(&keeps_ts));
    assert_true(to_l1(&clears_ts));
    set(CR4_GUEST_HOST_MASK, 1u << 9);
    struct l2_exit cr4 = mov_to_cr(4, 1u << 9);
    assert_true(to_l1(&cr4));
    struct l2_exit cr3 = mov_to_cr(3, 0x1000), cr8 = mov_to_cr(8, 0);
    assert_false(to_l1(&cr3));
    assert_false(to_l1(&cr8));
    /* CR3-load and CR3-store exiting are default1 bits L1 may clear. */
    set(CPU_BASED_VM_EXEC_CONTROL,
        (VMX_PROC_DEFAULT1 & ~PROC_CR3_STORE_EXITING) | PROC_CR8_LOAD_EXITING);
    assert_true(to_l1(&cr3));
    assert_true(to_l1(&cr8));
    struct l2_exit from_cr3 = { .reason = EXIT_REASON_CR_ACCESS, .qualification = 1u << 4 | 3 };
    assert_false(to_l1(&from_cr3));
    set(CPU_BASED_VM_EXEC_CONTROL, VMX_PROC_DEFAULT1);
    assert_true(to_l1(&from_cr3));
    /* CLTS: L1 owns TS and its shadow has it set. */
    struct l2_exit clts = { .reason = EXIT_REASON_CR_ACCESS, .qualification = 2u << 4 };
    assert_true(to_l1(&clts));
    set(CR0_READ_SHADOW, 0);
    assert_false(to_l1(&clts));
    /* LMSW: a change of an owned bit, or setting an owned PE the shadow has clear. */
    struct l2_exit lmsw_ts = { .reason = EXIT_REASON_CR_ACCESS,
                               .qualification = 3u << 4 | (uint64_t)CR0_TS << 16 };
    assert_true(to_l1(&lmsw_ts));
    set(CR0_GUEST_HOST_MASK, CR0_PE);
    struct l2_exit lmsw_pe = { .reason = EXIT_REASON_CR_ACCESS,
                               .qualification = 3u << 4 | (uint64_t)CR0_PE << 16 };
    assert_true(to_l1(&lmsw_pe));
    set(CR0_READ_SHADOW, CR0_PE);
    assert_false(to_l1(&lmsw_pe));
}

static void preemption_timer_by_l1s_deadline(void **state)
{
    (void)state;
    struct l2_exit l0s = { .reason = EXIT_REASON_PREEMPTION_TIMER };
    struct l2_exit l1s = { .reason = EXIT_REASON_PREEMPTION_TIMER, .l1_timer_expired = true };
    assert_false(to_l1(&l0s));
    assert_true(to_l1(&l1s));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(l1_always_gets_these, setup),
        cmocka_unit_test_setup(vmread_vmwrite_follow_the_shadowing_bitmaps, setup),
        cmocka_unit_test_setup(l0_keeps_these, setup),
        cmocka_unit_test_setup(exits_by_l1s_controls, setup),
        cmocka_unit_test_setup(io_by_bitmaps, setup),
        cmocka_unit_test_setup(msrs_by_bitmap, setup),
        cmocka_unit_test_setup(exceptions_by_bitmap_and_pf_filter, setup),
        cmocka_unit_test_setup(cr_accesses_by_masks_and_shadows, setup),
        cmocka_unit_test_setup(preemption_timer_by_l1s_deadline, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
