/* SMP as a guest OS does it: the runtime's vCPU 0 has started the others
 * with INIT-SIPI-SIPI (guests/runtime/smp.c), in xAPIC mode, or in x2APIC
 * mode with "x2apic" on the command line. Then vCPU 0 exchanges IPIs with
 * the others, which sleep in HLT between them:
 *   ping-pong with each vCPU (fixed IPIs, physical destination);
 *   the all-but-self shorthand, and broadcast to all through the
 *   destination field, which reaches the sender too;
 *   logical destinations (vCPUs 1 and 3 of a mask).
 * One "smp_ipi: CHECK: ok|FAIL ..." line per check; the status is the number
 * of failures. "bench": only ipi_roundtrip (vCPU 0 <-> 1, median; named
 * ipi_roundtrip_xapic in xAPIC mode, where every APIC access is emulated MMIO).
 * "switch": only vcpu_switch, two vCPUs handing one physical CPU back and
 * forth with the YIELD hypercall. "storm": only interrupts where IF allows
 * them: the others send vCPU 0 two vectors at a time while it runs with IF
 * clear most of the time and its handler works on with IF clear after its
 * EOI, as Linux's do. */
#include "guests/runtime/guest.h"
#include "arch/interrupts.h"
#include "arch/lapic.h"
#include "arch/msr.h"

#define MAX_VCPUS      16
#define PING_VECTOR    0x50
#define PONG_VECTOR    0x51
#define COUNT_VECTOR   0x52
#define ROUNDS         20
#define BENCH_SAMPLES  101
#define WAIT_CYCLES    200000000ull
#define ICR_LOGICAL        0x800
#define ICR_ALL_INCL_SELF  0x80000
#define XAPIC_BROADCAST    0xff
#define X2APIC_BROADCAST   0xffffffffu
#define STORM_LOW          0x60
#define STORM_HIGH         0x70
#define STORM_ROUNDS       300
#define STORM_CLI_CYCLES   20000   /* vCPU 0's stretch with IF clear */
#define STORM_STI_CYCLES   2000    /* and with IF set */
#define STORM_HANDLER_CYCLES 3000  /* its handler's work after the EOI */
#define STORM_SEND_CYCLES  4000    /* a sender's pause between two pairs */

static volatile uint32_t arrived, done;
static volatile uint32_t pings[MAX_VCPUS], counted[MAX_VCPUS], pongs;
static volatile uint32_t turn;
static volatile uint64_t handed_over_at;
static volatile uint32_t storm_go, storm_taken[2], storm_with_if_clear;
static bool x2apic;
static int failures;

static void report(const char *name, bool ok, const char *detail)
{
    failures += check_detail("smp_ipi", name, ok, detail);
}

static uint32_t my_id(void)
{
    return lapic_id();
}

static void ping_interrupt(struct trap_frame *frame)
{
    (void)frame;
    pings[my_id()]++;
    lapic_send_ipi(0, ICR_FIXED | PONG_VECTOR);
}

static void pong_interrupt(struct trap_frame *frame)
{
    (void)frame;
    pongs++;
}

static void count_interrupt(struct trap_frame *frame)
{
    (void)frame;
    __atomic_add_fetch(&counted[my_id()], 1, __ATOMIC_SEQ_CST);
}

/* An interrupt is delivered only while the interrupted code has IF set
 * (SDM Vol. 3A 6.8.1): its frame's RFLAGS says whether it had. The EOI
 * comes first and the work after it, with IF still clear: the other vector
 * of the pair becomes deliverable then, and must wait for the IRET. */
static void storm_interrupt(struct trap_frame *frame)
{
    if (!(frame->rflags & RFLAGS_IF))
        __atomic_add_fetch(&storm_with_if_clear, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&storm_taken[frame->vector == STORM_HIGH], 1, __ATOMIC_SEQ_CST);
    lapic_eoi();
    spin_cycles(STORM_HANDLER_CYCLES);
}

/* Waits with interrupts enabled until *value reaches target. */
static bool wait_for(volatile uint32_t *value, uint32_t target)
{
    irq_enable();
    uint64_t start = rdtsc();
    while (__atomic_load_n(value, __ATOMIC_SEQ_CST) < target)
        if (rdtsc() - start > WAIT_CYCLES)
            return false;
    return true;
}

static uint64_t ping(uint32_t target)
{
    uint32_t expected = pongs + 1;
    uint64_t start = rdtsc();
    lapic_send_ipi(target, ICR_FIXED | PING_VECTOR);
    if (!wait_for(&pongs, expected))
        return ~0ull;
    return rdtsc() - start;
}

static void ping_pong(uint32_t vcpus)
{
    char detail[120];
    static uint64_t samples[MAX_VCPUS * ROUNDS];
    uint32_t n = 0;
    bool ok = true;
    for (uint32_t target = 1; target < vcpus; target++)
        for (int r = 0; r < ROUNDS; r++) {
            uint64_t t = ping(target);
            ok &= t != ~0ull;
            samples[n++] = t;
        }
    for (uint32_t target = 1; target < vcpus; target++)
        ok &= pings[target] == ROUNDS;
    snprintf(detail, sizeof(detail), "(%u round trips, median %lu cycles)", n, median(samples, n));
    report("ping-pong with every vCPU", ok && pongs == n, detail);
}

static uint32_t counted_total(void)
{
    uint32_t total = 0;
    for (uint32_t i = 0; i < MAX_VCPUS; i++)
        total += counted[i];
    return total;
}

static void reset_counts(void)
{
    for (uint32_t i = 0; i < MAX_VCPUS; i++)
        counted[i] = 0;
}

static void broadcasts(uint32_t vcpus)
{
    char detail[120];
    reset_counts();
    lapic_send_ipi(0, ICR_FIXED | ICR_ALL_BUT_SELF | COUNT_VECTOR);
    bool all = true;
    for (uint32_t i = 1; i < vcpus; i++)
        all &= wait_for(&counted[i], 1);
    snprintf(detail, sizeof(detail), "(%u of %u others, self %u)", counted_total(), vcpus - 1,
             counted[0]);
    report("all-but-self shorthand", all && counted[0] == 0 && counted_total() == vcpus - 1, detail);

    reset_counts();
    lapic_send_ipi(x2apic ? X2APIC_BROADCAST : XAPIC_BROADCAST, ICR_FIXED | COUNT_VECTOR);
    all = true;
    for (uint32_t i = 0; i < vcpus; i++)
        all &= wait_for(&counted[i], 1);
    snprintf(detail, sizeof(detail), "(%u of %u)", counted_total(), vcpus);
    report("broadcast destination reaches all, self included", all && counted_total() == vcpus,
          detail);

    reset_counts();
    lapic_send_ipi(0, ICR_FIXED | ICR_ALL_INCL_SELF | COUNT_VECTOR);
    all = true;
    for (uint32_t i = 0; i < vcpus; i++)
        all &= wait_for(&counted[i], 1);
    snprintf(detail, sizeof(detail), "(%u of %u)", counted_total(), vcpus);
    report("all-including-self shorthand", all && counted_total() == vcpus, detail);
}

/* vCPUs 1 and 3 by logical destination: xAPIC flat model (each vCPU set
 * its LDR to bit 24 + id), or x2APIC cluster 0 (the LDR the APIC derives). */
static void logical(uint32_t vcpus)
{
    char detail[120];
    if (vcpus < 4)
        return;
    reset_counts();
    uint32_t mask = (1u << 1) | (1u << 3);
    lapic_send_ipi(mask, ICR_FIXED | ICR_LOGICAL | COUNT_VECTOR);
    bool got = wait_for(&counted[1], 1) && wait_for(&counted[3], 1);
    spin_cycles(2000000);       /* time for strays */
    snprintf(detail, sizeof(detail), "(counts %u %u %u %u)", counted[0], counted[1], counted[2],
             counted[3]);
    report("logical destination selects vCPUs 1 and 3", got && counted_total() == 2, detail);
}

static uint32_t storm_taken_total(void)
{
    return __atomic_load_n(&storm_taken[0], __ATOMIC_SEQ_CST) +
           __atomic_load_n(&storm_taken[1], __ATOMIC_SEQ_CST);
}

/* The others send pairs of vectors to vCPU 0 (kicking its physical CPU
 * when it runs) while it runs mostly with IF clear; each sender waits for
 * two interrupts taken before its next pair, so that vCPU 0 keeps up. */
static void storm_send(void)
{
    while (__atomic_load_n(&storm_go, __ATOMIC_SEQ_CST)) {
        uint32_t before = storm_taken_total();
        lapic_send_ipi(0, ICR_FIXED | STORM_LOW);
        lapic_send_ipi(0, ICR_FIXED | STORM_HIGH);
        while (storm_taken_total() - before < 2 && __atomic_load_n(&storm_go, __ATOMIC_SEQ_CST))
            cpu_relax();
        spin_cycles(STORM_SEND_CYCLES);
    }
}

static void interrupts_respect_if(uint32_t vcpus)
{
    char detail[120];
    storm_go = 1;
    lapic_send_ipi(0, ICR_FIXED | ICR_ALL_BUT_SELF | COUNT_VECTOR);   /* wakes the senders */
    for (int i = 0; i < STORM_ROUNDS; i++) {
        irq_disable();
        spin_cycles(STORM_CLI_CYCLES);
        irq_enable();
        spin_cycles(STORM_STI_CYCLES);
    }
    storm_go = 0;
    spin_cycles(2 * STORM_SEND_CYCLES + STORM_HANDLER_CYCLES);     /* the last ones land */
    snprintf(detail, sizeof(detail), "(%u and %u taken from %u senders, %u with IF clear)",
             storm_taken[0], storm_taken[1], vcpus - 1, storm_with_if_clear);
    report("interrupts only with IF set", storm_with_if_clear == 0 && storm_taken[0] &&
                                              storm_taken[1], detail);
}

/* vcpu_switch: vCPU 0 and 1 share one physical CPU and hand it over with
 * YIELD; each handover is timed from the yield to the other one running. */
static void switch_bench(uint32_t vcpu)
{
    static uint64_t samples[BENCH_SAMPLES];
    for (uint32_t i = 0; i < BENCH_SAMPLES && !done;) {
        if (turn != vcpu) {
            hypercall(HC_YIELD, 0, 0);
            continue;
        }
        samples[i++] = rdtsc() - handed_over_at;
        handed_over_at = rdtsc();
        turn = !vcpu;
    }
    if (vcpu == 0) {
        done = 1;
        /* The first sample has no handover before it. */
        bench_report("vcpu_switch", median(samples + 1, BENCH_SAMPLES - 1), "ticks");
    }
}

static void ap_main(uint32_t vcpu, const char *cmdline)
{
    if (!x2apic)
        lapic_write(APIC_REG_LDR, 1u << (24 + vcpu));     /* flat model: one bit each */
    __atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
    if (cmdline_has(cmdline, "switch")) {
        switch_bench(vcpu);
    } else {
        irq_enable();
        while (!done) {
            if (storm_go)
                storm_send();
            irq_enable_and_halt();
        }
    }
    cpu_halt_forever();     /* vCPU 0 ends the VM */
}

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    x2apic = rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_X2APIC;
    interrupt_register(PING_VECTOR, ping_interrupt);
    interrupt_register(PONG_VECTOR, pong_interrupt);
    interrupt_register(COUNT_VECTOR, count_interrupt);
    interrupt_register(STORM_LOW, storm_interrupt);
    interrupt_register(STORM_HIGH, storm_interrupt);
    if (vcpu != 0)
        ap_main(vcpu, cmdline);
    if (vcpus > MAX_VCPUS)
        vcpus = MAX_VCPUS;
    char detail[80];
    bool all = wait_for(&arrived, vcpus - 1);
    snprintf(detail, sizeof(detail), "(%u of %u vCPUs, %s mode)", arrived + 1, vcpus,
             x2apic ? "x2apic" : "xapic");
    report("every vCPU started by INIT-SIPI-SIPI", all, detail);
    if (cmdline_has(cmdline, "switch")) {
        switch_bench(0);
        return 0;
    }
    if (cmdline_has(cmdline, "bench")) {
        static uint64_t samples[BENCH_SAMPLES];
        for (int i = 0; i < BENCH_SAMPLES; i++)
            samples[i] = ping(1);
        bench_report(x2apic ? "ipi_roundtrip" : "ipi_roundtrip_xapic",
                     median(samples, BENCH_SAMPLES), "ticks");
        done = 1;
        return 0;
    }
    if (cmdline_has(cmdline, "storm")) {
        interrupts_respect_if(vcpus);
        done = 1;
        return failures;
    }
    ping_pong(vcpus);
    broadcasts(vcpus);
    logical(vcpus);
    done = 1;
    printf("smp_ipi: done, %d failures\n", failures);
    return failures;
}
