#include "dev/vlapic.h"
#include "lib/string.h"

#define APIC_VERSION        0x14u   /* an integrated APIC (SDM Vol. 3A 11.4.8) */
#define APIC_RESERVED_BASE  0x2ffull    /* bits 7:0 and 9 of IA32_APIC_BASE */
#define SVR_WRITABLE        0x3ffu  /* vector, APIC enable, focus checking */
#define ICR_WRITABLE        0xccfffu    /* bit 12 (delivery status) is read-only, 13 reserved */
#define ICR_DELIVERY(low)   ((low) >> 8 & 7)
#define ICR_LOGICAL         (1u << 11)
#define ICR_LEVEL_ASSERT    (1u << 14)
#define ICR_SHORTHAND(low)  ((low) >> 18 & 3)
#define LVT_TIMER_MODE(lvt) ((lvt) >> 17 & 3)
#define LVT_DELIVERY(lvt)   ((lvt) >> 8 & 7)
#define LVT_FIXED           0
#define LVT_EXTINT          7
#define LVT_NMI             4
#define DFR_FLAT            0xfu
/* A periodic timer faster than this would leave the guest no time to run
 * between interrupts (KVM's min_timer_period_us plays the same role). */
#define MIN_TIMER_PERIOD    10000u

/* Writable bits of each LVT register (SDM Vol. 3A 11.5.1 Figure 11-8). */
static const uint32_t lvt_writable[LVT_COUNT] = {
    [LVT_TIMER] = 0x700ff, [LVT_THERMAL] = 0x107ff, [LVT_PERF] = 0x107ff,
    [LVT_LINT0] = 0x1a7ff, [LVT_LINT1] = 0x1a7ff, [LVT_ERROR] = 0x100ff,
};

#define REG(apic, offset)   ((apic)->regs[(offset) >> 2])
#define LVT(apic, i)        REG(apic, APIC_REG_LVT_TIMER + 0x10 * (i))
/* Word i of a 256-bit register: vectors 32i..32i+31. */
#define WORD(apic, bank, i) REG(apic, (bank) + 0x10 * (i))

/* What power-up and INIT leave in the registers (SDM Vol. 3A 11.4.7.1). */
static void reset_registers(struct vlapic *apic)
{
    memset(apic->regs, 0, sizeof(apic->regs));
    for (int i = 0; i < 8; i++)
        __atomic_store_n(&apic->inbox[i], 0, __ATOMIC_RELAXED);
    __atomic_store_n(&apic->inbox_words, 0, __ATOMIC_RELAXED);
    apic->irr_words = 0;
    REG(apic, APIC_REG_ID) = apic->id << 24;
    REG(apic, APIC_REG_VERSION) = APIC_VERSION | (LVT_COUNT - 1) << 16;
    REG(apic, APIC_REG_SVR) = 0xff;
    REG(apic, APIC_REG_DFR) = 0xffffffff;
    for (int i = 0; i < LVT_COUNT; i++)
        LVT(apic, i) = APIC_LVT_MASKED;
    apic->timer_period = 0;
    apic->timer_armed = false;
    apic->tsc_deadline = 0;
    apic->irr_isr_changed = true;
    apic->deadline_mode = false;
}

void vlapic_reset(struct vlapic *apic, uint32_t id)
{
    apic->id = id;
    apic->base_msr = APIC_DEFAULT_BASE | APIC_BASE_ENABLE | (id == 0 ? APIC_BASE_BSP : 0);
    reset_registers(apic);
}

void vlapic_virtual_wire(struct vlapic *apic)
{
    REG(apic, APIC_REG_SVR) = APIC_SVR_ENABLE | 0xff;
    LVT(apic, LVT_LINT0) = LVT_EXTINT << 8;
    LVT(apic, LVT_LINT1) = LVT_NMI << 8;
}

static uint32_t x2apic_ldr(uint32_t id);

void vlapic_init_signal(struct vlapic *apic)
{
    /* INIT keeps the APIC ID and IA32_APIC_BASE (SDM Vol. 3A 11.4.7.3); in
     * x2APIC mode the logical ID follows from the ID. */
    uint32_t id = REG(apic, APIC_REG_ID);
    reset_registers(apic);
    REG(apic, APIC_REG_ID) = id;
    if (vlapic_mode(apic) == APIC_MODE_X2APIC)
        REG(apic, APIC_REG_LDR) = x2apic_ldr(apic->id);
}

enum apic_mode vlapic_mode(const struct vlapic *apic)
{
    bool en = apic->base_msr & APIC_BASE_ENABLE, extd = apic->base_msr & APIC_BASE_X2APIC;
    if (!en)
        return extd ? APIC_MODE_INVALID : APIC_MODE_DISABLED;
    return extd ? APIC_MODE_X2APIC : APIC_MODE_XAPIC;
}

static uint32_t x2apic_ldr(uint32_t id)
{
    /* Cluster in bits 31:16, one bit of 16 in bits 15:0 (SDM 11.12.10.2). */
    return (id >> 4) << 16 | 1u << (id & 0xf);
}

bool vlapic_set_base(struct vlapic *apic, uint64_t value, uint64_t phys_addr_mask)
{
    if (value & (APIC_RESERVED_BASE | ~(phys_addr_mask | 0xfffull)))
        return false;
    enum apic_mode from = vlapic_mode(apic);
    uint64_t bsp = apic->base_msr & APIC_BASE_BSP;     /* read-only */
    struct vlapic probe = { .base_msr = value };
    enum apic_mode to = vlapic_mode(&probe);
    /* SDM 11.12.5: x2APIC is entered from xAPIC only and left only by
     * disabling; the (EN = 0, EXTD = 1) combination is invalid. */
    if (to == APIC_MODE_INVALID || (from == APIC_MODE_X2APIC && to == APIC_MODE_XAPIC) ||
        (from == APIC_MODE_DISABLED && to == APIC_MODE_X2APIC))
        return false;
    apic->base_msr = (value & ~APIC_BASE_BSP) | bsp;
    if (to == APIC_MODE_DISABLED)
        reset_registers(apic);      /* re-enabling starts from the reset state */
    else if (to == APIC_MODE_X2APIC && from != APIC_MODE_X2APIC) {
        /* The ID register holds the x2APIC ID, the logical ID follows from
         * it (SDM 11.12.5.1), and ICR becomes one 64-bit register. */
        REG(apic, APIC_REG_ID) = apic->id;
        REG(apic, APIC_REG_LDR) = x2apic_ldr(apic->id);
        REG(apic, APIC_REG_ICR_LOW + 4) = REG(apic, APIC_REG_ICR_HIGH);
        REG(apic, APIC_REG_ICR_HIGH) = 0;
    }
    return true;
}

/* The highest vector set in a 256-bit register of the page, with the
 * inbox's vectors too if `inbox` is given; -1 if none. */
static int highest_bit(const struct vlapic *apic, uint32_t bank, const uint32_t *inbox)
{
    for (int i = 7; i >= 0; i--) {
        uint32_t w = __atomic_load_n(&WORD(apic, bank, i), __ATOMIC_ACQUIRE);
        if (inbox)
            w |= __atomic_load_n(&inbox[i], __ATOMIC_ACQUIRE);
        if (w)
            return i * 32 + 31 - __builtin_clz(w);
    }
    return -1;
}

int vlapic_highest_irr(const struct vlapic *apic)
{
    return highest_bit(apic, APIC_REG_IRR, NULL);
}

int vlapic_highest_isr(const struct vlapic *apic)
{
    return highest_bit(apic, APIC_REG_ISR, NULL);
}

int vlapic_highest_requested(const struct vlapic *apic)
{
    return highest_bit(apic, APIC_REG_IRR, apic->inbox);
}

uint32_t vlapic_irr_word(const struct vlapic *apic, unsigned i)
{
    return __atomic_load_n(&WORD(apic, APIC_REG_IRR, i), __ATOMIC_ACQUIRE) |
           __atomic_load_n(&apic->inbox[i], __ATOMIC_ACQUIRE);
}

bool vlapic_eoi_may_release(const struct vlapic *apic, unsigned rvi, unsigned svi,
                            uint32_t words)
{
    /* One request behind an in-service vector: that vector's EOI lets it
     * go. Two requests: the first is delivered, its EOI lets the second
     * go. RVI is the highest request: the others are in its word or below. */
    if (!rvi || svi)
        return rvi != 0;
    unsigned top = rvi >> 5;
    uint32_t others = __atomic_load_n(&WORD(apic, APIC_REG_IRR, top), __ATOMIC_RELAXED) &
                      ~(1u << (rvi & 31));
    for (uint32_t below = words & ((1u << top) - 1); below && !others; below &= below - 1)
        others = __atomic_load_n(&WORD(apic, APIC_REG_IRR, __builtin_ctz(below)), __ATOMIC_RELAXED);
    return others != 0;
}

int vlapic_highest_inbox(const struct vlapic *apic)
{
    /* A marked word may be empty (a sync took its vectors after a setter
     * marked it again): the next marked one below may still hold some. */
    uint32_t words = __atomic_load_n(&apic->inbox_words, __ATOMIC_ACQUIRE);
    for (; words; words &= ~(1u << (31 - __builtin_clz(words)))) {
        unsigned i = 31 - (unsigned)__builtin_clz(words);
        uint32_t w = __atomic_load_n(&apic->inbox[i], __ATOMIC_ACQUIRE);
        if (w)
            return (int)(i * 32 + 31 - (unsigned)__builtin_clz(w));
    }
    return -1;
}

uint32_t vlapic_sync_irr(struct vlapic *apic)
{
    /* A word a setter fills after its bit was taken here is marked again
     * (vlapic_set_irr_trigger), and moved at the next sync. */
    uint32_t words = __atomic_load_n(&apic->inbox_words, __ATOMIC_ACQUIRE);
    if (!words)
        return 0;
    words = __atomic_exchange_n(&apic->inbox_words, 0, __ATOMIC_ACQ_REL);
    uint32_t moved = 0;
    for (uint32_t left = words; left; left &= left - 1) {
        unsigned i = (unsigned)__builtin_ctz(left);
        uint32_t w = __atomic_exchange_n(&apic->inbox[i], 0, __ATOMIC_ACQ_REL);
        __atomic_fetch_or(&WORD(apic, APIC_REG_IRR, i), w, __ATOMIC_RELEASE);
        moved |= (w != 0) << i;
    }
    apic->irr_words |= moved;
    return moved;
}

int vlapic_highest_irr_in(const struct vlapic *apic, uint32_t words)
{
    if (!words)
        return -1;
    unsigned i = 31 - (unsigned)__builtin_clz(words);
    uint32_t w = __atomic_load_n(&WORD(apic, APIC_REG_IRR, i), __ATOMIC_ACQUIRE);
    return w ? (int)(i * 32 + 31 - (unsigned)__builtin_clz(w)) : -1;
}

uint32_t vlapic_ppr(const struct vlapic *apic)
{
    /* SDM Vol. 3A 11.8.3.1: the higher of TPR and the in-service class. */
    int isrv = vlapic_highest_isr(apic);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    uint32_t tpr = vlapic_get(apic, APIC_REG_TPR);
    return (tpr & 0xf0) >= isr_class ? tpr & 0xff : isr_class;
}

void vlapic_update_ppr(struct vlapic *apic)
{
    REG(apic, APIC_REG_PPR) = vlapic_ppr(apic);
}

void vlapic_set_cr8(struct vlapic *apic, uint64_t value)
{
    REG(apic, APIC_REG_TPR) = (uint32_t)(value & 0xf) << 4;
    vlapic_update_ppr(apic);
}

uint64_t vlapic_get_cr8(const struct vlapic *apic)
{
    return vlapic_get(apic, APIC_REG_TPR) >> 4;
}

bool vlapic_accepts_interrupts(const struct vlapic *apic)
{
    enum apic_mode mode = vlapic_mode(apic);
    return (mode == APIC_MODE_XAPIC || mode == APIC_MODE_X2APIC) &&
           (vlapic_get(apic, APIC_REG_SVR) & APIC_SVR_ENABLE);
}

bool vlapic_set_irr_trigger(struct vlapic *apic, uint8_t vector, bool level)
{
    if (vector < 16 || !vlapic_accepts_interrupts(apic))    /* 0-15 are illegal vectors */
        return false;
    /* Acceptance into IRR sets the TMR bit for a level-triggered interrupt
     * and clears it for an edge-triggered one (SDM Vol. 3A 11.8.4). */
    uint32_t bit = 1u << (vector & 31);
    uint32_t *tmr = &WORD(apic, APIC_REG_TMR, vector >> 5);
    if (level)
        __atomic_fetch_or(tmr, bit, __ATOMIC_SEQ_CST);
    else if (__atomic_load_n(tmr, __ATOMIC_RELAXED) & bit)
        __atomic_fetch_and(tmr, ~bit, __ATOMIC_SEQ_CST);
    __atomic_fetch_or(&apic->inbox[vector >> 5], bit, __ATOMIC_SEQ_CST);
    __atomic_fetch_or(&apic->inbox_words, 1u << (vector >> 5), __ATOMIC_SEQ_CST);
    return true;
}

bool vlapic_accepts_pic_interrupt(const struct vlapic *apic)
{
    uint32_t lint0 = LVT(apic, LVT_LINT0);
    return vlapic_mode(apic) == APIC_MODE_DISABLED ||
           (!(lint0 & APIC_LVT_MASKED) && LVT_DELIVERY(lint0) == LVT_EXTINT);
}

enum lint_event vlapic_lint1_event(const struct vlapic *apic, uint8_t *vector)
{
    uint32_t lint1 = LVT(apic, LVT_LINT1);
    if (vlapic_mode(apic) == APIC_MODE_DISABLED)
        return LINT_NMI;
    if (lint1 & APIC_LVT_MASKED)
        return LINT_NOTHING;
    switch (LVT_DELIVERY(lint1)) {
    case LVT_NMI:
        return LINT_NMI;
    case LVT_FIXED:
        *vector = (uint8_t)lint1;
        return LINT_FIXED;
    default:
        return LINT_NOTHING;
    }
}

int vlapic_pending_vector(const struct vlapic *apic)
{
    int vector = vlapic_highest_requested(apic);
    if (vector < 0 || ((uint32_t)vector & 0xf0) <= (vlapic_ppr(apic) & 0xf0))
        return -1;
    return vector;
}

void vlapic_accept(struct vlapic *apic, uint8_t vector)
{
    vlapic_sync_irr(apic);
    __atomic_fetch_and(&WORD(apic, APIC_REG_IRR, vector >> 5), ~(1u << (vector & 31)),
                       __ATOMIC_SEQ_CST);
    WORD(apic, APIC_REG_ISR, vector >> 5) |= 1u << (vector & 31);
    vlapic_update_ppr(apic);
    apic->irr_isr_changed = true;
}

/* Clears the highest in-service vector; returns it, or -1. */
static int end_of_interrupt(struct vlapic *apic)
{
    int vector = vlapic_highest_isr(apic);
    if (vector >= 0)
        WORD(apic, APIC_REG_ISR, vector >> 5) &= ~(1u << (vector & 31));
    vlapic_update_ppr(apic);
    apic->irr_isr_changed = true;
    return vector;
}

static uint32_t timer_divisor(uint32_t divide)
{
    /* Bits 0, 1 and 3 (SDM Vol. 3A 11.5.4 Figure 11-10): 0b111 is 1. */
    uint32_t code = (divide & 3) | (divide >> 1 & 4);
    return 1u << ((code + 1) & 7);
}

static enum timer_mode timer_mode(const struct vlapic *apic)
{
    uint32_t mode = LVT_TIMER_MODE(LVT(apic, LVT_TIMER));
    return mode == TIMER_TSC_DEADLINE ? TIMER_TSC_DEADLINE
                                      : mode == TIMER_PERIODIC ? TIMER_PERIODIC : TIMER_ONE_SHOT;
}

/* A periodic timer fires at most every MIN_TIMER_PERIOD cycles. */
static void limit_periodic_rate(struct vlapic *apic)
{
    if (timer_mode(apic) == TIMER_PERIODIC && apic->timer_period &&
        apic->timer_period < MIN_TIMER_PERIOD)
        apic->timer_period = MIN_TIMER_PERIOD;
}

static void timer_start(struct vlapic *apic, uint64_t now)
{
    apic->timer_period = (uint64_t)REG(apic, APIC_REG_TIMER_INITIAL) *
                         timer_divisor(REG(apic, APIC_REG_TIMER_DIVIDE));
    limit_periodic_rate(apic);
    apic->timer_armed = apic->timer_period != 0;
    apic->timer_deadline = now + apic->timer_period;
}

static uint32_t timer_current_count(const struct vlapic *apic, uint64_t now)
{
    if (!apic->timer_armed || timer_mode(apic) == TIMER_TSC_DEADLINE)
        return 0;
    int64_t left = (int64_t)(apic->timer_deadline - now);
    return left <= 0 ? 0
                     : (uint32_t)((uint64_t)left / timer_divisor(vlapic_get(apic, APIC_REG_TIMER_DIVIDE)));
}

bool vlapic_timer_expire(struct vlapic *apic, uint64_t now)
{
    if (!apic->timer_armed || (int64_t)(now - apic->timer_deadline) < 0)
        return false;
    uint32_t lvt = LVT(apic, LVT_TIMER);
    if (!(lvt & APIC_LVT_MASKED) && vlapic_set_irr(apic, (uint8_t)lvt))
        apic->timer_fired++;
    if (timer_mode(apic) == TIMER_PERIODIC) {
        apic->timer_deadline += apic->timer_period;
        if ((int64_t)(now - apic->timer_deadline) >= 0)     /* missed periods are dropped */
            apic->timer_deadline = now + apic->timer_period;
    } else {
        apic->timer_armed = false;
        apic->tsc_deadline = 0;
    }
    return true;
}

bool vlapic_timer_can_interrupt(const struct vlapic *apic)
{
    uint32_t lvt = LVT(apic, LVT_TIMER);
    uint32_t vector = lvt & 0xff;
    return apic->timer_armed && !(lvt & APIC_LVT_MASKED) && vector >= 16 &&
           vlapic_accepts_interrupts(apic) && (vector & 0xf0) > (vlapic_ppr(apic) & 0xf0);
}

uint64_t vlapic_read_tsc_deadline(const struct vlapic *apic)
{
    return timer_mode(apic) == TIMER_TSC_DEADLINE ? apic->tsc_deadline : 0;
}

void vlapic_write_tsc_deadline(struct vlapic *apic, uint64_t value, uint64_t tsc_offset,
                               uint64_t now)
{
    /* Ignored outside TSC-deadline mode; zero disarms (SDM 11.5.4.1). */
    if (timer_mode(apic) != TIMER_TSC_DEADLINE)
        return;
    apic->tsc_deadline = value;
    apic->timer_armed = value != 0;
    /* Compared unsigned in guest time: a deadline in the past fires now; one
     * far ahead (even ~0, "never") must not wrap into the past in the
     * signed host-time comparisons, so it is capped 2^62 cycles ahead. */
    uint64_t guest_now = now + tsc_offset;
    uint64_t ahead = value > guest_now ? value - guest_now : 0;
    apic->timer_deadline = now + (ahead > (1ull << 62) ? 1ull << 62 : ahead);
}

static bool is_x2apic(const struct vlapic *apic)
{
    return vlapic_mode(apic) == APIC_MODE_X2APIC;
}

/* Registers of the xAPIC page that have no x2APIC MSR (SDM Table 11-6). */
static bool xapic_only(uint32_t offset)
{
    return offset == APIC_REG_APR || offset == APIC_REG_RRD || offset == APIC_REG_DFR ||
           offset == APIC_REG_ICR_HIGH;
}

static bool in_bank(uint32_t offset, uint32_t bank)
{
    return offset >= bank && offset < bank + 0x80;
}

static bool is_lvt(uint32_t offset)
{
    return offset >= APIC_REG_LVT_TIMER && offset <= APIC_REG_LVT_ERROR;
}

enum apic_access_result vlapic_read(struct vlapic *apic, uint32_t offset, uint64_t now,
                                    uint64_t *value)
{
    bool x2 = is_x2apic(apic);
    enum apic_mode mode = vlapic_mode(apic);
    if (mode != APIC_MODE_XAPIC && mode != APIC_MODE_X2APIC)
        return APIC_FAULT;
    if (x2 && xapic_only(offset))
        return APIC_FAULT;
    uint32_t v = 0;
    if (in_bank(offset, APIC_REG_IRR))
        v = vlapic_irr_word(apic, (offset - APIC_REG_IRR) >> 4);
    else if (in_bank(offset, APIC_REG_ISR) || in_bank(offset, APIC_REG_TMR) || is_lvt(offset))
        v = vlapic_get(apic, offset);
    else {
        switch (offset) {
        case APIC_REG_ID: case APIC_REG_VERSION: case APIC_REG_TPR: case APIC_REG_LDR:
        case APIC_REG_DFR: case APIC_REG_SVR: case APIC_REG_ICR_HIGH:
        case APIC_REG_TIMER_INITIAL: case APIC_REG_TIMER_DIVIDE:
            v = vlapic_get(apic, offset);
            break;
        case APIC_REG_APR: case APIC_REG_RRD: case APIC_REG_ESR: v = 0; break;
        case APIC_REG_PPR: v = vlapic_ppr(apic); break;
        case APIC_REG_ICR_LOW:
            if (x2) {
                *value = (uint64_t)vlapic_get(apic, APIC_REG_ICR_LOW + 4) << 32 |
                         vlapic_get(apic, APIC_REG_ICR_LOW);
                return APIC_OK;
            }
            v = vlapic_get(apic, APIC_REG_ICR_LOW);
            break;
        case APIC_REG_TIMER_CURRENT: v = timer_current_count(apic, now); break;
        default:
            /* EOI and SELF IPI are write-only; the rest is reserved. */
            if (x2)
                return APIC_FAULT;
            v = 0;
        }
    }
    *value = v;
    return APIC_OK;
}

static void decode_icr(const struct vlapic *apic, bool x2, struct apic_ipi *ipi)
{
    uint32_t low = REG(apic, APIC_REG_ICR_LOW);
    uint32_t high = x2 ? REG(apic, APIC_REG_ICR_LOW + 4) : REG(apic, APIC_REG_ICR_HIGH);
    *ipi = (struct apic_ipi){
        .vector = (uint8_t)low,
        .delivery = (enum ipi_delivery)ICR_DELIVERY(low),
        .shorthand = (enum ipi_shorthand)ICR_SHORTHAND(low),
        .logical = low & ICR_LOGICAL,
        .level_assert = low & ICR_LEVEL_ASSERT,
        .destination = x2 ? high : high >> 24,
        .x2apic = x2,
    };
}

/* A write to ICR sends the IPI it describes (SDM Vol. 3A 11.6.1); in
 * x2APIC mode the destination comes with it in bits 63:32 (11.12.9). */
static void write_icr(struct vlapic *apic, uint64_t value, bool x2, struct apic_ipi *ipi)
{
    REG(apic, APIC_REG_ICR_LOW) = (uint32_t)value & ICR_WRITABLE;
    if (x2)
        REG(apic, APIC_REG_ICR_LOW + 4) = (uint32_t)(value >> 32);
    decode_icr(apic, x2, ipi);
}

static void write_lvt(struct vlapic *apic, enum lvt_index i, uint32_t value)
{
    uint32_t v = value & lvt_writable[i];
    if (!(REG(apic, APIC_REG_SVR) & APIC_SVR_ENABLE))     /* software-disabled: masks stick (11.4.7.2) */
        v |= APIC_LVT_MASKED;
    bool deadline = LVT_TIMER_MODE(v) == TIMER_TSC_DEADLINE;
    if (i == LVT_TIMER && deadline != apic->deadline_mode) {
        /* Moving into or out of TSC-deadline mode disarms the timer (SDM
         * Vol. 3A 11.5.4.1); between one-shot and periodic the count goes
         * on, and periodic mode reloads it from TMICT when it ends (as the
         * CPU and KVM do). */
        apic->timer_armed = false;
        REG(apic, APIC_REG_TIMER_INITIAL) = 0;
        apic->tsc_deadline = 0;
    }
    LVT(apic, i) = v;
    if (i == LVT_TIMER) {
        apic->deadline_mode = deadline;
        limit_periodic_rate(apic);
    }
}

/* Writes in x2APIC mode: registers that are read-only there fault, as do
 * non-zero reserved bits (SDM Vol. 3A 11.12.1.2-3): the upper half of every
 * MSR but ICR, and the reserved bits of each register. */
static bool x2apic_write_allowed(uint32_t offset, uint64_t value)
{
    uint64_t writable;
    if (is_lvt(offset))
        writable = lvt_writable[(offset - APIC_REG_LVT_TIMER) >> 4];
    else {
        switch (offset) {
        case APIC_REG_TPR: case APIC_REG_SELF_IPI: writable = 0xff; break;
        case APIC_REG_EOI: case APIC_REG_ESR: writable = 0; break;   /* only 0 may be written */
        case APIC_REG_SVR: writable = SVR_WRITABLE; break;
        case APIC_REG_ICR_LOW: writable = 0xffffffff00000000ull | ICR_WRITABLE; break;
        case APIC_REG_TIMER_INITIAL: writable = 0xffffffff; break;
        case APIC_REG_TIMER_DIVIDE: writable = 0xb; break;
        default: return false;      /* read-only or absent */
        }
    }
    return !(value & ~writable);
}

enum apic_access_result vlapic_write(struct vlapic *apic, uint32_t offset, uint64_t value,
                                     uint64_t now, struct apic_ipi *ipi)
{
    bool x2 = is_x2apic(apic);
    enum apic_mode mode = vlapic_mode(apic);
    if (mode != APIC_MODE_XAPIC && mode != APIC_MODE_X2APIC)
        return APIC_FAULT;
    if (x2 && !x2apic_write_allowed(offset, value))
        return APIC_FAULT;
    uint32_t v = (uint32_t)value;
    if (is_lvt(offset)) {
        write_lvt(apic, (enum lvt_index)((offset - APIC_REG_LVT_TIMER) >> 4), v);
        return APIC_OK;
    }
    switch (offset) {
    case APIC_REG_ID:
        if (!x2)
            REG(apic, APIC_REG_ID) = v & 0xff000000u;
        break;
    case APIC_REG_TPR:
        REG(apic, APIC_REG_TPR) = v & 0xff;
        vlapic_update_ppr(apic);
        break;
    case APIC_REG_EOI: {
        REG(apic, APIC_REG_EOI) = 0;    /* write-only: the page reads 0 there */
        int vector = end_of_interrupt(apic);
        if (vector >= 0 && (vlapic_tmr_word(apic, (unsigned)vector >> 5) >>
                            (vector & 31) & 1)) {
            *ipi = (struct apic_ipi){ .vector = (uint8_t)vector };
            return APIC_EOI_LEVEL;
        }
        break;
    }
    case APIC_REG_ESR: REG(apic, APIC_REG_ESR) = 0; break;    /* no errors are recorded */
    case APIC_REG_LDR: REG(apic, APIC_REG_LDR) = v & 0xff000000u; break;
    case APIC_REG_DFR: REG(apic, APIC_REG_DFR) = v | 0x0fffffffu; break;
    case APIC_REG_SVR:
        REG(apic, APIC_REG_SVR) = v & SVR_WRITABLE;
        if (!(v & APIC_SVR_ENABLE))
            for (int i = 0; i < LVT_COUNT; i++)
                LVT(apic, i) |= APIC_LVT_MASKED;
        break;
    case APIC_REG_ICR_LOW:
        write_icr(apic, value, x2, ipi);
        return APIC_SEND_IPI;
    case APIC_REG_ICR_HIGH: REG(apic, APIC_REG_ICR_HIGH) = v & 0xff000000u; break;
    case APIC_REG_TIMER_INITIAL:
        /* Ignored in TSC-deadline mode (SDM 11.5.4.1): with APIC-register
         * virtualization the processor has already put it in the page. */
        if (timer_mode(apic) == TIMER_TSC_DEADLINE) {
            REG(apic, APIC_REG_TIMER_INITIAL) = 0;
            break;
        }
        REG(apic, APIC_REG_TIMER_INITIAL) = v;
        timer_start(apic, now);
        break;
    case APIC_REG_TIMER_DIVIDE: REG(apic, APIC_REG_TIMER_DIVIDE) = v & 0xb; break;
    case APIC_REG_SELF_IPI:
        if (!x2)
            break;
        *ipi = (struct apic_ipi){ .vector = (uint8_t)v, .delivery = IPI_FIXED,
                                  .shorthand = IPI_SELF, .x2apic = true };
        return APIC_SEND_IPI;
    default:
        break;      /* xAPIC: writes to read-only and reserved registers are ignored */
    }
    return APIC_OK;
}

bool vlapic_write_x2apic_icr(struct vlapic *apic, uint64_t value, struct apic_ipi *ipi)
{
    if (!is_x2apic(apic) || !x2apic_write_allowed(APIC_REG_ICR_LOW, value))
        return false;
    write_icr(apic, value, true, ipi);
    return true;
}

static bool logical_match(const struct vlapic *target, uint32_t dest, bool x2apic)
{
    if (x2apic)     /* cluster in 31:16, members in 15:0 (SDM 11.12.10.2) */
        return dest >> 16 == vlapic_get(target, APIC_REG_LDR) >> 16 &&
               (dest & vlapic_get(target, APIC_REG_LDR) & 0xffff);
    uint32_t ldr = vlapic_get(target, APIC_REG_LDR) >> 24;
    if (vlapic_get(target, APIC_REG_DFR) >> 28 == DFR_FLAT)
        return dest & ldr;
    return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);     /* cluster model */
}

bool vlapic_ipi_reaches(const struct vlapic *target, uint32_t sender, const struct apic_ipi *ipi)
{
    enum apic_mode mode = vlapic_mode(target);
    if (mode != APIC_MODE_XAPIC && mode != APIC_MODE_X2APIC)
        return false;
    switch (ipi->shorthand) {
    case IPI_SELF: return target->id == sender;
    case IPI_ALL: return true;
    case IPI_ALL_BUT_SELF: return target->id != sender;
    case IPI_DEST_FIELD: break;
    }
    uint32_t broadcast = ipi->x2apic ? 0xffffffffu : 0xffu;
    if (ipi->destination == broadcast)
        return true;
    if (ipi->logical)
        return logical_match(target, ipi->destination, ipi->x2apic);
    uint32_t id = mode == APIC_MODE_X2APIC ? target->id : vlapic_get(target, APIC_REG_ID) >> 24;
    return ipi->destination == id;
}
