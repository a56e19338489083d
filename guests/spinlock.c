/* An overcommitted spinlock workload (issue: PAUSE-loop exiting): every vCPU
 * works on its own for a while (about 3000 cycles), then takes a ticket
 * spinlock, runs a short critical section (about 100), releases it, and
 * counts, for a fixed window (the command line's first number, in millions
 * of TSC cycles; default 20; the second number, if any, sets the work
 * outside the lock in loop iterations of about 3 cycles, default 1000). Waiters spin with PAUSE, as Linux does, so a
 * preempted lock holder makes them spin until PLE or the scheduler steps in.
 *
 * vCPU 0 reports when all are done:
 *   spinlock: N vcpus, OPS ops in TICKS ticks, THROUGHPUT ops/Mtick
 *   spinlock: wait cycles median M p90 P p99 Q max X
 * and checks mutual exclusion: a counter updated non-atomically inside the
 * critical section must equal the number of critical sections. The status is
 * 0 if it does and every vCPU got the lock, 1 otherwise. */
#include "guests/runtime/guest.h"

#define MAX_VCPUS        16
#define SAMPLES_PER_VCPU 2048
#define CS_WORK          32         /* iterations of the critical section's work */
#define THINK_WORK       1000       /* default iterations of the work outside it */

static volatile uint32_t next_ticket, now_serving;
static volatile uint64_t protected_count;      /* only touched with the lock held */
static volatile uint32_t arrived, finished;
static volatile uint64_t start, deadline, last_finish;
static uint64_t ops[MAX_VCPUS];
static uint64_t waits[MAX_VCPUS][SAMPLES_PER_VCPU];
static uint32_t wait_count[MAX_VCPUS];
static uint64_t merged[MAX_VCPUS * SAMPLES_PER_VCPU];

static uint64_t lock(void)
{
    uint64_t t0 = rdtsc();
    uint32_t ticket = __atomic_fetch_add(&next_ticket, 1, __ATOMIC_ACQUIRE);
    while (__atomic_load_n(&now_serving, __ATOMIC_ACQUIRE) != ticket)
        cpu_relax();        /* PAUSE */
    return rdtsc() - t0;
}

static void unlock(void)
{
    __atomic_store_n(&now_serving, now_serving + 1, __ATOMIC_RELEASE);
}

static uint64_t think_work = THINK_WORK;

static void think(void)
{
    uint64_t v = 0;
    for (uint64_t i = 0; i < think_work; i++)
        __asm__ volatile("" : "+r"(v));
}

static void critical_section(void)
{
    uint64_t v = protected_count;
    for (int i = 0; i < CS_WORK; i++)
        __asm__ volatile("" : "+r"(v));
    protected_count = v + 1;
}

/* Prints the figures; whether mutual exclusion held and every vCPU got in. */
static bool report(uint32_t vcpus)
{
    uint64_t total = 0, samples = 0;
    for (uint32_t v = 0; v < vcpus; v++) {
        total += ops[v];
        for (uint32_t i = 0; i < wait_count[v]; i++)
            merged[samples++] = waits[v][i];
    }
    uint64_t elapsed = last_finish - start;
    printf("spinlock: %u vcpus, %lu ops in %lu ticks, %lu ops/Mtick\n", vcpus, total, elapsed,
           elapsed ? total * 1000000 / elapsed : 0);
    if (samples) {
        median(merged, samples);        /* sorts */
        printf("spinlock: wait cycles (the last %u of each vCPU) median %lu p90 %lu p99 %lu "
               "max %lu\n", SAMPLES_PER_VCPU, merged[samples / 2], merged[samples * 9 / 10],
               merged[samples * 99 / 100], merged[samples - 1]);
    }
    for (uint32_t v = 0; v < vcpus; v++)
        printf("spinlock: vcpu %u ops %lu\n", v, ops[v]);
    bool exclusive = protected_count == total;
    printf("spinlock: mutual exclusion %s (%lu sections, counter %lu)\n",
           exclusive ? "held" : "BROKEN", total, protected_count);
    bool everyone = true;
    for (uint32_t v = 0; v < vcpus; v++)
        everyone &= ops[v] > 0;
    return exclusive && everyone;
}

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    if (vcpus > MAX_VCPUS)
        return 1;
    irq_enable();       /* as an OS runs: kicks from the hypervisor exit at once */
    think_work = cmdline_number(cmdline_word(cmdline, 1), THINK_WORK);
    if (__atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST) == vcpus) {
        start = rdtsc();
        deadline = start + cmdline_number(cmdline, 20) * 1000000;
    }
    while (!deadline)
        cpu_relax();
    uint64_t n = 0;
    while (rdtsc() < deadline) {
        think();
        uint64_t waited = lock();
        critical_section();
        unlock();
        waits[vcpu][n % SAMPLES_PER_VCPU] = waited;     /* the latest ones */
        n++;
    }
    ops[vcpu] = n;
    wait_count[vcpu] = n < SAMPLES_PER_VCPU ? (uint32_t)n : SAMPLES_PER_VCPU;
    uint64_t now = rdtsc();
    uint64_t seen = last_finish;
    while (now > seen && !__atomic_compare_exchange_n(&last_finish, &seen, now, false,
                                                      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        ;
    __atomic_add_fetch(&finished, 1, __ATOMIC_SEQ_CST);
    if (vcpu != 0)
        cpu_halt_forever();
    while (finished < vcpus)
        cpu_relax();
    return report(vcpus) ? 0 : 1;
}
