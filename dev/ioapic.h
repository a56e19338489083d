#ifndef DEV_IOAPIC_H
#define DEV_IOAPIC_H
/*
 * A VM's I/O APIC (Intel 82093AA datasheet) as a register model with no
 * hardware access (KVM's ioapic.c is the same idea): the indirect register
 * window (IOREGSEL at +0x00, IOWIN at +0x10), ID, version, arbitration and
 * 24 redirection entries; edge and level inputs; remote IRR cleared by the
 * local APICs' EOI messages. It sends interrupt messages through `deliver`
 * (dev/irq.c puts them on the virtual LAPICs), which says whether any
 * local APIC accepted the message.
 */
#include <stdint.h>
#include <stdbool.h>

#define IOAPIC_PINS         24
#define IOAPIC_REGSEL       0x00
#define IOAPIC_WINDOW       0x10

/* Redirection entry fields (82093AA 3.2.4). */
#define IOAPIC_DELIVERY(e)  ((unsigned)((e) >> 8) & 7)
#define IOAPIC_LOGICAL      (1u << 11)
#define IOAPIC_ACTIVE_LOW   (1u << 13)
#define IOAPIC_REMOTE_IRR   (1u << 14)
#define IOAPIC_LEVEL        (1u << 15)
#define IOAPIC_MASKED       (1u << 16)
#define IOAPIC_DEST_SHIFT   56

enum ioapic_delivery { IOAPIC_FIXED = 0, IOAPIC_LOWEST = 1, IOAPIC_SMI = 2, IOAPIC_NMI = 4,
                       IOAPIC_INIT = 5, IOAPIC_EXTINT = 7 };

/* An interrupt message on the APIC bus. */
struct ioapic_msg {
    uint8_t vector;
    enum ioapic_delivery delivery;
    bool logical;           /* destination mode */
    uint8_t destination;    /* APIC ID, or logical destination (MDA) */
    bool level;             /* trigger mode: the LAPIC's TMR */
};

typedef bool (*ioapic_deliver_fn)(void *ctx, const struct ioapic_msg *msg);

struct vioapic {
    uint8_t id;                 /* 4 bits */
    uint8_t select;             /* IOREGSEL */
    uint32_t lines;             /* inputs asserted now, a bit per pin */
    uint64_t redir[IOAPIC_PINS];
    ioapic_deliver_fn deliver;
    void *ctx;
};

/* Power-up state (82093AA 3.2): every entry masked, ID `id`. */
void vioapic_reset(struct vioapic *io, uint8_t id, ioapic_deliver_fn deliver, void *ctx);
/* Input `pin` asserted (true) or not. */
void vioapic_set_irq(struct vioapic *io, unsigned pin, bool asserted);
/* 32-bit access to IOREGSEL or IOWIN (`offset` in the page); others read 0. */
uint32_t vioapic_read(struct vioapic *io, uint32_t offset);
void vioapic_write(struct vioapic *io, uint32_t offset, uint32_t value);
/* A local APIC's EOI for a level-triggered `vector`. */
void vioapic_eoi(struct vioapic *io, uint8_t vector);
#endif
