/* The 8254 (Intel 82C54 datasheet: "Control Word Format", "Read-Back
 * Command", "Modes 0-5"), time measured in PIT clocks ("ticks") since TSC 0.
 * A written count reaches the counting element on the next clock; from
 * then on, d clocks later, the counting element and OUT are a function of
 * d, so nothing has to run while the guest is not looking. */
#include "dev/pit.h"

#define CW_CHANNEL(v)   ((unsigned)(v) >> 6)
#define CW_ACCESS(v)    ((unsigned)(v) >> 4 & 3)
#define CW_MODE(v)      ((unsigned)(v) >> 1 & 7)
#define CW_FIELDS       0x3f        /* RW, mode, BCD: what the status byte repeats */
#define READ_BACK       3           /* channel field 11 */
#define RB_NO_COUNT     0x20
#define RB_NO_STATUS    0x10
#define STATUS_OUT      0x80
#define STATUS_NULL     0x40
#define PORT61_WRITABLE 0x0f
/* PCs toggled port 0x61 bit 4 with every DRAM refresh request, one per
 * 15.085 us: 18 PIT clocks. Firmware and Linux poll it to wait. */
#define REFRESH_TICKS   18
/* The 8254's mode register is write-only: a read finds the bus floating. */
#define FLOATING_BUS    0xff

enum { ACCESS_LATCH = 0, ACCESS_LOW = 1, ACCESS_HIGH = 2, ACCESS_WORD = 3 };

/* TSC cycles to ticks and back, split at whole seconds so that no product
 * overflows for any TSC below 2^43 Hz. */
static uint64_t ticks(const struct vpit *pit, uint64_t tsc)
{
    return tsc / pit->tsc_hz * PIT_HZ + tsc % pit->tsc_hz * PIT_HZ / pit->tsc_hz;
}

/* The first TSC time at which ticks() reaches `tick`. */
static uint64_t tsc_of(const struct vpit *pit, uint64_t tick)
{
    return tick / PIT_HZ * pit->tsc_hz + (tick % PIT_HZ * pit->tsc_hz + PIT_HZ - 1) / PIT_HZ;
}

/* Modes 1 and 5 count whatever the gate does once triggered; in the others
 * a low gate stops counting (modes 2 and 3 also force OUT high). */
static bool gate_stops_counting(const struct pit_channel *c)
{
    return c->mode != 1 && c->mode != 5;
}

static uint64_t elapsed(const struct pit_channel *c, uint64_t t)
{
    if (!c->gate && gate_stops_counting(c))
        return c->frozen;
    return t > c->start ? t - c->start : 0;
}

/* A count written while modes 2 and 3 count takes over at the end of the
 * current period (datasheet: mode 2 "a new count ... is loaded at the end
 * of the current counting cycle"; for mode 3 the end of the half-cycle is
 * approximated by that of the period). */
static void sync(struct pit_channel *c, uint64_t t)
{
    if (c->reload_pending && c->counting && (c->mode == 2 || c->mode == 3) && c->gate &&
        t >= c->reload_at) {
        c->start = c->reload_at;
        c->count = c->initial;
        c->reload_pending = false;
    }
}

static uint16_t counter_value(const struct pit_channel *c, uint64_t t)
{
    if (!c->counting)
        return c->hold;
    uint64_t d = elapsed(c, t);
    switch (c->mode) {
    case 2:     /* N down to 1, then reloads */
        return (uint16_t)(c->count - d % c->count);
    case 3: {   /* down by two in each half; an odd count's high half is longer */
        uint64_t phase = d % c->count, high = (c->count + 1) / 2;
        uint64_t step = phase < high ? phase : phase - high;
        return (uint16_t)((c->count & ~1u) - 2 * step);
    }
    default:    /* 0, 1, 4, 5: down from N and on through 0xffff */
        return (uint16_t)(c->count - d);
    }
}

static bool output(const struct pit_channel *c, uint64_t t)
{
    if (!c->counting)   /* after the control word: low in mode 0, high in the others */
        return c->mode != 0;
    uint64_t d = elapsed(c, t);
    switch (c->mode) {
    case 0:     /* high from terminal count on */
    case 1:     /* low from the trigger to terminal count */
        return d >= c->count;
    case 2:     /* low for the one clock the counter holds 1 */
        return !c->gate || d % c->count != c->count - 1;
    case 3:     /* square wave */
        return !c->gate || d % c->count < (c->count + 1) / 2;
    default:    /* 4, 5: low for one clock at terminal count */
        return d != c->count;
    }
}

/* The first tick after `after` at which OUT rises while counting goes on
 * undisturbed; false if it never does. */
static bool next_rising_edge(const struct pit_channel *c, uint64_t after, uint64_t *edge)
{
    if (!c->counting || (!c->gate && gate_stops_counting(c)))
        return false;
    uint64_t at;
    switch (c->mode) {
    case 2:
    case 3:
        at = c->start + (after < c->start ? 1 : (after - c->start) / c->count + 1) * c->count;
        break;
    case 0:
    case 1:
        at = c->start + c->count;
        break;
    default:
        at = c->start + c->count + 1;
        break;
    }
    *edge = at;
    return at > after;
}

/* The count register goes into the counting element on the next clock. */
static void load(struct pit_channel *c, uint64_t t)
{
    c->count = c->initial;
    c->start = t + 1;
    c->counting = true;
    c->reload_pending = false;
}

static void write_count(struct pit_channel *c, uint32_t value, uint64_t t)
{
    c->initial = value ? value : 65536;
    c->reload_pending = true;
    switch (c->mode) {
    case 0:
    case 4:
        load(c, t);
        c->frozen = 0;
        break;
    case 2:
    case 3:
        if (!c->counting || !c->gate) {
            load(c, t);
            c->frozen = 0;
        } else {
            uint64_t d = t > c->start ? t - c->start : 0;
            c->reload_at = c->start + (d / c->count + 1) * c->count;
        }
        break;
    default:
        break;      /* 1, 5: the next trigger loads it */
    }
}

static void set_gate(struct pit_channel *c, bool gate, uint64_t t)
{
    if (gate == c->gate)
        return;
    if (!gate) {
        c->frozen = elapsed(c, t);
        c->gate = false;
        return;
    }
    c->gate = true;
    if (c->mode == 0 || c->mode == 4)
        c->start = t - c->frozen;   /* counting resumes */
    else if (c->initial)
        load(c, t);     /* a rising gate reloads (2, 3) or triggers (1, 5) */
}

static void write_data(struct pit_channel *c, uint8_t value, uint64_t t)
{
    switch (c->access) {
    case ACCESS_LOW:
        write_count(c, value, t);
        break;
    case ACCESS_HIGH:
        write_count(c, (uint32_t)value << 8, t);
        break;
    default:
        if (!c->write_high) {
            c->low_byte = value;
            /* Mode 0: the first byte of a two-byte count stops counting
             * and sets OUT low at once. */
            if (c->mode == 0 && c->counting) {
                c->hold = counter_value(c, t);
                c->counting = false;
            }
        } else {
            write_count(c, c->low_byte | (uint32_t)value << 8, t);
        }
        c->write_high = !c->write_high;
        break;
    }
}

static uint8_t read_data(struct pit_channel *c, uint64_t t)
{
    if (c->status_latched) {    /* the status byte comes before a latched count */
        c->status_latched = false;
        return c->status;
    }
    uint16_t v = c->count_latched ? c->latch : counter_value(c, t);
    bool high = c->access == ACCESS_HIGH || (c->access == ACCESS_WORD && c->read_high);
    if (c->access == ACCESS_WORD)
        c->read_high = !c->read_high;
    if (c->access != ACCESS_WORD || high)
        c->count_latched = false;   /* the latch holds until it has been read in full */
    return (uint8_t)(high ? v >> 8 : v);
}

/* A second latch before the first is read is ignored (datasheet). */
static void latch_count(struct pit_channel *c, uint64_t t)
{
    if (c->count_latched)
        return;
    c->latch = counter_value(c, t);
    c->count_latched = true;
    c->read_high = false;
}

static void latch_status(struct pit_channel *c, uint64_t t)
{
    if (c->status_latched)
        return;
    bool null_count = c->reload_pending || (c->counting && t < c->start);
    c->status = (uint8_t)((output(c, t) ? STATUS_OUT : 0) | (null_count ? STATUS_NULL : 0) |
                          c->control);
    c->status_latched = true;
}

static void write_control(struct vpit *pit, uint8_t value, uint64_t t)
{
    unsigned channel = CW_CHANNEL(value);
    if (channel == READ_BACK) {
        for (unsigned i = 0; i < PIT_CHANNELS; i++) {
            struct pit_channel *c = &pit->ch[i];
            if (!(value >> (i + 1) & 1))
                continue;
            sync(c, t);
            if (!(value & RB_NO_COUNT))
                latch_count(c, t);
            if (!(value & RB_NO_STATUS))
                latch_status(c, t);
        }
        return;
    }
    struct pit_channel *c = &pit->ch[channel];
    sync(c, t);
    if (CW_ACCESS(value) == ACCESS_LATCH) {
        latch_count(c, t);
        return;
    }
    /* A control word resets the channel: OUT to its mode's initial level,
     * no count until one is written, null count set. */
    unsigned mode = CW_MODE(value);
    c->mode = (uint8_t)(mode > 5 ? mode - 4 : mode);
    c->control = value & CW_FIELDS;
    c->access = (uint8_t)CW_ACCESS(value);
    c->counting = false;
    c->initial = 0;
    c->reload_pending = true;
    c->write_high = c->read_high = false;
}

void vpit_reset(struct vpit *pit, uint64_t tsc_hz)
{
    *pit = (struct vpit){ .tsc_hz = tsc_hz ? tsc_hz : 1 };
    for (unsigned i = 0; i < PIT_CHANNELS; i++)
        pit->ch[i] = (struct pit_channel){ .gate = i != 2, .access = ACCESS_WORD,
                                           .control = ACCESS_WORD << 4 };
}

/* Channel 0 changed at tick t: when does OUT rise next? An edge already
 * due stays due: it happened before the change. */
static void rearm_irq(struct vpit *pit, uint64_t t)
{
    if (pit->irq_armed && pit->irq_next <= t)
        return;
    sync(&pit->ch[0], t);
    pit->irq_armed = next_rising_edge(&pit->ch[0], t, &pit->irq_next);
}

uint8_t vpit_read(struct vpit *pit, unsigned offset, uint64_t now)
{
    if (offset >= PIT_CHANNELS)
        return FLOATING_BUS;
    uint64_t t = ticks(pit, now);
    sync(&pit->ch[offset], t);
    return read_data(&pit->ch[offset], t);
}

void vpit_write(struct vpit *pit, unsigned offset, uint8_t value, uint64_t now)
{
    uint64_t t = ticks(pit, now);
    if (offset == PIT_MODE_PORT) {
        write_control(pit, value, t);
    } else if (offset < PIT_CHANNELS) {
        sync(&pit->ch[offset], t);
        write_data(&pit->ch[offset], value, t);
    }
    rearm_irq(pit, t);
}

uint8_t vpit_port61_read(struct vpit *pit, uint64_t now)
{
    uint64_t t = ticks(pit, now);
    struct pit_channel *c = &pit->ch[2];
    sync(c, t);
    return (uint8_t)((pit->port61 & PORT61_WRITABLE) |
                     (t / REFRESH_TICKS & 1 ? PORT61_REFRESH : 0) |
                     (output(c, t) ? PORT61_OUT2 : 0));
}

void vpit_port61_write(struct vpit *pit, uint8_t value, uint64_t now)
{
    uint64_t t = ticks(pit, now);
    pit->port61 = value & PORT61_WRITABLE;
    sync(&pit->ch[2], t);
    set_gate(&pit->ch[2], value & PORT61_GATE2, t);
}

/* Interrupts channel 0 raised while the VM was not looking (its vCPU
 * descheduled, or slower than the timer) are coalesced into one, not
 * re-injected later as KVM's default "delay" policy does: the guests here
 * keep time with a clocksource (TSC, PM timer, the PIT's own counter) and
 * use the PIT interrupt as an event, which a late burst of catch-up ticks
 * would only crowd; an emulator running the guest at a fraction of real
 * speed would otherwise never catch up. */
bool vpit_irq_due(struct vpit *pit, uint64_t now)
{
    uint64_t t = ticks(pit, now);
    if (!pit->irq_armed || t < pit->irq_next)
        return false;
    uint64_t after = ticks(pit, now + PIT_MIN_IRQ_INTERVAL);
    sync(&pit->ch[0], after);
    pit->irq_armed = next_rising_edge(&pit->ch[0], after, &pit->irq_next);
    return true;
}

bool vpit_irq_deadline(const struct vpit *pit, uint64_t *tsc)
{
    if (pit->irq_armed)
        *tsc = tsc_of(pit, pit->irq_next);
    return pit->irq_armed;
}
