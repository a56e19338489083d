/* Round-trip cost of the simplest exits, measured by the guest with RDTSC
 * around one exiting instruction; the median of many runs is reported.
 * "twice" on the command line runs each loop twice (the second pass is
 * the one reported): two runs that differ only in it differ by exactly
 * ITERATIONS exits of each kind measured, which is how bench/run counts
 * what one exit costs the hypervisors underneath. "trace" adds one more exit
 * of each kind after its loop, bracketed by Bochs' magic breakpoint (XCHG
 * BX,BX, a no-op elsewhere): vmxvisor --trace records every instruction of
 * that round trip, at every level (bench/run --profile, tools/exit-profile).
 * The measured loops are the same with it or without. */
#include "guests/runtime/guest.h"

#define ITERATIONS 2000
#define UART_SCRATCH_PORT 0x3ff     /* an emulated device register with no side effect */
#define HC_UNKNOWN 0                /* answered at once with -ENOSYS */

static uint64_t samples[ITERATIONS];
static int passes = 1;
static bool tracing;

/* One more exit of a kind, between the marks that start and stop Bochs'
 * trace; after an unmarked one, so that it finds the hypervisors as the
 * loop's exits do (the last exit the same kind, as changed fields cost). */
static void traced(void (*exit)(void))
{
    if (!tracing)
        return;
    exit();
    __asm__ volatile("xchg %%bx, %%bx" ::: "memory");
    exit();
    __asm__ volatile("xchg %%bx, %%bx" ::: "memory");
}

static void cpuid_once(void)
{
    cpuid(0, 0);
}

static void vmcall_once(void)
{
    hypercall(HC_UNKNOWN, 0, 0);
}

static void pio_once(void)
{
    outb(UART_SCRATCH_PORT, 0);
}

static void measure_cpuid(void)
{
    for (int pass = 0; pass < passes; pass++) {
        for (int i = 0; i < ITERATIONS; i++) {
            uint64_t t0 = rdtsc();
            cpuid(0, 0);
            samples[i] = rdtsc() - t0;
        }
    }
    bench_report("cpuid_exit", median(samples, ITERATIONS), "ticks");
    traced(cpuid_once);
}

static void measure_vmcall(void)
{
    for (int pass = 0; pass < passes; pass++) {
        for (int i = 0; i < ITERATIONS; i++) {
            uint64_t t0 = rdtsc();
            hypercall(HC_UNKNOWN, 0, 0);
            samples[i] = rdtsc() - t0;
        }
    }
    bench_report("vmcall_exit", median(samples, ITERATIONS), "ticks");
    traced(vmcall_once);
}

static void measure_pio(void)
{
    for (int pass = 0; pass < passes; pass++) {
        for (int i = 0; i < ITERATIONS; i++) {
            uint64_t t0 = rdtsc();
            outb(UART_SCRATCH_PORT, (uint8_t)i);
            samples[i] = rdtsc() - t0;
        }
    }
    bench_report("pio_exit", median(samples, ITERATIONS), "ticks");
    traced(pio_once);
}

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    (void)vcpu;
    (void)vcpus;
    if (cmdline_has(cmdline, "twice"))
        passes = 2;
    tracing = cmdline_has(cmdline, "trace");
    bool cpuid_exit = cmdline_has(cmdline, "cpuid_exit");
    bool vmcall_exit = cmdline_has(cmdline, "vmcall_exit"), pio_exit = cmdline_has(cmdline, "pio_exit");
    bool all = !cpuid_exit && !vmcall_exit && !pio_exit;
    if (all || cpuid_exit)
        measure_cpuid();
    if (all || vmcall_exit)
        measure_vmcall();
    if (all || pio_exit)
        measure_pio();
    return 0;
}
