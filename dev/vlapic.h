#ifndef DEV_VLAPIC_H
#define DEV_VLAPIC_H
/*
 * A vCPU's local APIC, as a register model with no hardware access (KVM's
 * lapic.c is the same idea): the xAPIC register page and its x2APIC MSR
 * view, interrupt acceptance (IRR, ISR, TPR, PPR), the timer and the ICR.
 * Callers pass the time ("now", host TSC) in; the model says what to do
 * (deliver an IPI, raise #GP) and the glue in dev/apic_access.c does it.
 *
 * The APIC timer counts at the TSC rate before its divider: one timer tick
 * per TSC cycle at "divide by 1", so guests that know the TSC frequency
 * (CPUID 0x15) know the timer's too.
 */
#include <stdint.h>
#include <stdbool.h>
#include "arch/apic_regs.h"
#include "arch/msr.h"


#define APIC_DEFAULT_BASE   0xfee00000ull
#define APIC_SVR_ENABLE     (1u << 8)
#define APIC_LVT_MASKED     (1u << 16)

enum apic_mode { APIC_MODE_DISABLED, APIC_MODE_XAPIC, APIC_MODE_X2APIC, APIC_MODE_INVALID };

/* In register order from APIC_REG_LVT_TIMER, 0x10 apart (no CMCI: no
 * machine-check banks are virtualised). */
enum lvt_index { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };

enum timer_mode { TIMER_ONE_SHOT = 0, TIMER_PERIODIC = 1, TIMER_TSC_DEADLINE = 2 };

/* ICR delivery modes (bits 10:8) and destination shorthands (bits 19:18). */
enum ipi_delivery { IPI_FIXED = 0, IPI_LOWEST = 1, IPI_SMI = 2, IPI_NMI = 4, IPI_INIT = 5,
                    IPI_STARTUP = 6 };
enum ipi_shorthand { IPI_DEST_FIELD = 0, IPI_SELF = 1, IPI_ALL = 2, IPI_ALL_BUT_SELF = 3 };

/* An interrupt the guest asked its APIC to send (ICR or SELF IPI write). */
struct apic_ipi {
    uint8_t vector;
    enum ipi_delivery delivery;
    enum ipi_shorthand shorthand;
    bool logical;           /* destination mode */
    bool level_assert;      /* INIT: assert (deassert is a no-op on modern CPUs) */
    uint32_t destination;   /* x2APIC: 32 bits; xAPIC: ICR bits 63:56 */
    bool x2apic;            /* the sender's mode: decides what "broadcast" is */
};

struct vlapic {
    /* The registers, in the xAPIC page's layout (SDM Vol. 3A 11.4.1 Table
     * 11-1). With APIC virtualization this page is the vCPU's virtual-APIC
     * page: while the guest runs the processor reads it and updates TPR,
     * PPR, IRR and ISR in it itself (SDM Vol. 3C 30.1), so the model keeps
     * no second copy. In x2APIC mode the ID register holds the 32-bit ID
     * and ICR is one 64-bit register at 0x300 (SDM Vol. 3C 30.5). */
    uint32_t regs[1024] __attribute__((aligned(4096)));
    /* Interrupts accepted by any CPU and not yet in IRR: only the vCPU's
     * own CPU moves them there (vlapic_sync_irr), as the processor may be
     * rewriting the page's IRR words while the guest runs. */
    uint32_t inbox[8];
    uint32_t inbox_words;       /* bit i: inbox[i] may be non-zero (set after it) */
    /* Bit i: IRR word i may be non-zero. The own CPU's alone: IRR gains
     * vectors from the inbox (vlapic_sync_irr sets the bits) and, while
     * virtual-interrupt delivery is on, from the processor's self-IPI
     * virtualization (SDM Vol. 3C 30.1.6: vlapic_irr_words_unknown when it
     * goes off), and loses them to acceptance or virtual-interrupt
     * delivery, so a clear bit is a word known empty while it is off. */
    uint32_t irr_words;
    /* IRR or ISR changed by the model rather than by the processor (an
     * acceptance, an emulated EOI, a reset): virtual-interrupt delivery's
     * RVI and SVI must be written again (dev/apicv.c clears it). */
    bool irr_isr_changed;
    /* The LVT timer's mode as the model last applied it, TSC-deadline or
     * not: with APIC-register virtualization the page already holds a new
     * LVT value when the model gets to act on it. */
    bool deadline_mode;
    uint32_t id;                /* initial APIC ID: the vCPU number */
    uint64_t base_msr;          /* IA32_APIC_BASE */
    uint64_t timer_period;      /* initial count times divisor, in TSC cycles */
    bool timer_armed;
    uint64_t timer_deadline;    /* host TSC of the next expiry, if armed */
    uint64_t tsc_deadline;      /* IA32_TSC_DEADLINE as the guest wrote it */
    uint64_t timer_fired;       /* statistics: timer interrupts raised */
};

/* A register as the page holds it; 256-bit registers (ISR, TMR, IRR) are
 * eight of them, 0x10 apart. */
static inline uint32_t *vlapic_reg(struct vlapic *apic, uint32_t offset)
{
    return &apic->regs[offset >> 2];
}
static inline uint32_t vlapic_get(const struct vlapic *apic, uint32_t offset)
{
    return __atomic_load_n(&apic->regs[offset >> 2], __ATOMIC_RELAXED);
}

/* APIC_EOI_LEVEL: an EOI of a level-triggered interrupt, whose vector
 * (in *ipi's vector field) goes to the I/O APICs (SDM Vol. 3A 11.8.4). */
enum apic_access_result { APIC_OK, APIC_FAULT, APIC_SEND_IPI, APIC_EOI_LEVEL };

/* Power-up / INIT state with APIC ID `id` (SDM Vol. 3A 11.4.7.1); the BSP
 * flag follows the ID. */
void vlapic_reset(struct vlapic *apic, uint32_t id);
/* What PC firmware leaves the bootstrap processor's APIC in: virtual-wire
 * mode (MP Specification 1.4, 3.6.2.2), software-enabled with LINT0 taking
 * the 8259's interrupts (ExtINT) and LINT1 NMIs, as SeaBIOS does and KVM's
 * BSP reset quirk reproduces. A kernel that drives the 8259 and never
 * touches its APIC then still gets its interrupts. */
void vlapic_virtual_wire(struct vlapic *apic);
/* An INIT: the registers as after reset, but for the APIC ID, logical ID in
 * x2APIC mode and IA32_APIC_BASE. */
void vlapic_init_signal(struct vlapic *apic);
enum apic_mode vlapic_mode(const struct vlapic *apic);
/* A WRMSR to IA32_APIC_BASE: the mode transitions of SDM Vol. 3A 11.12.5
 * (Figure 11-27). False (#GP) for reserved bits or an invalid transition.
 * Disabling the APIC resets it, so it is re-enabled in its reset state. */
bool vlapic_set_base(struct vlapic *apic, uint64_t value, uint64_t phys_addr_mask);

/* Register access at an xAPIC offset (x2APIC: MSR - 0x800 times 16). In
 * x2APIC mode registers that do not exist there, and writes to read-only
 * ones, fault; ICR is one 64-bit register. APIC_SEND_IPI: *ipi says what. */
enum apic_access_result vlapic_read(struct vlapic *apic, uint32_t offset, uint64_t now,
                                    uint64_t *value);
enum apic_access_result vlapic_write(struct vlapic *apic, uint32_t offset, uint64_t value,
                                     uint64_t now, struct apic_ipi *ipi);
/* The x2APIC ICR MSR written: vlapic_write's answer for it (APIC_SEND_IPI
 * with `ipi`, true; or a fault, false) without its look at other registers. */
bool vlapic_write_x2apic_icr(struct vlapic *apic, uint64_t value, struct apic_ipi *ipi);
/* IA32_TSC_DEADLINE: the guest's TSC is the host's plus tsc_offset. */
uint64_t vlapic_read_tsc_deadline(const struct vlapic *apic);
void vlapic_write_tsc_deadline(struct vlapic *apic, uint64_t value, uint64_t tsc_offset,
                               uint64_t now);

/* Whether the APIC accepts fixed interrupts (globally and software enabled). */
bool vlapic_accepts_interrupts(const struct vlapic *apic);
/* Sets the vector in IRR (any CPU), and in TMR if it is level-triggered;
 * false if the APIC does not accept it. */
bool vlapic_set_irr_trigger(struct vlapic *apic, uint8_t vector, bool level);
/* An edge-triggered interrupt (IPIs, the timer). */
static inline bool vlapic_set_irr(struct vlapic *apic, uint8_t vector)
{
    return vlapic_set_irr_trigger(apic, vector, false);
}
/* What an edge on LINT1, a PC's NMI line, does: its LVT entry's delivery
 * mode (SDM Vol. 3A 11.5.1), an NMI or a fixed interrupt with the entry's
 * vector (*vector), or nothing when masked or in another mode. An APIC
 * disabled in IA32_APIC_BASE passes the pin through as NMI, as it passes
 * LINT0 as INTR (11.4.3). */
enum lint_event { LINT_NOTHING, LINT_NMI, LINT_FIXED };
enum lint_event vlapic_lint1_event(const struct vlapic *apic, uint8_t *vector);
/* Whether the 8259's INTR, wired to LINT0, reaches the CPU: the APIC is
 * hardware-disabled, or LINT0 is unmasked in ExtINT mode (SDM Vol. 3A
 * 11.5.1; KVM's kvm_apic_accept_pic_intr). */
bool vlapic_accepts_pic_interrupt(const struct vlapic *apic);
/* The highest vector in IRR whose priority class is above PPR, or -1. */
int vlapic_pending_vector(const struct vlapic *apic);
/* The highest vector requested, in IRR or the inbox, whatever its
 * priority; -1 if none. */
int vlapic_highest_requested(const struct vlapic *apic);
/* Word `i` of IRR, with the vectors still in the inbox. */
uint32_t vlapic_irr_word(const struct vlapic *apic, unsigned i);
/* Every IRR word may hold a vector: the processor may have set some in the
 * page (virtual-interrupt delivery is going off). */
static inline void vlapic_irr_words_unknown(struct vlapic *apic)
{
    apic->irr_words = 0xff;
}
/* Whether any vector is requested (in IRR or the inbox), deliverable or
 * not; on the vCPU's own CPU, without virtual-interrupt delivery. Inline:
 * every nested entry and exit asks (nested/switch.c; APICv is off in VMX
 * operation), mostly with no IRR word that may hold one. The words found
 * empty are forgotten. */
static inline bool vlapic_irr_nonempty(struct vlapic *apic)
{
    for (uint32_t words = apic->irr_words; words; words &= words - 1) {
        unsigned i = (unsigned)__builtin_ctz(words);
        if (__atomic_load_n(&apic->regs[(APIC_REG_IRR >> 2) + 4 * i], __ATOMIC_RELAXED))
            return true;
        apic->irr_words &= ~(1u << i);
    }
    return __atomic_load_n(&apic->inbox_words, __ATOMIC_ACQUIRE) != 0;
}
/* Whether an EOI could make a vector in IRR deliverable: IRR holds two or
 * more, or one while ISR is not empty. `rvi` and `svi` are the highest
 * vectors in IRR and ISR, 0 for none (virtual-interrupt delivery's RVI and
 * SVI); `words` the IRR words that may hold vectors (bit i: word i; 0xff
 * if unknown), so that a sync that knows which words it filled need not
 * scan the rest. The inbox does not count: it reaches IRR only at a sync. */
bool vlapic_eoi_may_release(const struct vlapic *apic, unsigned rvi, unsigned svi,
                            uint32_t words);
/* The highest vector in the inbox (accepted, not yet in IRR), or -1. */
int vlapic_highest_inbox(const struct vlapic *apic);
/* On the vCPU's own CPU, the guest not running: moves the inbox into IRR;
 * returns which IRR words (bit i: vectors 32i..32i+31) got vectors, 0 if
 * none. Their TMR bits were set with them (vlapic_set_irr_trigger). */
uint32_t vlapic_sync_irr(struct vlapic *apic);
/* The highest vector in IRR words `words` (a vlapic_sync_irr result), or
 * -1: with the highest vector the rest of IRR had, the new highest. */
int vlapic_highest_irr_in(const struct vlapic *apic, uint32_t words);
/* The highest vector set in IRR (after vlapic_sync_irr) or ISR, or -1: RVI
 * and SVI of virtual-interrupt delivery (SDM Vol. 3C 30.1.2). */
int vlapic_highest_irr(const struct vlapic *apic);
int vlapic_highest_isr(const struct vlapic *apic);
/* TMR word i: the level-triggered vectors, which the EOI-exit bitmap makes
 * exit on EOI so that the I/O APIC sees it (SDM Vol. 3C 30.1.4). */
static inline uint32_t vlapic_tmr_word(const struct vlapic *apic, unsigned i)
{
    return __atomic_load_n(&apic->regs[(APIC_REG_TMR >> 2) + 4 * i], __ATOMIC_ACQUIRE);
}
/* MOV to CR8 and from it: TPR bits 7:4 (SDM Vol. 3A 11.8.6.1). */
void vlapic_set_cr8(struct vlapic *apic, uint64_t value);
uint64_t vlapic_get_cr8(const struct vlapic *apic);
/* The processor changed the page while the guest ran (virtual-interrupt
 * delivery, EOI virtualization, TPR virtualization): PPR as the model
 * computes it is written back, for reads the processor virtualises. */
void vlapic_update_ppr(struct vlapic *apic);
/* The CPU takes the vector: IRR to ISR (SDM Vol. 3A 11.8.4). */
void vlapic_accept(struct vlapic *apic, uint8_t vector);
uint32_t vlapic_ppr(const struct vlapic *apic);

/* Whether the armed timer would raise an interrupt the CPU can take now
 * (unmasked, a legal vector, above PPR): whether it can wake a halted CPU. */
bool vlapic_timer_can_interrupt(const struct vlapic *apic);
/* Raises the timer interrupt if it is due (re-arming a periodic timer);
 * returns whether it was due. */
bool vlapic_timer_expire(struct vlapic *apic, uint64_t now);

/* Whether an IPI from the APIC with ID `sender` reaches `target` (SDM Vol. 3A
 * 11.6.2: physical and logical destinations, shorthands, broadcast). */
bool vlapic_ipi_reaches(const struct vlapic *target, uint32_t sender, const struct apic_ipi *ipi);
#endif
