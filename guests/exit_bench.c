/* Round-trip cost of the simplest exits, measured by the guest with RDTSC
 * around one exiting instruction; the median of many runs is reported.
 * "twice" on the command line runs each loop twice (the second pass is
 * the one reported): two runs that differ only in it differ by exactly
 * ITERATIONS exits of each kind measured, which is how bench/run counts
 * what one exit costs the hypervisors underneath. */
#include "guests/runtime/guest.h"

#define ITERATIONS 2000
#define UART_SCRATCH_PORT 0x3ff     /* an emulated device register with no side effect */
#define HC_UNKNOWN 0                /* answered at once with -ENOSYS */

static uint64_t samples[ITERATIONS];
static int passes = 1;

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
}

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    (void)vcpu;
    (void)vcpus;
    if (cmdline_has(cmdline, "twice"))
        passes = 2;
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
