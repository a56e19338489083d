/* The I/O APIC (Intel 82093AA datasheet, section 3 "Register Description"). */
#include "dev/ioapic.h"

enum { REG_ID = 0x00, REG_VERSION = 0x01, REG_ARBITRATION = 0x02, REG_REDIR = 0x10 };
#define VERSION         0x11u
#define ID_SHIFT        24
#define ID_MASK         0xfu
/* Vector, delivery mode, destination mode, polarity, trigger mode, mask and
 * destination; delivery status and remote IRR are read-only. */
#define REDIR_WRITABLE_LOW  0x1afffu
#define REDIR_WRITABLE_HIGH 0xff000000u

void vioapic_reset(struct vioapic *io, uint8_t id, ioapic_deliver_fn deliver, void *ctx)
{
    *io = (struct vioapic){ .id = id & ID_MASK, .deliver = deliver, .ctx = ctx };
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        io->redir[pin] = IOAPIC_MASKED;
}

/* Sends the pin's interrupt message. A level-triggered one sets remote IRR
 * once a local APIC has accepted it, and no further message goes out for
 * that pin until the EOI clears it (82093AA 3.2.4, bit 14). Delivery status
 * stays "idle": the message reaches the local APICs at once. */
static void service(struct vioapic *io, unsigned pin)
{
    uint64_t e = io->redir[pin];
    bool level = e & IOAPIC_LEVEL;
    if ((e & IOAPIC_MASKED) || (level && (e & IOAPIC_REMOTE_IRR)))
        return;
    struct ioapic_msg msg = { .vector = (uint8_t)e,
                              .delivery = (enum ioapic_delivery)IOAPIC_DELIVERY(e),
                              .logical = e & IOAPIC_LOGICAL,
                              .destination = (uint8_t)(e >> IOAPIC_DEST_SHIFT), .level = level };
    if (io->deliver(io->ctx, &msg) && level)
        io->redir[pin] |= IOAPIC_REMOTE_IRR;
}

/* An edge input sends on its rising edge; one that is masked then is lost.
 * A level input sends while asserted (and remote IRR is clear); masked, it
 * is held until unmasked (82093AA 3.2.4, bit 16). The caller gives the
 * logical state, "asserted": the polarity bit says how the wire encodes it
 * and is kept only for the guest to read back. */
void vioapic_set_irq(struct vioapic *io, unsigned pin, bool asserted)
{
    if (pin >= IOAPIC_PINS)
        return;
    uint32_t bit = 1u << pin;
    bool was = io->lines & bit;
    io->lines = asserted ? io->lines | bit : io->lines & ~bit;
    if (asserted && (!was || (io->redir[pin] & IOAPIC_LEVEL)))
        service(io, pin);
}

void vioapic_eoi(struct vioapic *io, uint8_t vector)
{
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t e = io->redir[pin];
        if ((uint8_t)e != vector || !(e & IOAPIC_LEVEL) || !(e & IOAPIC_REMOTE_IRR))
            continue;
        io->redir[pin] &= ~(uint64_t)IOAPIC_REMOTE_IRR;
        /* Still asserted: the device wants service again. */
        if (io->lines >> pin & 1)
            service(io, pin);
    }
}

static uint32_t read_register(const struct vioapic *io, uint8_t index)
{
    switch (index) {
    case REG_ID:
    case REG_ARBITRATION:   /* loaded from the ID (82093AA 3.2.3) */
        return (uint32_t)io->id << ID_SHIFT;
    case REG_VERSION:
        return VERSION | (IOAPIC_PINS - 1) << 16;
    default:
        break;
    }
    if (index < REG_REDIR || index >= REG_REDIR + 2 * IOAPIC_PINS)
        return 0;
    uint64_t e = io->redir[(index - REG_REDIR) / 2];
    return (uint32_t)(index & 1 ? e >> 32 : e);
}

static void write_redirection(struct vioapic *io, unsigned pin, bool high, uint32_t value)
{
    uint64_t e = io->redir[pin];
    if (high) {
        e = (e & 0xffffffffull) | (uint64_t)(value & REDIR_WRITABLE_HIGH) << 32;
    } else {
        e = (e & ~(uint64_t)REDIR_WRITABLE_LOW) | (value & REDIR_WRITABLE_LOW);
        if (!(e & IOAPIC_LEVEL))    /* remote IRR means nothing for edge inputs */
            e &= ~(uint64_t)IOAPIC_REMOTE_IRR;
    }
    io->redir[pin] = e;
    /* A level input held while masked is delivered once unmasked. */
    if ((e & IOAPIC_LEVEL) && (io->lines >> pin & 1))
        service(io, pin);
}

uint32_t vioapic_read(struct vioapic *io, uint32_t offset)
{
    if (offset == IOAPIC_REGSEL)
        return io->select;
    return offset == IOAPIC_WINDOW ? read_register(io, io->select) : 0;
}

void vioapic_write(struct vioapic *io, uint32_t offset, uint32_t value)
{
    if (offset == IOAPIC_REGSEL) {
        io->select = (uint8_t)value;
        return;
    }
    if (offset != IOAPIC_WINDOW)
        return;
    uint8_t index = io->select;
    if (index == REG_ID)
        io->id = (uint8_t)(value >> ID_SHIFT & ID_MASK);
    else if (index >= REG_REDIR && index < REG_REDIR + 2 * IOAPIC_PINS)
        write_redirection(io, (index - REG_REDIR) / 2, index & 1, value);
}
