/*
 * lockbench: lock contention and cross-CPU waits in a Linux guest, the way
 * common benchmarks produce them, to judge PLE and the spin guard on a
 * real kernel (bench/run's linux_* figures). One thread per online CPU (at
 * least two) runs each workload for the same stretch of guest time:
 *
 *   mutex   one pthread mutex around a short critical section: contended,
 *           it is a futex, so waiters sleep in the kernel and wake through
 *           its hash-bucket spinlocks and IPIs (a mutex-heavy server);
 *   pipe    pairs of threads passing a byte back and forth over two pipes,
 *           hackbench's pattern: wake-ups across CPUs, the scheduler's
 *           run-queue locks;
 *   tlb     each thread maps a page, touches it and unmaps it while its
 *           siblings run: every munmap shoots down the TLBs of the CPUs
 *           running the process, an IPI it waits for with PAUSE (Linux's
 *           smp_call_function_many);
 *   ticket  a user-space ticket lock, waiters spinning with PAUSE (a
 *           spinning database latch);
 *   kmutex  reads of one file all threads share: its position lock, a
 *           kernel mutex whose waiters spin on its owner (Linux's
 *           optimistic spinning; a file server's shared log);
 *   rusage  getrusage of the whole process: a kernel spinlock (the
 *           signal-handling lock) held while it adds up every thread.
 *
 * Each prints "lockbench: NAME N ops/s (T threads, rounds R1 R2 ...)":
 * operations of all threads per second of guest time (CLOCK_MONOTONIC,
 * which runs on while a vCPU waits for a CPU: that is the cost being
 * measured), the median of its rounds. Under overcommit one run's figure
 * hinges on where the host's slices happen to end; rounds, the workloads
 * taking turns, sample more of them in one boot.
 *
 * Usage: lockbench [SECONDS [UPTIME [ROUNDS]]]: SECONDS per workload and
 * round (default 1); with UPTIME, start once the guest's uptime reaches it,
 * so that two VMs booted together contend for the CPUs at the same time;
 * ROUNDS (default 1, at most 15).
 *
 * With UPTIME the rounds also keep to a timetable: each workload's round
 * starts SLOT_SPACING x SECONDS after the previous one began, by uptime.
 * Back to back, two VMs drift apart by their rounds' differing set-up and
 * join times, until one VM's tlb round runs beside the other's ticket
 * round, and which pairs meet depends on the run: the sum of the two VMs'
 * figures then moves by more than the PLE modes differ. On the timetable
 * both run the same workload throughout; the summary line says how late the
 * latest round started.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define WORK_INSIDE 40      /* loop iterations in a critical section */
#define WORK_OUTSIDE 200    /* and between two of them */

/* One cache line per thread: the counters do not contend themselves. */
static struct worker {
    _Alignas(64) uint64_t ops;
    int index;
} workers[MAX_THREADS];
static atomic_bool stop;
static int thread_count;

static volatile uint64_t shared_data[8];

static void cpu_relax(void)
{
    __asm__ volatile("pause" ::: "memory");
}

/* Work that the compiler cannot drop: `n` dependent updates of `data`. */
static void work(volatile uint64_t *data, int n)
{
    for (int i = 0; i < n; i++)
        data[i & 7] += (uint64_t)i;
}

static double clock_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until_uptime(double uptime)
{
    for (double now; (now = clock_seconds(CLOCK_BOOTTIME)) < uptime;) {
        double left = uptime - now;
        struct timespec wait = { (time_t)left, (long)((left - (time_t)left) * 1e9) };
        nanosleep(&wait, NULL);
    }
}

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;

static void *mutex_thread(void *arg)
{
    struct worker *w = arg;
    volatile uint64_t mine[8] = { 0 };
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        pthread_mutex_lock(&mutex);
        work(shared_data, WORK_INSIDE);
        pthread_mutex_unlock(&mutex);
        work(mine, WORK_OUTSIDE);
        w->ops++;
    }
    return NULL;
}

/* A pair's two pipes: the even thread of the pair writes `ping` and reads
 * `pong`; when told to stop it closes its end, which ends its partner. */
struct pipe_pair {
    int ping[2], pong[2];
};
static struct pipe_pair pairs[MAX_THREADS / 2];

static void *pipe_thread(void *arg)
{
    struct worker *w = arg;
    struct pipe_pair *p = &pairs[w->index / 2];
    char byte = 0;
    if (w->index % 2 == 0) {
        while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
            if (write(p->ping[1], &byte, 1) != 1 || read(p->pong[0], &byte, 1) != 1)
                break;
            w->ops++;
        }
        close(p->ping[1]);
    } else {
        while (read(p->ping[0], &byte, 1) == 1 && write(p->pong[1], &byte, 1) == 1)
            w->ops++;
    }
    return NULL;
}

static void *tlb_thread(void *arg)
{
    struct worker *w = arg;
    long page = sysconf(_SC_PAGESIZE);
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        volatile char *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            break;
        p[0] = 1;
        munmap((void *)p, (size_t)page);
        w->ops++;
    }
    return NULL;
}

static struct {
    _Alignas(64) atomic_uint next;
    _Alignas(64) atomic_uint serving;
} ticket_lock;

static void *ticket_thread(void *arg)
{
    struct worker *w = arg;
    volatile uint64_t mine[8] = { 0 };
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        unsigned ticket = atomic_fetch_add_explicit(&ticket_lock.next, 1, memory_order_relaxed);
        while (atomic_load_explicit(&ticket_lock.serving, memory_order_acquire) != ticket)
            cpu_relax();
        work(shared_data, WORK_INSIDE);
        atomic_store_explicit(&ticket_lock.serving, ticket + 1, memory_order_release);
        work(mine, WORK_OUTSIDE);
        w->ops++;
    }
    return NULL;
}

/* A kernel spinlock: getrusage(RUSAGE_SELF) adds up every thread's times
 * under the process's sighand->siglock. */
static void *rusage_thread(void *arg)
{
    struct worker *w = arg;
    struct rusage usage;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        getrusage(RUSAGE_SELF, &usage);
        w->ops++;
    }
    return NULL;
}

/* A kernel mutex: reads of one shared open file take its f_pos_lock,
 * whose waiters spin while its owner runs (or seems to: a guest without
 * paravirtual hints cannot tell a preempted vCPU). */
static int shared_fd = -1;
static void *kmutex_thread(void *arg)
{
    struct worker *w = arg;
    char buf[256];
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        if (lseek(shared_fd, 0, SEEK_SET) < 0 || read(shared_fd, buf, sizeof buf) < 0)
            break;
        w->ops++;
    }
    return NULL;
}

static const struct {
    const char *name;
    void *(*thread)(void *);
} workloads[] = {
    { "mutex", mutex_thread },
    { "pipe", pipe_thread },
    { "tlb", tlb_thread },
    { "ticket", ticket_thread },
    { "kmutex", kmutex_thread },
    { "rusage", rusage_thread },
};

#define MAX_ROUNDS 15
/* A timetabled round's slot, in rounds' lengths: room for creating and
 * joining the threads of a round, whose last thread may wait for a slice. */
#define SLOT_SPACING 1.25

/* One round of a workload: its operations per second, or -1. */
static double run(const char *name, void *(*thread)(void *), double seconds)
{
    pthread_t tids[MAX_THREADS];
    for (int i = 0; i < thread_count; i++)
        workers[i] = (struct worker){ .index = i };
    atomic_store(&stop, false);
    if (thread == pipe_thread)
        for (int i = 0; i < thread_count / 2; i++)
            if (pipe(pairs[i].ping) || pipe(pairs[i].pong)) {
                fprintf(stderr, "lockbench: pipe: %s\n", strerror(errno));
                return -1;
            }
    double start = clock_seconds(CLOCK_MONOTONIC);
    for (int i = 0; i < thread_count; i++) {
        int error = pthread_create(&tids[i], NULL, thread, &workers[i]);
        if (error) {
            fprintf(stderr, "lockbench: %s: thread %d: %s\n", name, i, strerror(error));
            atomic_store(&stop, true);
            for (int j = 0; j < i; j++)
                pthread_join(tids[j], NULL);
            return -1;
        }
    }
    struct timespec wait = { (time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9) };
    while (nanosleep(&wait, &wait) && errno == EINTR)
        ;
    atomic_store(&stop, true);
    double elapsed = clock_seconds(CLOCK_MONOTONIC) - start;
    uint64_t total = 0;
    for (int i = 0; i < thread_count; i++) {
        pthread_join(tids[i], NULL);
        total += workers[i].ops;
    }
    if (thread == pipe_thread)
        for (int i = 0; i < thread_count / 2; i++) {
            close(pairs[i].ping[0]);
            close(pairs[i].pong[0]);
            close(pairs[i].pong[1]);
        }
    return (double)total / elapsed;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 1.0;
    double start_uptime = argc > 2 ? strtod(argv[2], NULL) : 0.0;
    long rounds = argc > 3 ? strtol(argv[3], NULL, 10) : 1;
    if (!(seconds > 0 && seconds <= 3600) || start_uptime < 0 || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: lockbench [SECONDS [UPTIME [ROUNDS]]] (SECONDS in (0, 3600], "
                        "ROUNDS 1..%d)\n", MAX_ROUNDS);
        return 2;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    thread_count = cpus < 2 ? 2 : cpus > MAX_THREADS ? MAX_THREADS : (int)cpus;
    thread_count &= ~1;     /* the pipe workload runs in pairs */
    static const char filler[4096];
    shared_fd = open("/tmp/lockbench.data", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (shared_fd < 0 || write(shared_fd, filler, sizeof filler) != sizeof filler) {
        fprintf(stderr, "lockbench: /tmp/lockbench.data: %s\n", strerror(errno));
        return 1;
    }
    /* Two VMs in time keep the same timetable to the instant; one already
     * past UPTIME keeps its own from now. */
    bool timetabled = start_uptime > 0;
    double now = clock_seconds(CLOCK_BOOTTIME);
    double timetable_start = now < start_uptime ? start_uptime : now;
    sleep_until_uptime(timetable_start);
    printf("lockbench: start at uptime %.2f\n", clock_seconds(CLOCK_BOOTTIME));
    enum { WORKLOADS = sizeof(workloads) / sizeof(workloads[0]) };
    static double rates[WORKLOADS][MAX_ROUNDS];
    double latest_start = 0;
    for (long r = 0; r < rounds; r++)
        for (size_t i = 0; i < WORKLOADS; i++) {
            if (timetabled) {
                double due = timetable_start + (double)(r * WORKLOADS + i) * seconds * SLOT_SPACING;
                double late = clock_seconds(CLOCK_BOOTTIME) - due;
                if (late > latest_start)
                    latest_start = late;
                sleep_until_uptime(due);
            }
            if ((rates[i][r] = run(workloads[i].name, workloads[i].thread, seconds)) < 0)
                return 1;
        }
    if (timetabled)
        printf("lockbench: timetable: a round every %.3f s from uptime %.2f, the latest %.3f s late\n",
               seconds * SLOT_SPACING, timetable_start, latest_start);
    for (size_t i = 0; i < WORKLOADS; i++) {
        char each[MAX_ROUNDS * 16] = "";
        for (long r = 0; r < rounds; r++)
            snprintf(each + strlen(each), sizeof(each) - strlen(each), " %.0f", rates[i][r]);
        qsort(rates[i], (size_t)rounds, sizeof(double), compare_doubles);
        /* The median; of an even number, the lower middle one. */
        printf("lockbench: %s %.0f ops/s (%d threads, rounds%s)\n", workloads[i].name,
               rates[i][(rounds - 1) / 2], thread_count, each);
    }
    return 0;
}
