/* NMIs as a guest OS meets them (SDM Vol. 3A 7.7, 11.6.1; Vol. 3C 25.3):
 * vCPU 0 sends NMI IPIs and checks where they land and when:
 *   to itself with RFLAGS.IF = 0 (an NMI is not masked by IF);
 *   to itself from its own NMI handler: the second waits for the first
 *   handler's IRET, then comes at once (NMIs do not nest, one is latched);
 *   to vCPU 1 by physical destination, to the others by the all-but-self
 *   shorthand, to everyone with the all-including-self shorthand;
 *   to vCPU 1 halted with IF = 0 (an NMI ends HLT).
 * "lint1": instead, each vCPU waits for an NMI on LINT1 (the monitor's
 * `nmi VM`): vCPU 0's LVT passes it as NMI (virtual wire, as firmware
 * leaves it), vCPU 1 keeps LINT1 masked and must get none.
 * One "nmi_probe: CHECK: ok|FAIL ..." line per check; the status is the
 * number of failures. "x2apic": the same in x2APIC mode. */
#include "guests/runtime/guest.h"
#include "arch/interrupts.h"
#include "arch/lapic.h"
#include "arch/msr.h"

#define MAX_VCPUS         16
#define WAIT_CYCLES       200000000ull
#define LINT1_WAIT_CYCLES 2000000000ull     /* the monitor's command comes from outside */
#define QUIET_CYCLES      2000000ull        /* time for an NMI that should not come */
#define HANDLER_SPIN      200000ull
#define ICR_ALL_INCL_SELF 0x80000
#define LVT_MASKED        (1u << 16)

enum ap_task { AP_IDLE, AP_HALT_WITH_IF_CLEAR };

static volatile uint32_t arrived, done;
static volatile uint32_t nmis[MAX_VCPUS];
static volatile uint32_t depth, max_depth;
static volatile bool resend_from_handler;
static volatile uint32_t count_when_handler_ended;
static volatile uint32_t ap_task[MAX_VCPUS], ap_halting[MAX_VCPUS], ap_woke[MAX_VCPUS];
static int failures;

static void report(const char *name, bool ok, const char *detail)
{
    failures += check_detail("nmi_probe", name, ok, detail);
}

static uint32_t my_id(void)
{
    return lapic_id();
}

/* Counts the NMI; once asked, sends itself another and spins, so that a
 * nested NMI would show as depth 2. */
static void nmi_handler(struct trap_frame *frame)
{
    (void)frame;
    uint32_t id = my_id();
    uint32_t now = __atomic_add_fetch(&depth, 1, __ATOMIC_SEQ_CST);
    if (now > max_depth)
        max_depth = now;
    __atomic_add_fetch(&nmis[id], 1, __ATOMIC_SEQ_CST);
    if (id == 0 && resend_from_handler) {
        resend_from_handler = false;
        lapic_send_ipi(id, ICR_NMI);
        spin_cycles(HANDLER_SPIN);
        count_when_handler_ended = nmis[id];
    }
    __atomic_sub_fetch(&depth, 1, __ATOMIC_SEQ_CST);
}

/* Waits (with interrupts as they are) until *value reaches target. */
static bool wait_for(volatile uint32_t *value, uint32_t target, uint64_t cycles)
{
    uint64_t start = rdtsc();
    while (__atomic_load_n(value, __ATOMIC_SEQ_CST) < target)
        if (rdtsc() - start > cycles)
            return false;
    return true;
}

static void self_nmi_with_if_clear(void)
{
    char detail[80];
    irq_disable();
    uint32_t before = nmis[0];
    lapic_send_ipi(my_id(), ICR_NMI);
    bool got = wait_for(&nmis[0], before + 1, WAIT_CYCLES);
    bool if_clear = !(read_rflags() & RFLAGS_IF);
    snprintf(detail, sizeof(detail), "(%u NMI(s), IF %s)", nmis[0] - before,
             if_clear ? "still 0" : "set");
    report("self NMI taken with RFLAGS.IF = 0", got && if_clear, detail);
}

static void nmis_wait_for_iret(void)
{
    char detail[100];
    uint32_t before = nmis[0];
    max_depth = 0;
    count_when_handler_ended = 0;
    resend_from_handler = true;
    lapic_send_ipi(my_id(), ICR_NMI);
    bool both = wait_for(&nmis[0], before + 2, WAIT_CYCLES);
    spin_cycles(QUIET_CYCLES);
    snprintf(detail, sizeof(detail), "(%u NMIs, deepest nesting %u, %u by the first IRET)",
             nmis[0] - before, max_depth, count_when_handler_ended - before);
    report("an NMI sent from the NMI handler waits for its IRET, then comes",
           both && nmis[0] == before + 2 && max_depth == 1 &&
               count_when_handler_ended == before + 1,
           detail);
}

static void nmis_to_others(uint32_t vcpus)
{
    char detail[120];
    uint32_t before[MAX_VCPUS];
    for (uint32_t i = 0; i < vcpus; i++)
        before[i] = nmis[i];
    lapic_send_ipi(1, ICR_NMI);
    bool got = wait_for(&nmis[1], before[1] + 1, WAIT_CYCLES);
    spin_cycles(QUIET_CYCLES);
    snprintf(detail, sizeof(detail), "(vCPU 1: %u, vCPU 0: %u)", nmis[1] - before[1],
             nmis[0] - before[0]);
    report("NMI to vCPU 1 by physical destination", got && nmis[1] == before[1] + 1 &&
                                                          nmis[0] == before[0],
           detail);

    for (uint32_t i = 0; i < vcpus; i++)
        before[i] = nmis[i];
    lapic_send_ipi(0, ICR_NMI | ICR_ALL_BUT_SELF);
    bool all = true;
    for (uint32_t i = 1; i < vcpus; i++)
        all &= wait_for(&nmis[i], before[i] + 1, WAIT_CYCLES);
    spin_cycles(QUIET_CYCLES);
    uint32_t others = 0;
    for (uint32_t i = 1; i < vcpus; i++)
        others += nmis[i] - before[i];
    snprintf(detail, sizeof(detail), "(%u of %u others, self %u)", others, vcpus - 1,
             nmis[0] - before[0]);
    report("NMI with the all-but-self shorthand",
           all && others == vcpus - 1 && nmis[0] == before[0], detail);

    for (uint32_t i = 0; i < vcpus; i++)
        before[i] = nmis[i];
    lapic_send_ipi(0, ICR_NMI | ICR_ALL_INCL_SELF);
    all = true;
    for (uint32_t i = 0; i < vcpus; i++)
        all &= wait_for(&nmis[i], before[i] + 1, WAIT_CYCLES);
    uint32_t total = 0;
    for (uint32_t i = 0; i < vcpus; i++)
        total += nmis[i] - before[i];
    snprintf(detail, sizeof(detail), "(%u of %u)", total, vcpus);
    report("NMI with the all-including-self shorthand", all && total == vcpus, detail);
}

/* vCPU 1 halts with IF = 0; NMIs are sent until it wakes (one may land
 * before its HLT, whose handler then returns to the HLT). */
static void nmi_ends_hlt(void)
{
    char detail[80];
    uint32_t before = nmis[1];
    ap_task[1] = AP_HALT_WITH_IF_CLEAR;
    bool halting = wait_for(&ap_halting[1], 1, WAIT_CYCLES);
    spin_cycles(QUIET_CYCLES);
    unsigned sent = 0;
    while (halting && !ap_woke[1] && sent < 10) {
        lapic_send_ipi(1, ICR_NMI);
        sent++;
        wait_for(&ap_woke[1], 1, WAIT_CYCLES / 10);
    }
    snprintf(detail, sizeof(detail), "(%u NMI(s) sent, %u taken)", sent, nmis[1] - before);
    report("an NMI ends HLT with RFLAGS.IF = 0", halting && ap_woke[1] && nmis[1] > before, detail);
}

/* LINT1: vCPU 0 takes it as NMI (its LVT from the firmware's virtual wire),
 * vCPU 1 masks it (its LVT as reset left it). */
static void lint1_nmis(uint32_t vcpus)
{
    char detail[100];
    printf("nmi_probe: waiting for an NMI on LINT1\n");
    bool got = wait_for(&nmis[0], 1, LINT1_WAIT_CYCLES);
    spin_cycles(QUIET_CYCLES);
    uint32_t others = 0;
    for (uint32_t i = 1; i < vcpus; i++)
        others += nmis[i];
    snprintf(detail, sizeof(detail), "(vCPU 0: %u, LINT1 masked on the others: %u)", nmis[0],
             others);
    report("LINT1 NMI as each vCPU's LVT says", got && nmis[0] == 1 && others == 0, detail);
}

static void ap_main(uint32_t vcpu)
{
    lapic_write(APIC_REG_LVT_LINT1, LVT_MASKED);   /* as reset leaves it, to be sure */
    __atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
    while (!done) {
        if (ap_task[vcpu] == AP_HALT_WITH_IF_CLEAR) {
            ap_task[vcpu] = AP_IDLE;
            irq_disable();
            ap_halting[vcpu] = 1;
            __asm__ volatile("hlt" ::: "memory");
            ap_woke[vcpu] = 1;
        }
        cpu_relax();
    }
    cpu_halt_forever();     /* vCPU 0 ends the VM */
}

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    interrupt_register(VECTOR_NMI, nmi_handler);
    if (vcpu != 0)
        ap_main(vcpu);
    if (vcpus > MAX_VCPUS)
        vcpus = MAX_VCPUS;
    char detail[80];
    bool all = wait_for(&arrived, vcpus - 1, WAIT_CYCLES);
    bool x2apic = rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_X2APIC;
    snprintf(detail, sizeof(detail), "(%u of %u vCPUs, %s mode)", arrived + 1, vcpus,
             x2apic ? "x2apic" : "xapic");
    report("every vCPU started", all && vcpus >= 2, detail);
    if (cmdline_has(cmdline, "lint1")) {
        lint1_nmis(vcpus);
    } else if (all && vcpus >= 2) {
        self_nmi_with_if_clear();
        nmis_wait_for_iret();
        nmis_to_others(vcpus);
        nmi_ends_hlt();
    }
    done = 1;
    printf("nmi_probe: %d failure(s)\n", failures);
    return failures;
}
