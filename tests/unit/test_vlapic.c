/* The virtual local APIC register model: reset state, IA32_APIC_BASE mode
 * transitions, xAPIC / x2APIC register access, interrupt priority, the timer,
 * ICR decoding and IPI destination matching (SDM Vol. 3A chapter 11). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "dev/vlapic.h"

#define PHYS_MASK       ((1ull << 36) - 1)
#define XAPIC_BASE      (APIC_DEFAULT_BASE | APIC_BASE_ENABLE)
#define X2APIC_BASE     (APIC_DEFAULT_BASE | APIC_BASE_ENABLE | APIC_BASE_X2APIC)
#define DISABLED_BASE   APIC_DEFAULT_BASE
#define SVR_ON          (APIC_SVR_ENABLE | 0xff)
#define LVT_PERIODIC    (1u << 17)
#define LVT_TSC_DL      (2u << 17)
#define DIV_1           0xbu

/* A reset APIC in `mode` (xAPIC or x2APIC), software-enabled if `enabled`. */
static struct vlapic make(uint32_t id, enum apic_mode mode, bool enabled);

static uint64_t rd(struct vlapic *a, uint32_t offset, uint64_t now)
{
    uint64_t v = 0xdeadbeefdeadbeefull;
    assert_int_equal(vlapic_read(a, offset, now, &v), APIC_OK);
    return v;
}

static void wr(struct vlapic *a, uint32_t offset, uint64_t value, uint64_t now)
{
    struct apic_ipi ipi;
    assert_int_equal(vlapic_write(a, offset, value, now, &ipi), APIC_OK);
}

static enum apic_access_result rd_result(struct vlapic *a, uint32_t offset)
{
    uint64_t v;
    return vlapic_read(a, offset, 0, &v);
}

static enum apic_access_result wr_result(struct vlapic *a, uint32_t offset, uint64_t value)
{
    struct apic_ipi ipi;
    return vlapic_write(a, offset, value, 0, &ipi);
}

static struct vlapic make(uint32_t id, enum apic_mode mode, bool enabled)
{
    struct vlapic a;
    memset(&a, 0x5a, sizeof a);     /* reset must not rely on zeroed memory */
    vlapic_reset(&a, id);
    a.timer_fired = 0;
    if (mode == APIC_MODE_X2APIC)
        assert_true(vlapic_set_base(&a, X2APIC_BASE | (id == 0 ? APIC_BASE_BSP : 0),
                                    PHYS_MASK));
    assert_int_equal(vlapic_mode(&a), mode);
    if (enabled)
        wr(&a, APIC_REG_SVR, SVR_ON, 0);
    return a;
}

static void assert_lvts_masked(struct vlapic *a)
{
    for (uint32_t off = APIC_REG_LVT_TIMER; off <= APIC_REG_LVT_ERROR; off += 0x10)
        assert_int_equal(rd(a, off, 0), APIC_LVT_MASKED);
}

static void assert_xapic_reset_registers(struct vlapic *a, uint32_t id)
{
    assert_int_equal(rd(a, APIC_REG_ID, 0), id << 24);
    assert_int_equal(rd(a, APIC_REG_VERSION, 0), 0x00050014);  /* max LVT 5, version 0x14 */
    assert_int_equal(rd(a, APIC_REG_TPR, 0), 0);
    assert_int_equal(rd(a, APIC_REG_PPR, 0), 0);
    assert_int_equal(rd(a, APIC_REG_LDR, 0), 0);
    assert_int_equal(rd(a, APIC_REG_DFR, 0), 0xffffffff);
    assert_int_equal(rd(a, APIC_REG_SVR, 0), 0xff);
    assert_int_equal(rd(a, APIC_REG_ICR_LOW, 0), 0);
    assert_int_equal(rd(a, APIC_REG_ICR_HIGH, 0), 0);
    for (uint32_t i = 0; i < 8; i++) {
        assert_int_equal(rd(a, APIC_REG_ISR + i * 0x10, 0), 0);
        assert_int_equal(rd(a, APIC_REG_TMR + i * 0x10, 0), 0);
        assert_int_equal(rd(a, APIC_REG_IRR + i * 0x10, 0), 0);
    }
    assert_lvts_masked(a);
    assert_int_equal(rd(a, APIC_REG_TIMER_INITIAL, 0), 0);
    assert_int_equal(rd(a, APIC_REG_TIMER_CURRENT, 0), 0);
    assert_int_equal(rd(a, APIC_REG_TIMER_DIVIDE, 0), 0);
    assert_false(a->timer_armed);
    assert_false(vlapic_accepts_interrupts(a));
    assert_int_equal(vlapic_pending_vector(a), -1);
}

/* ---- Reset state (SDM 11.4.7.1) ---- */

static void reset_state_of_the_bsp(void **state)
{
    (void)state;
    struct vlapic a = make(0, APIC_MODE_XAPIC, false);
    assert_int_equal(a.id, 0);
    assert_int_equal(a.base_msr, 0xfee00900);   /* base, EN, BSP */
    assert_xapic_reset_registers(&a, 0);
}

static void reset_state_of_an_ap(void **state)
{
    (void)state;
    struct vlapic a = make(3, APIC_MODE_XAPIC, false);
    assert_int_equal(a.base_msr, 0xfee00800);   /* no BSP flag */
    assert_xapic_reset_registers(&a, 3);
    struct vlapic b = make(0x12, APIC_MODE_XAPIC, false);
    assert_int_equal(rd(&b, APIC_REG_ID, 0), 0x12000000);
    assert_int_equal(b.base_msr & APIC_BASE_BSP, 0);
}

static void reset_clears_a_used_apic(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, true);
    wr(&a, APIC_REG_TPR, 0x20, 0);
    wr(&a, APIC_REG_LDR, 0x01000000, 0);
    wr(&a, APIC_REG_ID, 0x09000000, 0);
    wr(&a, APIC_REG_LVT_TIMER, 0x40, 0);
    wr(&a, APIC_REG_TIMER_INITIAL, 1000, 0);
    assert_true(vlapic_set_irr(&a, 0x50));
    vlapic_accept(&a, 0x50);
    assert_true(vlapic_set_irr(&a, 0x60));
    vlapic_reset(&a, 1);
    assert_int_equal(a.base_msr, 0xfee00800);
    assert_xapic_reset_registers(&a, 1);
}

/* ---- IA32_APIC_BASE (SDM 11.4.4, 11.12.5) ---- */

static void xapic_to_x2apic(void **state)
{
    (void)state;
    struct vlapic a = make(0x23, APIC_MODE_XAPIC, false);
    assert_true(vlapic_set_base(&a, X2APIC_BASE, PHYS_MASK));
    assert_int_equal(vlapic_mode(&a), APIC_MODE_X2APIC);
    assert_int_equal(a.base_msr, 0xfee00c00);
    assert_int_equal(rd(&a, APIC_REG_ID, 0), 0x23);             /* 32-bit x2APIC ID */
    assert_int_equal(rd(&a, APIC_REG_LDR, 0), 0x00020008);      /* cluster 2, bit 3 */

    struct vlapic b = make(0x1f, APIC_MODE_X2APIC, false);
    assert_int_equal(rd(&b, APIC_REG_LDR, 0), 0x00018000);      /* cluster 1, bit 15 */
    struct vlapic c = make(0, APIC_MODE_X2APIC, false);
    assert_int_equal(rd(&c, APIC_REG_LDR, 0), 0x00000001);
    assert_int_equal(c.base_msr, 0xfee00d00);                    /* BSP flag kept */
}

static void bsp_flag_is_read_only(void **state)
{
    (void)state;
    struct vlapic ap = make(2, APIC_MODE_XAPIC, false);
    assert_true(vlapic_set_base(&ap, XAPIC_BASE | APIC_BASE_BSP, PHYS_MASK));
    assert_int_equal(ap.base_msr, 0xfee00800);
    struct vlapic bsp = make(0, APIC_MODE_XAPIC, false);
    assert_true(vlapic_set_base(&bsp, XAPIC_BASE, PHYS_MASK));
    assert_int_equal(bsp.base_msr, 0xfee00900);
}

static void x2apic_to_xapic_faults(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_X2APIC, true);
    assert_false(vlapic_set_base(&a, XAPIC_BASE, PHYS_MASK));
    assert_int_equal(vlapic_mode(&a), APIC_MODE_X2APIC);
    assert_int_equal(a.base_msr, 0xfee00c00);
    assert_int_equal(rd(&a, APIC_REG_SVR, 0), SVR_ON);          /* untouched */
}

static void disabled_to_x2apic_faults(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, false);
    assert_true(vlapic_set_base(&a, DISABLED_BASE, PHYS_MASK));
    assert_int_equal(vlapic_mode(&a), APIC_MODE_DISABLED);
    assert_false(vlapic_set_base(&a, X2APIC_BASE, PHYS_MASK));
    assert_int_equal(vlapic_mode(&a), APIC_MODE_DISABLED);
    assert_int_equal(a.base_msr, 0xfee00000);
}

static void extd_without_en_faults(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, false);
    assert_false(vlapic_set_base(&a, APIC_DEFAULT_BASE | APIC_BASE_X2APIC, PHYS_MASK));
    assert_int_equal(vlapic_mode(&a), APIC_MODE_XAPIC);
    struct vlapic b = make(1, APIC_MODE_X2APIC, false);
    assert_false(vlapic_set_base(&b, APIC_DEFAULT_BASE | APIC_BASE_X2APIC, PHYS_MASK));
    assert_int_equal(vlapic_mode(&b), APIC_MODE_X2APIC);
    struct vlapic c = make(1, APIC_MODE_XAPIC, false);
    assert_true(vlapic_set_base(&c, DISABLED_BASE, PHYS_MASK));
    assert_false(vlapic_set_base(&c, APIC_DEFAULT_BASE | APIC_BASE_X2APIC, PHYS_MASK));
    assert_int_equal(vlapic_mode(&c), APIC_MODE_DISABLED);
}

static void reserved_base_bits_fault(void **state)
{
    (void)state;
    static const uint64_t reserved[] = { 1ull << 0, 1ull << 7, 1ull << 9, 1ull << 36,
                                         1ull << 63 };
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        struct vlapic a = make(1, APIC_MODE_XAPIC, false);
        assert_false(vlapic_set_base(&a, XAPIC_BASE | reserved[i], PHYS_MASK));
        assert_int_equal(a.base_msr, 0xfee00800);
    }
    /* With a wider physical address, bit 36 becomes part of the base. */
    struct vlapic a = make(1, APIC_MODE_XAPIC, false);
    assert_true(vlapic_set_base(&a, XAPIC_BASE | 1ull << 36, (1ull << 40) - 1));
    assert_int_equal(a.base_msr, 0x10fee00800ull);
    /* Relocating within the physical address width is fine. */
    struct vlapic b = make(1, APIC_MODE_XAPIC, false);
    assert_true(vlapic_set_base(&b, 0xfed00000ull | APIC_BASE_ENABLE, PHYS_MASK));
    assert_int_equal(b.base_msr, 0xfed00800);
}

static void leaving_x2apic_by_disabling_resets(void **state)
{
    (void)state;
    struct vlapic a = make(5, APIC_MODE_X2APIC, true);
    wr(&a, APIC_REG_TPR, 0x20, 0);
    wr(&a, APIC_REG_LVT_TIMER, 0x40, 0);
    wr(&a, APIC_REG_LVT_LINT0, 0x700, 0);
    wr(&a, APIC_REG_TIMER_DIVIDE, DIV_1, 0);
    wr(&a, APIC_REG_TIMER_INITIAL, 100000, 0);
    assert_true(vlapic_set_irr(&a, 0x70));
    vlapic_accept(&a, 0x70);
    assert_true(vlapic_set_irr(&a, 0x80));
    assert_true(a.timer_armed);

    assert_true(vlapic_set_base(&a, DISABLED_BASE, PHYS_MASK));
    assert_int_equal(vlapic_mode(&a), APIC_MODE_DISABLED);
    assert_false(vlapic_timer_expire(&a, 200000));
    assert_true(vlapic_set_base(&a, XAPIC_BASE, PHYS_MASK));
    assert_int_equal(vlapic_mode(&a), APIC_MODE_XAPIC);
    assert_int_equal(a.base_msr, 0xfee00800);
    assert_xapic_reset_registers(&a, 5);
    assert_false(vlapic_timer_expire(&a, 200000));
}

/* ---- Register access: x2APIC (SDM 11.12.1.2 Table 11-6) ---- */

static void x2apic_registers_without_msr_fault(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_X2APIC, true);
    static const uint32_t no_msr[] = { APIC_REG_APR, APIC_REG_DFR, APIC_REG_ICR_HIGH,
                                       APIC_REG_RRD };
    for (size_t i = 0; i < sizeof no_msr / sizeof no_msr[0]; i++) {
        assert_int_equal(rd_result(&a, no_msr[i]), APIC_FAULT);
        assert_int_equal(wr_result(&a, no_msr[i], 0), APIC_FAULT);
    }
    /* Write-only registers and reserved MSRs fault on reads too. */
    assert_int_equal(rd_result(&a, APIC_REG_EOI), APIC_FAULT);
    assert_int_equal(rd_result(&a, APIC_REG_SELF_IPI), APIC_FAULT);
    assert_int_equal(rd_result(&a, 0x000), APIC_FAULT);
    assert_int_equal(rd_result(&a, 0x040), APIC_FAULT);
    assert_int_equal(rd_result(&a, 0x3a0), APIC_FAULT);
    assert_int_equal(wr_result(&a, 0x040, 0), APIC_FAULT);
    /* The registers that exist read fine. */
    assert_int_equal(rd(&a, APIC_REG_VERSION, 0), 0x00050014);
    assert_int_equal(rd(&a, APIC_REG_ESR, 0), 0);
    assert_int_equal(rd(&a, APIC_REG_TMR + 0x70, 0), 0);
}

static void x2apic_read_only_writes_fault(void **state)
{
    (void)state;
    struct vlapic a = make(0x21, APIC_MODE_X2APIC, true);
    assert_true(vlapic_set_irr(&a, 0x40));
    vlapic_accept(&a, 0x40);
    static const uint32_t ro[] = { APIC_REG_ID, APIC_REG_VERSION, APIC_REG_PPR, APIC_REG_LDR,
                                   APIC_REG_ISR, APIC_REG_ISR + 0x20, APIC_REG_TMR,
                                   APIC_REG_IRR, APIC_REG_TIMER_CURRENT };
    for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++)
        assert_int_equal(wr_result(&a, ro[i], 0), APIC_FAULT);
    assert_int_equal(rd(&a, APIC_REG_ID, 0), 0x21);
    assert_int_equal(rd(&a, APIC_REG_LDR, 0), 0x00020002);
    assert_int_equal(rd(&a, APIC_REG_ISR + 0x20, 0), 1u << 0);  /* vector 0x40 */
    assert_int_equal(rd(&a, APIC_REG_PPR, 0), 0x40);
}

static void x2apic_eoi_must_write_zero(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_X2APIC, true);
    assert_true(vlapic_set_irr(&a, 0x40));
    vlapic_accept(&a, 0x40);
    assert_int_equal(wr_result(&a, APIC_REG_EOI, 1), APIC_FAULT);
    assert_int_equal(rd(&a, APIC_REG_ISR + 0x20, 0), 1);        /* still in service */
    wr(&a, APIC_REG_EOI, 0, 0);
    assert_int_equal(rd(&a, APIC_REG_ISR + 0x20, 0), 0);
}

static void x2apic_upper_half_is_reserved_except_icr(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_X2APIC, true);
    static const uint32_t rw[] = { APIC_REG_TPR, APIC_REG_EOI, APIC_REG_SVR, APIC_REG_ESR,
                                   APIC_REG_LVT_TIMER, APIC_REG_LVT_ERROR,
                                   APIC_REG_TIMER_INITIAL, APIC_REG_TIMER_DIVIDE,
                                   APIC_REG_SELF_IPI };
    for (size_t i = 0; i < sizeof rw / sizeof rw[0]; i++)
        assert_int_equal(wr_result(&a, rw[i], 1ull << 32), APIC_FAULT);
    assert_int_equal(rd(&a, APIC_REG_SVR, 0), SVR_ON);
    assert_int_equal(rd(&a, APIC_REG_TPR, 0), 0);
    assert_int_equal(rd(&a, APIC_REG_TIMER_INITIAL, 0), 0);
    struct apic_ipi ipi;
    assert_int_equal(vlapic_write(&a, APIC_REG_ICR_LOW, 1ull << 32 | 0x30, 0, &ipi),
                     APIC_SEND_IPI);
    assert_int_equal(ipi.destination, 1);
}

/* ---- Register access: xAPIC and disabled ---- */

static void xapic_read_only_writes_are_ignored(void **state)
{
    (void)state;
    struct vlapic a = make(2, APIC_MODE_XAPIC, true);
    assert_true(vlapic_set_irr(&a, 0x40));
    vlapic_accept(&a, 0x40);
    assert_true(vlapic_set_irr(&a, 0x61));
    static const uint32_t ro[] = { APIC_REG_VERSION, APIC_REG_PPR, APIC_REG_ISR + 0x20,
                                   APIC_REG_TMR, APIC_REG_IRR + 0x30, APIC_REG_TIMER_CURRENT,
                                   APIC_REG_APR, APIC_REG_RRD };
    for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++)
        wr(&a, ro[i], 0xffffffff, 0);
    assert_int_equal(rd(&a, APIC_REG_VERSION, 0), 0x00050014);
    assert_int_equal(rd(&a, APIC_REG_PPR, 0), 0x40);
    assert_int_equal(rd(&a, APIC_REG_ISR + 0x20, 0), 1);
    assert_int_equal(rd(&a, APIC_REG_TMR, 0), 0);
    assert_int_equal(rd(&a, APIC_REG_IRR + 0x30, 0), 1u << 1);  /* vector 0x61 */
    assert_int_equal(rd(&a, APIC_REG_TIMER_CURRENT, 0), 0);
    assert_int_equal(rd(&a, APIC_REG_APR, 0), 0);
    assert_int_equal(rd(&a, APIC_REG_RRD, 0), 0);
}

static void xapic_writable_fields(void **state)
{
    (void)state;
    struct vlapic a = make(2, APIC_MODE_XAPIC, true);
    wr(&a, APIC_REG_ID, 0x05abcdef, 0);
    assert_int_equal(rd(&a, APIC_REG_ID, 0), 0x05000000);
    wr(&a, APIC_REG_LDR, 0x12345678, 0);
    assert_int_equal(rd(&a, APIC_REG_LDR, 0), 0x12000000);
    wr(&a, APIC_REG_DFR, 0, 0);
    assert_int_equal(rd(&a, APIC_REG_DFR, 0), 0x0fffffff);
    wr(&a, APIC_REG_TPR, 0x1234, 0);
    assert_int_equal(rd(&a, APIC_REG_TPR, 0), 0x34);
    wr(&a, APIC_REG_SVR, 0xffffffff, 0);
    assert_int_equal(rd(&a, APIC_REG_SVR, 0), 0x3ff);
    wr(&a, APIC_REG_TIMER_DIVIDE, 0xffffffff, 0);
    assert_int_equal(rd(&a, APIC_REG_TIMER_DIVIDE, 0), 0xb);
    wr(&a, APIC_REG_ICR_HIGH, 0x03ffffff, 0);
    assert_int_equal(rd(&a, APIC_REG_ICR_HIGH, 0), 0x03000000);
    /* LVT writable bits (Figure 11-8): delivery status / remote IRR read-only. */
    wr(&a, APIC_REG_LVT_TIMER, 0xffffffff, 0);
    assert_int_equal(rd(&a, APIC_REG_LVT_TIMER, 0), 0x700ff);
    wr(&a, APIC_REG_LVT_THERMAL, 0xffffffff, 0);
    assert_int_equal(rd(&a, APIC_REG_LVT_THERMAL, 0), 0x107ff);
    wr(&a, APIC_REG_LVT_PERF, 0xffffffff, 0);
    assert_int_equal(rd(&a, APIC_REG_LVT_PERF, 0), 0x107ff);
    wr(&a, APIC_REG_LVT_LINT0, 0xffffffff, 0);
    assert_int_equal(rd(&a, APIC_REG_LVT_LINT0, 0), 0x1a7ff);
    wr(&a, APIC_REG_LVT_LINT1, 0xffffffff, 0);
    assert_int_equal(rd(&a, APIC_REG_LVT_LINT1, 0), 0x1a7ff);
    wr(&a, APIC_REG_LVT_ERROR, 0xffffffff, 0);
    assert_int_equal(rd(&a, APIC_REG_LVT_ERROR, 0), 0x100ff);
}

static void xapic_reserved_registers_read_zero(void **state)
{
    (void)state;
    struct vlapic a = make(2, APIC_MODE_XAPIC, true);
    static const uint32_t reserved[] = { 0x000, 0x010, 0x040, 0x070, 0x2f0, 0x3a0, 0x3d0,
                                         APIC_REG_SELF_IPI, APIC_REG_EOI, APIC_REG_ESR };
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        wr(&a, reserved[i], 0xffffffff, 0);
        assert_int_equal(rd(&a, reserved[i], 0), 0);
    }
}

static void xapic_self_ipi_register_does_not_send(void **state)
{
    (void)state;
    struct vlapic a = make(2, APIC_MODE_XAPIC, true);
    struct apic_ipi ipi = { .vector = 0x99 };
    assert_int_equal(vlapic_write(&a, APIC_REG_SELF_IPI, 0x44, 0, &ipi), APIC_OK);
    assert_int_equal(ipi.vector, 0x99);
}

static void disabled_apic_faults_every_access(void **state)
{
    (void)state;
    struct vlapic a = make(2, APIC_MODE_XAPIC, true);
    assert_true(vlapic_set_base(&a, DISABLED_BASE, PHYS_MASK));
    for (uint32_t off = 0; off <= 0x3f0; off += 0x10) {
        assert_int_equal(rd_result(&a, off), APIC_FAULT);
        assert_int_equal(wr_result(&a, off, 0), APIC_FAULT);
    }
    assert_false(vlapic_accepts_interrupts(&a));
    assert_false(vlapic_set_irr(&a, 0x40));
    assert_int_equal(vlapic_irr_word(&a, 2), 0);
}

/* ---- Interrupt acceptance and priority (SDM 11.8) ---- */

static void set_irr_rules(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, false);     /* software-disabled */
    assert_false(vlapic_accepts_interrupts(&a));
    assert_false(vlapic_set_irr(&a, 0x40));
    assert_int_equal(vlapic_irr_word(&a, 2), 0);
    wr(&a, APIC_REG_SVR, SVR_ON, 0);
    assert_true(vlapic_accepts_interrupts(&a));
    for (int v = 0; v < 16; v++)
        assert_false(vlapic_set_irr(&a, (uint8_t)v));
    assert_int_equal(vlapic_irr_word(&a, 0), 0);
    assert_true(vlapic_set_irr(&a, 16));
    assert_true(vlapic_set_irr(&a, 0xff));
    assert_int_equal(rd(&a, APIC_REG_IRR, 0), 1u << 16);
    assert_int_equal(rd(&a, APIC_REG_IRR + 0x70, 0), 1u << 31);
    assert_int_equal(vlapic_pending_vector(&a), 0xff);
}

static void accept_moves_irr_to_isr(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, true);
    assert_int_equal(vlapic_pending_vector(&a), -1);
    assert_true(vlapic_set_irr(&a, 0x41));
    assert_int_equal(vlapic_pending_vector(&a), 0x41);
    vlapic_accept(&a, 0x41);
    assert_int_equal(rd(&a, APIC_REG_IRR + 0x20, 0), 0);
    assert_int_equal(rd(&a, APIC_REG_ISR + 0x20, 0), 1u << 1);
    assert_int_equal(vlapic_ppr(&a), 0x40);
    assert_int_equal(vlapic_pending_vector(&a), -1);
}

/* The nested switch's cheap test: only the IRR words a sync filled, then
 * the inbox; a word the processor emptied in the page is seen empty, and
 * one it may have filled (self-IPI virtualization) once told so. */
static void irr_nonempty_follows_inbox_and_irr(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, true);
    assert_false(vlapic_irr_nonempty(&a));
    assert_true(vlapic_set_irr(&a, 0x41));
    assert_true(vlapic_irr_nonempty(&a));           /* in the inbox */
    assert_true(vlapic_set_irr(&a, 0x91));
    vlapic_sync_irr(&a);
    assert_true(vlapic_irr_nonempty(&a));           /* in IRR */
    vlapic_accept(&a, 0x91);
    assert_true(vlapic_irr_nonempty(&a));           /* 0x41 still */
    a.regs[(APIC_REG_IRR + 0x20) >> 2] = 0;         /* delivered by the processor */
    assert_false(vlapic_irr_nonempty(&a));
    assert_int_equal(a.irr_words, 0);
    assert_true(vlapic_set_irr(&a, 0x42));
    vlapic_sync_irr(&a);
    assert_true(vlapic_irr_nonempty(&a));
    vlapic_accept(&a, 0x42);
    assert_false(vlapic_irr_nonempty(&a));
    a.regs[(APIC_REG_IRR + 0x70) >> 2] = 1u << 4;   /* the processor's self-IPI, vector 0xf4 */
    vlapic_irr_words_unknown(&a);
    assert_true(vlapic_irr_nonempty(&a));
}

static void pending_vector_must_beat_ppr_class(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, true);
    assert_true(vlapic_set_irr(&a, 0x41));
    vlapic_accept(&a, 0x41);                    /* in service: class 4 */
    assert_true(vlapic_set_irr(&a, 0x4f));      /* same class: held */
    assert_int_equal(vlapic_pending_vector(&a), -1);
    assert_true(vlapic_set_irr(&a, 0x3f));      /* lower class: held */
    assert_int_equal(vlapic_pending_vector(&a), -1);
    assert_true(vlapic_set_irr(&a, 0x50));      /* higher class: through */
    assert_int_equal(vlapic_pending_vector(&a), 0x50);
    vlapic_accept(&a, 0x50);
    assert_int_equal(vlapic_ppr(&a), 0x50);
    assert_int_equal(vlapic_pending_vector(&a), -1);
}

static void eoi_clears_highest_in_service(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, true);
    assert_true(vlapic_set_irr(&a, 0x41));
    vlapic_accept(&a, 0x41);
    assert_true(vlapic_set_irr(&a, 0x91));
    vlapic_accept(&a, 0x91);
    assert_true(vlapic_set_irr(&a, 0x45));
    assert_int_equal(vlapic_ppr(&a), 0x90);
    assert_int_equal(vlapic_pending_vector(&a), -1);
    wr(&a, APIC_REG_EOI, 0, 0);                 /* ends 0x91, not 0x41 */
    assert_int_equal(rd(&a, APIC_REG_ISR + 0x40, 0), 0);
    assert_int_equal(rd(&a, APIC_REG_ISR + 0x20, 0), 1u << 1);
    assert_int_equal(vlapic_ppr(&a), 0x40);
    assert_int_equal(vlapic_pending_vector(&a), -1);    /* 0x45 still class 4 */
    wr(&a, APIC_REG_EOI, 0, 0);                 /* ends 0x41 */
    assert_int_equal(rd(&a, APIC_REG_ISR + 0x20, 0), 0);
    assert_int_equal(vlapic_ppr(&a), 0);
    assert_int_equal(vlapic_pending_vector(&a), 0x45);
    wr(&a, APIC_REG_EOI, 0, 0);                 /* nothing in service: harmless */
    assert_int_equal(vlapic_pending_vector(&a), 0x45);
}

static void tpr_masks_and_ppr_formula(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, true);
    wr(&a, APIC_REG_TPR, 0x35, 0);
    assert_int_equal(vlapic_ppr(&a), 0x35);     /* no ISR: PPR = TPR */
    assert_int_equal(rd(&a, APIC_REG_PPR, 0), 0x35);
    assert_true(vlapic_set_irr(&a, 0x3f));
    assert_int_equal(vlapic_pending_vector(&a), -1);    /* class 3 not above 3 */
    assert_true(vlapic_set_irr(&a, 0x40));
    assert_int_equal(vlapic_pending_vector(&a), 0x40);
    vlapic_accept(&a, 0x40);
    /* ISR class 4 above TPR class 3: PPR = 0x40 (low nibble 0). */
    assert_int_equal(vlapic_ppr(&a), 0x40);
    /* TPR class 4 equal to ISR class: PPR = TPR with its low nibble. */
    wr(&a, APIC_REG_TPR, 0x45, 0);
    assert_int_equal(rd(&a, APIC_REG_PPR, 0), 0x45);
    wr(&a, APIC_REG_TPR, 0x5a, 0);
    assert_int_equal(rd(&a, APIC_REG_PPR, 0), 0x5a);
    wr(&a, APIC_REG_EOI, 0, 0);
    assert_int_equal(rd(&a, APIC_REG_PPR, 0), 0x5a);
    assert_int_equal(vlapic_pending_vector(&a), -1);    /* 0x3f under TPR */
    wr(&a, APIC_REG_TPR, 0, 0);
    assert_int_equal(vlapic_pending_vector(&a), 0x3f);
}

/* ---- Software disable (SDM 11.4.7.2) ---- */

static void software_disable_masks_lvts(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, true);
    wr(&a, APIC_REG_LVT_TIMER, 0x30, 0);
    wr(&a, APIC_REG_LVT_LINT0, 0x700, 0);
    wr(&a, APIC_REG_LVT_ERROR, 0x33, 0);
    assert_int_equal(rd(&a, APIC_REG_LVT_TIMER, 0), 0x30);
    assert_int_equal(rd(&a, APIC_REG_LVT_LINT0, 0), 0x700);
    wr(&a, APIC_REG_SVR, 0xff, 0);
    assert_false(vlapic_accepts_interrupts(&a));
    assert_int_equal(rd(&a, APIC_REG_SVR, 0), 0xff);
    assert_int_equal(rd(&a, APIC_REG_LVT_TIMER, 0), 0x10030);
    assert_int_equal(rd(&a, APIC_REG_LVT_LINT0, 0), 0x10700);
    assert_int_equal(rd(&a, APIC_REG_LVT_ERROR, 0), 0x10033);
    assert_int_equal(rd(&a, APIC_REG_LVT_PERF, 0), APIC_LVT_MASKED);
    /* Clearing the mask is ignored while disabled. */
    wr(&a, APIC_REG_LVT_TIMER, 0x31, 0);
    assert_int_equal(rd(&a, APIC_REG_LVT_TIMER, 0), 0x10031);
    wr(&a, APIC_REG_LVT_LINT1, 0x400, 0);
    assert_int_equal(rd(&a, APIC_REG_LVT_LINT1, 0), 0x10400);
    /* Re-enabling leaves them masked until software unmasks them. */
    wr(&a, APIC_REG_SVR, SVR_ON, 0);
    assert_true(vlapic_accepts_interrupts(&a));
    assert_int_equal(rd(&a, APIC_REG_LVT_TIMER, 0), 0x10031);
    wr(&a, APIC_REG_LVT_TIMER, 0x31, 0);
    assert_int_equal(rd(&a, APIC_REG_LVT_TIMER, 0), 0x31);
}

static void software_disable_holds_pending_interrupts(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, true);
    assert_true(vlapic_set_irr(&a, 0x40));
    wr(&a, APIC_REG_SVR, 0xff, 0);
    assert_false(vlapic_set_irr(&a, 0x50));
    assert_int_equal(rd(&a, APIC_REG_IRR + 0x20, 0), 1);   /* 0x40 held, 0x50 refused */
}

/* ---- Timer (SDM 11.5.4) ---- */

static void one_shot_timer(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, true);
    wr(&a, APIC_REG_LVT_TIMER, 0x40, 0);
    wr(&a, APIC_REG_TIMER_DIVIDE, 3, 0);                     /* divide by 16 */
    wr(&a, APIC_REG_TIMER_INITIAL, 1000, 1000);
    assert_true(a.timer_armed);
    assert_int_equal(a.timer_deadline, 1000 + 1000 * 16);
    assert_int_equal(rd(&a, APIC_REG_TIMER_INITIAL, 1000), 1000);
    assert_int_equal(rd(&a, APIC_REG_TIMER_CURRENT, 1000), 1000);
    assert_int_equal(rd(&a, APIC_REG_TIMER_CURRENT, 9000), 500);
    assert_int_equal(rd(&a, APIC_REG_TIMER_CURRENT, 16984), 1);
    assert_false(vlapic_timer_expire(&a, 16999));
    assert_int_equal(vlapic_irr_word(&a, 2), 0);
    assert_true(vlapic_timer_expire(&a, 17000));
    assert_int_equal(vlapic_irr_word(&a, 2), 1);                           /* vector 0x40 */
    assert_int_equal(a.timer_fired, 1);
    assert_false(a.timer_armed);
    assert_false(vlapic_timer_expire(&a, 17001));            /* only once */
    assert_false(vlapic_timer_expire(&a, 1000000));
    assert_int_equal(a.timer_fired, 1);
    assert_int_equal(rd(&a, APIC_REG_TIMER_CURRENT, 20000), 0);
    assert_int_equal(rd(&a, APIC_REG_TIMER_INITIAL, 20000), 1000);
    /* Writing the initial count restarts it; zero stops it. */
    wr(&a, APIC_REG_TIMER_INITIAL, 10, 30000);
    assert_int_equal(a.timer_deadline, 30160);
    wr(&a, APIC_REG_TIMER_INITIAL, 0, 30001);
    assert_false(a.timer_armed);
    assert_false(vlapic_timer_expire(&a, 40000));
}

static void timer_divide_encodings(void **state)
{
    (void)state;
    static const struct { uint32_t code, divisor; } enc[] = {
        { 0xb, 1 }, { 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
        { 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 },
    };
    for (size_t i = 0; i < sizeof enc / sizeof enc[0]; i++) {
        struct vlapic a = make(1, APIC_MODE_XAPIC, true);
        wr(&a, APIC_REG_LVT_TIMER, 0x40, 0);
        wr(&a, APIC_REG_TIMER_DIVIDE, enc[i].code, 0);
        assert_int_equal(rd(&a, APIC_REG_TIMER_DIVIDE, 0), enc[i].code);
        wr(&a, APIC_REG_TIMER_INITIAL, 100, 5000);
        assert_int_equal(a.timer_period, 100 * enc[i].divisor);
        assert_int_equal(a.timer_deadline, 5000 + 100 * enc[i].divisor);
        assert_int_equal(rd(&a, APIC_REG_TIMER_CURRENT, 5000), 100);
        assert_int_equal(rd(&a, APIC_REG_TIMER_CURRENT, 5000 + 50 * enc[i].divisor), 50);
    }
}

static void periodic_timer_rearms_and_drops_missed_periods(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, true);
    wr(&a, APIC_REG_LVT_TIMER, LVT_PERIODIC | 0x40, 0);
    wr(&a, APIC_REG_TIMER_DIVIDE, DIV_1, 0);
    wr(&a, APIC_REG_TIMER_INITIAL, 20000, 0);
    assert_int_equal(a.timer_deadline, 20000);
    assert_false(vlapic_timer_expire(&a, 19999));
    assert_true(vlapic_timer_expire(&a, 20000));
    assert_int_equal(a.timer_fired, 1);
    assert_true(a.timer_armed);
    assert_int_equal(a.timer_deadline, 40000);
    assert_int_equal(rd(&a, APIC_REG_TIMER_CURRENT, 30000), 10000);
    /* Late but within the next period: the schedule is kept. */
    assert_true(vlapic_timer_expire(&a, 45000));
    assert_int_equal(a.timer_deadline, 60000);
    /* Three periods late: one interrupt, then a full period from now. */
    assert_true(vlapic_timer_expire(&a, 125000));
    assert_int_equal(a.timer_fired, 3);
    assert_int_equal(a.timer_deadline, 145000);
    assert_int_equal(rd(&a, APIC_REG_TIMER_CURRENT, 125000), 20000);
    assert_false(vlapic_timer_expire(&a, 144999));
    assert_int_equal(vlapic_pending_vector(&a), 0x40);
}

static void periodic_timer_minimum_period(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, true);
    wr(&a, APIC_REG_LVT_TIMER, LVT_PERIODIC | 0x40, 0);
    wr(&a, APIC_REG_TIMER_DIVIDE, DIV_1, 0);
    wr(&a, APIC_REG_TIMER_INITIAL, 100, 1000);
    assert_int_equal(a.timer_period, 10000);
    assert_int_equal(a.timer_deadline, 11000);
    assert_false(vlapic_timer_expire(&a, 1100));
    assert_true(vlapic_timer_expire(&a, 11000));
    assert_int_equal(a.timer_deadline, 21000);
    /* Exactly the minimum, and above it, are kept as they are. */
    wr(&a, APIC_REG_TIMER_INITIAL, 10000, 0);
    assert_int_equal(a.timer_period, 10000);
    wr(&a, APIC_REG_TIMER_INITIAL, 10001, 0);
    assert_int_equal(a.timer_period, 10001);
    /* One-shot timers are not clamped. */
    struct vlapic b = make(1, APIC_MODE_XAPIC, true);
    wr(&b, APIC_REG_LVT_TIMER, 0x40, 0);
    wr(&b, APIC_REG_TIMER_DIVIDE, DIV_1, 0);
    wr(&b, APIC_REG_TIMER_INITIAL, 100, 1000);
    assert_int_equal(b.timer_deadline, 1100);
}

static void masked_timer_expires_without_interrupt(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, true);
    wr(&a, APIC_REG_LVT_TIMER, APIC_LVT_MASKED | 0x40, 0);
    wr(&a, APIC_REG_TIMER_DIVIDE, DIV_1, 0);
    wr(&a, APIC_REG_TIMER_INITIAL, 500, 0);
    assert_true(vlapic_timer_expire(&a, 500));
    assert_int_equal(vlapic_irr_word(&a, 2), 0);
    assert_int_equal(a.timer_fired, 0);
    assert_false(a.timer_armed);
    assert_false(vlapic_timer_expire(&a, 1000));
    /* Masked periodic: keeps running without raising anything. */
    wr(&a, APIC_REG_LVT_TIMER, APIC_LVT_MASKED | LVT_PERIODIC | 0x40, 0);
    wr(&a, APIC_REG_TIMER_INITIAL, 20000, 0);
    assert_true(vlapic_timer_expire(&a, 20000));
    assert_true(a.timer_armed);
    assert_int_equal(a.timer_deadline, 40000);
    assert_int_equal(vlapic_irr_word(&a, 2), 0);
    assert_int_equal(vlapic_pending_vector(&a), -1);
}

static void tsc_deadline_timer(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, true);
    /* Outside TSC-deadline mode the MSR ignores writes and reads 0. */
    wr(&a, APIC_REG_LVT_TIMER, 0x50, 0);
    vlapic_write_tsc_deadline(&a, 5000, 0, 0);
    assert_int_equal(vlapic_read_tsc_deadline(&a), 0);
    assert_false(a.timer_armed);
    a.tsc_deadline = 1234;      /* even a stale value is not visible outside the mode */
    assert_int_equal(vlapic_read_tsc_deadline(&a), 0);
    a.tsc_deadline = 0;
    wr(&a, APIC_REG_LVT_TIMER, LVT_TSC_DL | 0x50, 0);
    assert_int_equal(vlapic_read_tsc_deadline(&a), 0);
    assert_false(a.timer_armed);
    /* Guest TSC = host TSC + offset. */
    vlapic_write_tsc_deadline(&a, 5000, 1000, 0);
    assert_int_equal(vlapic_read_tsc_deadline(&a), 5000);
    assert_true(a.timer_armed);
    assert_int_equal(a.timer_deadline, 4000);
    assert_int_equal(rd(&a, APIC_REG_TIMER_CURRENT, 0), 0);     /* always 0 here */
    wr(&a, APIC_REG_TIMER_INITIAL, 1234, 0);                    /* ignored */
    assert_int_equal(rd(&a, APIC_REG_TIMER_INITIAL, 0), 0);
    assert_int_equal(a.timer_deadline, 4000);
    assert_false(vlapic_timer_expire(&a, 3999));
    assert_true(vlapic_timer_expire(&a, 4000));
    assert_int_equal(vlapic_pending_vector(&a), 0x50);
    assert_int_equal(a.timer_fired, 1);
    assert_int_equal(vlapic_read_tsc_deadline(&a), 0);          /* cleared when it fires */
    assert_false(a.timer_armed);
    assert_false(vlapic_timer_expire(&a, 100000));
    /* A negative offset (guest TSC behind the host's). */
    vlapic_write_tsc_deadline(&a, 15000, (uint64_t)-3000, 10000);
    assert_int_equal(a.timer_deadline, 18000);
    /* A deadline in the past fires at once; ~0 ("never") does not wrap. */
    vlapic_write_tsc_deadline(&a, 100, 0, 5000);
    assert_true(vlapic_timer_expire(&a, 5000));
    vlapic_write_tsc_deadline(&a, ~0ull, 0, 5000);
    assert_true(a.timer_armed);
    assert_false(vlapic_timer_expire(&a, 5001));
    assert_false(vlapic_timer_expire(&a, 1ull << 61));
    /* Zero disarms. */
    vlapic_write_tsc_deadline(&a, 0, 0, 0);
    assert_false(a.timer_armed);
    assert_int_equal(vlapic_read_tsc_deadline(&a), 0);
    assert_false(vlapic_timer_expire(&a, 1000000));
    /* Leaving TSC-deadline mode disarms and clears the MSR. */
    vlapic_write_tsc_deadline(&a, 7000, 0, 0);
    assert_true(a.timer_armed);
    wr(&a, APIC_REG_LVT_TIMER, 0x50, 0);
    assert_false(a.timer_armed);
    assert_int_equal(vlapic_read_tsc_deadline(&a), 0);
    wr(&a, APIC_REG_LVT_TIMER, LVT_TSC_DL | 0x50, 0);
    assert_int_equal(vlapic_read_tsc_deadline(&a), 0);
    assert_false(vlapic_timer_expire(&a, 7000));
    /* Rewriting the LVT in the same mode (new vector) keeps it armed. */
    vlapic_write_tsc_deadline(&a, 9000, 0, 0);
    wr(&a, APIC_REG_LVT_TIMER, LVT_TSC_DL | 0x51, 0);
    assert_true(a.timer_armed);
    assert_int_equal(vlapic_read_tsc_deadline(&a), 9000);
}

static void entering_tsc_deadline_mode_disarms(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, true);
    wr(&a, APIC_REG_LVT_TIMER, 0x40, 0);
    wr(&a, APIC_REG_TIMER_DIVIDE, DIV_1, 0);
    wr(&a, APIC_REG_TIMER_INITIAL, 5000, 0);
    assert_true(a.timer_armed);
    wr(&a, APIC_REG_LVT_TIMER, LVT_TSC_DL | 0x40, 0);
    assert_false(a.timer_armed);
    assert_int_equal(rd(&a, APIC_REG_TIMER_INITIAL, 0), 0);
    assert_false(vlapic_timer_expire(&a, 5000));
    assert_int_equal(vlapic_irr_word(&a, 2), 0);
}

/* ---- ICR and SELF IPI (SDM 11.6.1, 11.12.9, 11.12.11) ---- */

static void xapic_icr_write_sends(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, true);
    wr(&a, APIC_REG_ICR_HIGH, 0x03000000, 0);
    struct apic_ipi ipi;
    memset(&ipi, 0, sizeof ipi);
    /* vector 0x31, NMI, logical, level assert, no shorthand */
    uint32_t low = 0x31 | IPI_NMI << 8 | 1u << 11 | 1u << 14;
    assert_int_equal(vlapic_write(&a, APIC_REG_ICR_LOW, low, 0, &ipi), APIC_SEND_IPI);
    assert_int_equal(ipi.vector, 0x31);
    assert_int_equal(ipi.delivery, IPI_NMI);
    assert_int_equal(ipi.shorthand, IPI_DEST_FIELD);
    assert_true(ipi.logical);
    assert_true(ipi.level_assert);
    assert_int_equal(ipi.destination, 0x03);
    assert_false(ipi.x2apic);
    assert_int_equal(rd(&a, APIC_REG_ICR_LOW, 0), low);

    /* INIT de-assert, physical, all-but-self; upper ICR bits 55:32 ignored. */
    wr(&a, APIC_REG_ICR_HIGH, 0xfe123456, 0);
    low = IPI_INIT << 8 | 1u << 15 | IPI_ALL_BUT_SELF << 18;
    assert_int_equal(vlapic_write(&a, APIC_REG_ICR_LOW, low, 0, &ipi), APIC_SEND_IPI);
    assert_int_equal(ipi.vector, 0);
    assert_int_equal(ipi.delivery, IPI_INIT);
    assert_int_equal(ipi.shorthand, IPI_ALL_BUT_SELF);
    assert_false(ipi.logical);
    assert_false(ipi.level_assert);
    assert_int_equal(ipi.destination, 0xfe);

    /* STARTUP to self; reserved ICR bits do not stick. */
    low = 0x9a | IPI_STARTUP << 8 | IPI_SELF << 18;
    assert_int_equal(vlapic_write(&a, APIC_REG_ICR_LOW, 0xfff00000u | low, 0, &ipi),
                     APIC_SEND_IPI);
    assert_int_equal(ipi.vector, 0x9a);
    assert_int_equal(ipi.delivery, IPI_STARTUP);
    assert_int_equal(ipi.shorthand, IPI_SELF);
    assert_int_equal(rd(&a, APIC_REG_ICR_LOW, 0), low);
    /* Writing ICR high alone sends nothing. */
    assert_int_equal(vlapic_write(&a, APIC_REG_ICR_HIGH, 0x01000000, 0, &ipi), APIC_OK);
}

static void x2apic_icr_is_one_64_bit_register(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_X2APIC, true);
    struct apic_ipi ipi;
    memset(&ipi, 0, sizeof ipi);
    uint64_t icr = 0x12345678ull << 32 | IPI_FIXED << 8 | 1u << 11 | 1u << 14 | 0x42;
    assert_int_equal(vlapic_write(&a, APIC_REG_ICR_LOW, icr, 0, &ipi), APIC_SEND_IPI);
    assert_int_equal(ipi.vector, 0x42);
    assert_int_equal(ipi.delivery, IPI_FIXED);
    assert_int_equal(ipi.shorthand, IPI_DEST_FIELD);
    assert_true(ipi.logical);
    assert_int_equal(ipi.destination, 0x12345678);
    assert_true(ipi.x2apic);
    assert_int_equal(rd(&a, APIC_REG_ICR_LOW, 0), icr);
    icr = 0xffffffffull << 32 | IPI_INIT << 8 | 1u << 14;
    assert_int_equal(vlapic_write(&a, APIC_REG_ICR_LOW, icr, 0, &ipi), APIC_SEND_IPI);
    assert_int_equal(ipi.destination, 0xffffffff);
    assert_int_equal(ipi.delivery, IPI_INIT);
    assert_false(ipi.logical);
    assert_true(ipi.level_assert);
}

/* The ICR write of the WRMSR fastpath (exits/exit_msr.c) decides as the
 * register write does: the same IPI, the same faults. */
static void x2apic_icr_fastpath_write_matches_the_register_write(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_X2APIC, true), b = make(1, APIC_MODE_X2APIC, true);
    struct apic_ipi by_register, by_fastpath;
    memset(&by_register, 0, sizeof by_register);
    memset(&by_fastpath, 0, sizeof by_fastpath);
    uint64_t icr = 0x12345678ull << 32 | IPI_FIXED << 8 | 1u << 11 | 1u << 14 | 0x42;
    assert_int_equal(vlapic_write(&a, APIC_REG_ICR_LOW, icr, 0, &by_register), APIC_SEND_IPI);
    assert_true(vlapic_write_x2apic_icr(&b, icr, &by_fastpath));
    assert_memory_equal(&by_register, &by_fastpath, sizeof by_register);
    assert_int_equal(rd(&b, APIC_REG_ICR_LOW, 0), icr);
    /* Reserved bits (here bit 20) fault both ways, and so does xAPIC mode. */
    assert_int_equal(vlapic_write(&a, APIC_REG_ICR_LOW, icr | 1u << 20, 0, &by_register), APIC_FAULT);
    assert_false(vlapic_write_x2apic_icr(&b, icr | 1u << 20, &by_fastpath));
    struct vlapic x = make(1, APIC_MODE_XAPIC, true);
    assert_false(vlapic_write_x2apic_icr(&x, icr, &by_fastpath));
}

static void x2apic_self_ipi(void **state)
{
    (void)state;
    struct vlapic a = make(7, APIC_MODE_X2APIC, true);
    struct apic_ipi ipi;
    memset(&ipi, 0xff, sizeof ipi);
    assert_int_equal(vlapic_write(&a, APIC_REG_SELF_IPI, 0x44, 0, &ipi), APIC_SEND_IPI);
    assert_int_equal(ipi.vector, 0x44);
    assert_int_equal(ipi.delivery, IPI_FIXED);
    assert_int_equal(ipi.shorthand, IPI_SELF);
    assert_false(ipi.logical);
    assert_false(ipi.level_assert);
    assert_true(ipi.x2apic);
    assert_true(vlapic_ipi_reaches(&a, 7, &ipi));
}

/* ---- IPI destinations (SDM 11.6.2, 11.12.10) ---- */

static struct apic_ipi ipi_to(uint32_t destination, bool logical, bool x2apic)
{
    return (struct apic_ipi){ .vector = 0x40, .delivery = IPI_FIXED,
                              .shorthand = IPI_DEST_FIELD, .logical = logical,
                              .destination = destination, .x2apic = x2apic };
}

static void physical_destinations(void **state)
{
    (void)state;
    struct vlapic t = make(2, APIC_MODE_XAPIC, true);
    struct apic_ipi ipi = ipi_to(2, false, false);
    assert_true(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 3;
    assert_false(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0xff;                             /* xAPIC broadcast */
    assert_true(vlapic_ipi_reaches(&t, 0, &ipi));
    /* xAPIC physical destinations match the (writable) ID register. */
    wr(&t, APIC_REG_ID, 0x07000000, 0);
    ipi.destination = 7;
    assert_true(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 2;
    assert_false(vlapic_ipi_reaches(&t, 0, &ipi));

    struct vlapic x = make(0x123, APIC_MODE_X2APIC, true);
    ipi = ipi_to(0x123, false, true);
    assert_true(vlapic_ipi_reaches(&x, 0, &ipi));
    ipi.destination = 0x23;
    assert_false(vlapic_ipi_reaches(&x, 0, &ipi));
    ipi.destination = 0xff;                             /* not broadcast in x2APIC */
    assert_false(vlapic_ipi_reaches(&x, 0, &ipi));
    ipi.destination = 0xffffffff;
    assert_true(vlapic_ipi_reaches(&x, 0, &ipi));
    ipi.logical = true;                                 /* broadcast in both modes */
    assert_true(vlapic_ipi_reaches(&x, 0, &ipi));
}

static void shorthands(void **state)
{
    (void)state;
    struct vlapic t = make(2, APIC_MODE_XAPIC, true);
    struct apic_ipi ipi = ipi_to(9, false, false);     /* destination field ignored */
    ipi.shorthand = IPI_SELF;
    assert_true(vlapic_ipi_reaches(&t, 2, &ipi));
    assert_false(vlapic_ipi_reaches(&t, 1, &ipi));
    ipi.shorthand = IPI_ALL;
    assert_true(vlapic_ipi_reaches(&t, 2, &ipi));
    assert_true(vlapic_ipi_reaches(&t, 1, &ipi));
    ipi.shorthand = IPI_ALL_BUT_SELF;
    assert_false(vlapic_ipi_reaches(&t, 2, &ipi));
    assert_true(vlapic_ipi_reaches(&t, 1, &ipi));
    /* A software-disabled APIC still receives (INIT, SIPI, NMI). */
    wr(&t, APIC_REG_SVR, 0xff, 0);
    assert_true(vlapic_ipi_reaches(&t, 1, &ipi));
}

static void xapic_logical_flat(void **state)
{
    (void)state;
    struct vlapic t = make(2, APIC_MODE_XAPIC, true);
    struct apic_ipi ipi = ipi_to(0x04, true, false);
    assert_false(vlapic_ipi_reaches(&t, 0, &ipi));     /* LDR 0 after reset */
    wr(&t, APIC_REG_LDR, 0x04000000, 0);               /* flat: bit 2 */
    assert_true(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0x06;
    assert_true(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0x03;
    assert_false(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0xff;
    assert_true(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0;
    assert_false(vlapic_ipi_reaches(&t, 0, &ipi));
}

static void xapic_logical_cluster(void **state)
{
    (void)state;
    struct vlapic t = make(2, APIC_MODE_XAPIC, true);
    wr(&t, APIC_REG_DFR, 0x0fffffff, 0);               /* cluster model */
    wr(&t, APIC_REG_LDR, 0x21000000, 0);               /* cluster 2, member bit 0 */
    struct apic_ipi ipi = ipi_to(0x21, true, false);
    assert_true(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0x2f;
    assert_true(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0x22;                            /* same cluster, other member */
    assert_false(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0x31;                            /* other cluster */
    assert_false(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0x01;                            /* would match in flat */
    assert_false(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0xff;
    assert_true(vlapic_ipi_reaches(&t, 0, &ipi));
    /* Back to flat: 0x01 matches the member bit now read as a flat bitmap. */
    wr(&t, APIC_REG_DFR, 0xffffffff, 0);
    ipi.destination = 0x01;
    assert_true(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0x20;
    assert_true(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0x40;
    assert_false(vlapic_ipi_reaches(&t, 0, &ipi));
}

static void x2apic_logical_cluster(void **state)
{
    (void)state;
    struct vlapic t = make(0x23, APIC_MODE_X2APIC, true);     /* LDR 0x00020008 */
    struct apic_ipi ipi = ipi_to(0x00020008, true, true);
    assert_true(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0x0002000c;
    assert_true(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0x00020004;
    assert_false(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0x00010008;
    assert_false(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0x00000008;
    assert_false(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0xffffffff;
    assert_true(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0x0002ffff;
    assert_true(vlapic_ipi_reaches(&t, 0, &ipi));
}

static void disabled_target_receives_nothing(void **state)
{
    (void)state;
    struct vlapic t = make(2, APIC_MODE_XAPIC, true);
    wr(&t, APIC_REG_LDR, 0x04000000, 0);
    assert_true(vlapic_set_base(&t, DISABLED_BASE, PHYS_MASK));
    struct apic_ipi ipi = ipi_to(2, false, false);
    assert_false(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.destination = 0xff;
    assert_false(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.logical = true;
    assert_false(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.shorthand = IPI_ALL;
    assert_false(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.shorthand = IPI_ALL_BUT_SELF;
    assert_false(vlapic_ipi_reaches(&t, 0, &ipi));
    ipi.shorthand = IPI_SELF;
    assert_false(vlapic_ipi_reaches(&t, 2, &ipi));
    struct apic_ipi x2 = ipi_to(0xffffffff, false, true);
    assert_false(vlapic_ipi_reaches(&t, 0, &x2));
}

/* ---- Rules that are easy to miss ---- */

/* SDM Vol. 3A 11.12.1.2 Table 11-6, ESR (MSR 828H):
 * "WRMSR of a non-zero value causes #GP(0)". */
static void x2apic_esr_nonzero_write_faults(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_X2APIC, true);
    assert_int_equal(wr_result(&a, APIC_REG_ESR, 0), APIC_OK);
    assert_int_equal(wr_result(&a, APIC_REG_ESR, 1), APIC_FAULT);
}

/* SDM Vol. 3A 11.12.1.3 "Reserved Bit Checking": in x2APIC
 * mode, non-zero writes to reserved bits raise #GP, not just bits 63:32.
 * TPR bits 31:8 and SELF IPI bits 31:8 are reserved. */
static void x2apic_reserved_low_bits_fault(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_X2APIC, true);
    assert_int_equal(wr_result(&a, APIC_REG_TPR, 0x100), APIC_FAULT);
    assert_int_equal(wr_result(&a, APIC_REG_SELF_IPI, 0x144), APIC_FAULT);
}

/* SDM Vol. 3A 11.6.1 Figure 11-12: ICR bit 12 (Delivery
 * Status) is read-only; bit 13 is reserved. A guest writing bit 12 must
 * not then poll "send pending" forever. */
static void icr_delivery_status_is_read_only(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, true);
    struct apic_ipi ipi;
    assert_int_equal(vlapic_write(&a, APIC_REG_ICR_LOW, 1u << 12 | 0x40, 0, &ipi),
                     APIC_SEND_IPI);
    assert_int_equal(rd(&a, APIC_REG_ICR_LOW, 0), 0x40);
}

/* Between one-shot and periodic mode the timer goes on counting from
 * TMICT, and periodic mode reloads it when it ends; only moving into or
 * out of TSC-deadline mode disarms it (SDM Vol. 3A 11.5.4.1; what the CPU
 * and KVM do, and what test kernels check). */
static void timer_mode_change_keeps_counting(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, true);
    wr(&a, APIC_REG_LVT_TIMER, 0x40, 0);
    wr(&a, APIC_REG_TIMER_DIVIDE, DIV_1, 0);
    wr(&a, APIC_REG_TIMER_INITIAL, 50000, 0);
    wr(&a, APIC_REG_LVT_TIMER, LVT_PERIODIC | 0x40, 10000);
    assert_int_equal(rd(&a, APIC_REG_TIMER_INITIAL, 20000), 50000);
    assert_int_equal(rd(&a, APIC_REG_TIMER_CURRENT, 20000), 30000);
    assert_true(vlapic_timer_expire(&a, 50000));
    assert_int_equal(vlapic_irr_word(&a, 2), 1);
    assert_int_equal(rd(&a, APIC_REG_TIMER_CURRENT, 60000), 40000);  /* reloaded */
    wr(&a, APIC_REG_LVT_TIMER, 0x40, 60000);                          /* back to one-shot */
    assert_true(vlapic_timer_expire(&a, 100000));
    assert_false(a.timer_armed);
    /* Into TSC-deadline mode and back: disarmed, TMICT cleared. */
    wr(&a, APIC_REG_TIMER_INITIAL, 50000, 100000);
    wr(&a, APIC_REG_LVT_TIMER, LVT_TSC_DL | 0x40, 110000);
    assert_false(a.timer_armed);
    wr(&a, APIC_REG_LVT_TIMER, 0x40, 120000);
    assert_int_equal(rd(&a, APIC_REG_TIMER_INITIAL, 120000), 0);
    assert_false(a.timer_armed);
}

/* INIT (SDM 11.4.7.3): registers back to reset, but the ID, the base MSR
 * and, in x2APIC mode, the derived logical ID stay. */
static void init_signal_keeps_identity(void **state)
{
    (void)state;
    struct vlapic a = make(0x23, APIC_MODE_X2APIC, true);
    wr(&a, APIC_REG_TPR, 0x30, 0);
    assert_true(vlapic_set_irr(&a, 0x40));
    uint64_t base = a.base_msr;
    vlapic_init_signal(&a);
    assert_int_equal(a.base_msr, base);
    assert_int_equal(rd(&a, APIC_REG_ID, 0), 0x23);
    assert_int_equal(rd(&a, APIC_REG_LDR, 0), (2u << 16) | (1u << 3));
    assert_int_equal(rd(&a, APIC_REG_TPR, 0), 0);
    assert_int_equal(rd(&a, APIC_REG_SVR, 0), 0xff);
    assert_int_equal(vlapic_pending_vector(&a), -1);
    struct vlapic x = make(2, APIC_MODE_XAPIC, true);
    wr(&x, APIC_REG_ID, 0x07000000, 0);
    vlapic_init_signal(&x);
    assert_int_equal(rd(&x, APIC_REG_ID, 0), 0x07000000);
}

/* Only a timer whose interrupt the CPU could take may wake it. */
static void timer_can_interrupt(void **state)
{
    (void)state;
    struct vlapic a = make(1, APIC_MODE_XAPIC, true);
    wr(&a, APIC_REG_TIMER_DIVIDE, DIV_1, 0);
    wr(&a, APIC_REG_LVT_TIMER, 0x40, 0);
    assert_false(vlapic_timer_can_interrupt(&a));       /* not armed */
    wr(&a, APIC_REG_TIMER_INITIAL, 50000, 0);
    assert_true(vlapic_timer_can_interrupt(&a));
    wr(&a, APIC_REG_TPR, 0x40, 0);                      /* class 4 is not above TPR 4 */
    assert_false(vlapic_timer_can_interrupt(&a));
    wr(&a, APIC_REG_TPR, 0, 0);
    wr(&a, APIC_REG_LVT_TIMER, 0x08, 0);                /* illegal vector */
    wr(&a, APIC_REG_TIMER_INITIAL, 50000, 0);
    assert_false(vlapic_timer_can_interrupt(&a));
    wr(&a, APIC_REG_LVT_TIMER, APIC_LVT_MASKED | 0x40, 0);
    wr(&a, APIC_REG_TIMER_INITIAL, 50000, 0);
    assert_false(vlapic_timer_can_interrupt(&a));
}

/* Firmware's virtual-wire mode: the 8259 reaches the BSP through LINT0,
 * which the SDM's reset state (everything masked) would not allow. */
static void virtual_wire_passes_the_8259(void **state)
{
    (void)state;
    struct vlapic apic;
    vlapic_reset(&apic, 0);
    assert_false(vlapic_accepts_pic_interrupt(&apic));
    vlapic_virtual_wire(&apic);
    assert_true(vlapic_accepts_pic_interrupt(&apic));
    assert_true(vlapic_get(&apic, APIC_REG_SVR) & APIC_SVR_ENABLE);
    assert_int_equal(vlapic_get(&apic, APIC_REG_LVT_LINT1), 4 << 8);     /* NMI, unmasked */
    vlapic_init_signal(&apic);                         /* INIT: back to the SDM's state */
    assert_false(vlapic_accepts_pic_interrupt(&apic));
}

/* The register page is the virtual-APIC page (dev/apicv.h): registers at
 * their xAPIC offsets, as the processor reads them. */
static void registers_live_at_their_page_offsets(void **state)
{
    (void)state;
    struct vlapic a = make(3, APIC_MODE_XAPIC, true);
    wr(&a, APIC_REG_TPR, 0x45, 0);
    wr(&a, APIC_REG_LVT_LINT0, 0x700, 0);
    assert_int_equal(a.regs[APIC_REG_TPR / 4], 0x45);
    assert_int_equal(a.regs[APIC_REG_ID / 4], 3u << 24);
    assert_int_equal(a.regs[APIC_REG_LVT_LINT0 / 4], 0x700);
    assert_int_equal(a.regs[APIC_REG_SVR / 4], SVR_ON);
    assert_int_equal(a.regs[APIC_REG_VERSION / 4] & 0xff, 0x14);
    /* x2APIC: the 32-bit ID in the ID register, ICR as 64 bits at 0x300. */
    struct vlapic b = make(3, APIC_MODE_X2APIC, true);
    assert_int_equal(b.regs[APIC_REG_ID / 4], 3);
    struct apic_ipi ipi;
    assert_int_equal(vlapic_write(&b, APIC_REG_ICR_LOW, 0x0000000500000031ull, 0, &ipi),
                     APIC_SEND_IPI);
    assert_int_equal(b.regs[APIC_REG_ICR_LOW / 4], 0x31);
    assert_int_equal(b.regs[APIC_REG_ICR_LOW / 4 + 1], 5);
    assert_int_equal(rd(&b, APIC_REG_ICR_LOW, 0), 0x0000000500000031ull);
}

/* Other CPUs' interrupts wait in the inbox: visible to the model (IRR
 * reads, the pending vector) but only in the page's IRR once the owner
 * syncs, and the sync moves each exactly once. */
static void inbox_reaches_irr_on_sync(void **state)
{
    (void)state;
    struct vlapic a = make(0, APIC_MODE_XAPIC, true);
    assert_true(vlapic_set_irr(&a, 0x51));
    assert_true(vlapic_set_irr_trigger(&a, 0x92, true));
    assert_int_equal(a.regs[(APIC_REG_IRR + 0x20) / 4], 0);     /* word 2: 0x40..0x5f */
    assert_int_equal(vlapic_irr_word(&a, 2), 1u << (0x51 - 0x40));
    assert_int_equal(rd(&a, APIC_REG_IRR + 0x40, 0), 1u << (0x92 - 0x80));
    assert_int_equal(vlapic_pending_vector(&a), 0x92);
    assert_int_equal(vlapic_highest_irr(&a), -1);   /* the page's own: nothing yet */
    assert_true(vlapic_irr_nonempty(&a));
    assert_true(vlapic_sync_irr(&a));
    assert_false(vlapic_sync_irr(&a));
    assert_int_equal(vlapic_highest_irr(&a), 0x92);
    assert_int_equal(a.regs[(APIC_REG_IRR + 0x20) / 4], 1u << (0x51 - 0x40));
    /* TMR, which the EOI-exit bitmap follows, is set at acceptance. */
    assert_int_equal(vlapic_tmr_word(&a, 4), 1u << (0x92 - 0x80));
    assert_int_equal(vlapic_tmr_word(&a, 2), 0);
    /* An edge-triggered arrival of the same vector clears it again. */
    assert_true(vlapic_set_irr(&a, 0x92));
    assert_int_equal(vlapic_tmr_word(&a, 4), 0);
}

/* The sync says which IRR words got vectors, and the highest newcomer is
 * the new RVI wherever it beats the old: with the rest of IRR unchanged,
 * max(old RVI, vlapic_highest_irr_in) is the highest IRR vector, as a full
 * scan finds it (dev/apicv.c's incremental RVI). */
static void sync_names_the_words_for_an_incremental_rvi(void **state)
{
    (void)state;
    struct vlapic a = make(0, APIC_MODE_X2APIC, true);
    vlapic_set_irr(&a, 0xb0);
    vlapic_sync_irr(&a);
    int rvi = vlapic_highest_irr(&a);
    /* Two newcomers in two words, both below the old RVI, one sharing its
     * word: the old RVI stays the highest. */
    vlapic_set_irr(&a, 0xa1);
    vlapic_set_irr(&a, 0x33);
    uint32_t moved = vlapic_sync_irr(&a);
    assert_int_equal(moved, (1u << 5) | (1u << 1));
    int newcomer = vlapic_highest_irr_in(&a, moved);
    assert_int_equal(newcomer, 0xb0);       /* word 5 holds the old 0xb0 too */
    assert_int_equal(newcomer > rvi ? newcomer : rvi, vlapic_highest_irr(&a));
    /* One above it, in a word of its own. */
    vlapic_set_irr(&a, 0xe7);
    moved = vlapic_sync_irr(&a);
    assert_int_equal(moved, 1u << 7);
    assert_int_equal(vlapic_highest_irr_in(&a, moved), 0xe7);
    assert_int_equal(vlapic_highest_irr(&a), 0xe7);
    assert_int_equal(vlapic_sync_irr(&a), 0);
    assert_int_equal(vlapic_highest_irr_in(&a, 0), -1);
}

/* The inbox's highest vector, what a halt's poll compares with RVI
 * (dev/apicv.c, apicv_request_deliverable): none before an acceptance and
 * after a sync, and a word marked but emptied by a sync is passed over. */
static void highest_inbox_vector(void **state)
{
    (void)state;
    struct vlapic a = make(0, APIC_MODE_X2APIC, true);
    assert_int_equal(vlapic_highest_inbox(&a), -1);
    vlapic_set_irr(&a, 0x33);
    vlapic_set_irr(&a, 0x51);
    vlapic_set_irr(&a, 0x5e);
    assert_int_equal(vlapic_highest_inbox(&a), 0x5e);
    vlapic_sync_irr(&a);
    assert_int_equal(vlapic_highest_inbox(&a), -1);
    vlapic_set_irr(&a, 0x33);
    a.inbox_words |= 1u << 6;       /* marked again, its vectors already taken */
    assert_int_equal(vlapic_highest_inbox(&a), 0x33);
}

/* RVI and SVI as virtual-interrupt delivery takes them: the highest
 * vector in IRR and in ISR; what the processor did to the page (deliver:
 * IRR to ISR; EOI: ISR bit cleared) is what the model then sees, and PPR
 * follows ISR and TPR (SDM Vol. 3C 30.1.2-3). */
static void rvi_svi_and_ppr_follow_the_page(void **state)
{
    (void)state;
    struct vlapic a = make(0, APIC_MODE_X2APIC, true);
    vlapic_set_irr(&a, 0x61);
    vlapic_set_irr(&a, 0x35);
    vlapic_sync_irr(&a);
    assert_int_equal(vlapic_highest_irr(&a), 0x61);
    assert_int_equal(vlapic_highest_isr(&a), -1);
    /* The processor delivers 0x61 (virtual-interrupt delivery). */
    a.regs[(APIC_REG_IRR + 0x30) / 4] = 0;
    a.regs[(APIC_REG_ISR + 0x30) / 4] = 1u << 1;
    vlapic_update_ppr(&a);
    assert_int_equal(vlapic_highest_irr(&a), 0x35);
    assert_int_equal(vlapic_highest_isr(&a), 0x61);
    assert_int_equal(a.regs[APIC_REG_PPR / 4], 0x60);
    assert_int_equal(vlapic_pending_vector(&a), -1);    /* 0x35 is below PPR's class */
    /* The guest writes CR8 through the TPR shadow. */
    a.regs[APIC_REG_TPR / 4] = 0x70;
    assert_int_equal(vlapic_get_cr8(&a), 7);
    assert_int_equal(vlapic_ppr(&a), 0x70);
    /* The processor does the EOI (EOI virtualization). */
    a.regs[(APIC_REG_ISR + 0x30) / 4] = 0;
    vlapic_set_cr8(&a, 0);
    assert_int_equal(a.regs[APIC_REG_PPR / 4], 0);
    assert_int_equal(vlapic_pending_vector(&a), 0x35);
    /* The model's own acceptance keeps PPR in the page current too. */
    vlapic_accept(&a, 0x35);
    assert_int_equal(vlapic_highest_isr(&a), 0x35);
    assert_int_equal(a.regs[APIC_REG_PPR / 4], 0x30);
}

/* The EOI guard's question (dev/apicv.c): could an EOI release a vector
 * that waits in IRR? Not with one request and nothing in service (it is
 * delivered, its EOI leaves nothing), yes with two, or with one behind an
 * in-service vector; the inbox does not count until it is synced. */
static bool may_release(const struct vlapic *a)
{
    int rvi = vlapic_highest_irr(a), svi = vlapic_highest_isr(a);
    return vlapic_eoi_may_release(a, rvi < 0 ? 0 : (unsigned)rvi, svi < 0 ? 0 : (unsigned)svi, 0xff);
}

static void eoi_may_release_a_waiting_vector(void **state)
{
    (void)state;
    struct vlapic a = make(0, APIC_MODE_X2APIC, true);
    assert_false(may_release(&a));
    vlapic_set_irr(&a, 0xec);
    assert_false(may_release(&a));                  /* in the inbox */
    vlapic_sync_irr(&a);
    assert_false(may_release(&a));
    vlapic_set_irr(&a, 0x31);
    vlapic_sync_irr(&a);
    assert_true(may_release(&a));                   /* two, in different words */
    /* The processor delivers 0xec: 0x31 waits behind it. */
    a.regs[(APIC_REG_IRR + 0x70) / 4] = 0;
    a.regs[(APIC_REG_ISR + 0x70) / 4] = 1u << 12;
    assert_true(may_release(&a));
    /* It completes 0xec and delivers 0x31: nothing is left to release. */
    a.regs[(APIC_REG_ISR + 0x70) / 4] = 0;
    a.regs[(APIC_REG_IRR + 0x10) / 4] = 0;
    a.regs[(APIC_REG_ISR + 0x10) / 4] = 1u << 17;
    assert_false(may_release(&a));
    /* Two in one word, and in the lowest word under the highest's. */
    a.regs[(APIC_REG_ISR + 0x10) / 4] = 0;
    vlapic_set_irr(&a, 0x40);
    vlapic_set_irr(&a, 0x41);
    vlapic_sync_irr(&a);
    assert_true(may_release(&a));
    a.regs[(APIC_REG_IRR + 0x20) / 4] = 1u << 1;
    assert_false(may_release(&a));
    vlapic_set_irr(&a, 0x10);
    vlapic_sync_irr(&a);
    assert_true(may_release(&a));
    /* Told that only word 2 may hold vectors, it does not look at word 0. */
    assert_false(vlapic_eoi_may_release(&a, 0x41, 0, 1u << 2));
    assert_true(vlapic_eoi_may_release(&a, 0x41, 0, (1u << 2) | 1u));
}

/* APIC-register virtualization puts a guest's LVT write in the page before
 * the model acts on it (the APIC-write exit): leaving TSC-deadline mode
 * still disarms the timer, and ESR keeps reading 0. */
static void page_written_first_still_changes_timer_mode(void **state)
{
    (void)state;
    struct vlapic a = make(0, APIC_MODE_XAPIC, true);
    struct apic_ipi ipi;
    a.regs[APIC_REG_LVT_TIMER / 4] = LVT_TSC_DL | 0x40;
    assert_int_equal(vlapic_write(&a, APIC_REG_LVT_TIMER, vlapic_get(&a, APIC_REG_LVT_TIMER), 0, &ipi),
                     APIC_OK);
    vlapic_write_tsc_deadline(&a, 5000, 0, 0);
    assert_true(a.timer_armed);
    a.regs[APIC_REG_LVT_TIMER / 4] = 0x40;      /* one-shot */
    vlapic_write(&a, APIC_REG_LVT_TIMER, vlapic_get(&a, APIC_REG_LVT_TIMER), 0, &ipi);
    assert_false(a.timer_armed);
    assert_int_equal(vlapic_read_tsc_deadline(&a), 0);
    a.regs[APIC_REG_ESR / 4] = 0x1234;
    vlapic_write(&a, APIC_REG_ESR, vlapic_get(&a, APIC_REG_ESR), 0, &ipi);
    assert_int_equal(a.regs[APIC_REG_ESR / 4], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reset_state_of_the_bsp),
        cmocka_unit_test(reset_state_of_an_ap),
        cmocka_unit_test(reset_clears_a_used_apic),
        cmocka_unit_test(xapic_to_x2apic),
        cmocka_unit_test(bsp_flag_is_read_only),
        cmocka_unit_test(x2apic_to_xapic_faults),
        cmocka_unit_test(disabled_to_x2apic_faults),
        cmocka_unit_test(extd_without_en_faults),
        cmocka_unit_test(reserved_base_bits_fault),
        cmocka_unit_test(leaving_x2apic_by_disabling_resets),
        cmocka_unit_test(x2apic_registers_without_msr_fault),
        cmocka_unit_test(x2apic_read_only_writes_fault),
        cmocka_unit_test(x2apic_eoi_must_write_zero),
        cmocka_unit_test(x2apic_upper_half_is_reserved_except_icr),
        cmocka_unit_test(xapic_read_only_writes_are_ignored),
        cmocka_unit_test(xapic_writable_fields),
        cmocka_unit_test(xapic_reserved_registers_read_zero),
        cmocka_unit_test(xapic_self_ipi_register_does_not_send),
        cmocka_unit_test(disabled_apic_faults_every_access),
        cmocka_unit_test(set_irr_rules),
        cmocka_unit_test(accept_moves_irr_to_isr),
        cmocka_unit_test(irr_nonempty_follows_inbox_and_irr),
        cmocka_unit_test(pending_vector_must_beat_ppr_class),
        cmocka_unit_test(eoi_clears_highest_in_service),
        cmocka_unit_test(tpr_masks_and_ppr_formula),
        cmocka_unit_test(software_disable_masks_lvts),
        cmocka_unit_test(software_disable_holds_pending_interrupts),
        cmocka_unit_test(one_shot_timer),
        cmocka_unit_test(timer_divide_encodings),
        cmocka_unit_test(periodic_timer_rearms_and_drops_missed_periods),
        cmocka_unit_test(periodic_timer_minimum_period),
        cmocka_unit_test(masked_timer_expires_without_interrupt),
        cmocka_unit_test(tsc_deadline_timer),
        cmocka_unit_test(entering_tsc_deadline_mode_disarms),
        cmocka_unit_test(xapic_icr_write_sends),
        cmocka_unit_test(x2apic_icr_is_one_64_bit_register),
        cmocka_unit_test(x2apic_icr_fastpath_write_matches_the_register_write),
        cmocka_unit_test(x2apic_self_ipi),
        cmocka_unit_test(physical_destinations),
        cmocka_unit_test(shorthands),
        cmocka_unit_test(xapic_logical_flat),
        cmocka_unit_test(xapic_logical_cluster),
        cmocka_unit_test(x2apic_logical_cluster),
        cmocka_unit_test(disabled_target_receives_nothing),
        cmocka_unit_test(x2apic_esr_nonzero_write_faults),
        cmocka_unit_test(x2apic_reserved_low_bits_fault),
        cmocka_unit_test(icr_delivery_status_is_read_only),
        cmocka_unit_test(timer_mode_change_keeps_counting),
        cmocka_unit_test(init_signal_keeps_identity),
        cmocka_unit_test(timer_can_interrupt),
        cmocka_unit_test(virtual_wire_passes_the_8259),
        cmocka_unit_test(registers_live_at_their_page_offsets),
        cmocka_unit_test(inbox_reaches_irr_on_sync),
        cmocka_unit_test(sync_names_the_words_for_an_incremental_rvi),
        cmocka_unit_test(highest_inbox_vector),
        cmocka_unit_test(rvi_svi_and_ppr_follow_the_page),
        cmocka_unit_test(eoi_may_release_a_waiting_vector),
        cmocka_unit_test(page_written_first_still_changes_timer_mode),
    };
    return cmocka_run_group_tests_name("vlapic", tests, NULL, NULL);
}
