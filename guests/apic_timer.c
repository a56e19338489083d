/* The virtual local APIC as a guest OS uses it, through the hypervisor's own
 * LAPIC driver (arch/lapic.c) running as guest code:
 *   xAPIC (MMIO): version and ID, a periodic timer, a one-shot timer woken
 *   from HLT, the current-count register;
 *   x2APIC (MSRs): the switch, TSC-deadline interrupts at the programmed
 *   times, disarming, self-IPIs held back by TPR/CR8, an invalid mode change;
 *   disabling the APIC through IA32_APIC_BASE and enabling it again.
 * Prints one "apic_timer: CHECK: ok|FAIL ..." line per check; the status is
 * the number of failures. Command line "bench": only the benchmarks (x2APIC
 * mode): timer_irq_latency, and the APIC accesses APIC virtualization
 * spares exits: eoi_exit (an EOI as the guest's handler sees it),
 * tpr_access (MOV to CR8), self_ipi_x2apic (SELF IPI write to the handler's
 * first instruction). The same image runs bare (apic_timer_bare.elf). */
#include "guests/runtime/guest.h"
#include "arch/interrupts.h"
#include "arch/lapic.h"
#include "arch/msr.h"

#define TIMER_VECTOR   0x40
#define SELF_VECTOR    0x41         /* priority class 4 */
#define EOI_VECTOR     0x42         /* its handler times its own EOI */
#define ARRIVAL_VECTOR 0x43         /* its handler notes when it ran */
#define ACCESS_SAMPLES 501
#define PERIOD         200000u      /* cycles (divide by 1: the timer runs at the TSC rate) */
#define TICKS          10
#define LATENCY_BOUND  50000u       /* due time to handler, in cycles */
#define BENCH_SAMPLES  51
#define MSR_X2APIC(reg) (0x800 + (reg) / 16)
#define LVT_PERIODIC     (1u << 17)
#define LVT_TSC_DEADLINE (2u << 17)
#define DIVIDE_BY_1      0xb
#define CPUID1_EDX_APIC         (1u << 9)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define XAPIC_PAGE 0xfee00000ull

static volatile uint64_t fired_at[TICKS];
static volatile uint32_t fired, self_ipis, gp_faults;
static volatile uint64_t eoi_cycles, arrived_at;
static int failures;

static void report(const char *name, bool ok, const char *detail)
{
    failures += check_detail("apic_timer", name, ok, detail);
}

static void timer_interrupt(struct trap_frame *frame)
{
    (void)frame;
    fired_at[fired % TICKS] = rdtsc();
    fired++;
}

static void self_interrupt(struct trap_frame *frame)
{
    (void)frame;
    self_ipis++;
}

static void eoi_interrupt(struct trap_frame *frame)
{
    (void)frame;
    uint64_t t0 = rdtsc();
    lapic_eoi();        /* the dispatcher's EOI after it finds nothing in service */
    eoi_cycles = rdtsc() - t0;
}

static void arrival_interrupt(struct trap_frame *frame)
{
    (void)frame;
    arrived_at = rdtsc();
}

/* Only RDMSR and WRMSR (two bytes each) are expected to fault here. */
static void general_protection(struct trap_frame *frame)
{
    gp_faults++;
    frame->rip += 2;
}

/* Sleeps with interrupts enabled until `count` timer interrupts in all. */
static bool wait_fired(uint32_t count, uint64_t timeout)
{
    uint64_t start = rdtsc();
    for (;;) {
        irq_disable();
        if (fired >= count) {
            irq_enable();
            return true;
        }
        if (rdtsc() - start > timeout) {
            irq_enable();
            return false;
        }
        irq_enable_and_halt();
    }
}

static void spin_with_interrupts(uint64_t cycles)
{
    irq_enable();
    spin_cycles(cycles);
}

static void xapic_periodic(void)
{
    char detail[160];
    lapic_write(APIC_REG_TIMER_DIVIDE, DIVIDE_BY_1);
    lapic_write(APIC_REG_LVT_TIMER, LVT_PERIODIC | TIMER_VECTOR);
    fired = 0;
    uint64_t start = rdtsc();
    lapic_write(APIC_REG_TIMER_INITIAL, PERIOD);
    uint32_t current = lapic_read(APIC_REG_TIMER_CURRENT);
    bool all = wait_fired(TICKS, 100ull * PERIOD);
    lapic_write(APIC_REG_TIMER_INITIAL, 0);
    snprintf(detail, sizeof(detail), "(read %u of %u)", current, PERIOD);
    report("xapic current count counts down", current > 0 && current < PERIOD, detail);
    uint64_t worst = 0;
    bool never_early = all;
    for (uint32_t k = 0; all && k < TICKS; k++) {
        uint64_t due = start + (uint64_t)(k + 1) * PERIOD;
        never_early &= fired_at[k] >= due;
        if (fired_at[k] > due && fired_at[k] - due > worst)
            worst = fired_at[k] - due;
    }
    uint64_t mean = all ? (fired_at[TICKS - 1] - fired_at[0]) / (TICKS - 1) : 0;
    snprintf(detail, sizeof(detail), "(%u ticks, mean interval %lu, latest %lu after due)",
             fired, mean, worst);
    report("xapic periodic timer", all && never_early && worst < LATENCY_BOUND &&
                                      mean > PERIOD - PERIOD / 100 && mean < PERIOD + PERIOD / 100,
          detail);
}

static void xapic_one_shot(void)
{
    char detail[120];
    lapic_write(APIC_REG_TIMER_DIVIDE, DIVIDE_BY_1);   /* reset leaves "divide by 2" */
    lapic_write(APIC_REG_LVT_TIMER, TIMER_VECTOR);
    fired = 0;
    uint64_t start = rdtsc();
    lapic_write(APIC_REG_TIMER_INITIAL, PERIOD);
    bool woke = wait_fired(1, 100ull * PERIOD);
    spin_with_interrupts(3 * PERIOD);
    uint64_t late = woke ? fired_at[0] - (start + PERIOD) : 0;
    snprintf(detail, sizeof(detail), "(%u interrupts, %ld cycles after due, count now %u)", fired,
             (long)late, lapic_read(APIC_REG_TIMER_CURRENT));
    report("xapic one-shot timer wakes HLT once", woke && fired == 1 &&
              fired_at[0] >= start + PERIOD && late < LATENCY_BOUND &&
              lapic_read(APIC_REG_TIMER_CURRENT) == 0, detail);
}

/* One-shot to periodic while the count runs: it goes on from TMICT and the
 * timer then keeps firing every period (only TSC-deadline transitions
 * disarm it, SDM Vol. 3A 11.5.4.1). */
static void xapic_mode_change(void)
{
    char detail[120];
    lapic_write(APIC_REG_TIMER_DIVIDE, DIVIDE_BY_1);
    lapic_write(APIC_REG_LVT_TIMER, TIMER_VECTOR);
    fired = 0;
    lapic_write(APIC_REG_TIMER_INITIAL, PERIOD);
    lapic_write(APIC_REG_LVT_TIMER, LVT_PERIODIC | TIMER_VECTOR);
    uint32_t initial = lapic_read(APIC_REG_TIMER_INITIAL);
    uint32_t current = lapic_read(APIC_REG_TIMER_CURRENT);
    bool all = wait_fired(3, 100ull * PERIOD);
    lapic_write(APIC_REG_TIMER_INITIAL, 0);
    snprintf(detail, sizeof(detail), "(TMICT %u, count %u after the switch, %u interrupts)",
             initial, current, fired);
    report("xapic one-shot to periodic keeps the count and then repeats",
           initial == PERIOD && current > 0 && current < PERIOD && all, detail);
}

static uint64_t tsc_deadline_once(void)
{
    uint32_t before = fired;
    uint64_t deadline = rdtsc() + PERIOD;
    wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
    if (!wait_fired(before + 1, 100ull * PERIOD))
        return ~0ull;
    return fired_at[before % TICKS] - deadline;
}

static void x2apic_checks(void)
{
    char detail[120];
    struct cpuid_regs r = cpuid(1, 0);
    report("cpuid shows x2apic and tsc-deadline",
          (r.ecx & CPUID_1_ECX_X2APIC) && (r.ecx & CPUID1_ECX_TSC_DEADLINE), "");
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_X2APIC);
    lapic_init_cpu();
    snprintf(detail, sizeof(detail), "(id %lu, ldr 0x%lx)", rdmsr(MSR_X2APIC(APIC_REG_ID)),
             rdmsr(MSR_X2APIC(APIC_REG_LDR)));
    report("x2apic mode: id and logical id", rdmsr(MSR_X2APIC(APIC_REG_ID)) == 0 &&
                                                rdmsr(MSR_X2APIC(APIC_REG_LDR)) == 1, detail);

    lapic_write(APIC_REG_LVT_TIMER, LVT_TSC_DEADLINE | TIMER_VECTOR);
    fired = 0;
    uint64_t worst = 0;
    bool ok = true;
    for (int i = 0; i < 5; i++) {
        uint64_t late = tsc_deadline_once();
        ok &= (int64_t)late >= 0 && late < LATENCY_BOUND;
        if (late > worst)
            worst = late;
    }
    snprintf(detail, sizeof(detail), "(5 deadlines, latest %lu after due, msr now %lu)", worst,
             rdmsr(MSR_IA32_TSC_DEADLINE));
    report("tsc-deadline interrupts at the deadline", ok && rdmsr(MSR_IA32_TSC_DEADLINE) == 0, detail);

    uint32_t before = fired;
    wrmsr(MSR_IA32_TSC_DEADLINE, rdtsc() + PERIOD);
    wrmsr(MSR_IA32_TSC_DEADLINE, 0);
    spin_with_interrupts(3 * PERIOD);
    report("tsc-deadline 0 disarms", fired == before, "");

    /* TPR class 5 holds back a class-4 self-IPI until it is lowered. */
    __asm__ volatile("mov %0, %%cr8" :: "r"(5ull));
    irq_enable();
    wrmsr(X2APIC_MSR_SELF_IPI, SELF_VECTOR);
    uint32_t held = self_ipis;
    uint64_t irr = rdmsr(MSR_X2APIC(APIC_REG_IRR) + SELF_VECTOR / 32);
    uint64_t tpr = rdmsr(MSR_X2APIC(APIC_REG_TPR));
    /* Lowered through CR8: with a TPR shadow that is a TPR-below-threshold
     * exit, or with virtual-interrupt delivery no exit at all. */
    __asm__ volatile("mov %0, %%cr8" ::"r"(0ull));
    uint32_t after = self_ipis;
    snprintf(detail, sizeof(detail), "(%u while TPR 0x%lx, IRR bit %lu, %u after)", held, tpr,
             irr >> (SELF_VECTOR % 32) & 1, after);
    report("self-ipi waits for TPR", held == 0 && tpr == 0x50 && (irr >> (SELF_VECTOR % 32) & 1) &&
                                         after == 1, detail);

    uint32_t faults = gp_faults;
    wrmsr(MSR_IA32_APIC_BASE, base & ~APIC_BASE_X2APIC);    /* x2APIC to xAPIC: invalid */
    report("x2apic to xapic directly is #GP", gp_faults == faults + 1, "");
}

static void disable_and_enable(void)
{
    char detail[120];
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    lapic_write(APIC_REG_LVT_TIMER, LVT_TSC_DEADLINE | TIMER_VECTOR);
    wrmsr(MSR_IA32_TSC_DEADLINE, rdtsc() + PERIOD);
    uint32_t before = fired;
    wrmsr(MSR_IA32_APIC_BASE, base & ~(APIC_BASE_ENABLE | APIC_BASE_X2APIC));
    uint32_t faults = gp_faults;
    (void)rdmsr(MSR_X2APIC(APIC_REG_SVR));
    wrmsr(MSR_IA32_APIC_BASE, (base & ~APIC_BASE_ENABLE) | APIC_BASE_X2APIC);
    bool apic_bit = cpuid(1, 0).edx & CPUID1_EDX_APIC;
    spin_with_interrupts(3 * PERIOD);
    snprintf(detail, sizeof(detail), "(#GP %u of 2, cpuid apic %d, timer %u)",
             gp_faults - faults, apic_bit, fired - before);
    report("disabled apic: no registers, no cpuid bit, no timer",
          gp_faults == faults + 2 && !apic_bit && fired == before, detail);

    wrmsr(MSR_IA32_APIC_BASE, (base & ~APIC_BASE_X2APIC) | APIC_BASE_ENABLE);
    uint32_t svr = *(volatile uint32_t *)(XAPIC_PAGE + APIC_REG_SVR);
    uint32_t lvt = *(volatile uint32_t *)(XAPIC_PAGE + APIC_REG_LVT_TIMER);
    snprintf(detail, sizeof(detail), "(svr 0x%x, lvt timer 0x%x, cpuid apic %d)", svr, lvt,
             !!(cpuid(1, 0).edx & CPUID1_EDX_APIC));
    report("re-enabled apic is in its reset state", svr == 0xff && lvt == 0x10000 &&
                                                        (cpuid(1, 0).edx & CPUID1_EDX_APIC),
          detail);
    lapic_init_cpu();
    xapic_one_shot();
}

/* timer_irq_latency: cycles from a TSC deadline to the guest's handler,
 * the vCPU halted meanwhile (the hypervisor wakes it). */
static void bench(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_X2APIC);
    lapic_init_cpu();
    lapic_write(APIC_REG_LVT_TIMER, LVT_TSC_DEADLINE | TIMER_VECTOR);
    static uint64_t samples[ACCESS_SAMPLES];
    for (int i = 0; i < BENCH_SAMPLES; i++)
        samples[i] = tsc_deadline_once();
    bench_report("timer_irq_latency", median(samples, BENCH_SAMPLES), "ticks");

    irq_enable();
    for (int i = 0; i < ACCESS_SAMPLES; i++) {
        eoi_cycles = 0;
        wrmsr(X2APIC_MSR_SELF_IPI, EOI_VECTOR);
        while (!eoi_cycles)
            cpu_relax();
        samples[i] = eoi_cycles;
    }
    bench_report("eoi_exit", median(samples, ACCESS_SAMPLES), "ticks");

    for (int i = 0; i < ACCESS_SAMPLES; i++) {
        uint64_t t0 = rdtsc();
        __asm__ volatile("mov %0, %%cr8" ::"r"((uint64_t)(i & 1)));
        samples[i] = rdtsc() - t0;
    }
    bench_report("tpr_access", median(samples, ACCESS_SAMPLES), "ticks");

    for (int i = 0; i < ACCESS_SAMPLES; i++) {
        arrived_at = 0;
        uint64_t t0 = rdtsc();
        wrmsr(X2APIC_MSR_SELF_IPI, ARRIVAL_VECTOR);
        while (!arrived_at)
            cpu_relax();
        samples[i] = arrived_at - t0;
    }
    bench_report("self_ipi_x2apic", median(samples, ACCESS_SAMPLES), "ticks");

    /* The same IPI sent with interrupts off: from the STI that lets it in
     * to its handler (a hypervisor without virtual-interrupt delivery
     * waits for the interrupt window). */
    for (int i = 0; i < ACCESS_SAMPLES; i++) {
        arrived_at = 0;
        irq_disable();
        wrmsr(X2APIC_MSR_SELF_IPI, ARRIVAL_VECTOR);
        uint64_t t0 = rdtsc();
        irq_enable();
        while (!arrived_at)
            cpu_relax();
        samples[i] = arrived_at - t0;
    }
    bench_report("self_ipi_masked", median(samples, ACCESS_SAMPLES), "ticks");
    irq_disable();
}

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    (void)vcpu;
    (void)vcpus;
    guest_interrupts_init(false);
    interrupt_register(TIMER_VECTOR, timer_interrupt);
    interrupt_register(SELF_VECTOR, self_interrupt);
    interrupt_register(EOI_VECTOR, eoi_interrupt);
    interrupt_register(ARRIVAL_VECTOR, arrival_interrupt);
    interrupt_register(13, general_protection);
    if (cmdline_has(cmdline, "bench")) {
        bench();
        return 0;
    }
    char detail[80];
    snprintf(detail, sizeof(detail), "(version 0x%x, id 0x%x)", lapic_read(APIC_REG_VERSION),
             lapic_read(APIC_REG_ID));
    report("xapic version and id", (lapic_read(APIC_REG_VERSION) & 0xff) == 0x14 &&
                                      lapic_read(APIC_REG_ID) == 0, detail);
    xapic_periodic();
    xapic_one_shot();
    xapic_mode_change();
    x2apic_checks();
    disable_and_enable();
    printf("apic_timer: done, %d failures\n", failures);
    return failures;
}
