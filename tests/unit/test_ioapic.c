/* The I/O APIC register model (Intel 82093AA datasheet): ID, version and
 * arbitration registers, redirection entry fields, edge and level inputs,
 * masking, remote IRR; and with virtual local APICs behind it, the TMR and
 * the EOI that re-delivers a level interrupt still asserted (SDM Vol. 3A
 * 11.8.4). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "dev/ioapic.h"
#include "dev/vlapic.h"

#define REDIR_LOW(pin)  (0x10 + 2 * (pin))
#define REDIR_HIGH(pin) (0x11 + 2 * (pin))

/* A bus that records messages and accepts them if told to. */
struct bus {
    unsigned sent;
    struct ioapic_msg last;
    bool accept;
};

static bool record(void *ctx, const struct ioapic_msg *msg)
{
    struct bus *b = ctx;
    b->sent++;
    b->last = *msg;
    return b->accept;
}

static uint32_t reg_read(struct vioapic *io, uint8_t index)
{
    vioapic_write(io, IOAPIC_REGSEL, index);
    return vioapic_read(io, IOAPIC_WINDOW);
}

static void reg_write(struct vioapic *io, uint8_t index, uint32_t value)
{
    vioapic_write(io, IOAPIC_REGSEL, index);
    vioapic_write(io, IOAPIC_WINDOW, value);
}

static void make(struct vioapic *io, struct bus *b)
{
    memset(io, 0x5a, sizeof *io);   /* reset must not rely on zeroed memory */
    *b = (struct bus){ .accept = true };
    vioapic_reset(io, 0, record, b);
}

static void id_version_arbitration(void **state)
{
    (void)state;
    struct vioapic io;
    struct bus b;
    make(&io, &b);
    assert_int_equal(reg_read(&io, 1), 0x00170011);    /* version 0x11, entries 0-23 */
    assert_int_equal(reg_read(&io, 0), 0);
    reg_write(&io, 0, 0xff000000);      /* 4-bit ID */
    assert_int_equal(reg_read(&io, 0), 0x0f000000);
    assert_int_equal(reg_read(&io, 2), 0x0f000000);    /* arbitration ID follows */
    reg_write(&io, 1, 0);               /* read-only */
    assert_int_equal(reg_read(&io, 1), 0x00170011);
    vioapic_write(&io, IOAPIC_REGSEL, 0x3f);
    assert_int_equal(vioapic_read(&io, IOAPIC_REGSEL), 0x3f);
    assert_int_equal(vioapic_read(&io, IOAPIC_WINDOW), 0);     /* beyond entry 23 */
    assert_int_equal(vioapic_read(&io, 0x20), 0);
}

static void entries_reset_masked_and_keep_writable_bits(void **state)
{
    (void)state;
    struct vioapic io;
    struct bus b;
    make(&io, &b);
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        assert_int_equal(reg_read(&io, REDIR_LOW(pin)), IOAPIC_MASKED);
        assert_int_equal(reg_read(&io, REDIR_HIGH(pin)), 0);
    }
    reg_write(&io, REDIR_LOW(5), 0xffffffff);
    reg_write(&io, REDIR_HIGH(5), 0xffffffff);
    /* Delivery status and remote IRR are read-only, bits 17-55 reserved. */
    assert_int_equal(reg_read(&io, REDIR_LOW(5)), 0x1afff);
    assert_int_equal(reg_read(&io, REDIR_HIGH(5)), 0xff000000);
    assert_int_equal(b.sent, 0);
}

static void edge_delivers_on_rising_edges(void **state)
{
    (void)state;
    struct vioapic io;
    struct bus b;
    make(&io, &b);
    reg_write(&io, REDIR_HIGH(4), 3u << 24);
    reg_write(&io, REDIR_LOW(4), 0x31 | IOAPIC_LOWEST << 8 | IOAPIC_LOGICAL);
    vioapic_set_irq(&io, 4, true);
    assert_int_equal(b.sent, 1);
    assert_int_equal(b.last.vector, 0x31);
    assert_int_equal(b.last.delivery, IOAPIC_LOWEST);
    assert_true(b.last.logical);
    assert_int_equal(b.last.destination, 3);
    assert_false(b.last.level);
    vioapic_set_irq(&io, 4, true);      /* no edge */
    assert_int_equal(b.sent, 1);
    vioapic_set_irq(&io, 4, false);
    vioapic_set_irq(&io, 4, true);
    assert_int_equal(b.sent, 2);
    assert_int_equal(reg_read(&io, REDIR_LOW(4)) & IOAPIC_REMOTE_IRR, 0);
}

static void masked_edge_is_lost(void **state)
{
    (void)state;
    struct vioapic io;
    struct bus b;
    make(&io, &b);
    reg_write(&io, REDIR_LOW(2), 0x30 | IOAPIC_MASKED);
    vioapic_set_irq(&io, 2, true);
    vioapic_set_irq(&io, 2, false);
    vioapic_set_irq(&io, 2, true);
    reg_write(&io, REDIR_LOW(2), 0x30);
    assert_int_equal(b.sent, 0);        /* not held pending */
    vioapic_set_irq(&io, 2, false);
    vioapic_set_irq(&io, 2, true);
    assert_int_equal(b.sent, 1);
}

static void masked_level_is_held(void **state)
{
    (void)state;
    struct vioapic io;
    struct bus b;
    make(&io, &b);
    reg_write(&io, REDIR_LOW(9), 0x39 | IOAPIC_LEVEL | IOAPIC_MASKED);
    vioapic_set_irq(&io, 9, true);
    assert_int_equal(b.sent, 0);
    reg_write(&io, REDIR_LOW(9), 0x39 | IOAPIC_LEVEL);
    assert_int_equal(b.sent, 1);
    assert_true(b.last.level);
    assert_int_equal(reg_read(&io, REDIR_LOW(9)) & IOAPIC_REMOTE_IRR, IOAPIC_REMOTE_IRR);
}

static void level_remote_irr_until_eoi(void **state)
{
    (void)state;
    struct vioapic io;
    struct bus b;
    make(&io, &b);
    reg_write(&io, REDIR_LOW(16), 0x50 | IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW);
    vioapic_set_irq(&io, 16, true);
    vioapic_set_irq(&io, 16, true);     /* still asserted: remote IRR holds it */
    assert_int_equal(b.sent, 1);
    vioapic_eoi(&io, 0x51);             /* another vector */
    assert_int_equal(b.sent, 1);
    vioapic_eoi(&io, 0x50);             /* still asserted: again */
    assert_int_equal(b.sent, 2);
    assert_int_equal(reg_read(&io, REDIR_LOW(16)) & IOAPIC_REMOTE_IRR, IOAPIC_REMOTE_IRR);
    vioapic_set_irq(&io, 16, false);
    vioapic_eoi(&io, 0x50);
    assert_int_equal(b.sent, 2);
    assert_int_equal(reg_read(&io, REDIR_LOW(16)) & IOAPIC_REMOTE_IRR, 0);
    vioapic_set_irq(&io, 16, true);
    assert_int_equal(b.sent, 3);
}

static void remote_irr_needs_an_acceptor(void **state)
{
    (void)state;
    struct vioapic io;
    struct bus b;
    make(&io, &b);
    b.accept = false;
    reg_write(&io, REDIR_LOW(10), 0x40 | IOAPIC_LEVEL);
    vioapic_set_irq(&io, 10, true);
    assert_int_equal(b.sent, 1);
    assert_int_equal(reg_read(&io, REDIR_LOW(10)) & IOAPIC_REMOTE_IRR, 0);
    b.accept = true;
    vioapic_set_irq(&io, 10, true);     /* level: tried again while asserted */
    assert_int_equal(b.sent, 2);
    assert_int_equal(reg_read(&io, REDIR_LOW(10)) & IOAPIC_REMOTE_IRR, IOAPIC_REMOTE_IRR);
    reg_write(&io, REDIR_LOW(10), 0x40);    /* to edge: remote IRR goes */
    assert_int_equal(reg_read(&io, REDIR_LOW(10)) & IOAPIC_REMOTE_IRR, 0);
}

/* The I/O APIC in front of two local APICs, delivering as dev/irq.c does. */
struct apics {
    struct vlapic cpu[2];
};

static bool to_apics(void *ctx, const struct ioapic_msg *msg)
{
    struct apics *a = ctx;
    struct apic_ipi ipi = { .vector = msg->vector, .shorthand = IPI_DEST_FIELD,
                            .logical = msg->logical, .destination = msg->destination };
    bool accepted = false;
    for (int i = 0; i < 2; i++)
        if (vlapic_ipi_reaches(&a->cpu[i], ~0u, &ipi))
            accepted |= vlapic_set_irr_trigger(&a->cpu[i], msg->vector, msg->level);
    return accepted;
}

static uint64_t apic_reg(struct vlapic *a, uint32_t offset)
{
    uint64_t v;
    assert_int_equal(vlapic_read(a, offset, 0, &v), APIC_OK);
    return v;
}

static void level_interrupt_round_trip_through_lapic(void **state)
{
    (void)state;
    struct apics a;
    struct vioapic io;
    struct apic_ipi ipi;
    for (uint32_t i = 0; i < 2; i++) {
        vlapic_reset(&a.cpu[i], i);
        assert_int_equal(vlapic_write(&a.cpu[i], APIC_REG_SVR, APIC_SVR_ENABLE | 0xff, 0, &ipi),
                         APIC_OK);
    }
    vioapic_reset(&io, 0, to_apics, &a);
    reg_write(&io, REDIR_HIGH(11), 1u << 24);   /* physical: APIC 1 */
    reg_write(&io, REDIR_LOW(11), 0x61 | IOAPIC_LEVEL);
    reg_write(&io, REDIR_LOW(4), 0x62);         /* edge, to APIC 0 */
    vioapic_set_irq(&io, 11, true);
    vioapic_set_irq(&io, 4, true);
    struct vlapic *cpu1 = &a.cpu[1];
    assert_int_equal(vlapic_pending_vector(cpu1), 0x61);
    assert_int_equal(vlapic_pending_vector(&a.cpu[0]), 0x62);
    assert_int_equal(apic_reg(cpu1, APIC_REG_TMR + 0x30) >> 1 & 1, 1);    /* TMR set */
    assert_int_equal(apic_reg(&a.cpu[0], APIC_REG_TMR + 0x30) >> 2 & 1, 0);
    vlapic_accept(cpu1, 0x61);
    /* The EOI of a level interrupt goes to the I/O APIC, which sends again
     * while the line is asserted. */
    assert_int_equal(vlapic_write(cpu1, APIC_REG_EOI, 0, 0, &ipi), APIC_EOI_LEVEL);
    assert_int_equal(ipi.vector, 0x61);
    vioapic_eoi(&io, ipi.vector);
    assert_int_equal(vlapic_pending_vector(cpu1), 0x61);
    vlapic_accept(cpu1, 0x61);
    vioapic_set_irq(&io, 11, false);
    assert_int_equal(vlapic_write(cpu1, APIC_REG_EOI, 0, 0, &ipi), APIC_EOI_LEVEL);
    vioapic_eoi(&io, ipi.vector);
    assert_int_equal(vlapic_pending_vector(cpu1), -1);
    assert_int_equal(reg_read(&io, REDIR_LOW(11)) & IOAPIC_REMOTE_IRR, 0);
    /* An edge interrupt's EOI stays in the local APIC. */
    vlapic_accept(&a.cpu[0], 0x62);
    assert_int_equal(vlapic_write(&a.cpu[0], APIC_REG_EOI, 0, 0, &ipi), APIC_OK);
}

static void pic_interrupt_reaches_lint0_in_extint_mode(void **state)
{
    (void)state;
    struct vlapic a;
    struct apic_ipi ipi;
    vlapic_reset(&a, 0);
    assert_false(vlapic_accepts_pic_interrupt(&a));     /* LINT0 masked at reset */
    assert_int_equal(vlapic_write(&a, APIC_REG_SVR, APIC_SVR_ENABLE | 0xff, 0, &ipi), APIC_OK);
    assert_int_equal(vlapic_write(&a, APIC_REG_LVT_LINT0, 7u << 8, 0, &ipi), APIC_OK);
    assert_true(vlapic_accepts_pic_interrupt(&a));
    assert_int_equal(vlapic_write(&a, APIC_REG_LVT_LINT0, 0, 0, &ipi), APIC_OK);  /* fixed */
    assert_false(vlapic_accepts_pic_interrupt(&a));
    assert_true(vlapic_set_base(&a, APIC_DEFAULT_BASE, (1ull << 36) - 1));  /* disabled */
    assert_true(vlapic_accepts_pic_interrupt(&a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(id_version_arbitration),
        cmocka_unit_test(entries_reset_masked_and_keep_writable_bits),
        cmocka_unit_test(edge_delivers_on_rising_edges),
        cmocka_unit_test(masked_edge_is_lost),
        cmocka_unit_test(masked_level_is_held),
        cmocka_unit_test(level_remote_irr_until_eoi),
        cmocka_unit_test(remote_irr_needs_an_acceptor),
        cmocka_unit_test(level_interrupt_round_trip_through_lapic),
        cmocka_unit_test(pic_interrupt_reaches_lint0_in_extint_mode),
    };
    return cmocka_run_group_tests_name("ioapic", tests, NULL, NULL);
}
