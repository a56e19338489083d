#ifndef DEV_PIT_H
#define DEV_PIT_H
/*
 * The 8254 programmable interval timer as a model with no hardware access
 * (KVM's i8254.c is the same idea): three counters at 1.193182 MHz, modes
 * 0-5, the counter latch and read-back commands, and port 0x61's view of
 * channel 2 (gate, speaker data, OUT2) and the refresh toggle. Its clock is
 * derived from the TSC: callers pass the time ("now", TSC cycles) in, and
 * the rate is fixed at reset, so counting is exact and deterministic.
 * Channel 0's OUT is ISA IRQ 0: the model says when it next rises.
 *
 * Not emulated: BCD counting (the bit is kept and read back; counters
 * count in binary, as in KVM).
 */
#include <stdint.h>
#include <stdbool.h>

#define PIT_HZ          1193182ull
#define PIT_CHANNELS    3
#define PIT_MODE_PORT   3           /* port offset of the mode/command register */
#define PORT61_GATE2    0x01
#define PORT61_REFRESH  0x10
#define PORT61_OUT2     0x20
/* At most one interrupt per this many TSC cycles, however fast channel 0
 * runs: the guest must get time to run between them (the virtual APIC
 * timer has the same floor). */
#define PIT_MIN_IRQ_INTERVAL 10000u

struct pit_channel {
    uint8_t mode;           /* 0-5 (6 and 7 are 2 and 3) */
    uint8_t control;        /* RW, mode and BCD bits as written, for the status byte */
    uint8_t access;         /* 1 low byte, 2 high byte, 3 low then high */
    bool gate;
    bool counting;          /* the counting element holds `count`, loaded at `start` */
    uint32_t count;         /* the running cycle's initial count, 1..65536 */
    uint32_t initial;       /* the count register: what the guest wrote last */
    bool reload_pending;    /* `initial` not yet in the counting element ("null count") */
    uint64_t reload_at;     /* modes 2 and 3: the period end where it will be */
    uint64_t start;         /* tick at which the counting element held `count` */
    uint64_t frozen;        /* ticks counted before the gate went low */
    uint16_t hold;          /* the counting element while it does not count */
    bool write_high;        /* lo/hi access: the next byte written is the high one */
    bool read_high;
    uint8_t low_byte;
    bool count_latched, status_latched;
    uint16_t latch;
    uint8_t status;
};

struct vpit {
    uint64_t tsc_hz;
    struct pit_channel ch[PIT_CHANNELS];
    uint8_t port61;         /* bits 3:0 as written */
    bool irq_armed;         /* channel 0's OUT will rise at tick irq_next */
    uint64_t irq_next;
};

/* Channels unprogrammed (no count: no interrupts), gate 2 low. */
void vpit_reset(struct vpit *pit, uint64_t tsc_hz);
/* Ports PLATFORM_PIT_BASE + `offset` (0-2 counters, 3 mode register). */
uint8_t vpit_read(struct vpit *pit, unsigned offset, uint64_t now);
void vpit_write(struct vpit *pit, unsigned offset, uint8_t value, uint64_t now);
/* Port 0x61: bit 0 gate 2, bit 1 speaker data, bit 4 refresh toggle, bit 5 OUT2. */
uint8_t vpit_port61_read(struct vpit *pit, uint64_t now);
void vpit_port61_write(struct vpit *pit, uint8_t value, uint64_t now);
/* Whether channel 0's OUT has risen since the last call (then IRQ 0 is
 * raised once, however many edges were missed); moves on to the next. */
bool vpit_irq_due(struct vpit *pit, uint64_t now);
/* The TSC time at which vpit_irq_due next says yes; false if never. */
bool vpit_irq_deadline(const struct vpit *pit, uint64_t *tsc);
#endif
