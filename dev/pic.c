/* The 8259A pair (Intel 8259A datasheet, "Programming the 8259A" and
 * "Interrupt Sequence"; the ELCR as in the Intel PIIX/ICH datasheets). */
#include "dev/pic.h"
#include "dev/platform.h"

#define ICW1            0x10    /* even port, bit 4: start of initialisation */
#define ICW1_IC4        0x01
#define ICW1_SNGL       0x02
#define OCW3            0x08    /* even port, bit 4 clear: bit 3 tells OCW3 from OCW2 */
#define OCW3_ESMM       0x40
#define OCW3_SMM        0x20
#define OCW3_POLL       0x04
#define OCW3_RR         0x02
#define OCW3_RIS        0x01
#define ICW4_AEOI       0x02
#define ICW4_SFNM       0x10
#define POLL_INTERRUPT  0x80
#define SPURIOUS_IRQ    7
#define BIOS_MASTER_BASE 0x08
#define BIOS_SLAVE_BASE  0x70
/* PIIX: IRQ 0, 1, 2, 8 and 13 are edge-triggered only. */
#define ELCR_MASTER_WRITABLE 0xf8
#define ELCR_SLAVE_WRITABLE  0xde

enum { STEP_READY, STEP_ICW2 = 2, STEP_ICW3, STEP_ICW4 };
enum ocw2 { OCW2_ROTATE_AEOI_CLEAR = 0, OCW2_EOI = 1, OCW2_NOP = 2, OCW2_SPECIFIC_EOI = 3,
            OCW2_ROTATE_AEOI_SET = 4, OCW2_ROTATE_EOI = 5, OCW2_SET_PRIORITY = 6,
            OCW2_ROTATE_SPECIFIC_EOI = 7 };

/* Edge inputs request from a rising edge until acknowledged; level inputs
 * for as long as they are high. Edge requests stay latched when the input
 * falls again before the acknowledge: devices here pulse their line
 * (vm_pulse_irq) in no time at all, where a real one holds it a while. */
static uint8_t requests(const struct pic_chip *c)
{
    return (uint8_t)((c->edge_irr & ~c->elcr) | (c->lines & c->elcr));
}

/* 0 for the highest priority, 7 for the lowest (rotation moves the order). */
static unsigned rank(const struct pic_chip *c, unsigned irq)
{
    return (irq - c->lowest - 1) & 7;
}

static int highest(const struct pic_chip *c, uint8_t bits)
{
    for (unsigned i = 0; i < 8; i++) {
        unsigned irq = (c->lowest + 1 + i) & 7;
        if (bits >> irq & 1)
            return (int)irq;
    }
    return -1;
}

/* The input this chip signals on INT, or -1: the highest unmasked request
 * with a higher priority than every interrupt in service (fully nested
 * mode). In special mask mode the masked in-service levels do not hold
 * others back; in special fully nested mode the master lets the slave
 * interrupt again while one of its interrupts is in service. */
static int pending(const struct vpic *pic, const struct pic_chip *c)
{
    int irq = highest(c, requests(c) & ~c->imr);
    if (irq < 0)
        return -1;
    uint8_t in_service = c->isr;
    if (c->special_mask)
        in_service &= ~c->imr;
    if (c == &pic->chip[0] && c->special_fully_nested)
        in_service &= ~(1u << PIC_CASCADE_IRQ);
    int busy = highest(c, in_service);
    return busy >= 0 && rank(c, (unsigned)busy) <= rank(c, (unsigned)irq) ? -1 : irq;
}

static void set_line(struct pic_chip *c, unsigned irq, bool level)
{
    uint8_t bit = (uint8_t)(1u << irq);
    if (level && !(c->lines & bit))
        c->edge_irr |= bit;
    c->lines = level ? c->lines | bit : c->lines & ~bit;
}

/* The slave's INT is the master's input 2. */
static void cascade(struct vpic *pic)
{
    set_line(&pic->chip[0], PIC_CASCADE_IRQ, pending(pic, &pic->chip[1]) >= 0);
}

/* The second INTA pulse: in service unless auto-EOI (which may rotate);
 * an edge request is consumed, a level one lasts while its input is high. */
static void acknowledge(struct pic_chip *c, unsigned irq)
{
    uint8_t bit = (uint8_t)(1u << irq);
    if (!c->auto_eoi)
        c->isr |= bit;
    else if (c->rotate_on_aeoi)
        c->lowest = (uint8_t)irq;
    c->edge_irr &= ~bit;
}

static void chip_reset(struct pic_chip *c, uint8_t vector_base, uint8_t elcr_writable)
{
    *c = (struct pic_chip){ .vector_base = vector_base, .lowest = 7, .imr = 0xff,
                            .elcr_writable = elcr_writable };
}

void vpic_reset(struct vpic *pic)
{
    chip_reset(&pic->chip[0], BIOS_MASTER_BASE, ELCR_MASTER_WRITABLE);
    chip_reset(&pic->chip[1], BIOS_SLAVE_BASE, ELCR_SLAVE_WRITABLE);
}

void vpic_set_irq(struct vpic *pic, unsigned irq, bool level)
{
    if (irq >= 16 || irq == PIC_CASCADE_IRQ)
        return;
    set_line(&pic->chip[irq >> 3], irq & 7, level);
    cascade(pic);
}

bool vpic_output(const struct vpic *pic)
{
    return pending(pic, &pic->chip[0]) >= 0;
}

uint8_t vpic_acknowledge(struct vpic *pic)
{
    struct pic_chip *master = &pic->chip[0], *slave = &pic->chip[1];
    int irq = pending(pic, master);
    /* No request left at INTA: the 8259A answers with IR7's vector and
     * sets no in-service bit (datasheet, "Interrupt Sequence"). */
    if (irq < 0)
        return master->vector_base | SPURIOUS_IRQ;
    acknowledge(master, (unsigned)irq);
    if (irq != PIC_CASCADE_IRQ || master->single)
        return master->vector_base | (uint8_t)irq;
    /* The slave puts the vector on the bus; it is spurious (IRQ 15) if its
     * request went away, and the master's in-service bit 2 stays set. */
    int sirq = pending(pic, slave);
    uint8_t vector = slave->vector_base | SPURIOUS_IRQ;
    if (sirq >= 0) {
        acknowledge(slave, (unsigned)sirq);
        vector = slave->vector_base | (uint8_t)sirq;
    }
    cascade(pic);
    return vector;
}

/* Poll command (OCW3 P): the next read of the even port is an acknowledge
 * that returns the level instead of giving a vector. */
static uint8_t poll(struct vpic *pic, struct pic_chip *c)
{
    c->poll = false;
    int irq = pending(pic, c);
    if (irq < 0)
        return 0;
    acknowledge(c, (unsigned)irq);
    cascade(pic);
    return POLL_INTERRUPT | (uint8_t)irq;
}

uint8_t vpic_read(struct vpic *pic, uint16_t port)
{
    if (port == PIC_ELCR_MASTER || port == PIC_ELCR_SLAVE)
        return pic->chip[port - PIC_ELCR_MASTER].elcr;
    struct pic_chip *c = &pic->chip[port >= PLATFORM_PIC_SLAVE];
    if (port & 1)
        return c->imr;
    if (c->poll)
        return poll(pic, c);
    return c->read_isr ? c->isr : requests(c);
}

static void end_of_interrupt(struct pic_chip *c, int irq, bool rotate)
{
    if (irq < 0)
        return;
    c->isr &= ~(1u << irq);
    if (rotate)
        c->lowest = (uint8_t)irq;   /* the level just served goes last */
}

static void write_ocw2(struct pic_chip *c, uint8_t value)
{
    unsigned level = value & 7;
    switch ((enum ocw2)(value >> 5)) {
    case OCW2_EOI: end_of_interrupt(c, highest(c, c->isr), false); break;
    case OCW2_ROTATE_EOI: end_of_interrupt(c, highest(c, c->isr), true); break;
    case OCW2_SPECIFIC_EOI: end_of_interrupt(c, (int)level, false); break;
    case OCW2_ROTATE_SPECIFIC_EOI: end_of_interrupt(c, (int)level, true); break;
    case OCW2_SET_PRIORITY: c->lowest = (uint8_t)level; break;
    case OCW2_ROTATE_AEOI_SET: c->rotate_on_aeoi = true; break;
    case OCW2_ROTATE_AEOI_CLEAR: c->rotate_on_aeoi = false; break;
    case OCW2_NOP: break;
    }
}

/* ICW1 (datasheet "Initialization Command Words"): edge sense reset (an
 * input must rise again to request), IMR cleared, IR7 lowest priority,
 * special mask mode off, status read set to IRR, ICW4 functions cleared.
 * In-service bits are dropped too, as KVM and QEMU do: a guest
 * re-initialising the chip expects no interrupt left in service. LTIM is
 * ignored: on PIIX-style chipsets the ELCR decides edge or level. */
static void write_icw1(struct pic_chip *c, uint8_t value)
{
    *c = (struct pic_chip){ .lines = c->lines, .elcr = c->elcr,
                            .elcr_writable = c->elcr_writable, .vector_base = c->vector_base,
                            .lowest = 7, .init_step = STEP_ICW2,
                            .icw4_needed = value & ICW1_IC4, .single = value & ICW1_SNGL };
}

/* ICW2-ICW4 in sequence after ICW1, then OCW1 (the mask). ICW3 (which
 * inputs have slaves / the slave's ID) is accepted and not used: the slave
 * sits on input 2 on every PC. ICW4's microprocessor-mode bit is not
 * looked at: x86 guests use 8086 mode, whose vector format this is. */
static void write_odd(struct pic_chip *c, uint8_t value)
{
    switch (c->init_step) {
    case STEP_ICW2:
        c->vector_base = value & 0xf8;
        c->init_step = !c->single ? STEP_ICW3 : c->icw4_needed ? STEP_ICW4 : STEP_READY;
        break;
    case STEP_ICW3:
        c->init_step = c->icw4_needed ? STEP_ICW4 : STEP_READY;
        break;
    case STEP_ICW4:
        c->auto_eoi = value & ICW4_AEOI;
        c->special_fully_nested = value & ICW4_SFNM;
        c->init_step = STEP_READY;
        break;
    default:
        c->imr = value;
        break;
    }
}

void vpic_write(struct vpic *pic, uint16_t port, uint8_t value)
{
    if (port == PIC_ELCR_MASTER || port == PIC_ELCR_SLAVE) {
        struct pic_chip *c = &pic->chip[port - PIC_ELCR_MASTER];
        c->elcr = value & c->elcr_writable;
    } else {
        struct pic_chip *c = &pic->chip[port >= PLATFORM_PIC_SLAVE];
        if (port & 1)
            write_odd(c, value);
        else if (value & ICW1)
            write_icw1(c, value);
        else if (!(value & OCW3))
            write_ocw2(c, value);
        else {
            c->poll = value & OCW3_POLL;
            if (value & OCW3_RR)
                c->read_isr = value & OCW3_RIS;
            if (value & OCW3_ESMM)
                c->special_mask = value & OCW3_SMM;
        }
    }
    cascade(pic);
}
