/* Writes its memory at a known rate, for the monitor's dirty_rate
 * (tests/system/dirty_rate.t). Command line "RATE SECONDS": first reads
 * every page it will write (mapping them without dirtying them), then
 * writes RATE distinct 4 KiB pages per second of TSC time for SECONDS
 * seconds, each page once, paced by the TSC, and ends with status 0. */
#include "guests/runtime/guest.h"

#define REGION_START (8ull << 20)       /* above the image, stack and tables */
#define PAGE 4096ull

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    (void)vcpu;
    (void)vcpus;
    uint64_t rate = cmdline_number(cmdline_word(cmdline, 0), 500);
    uint64_t seconds = cmdline_number(cmdline_word(cmdline, 1), 6);
    uint64_t hz = cpuid(0x15, 0).ecx;      /* the TSC's rate as vmxvisor says it */
    if (!hz)
        hz = 50000000;
    uint64_t pages = rate * seconds;
    uint64_t sum = 0;
    for (uint64_t p = 0; p < pages; p++)
        sum += *(volatile uint64_t *)(REGION_START + p * PAGE);
    printf("dirty_writer: %lu pages mapped (sum %lu), writing %lu pages/s for %lu s\n", pages,
           sum, rate, seconds);
    uint64_t start = rdtsc(), interval = hz / rate;
    for (uint64_t p = 0; p < pages; p++) {
        while (rdtsc() - start < p * interval)
            cpu_relax();
        *(volatile uint64_t *)(REGION_START + p * PAGE) = p + 1;
    }
    printf("dirty_writer: done\n");
    return 0;
}
