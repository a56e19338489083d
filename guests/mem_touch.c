/* Touches guest RAM for the first time and measures each first touch (the
 * hypervisor's TDP fault path), then checks every touched page kept its
 * contents. Command line: "4k" strides 4 KiB (run it with hugepages = off),
 * "2m" strides 2 MiB; the figure is reported as ept_fault_4k / ept_fault_2m.
 * "fill N" instead writes every 4 KiB page from 8 MiB up to N MiB (a VM
 * using all its memory; with "hold" it then computes for about 4 s of TSC
 * before it ends), "late" first computes for about 2 s (a VM that touches
 * its memory after others have). */
#include "guests/runtime/guest.h"

#define REGION_START (8ull << 20)       /* above the image, stack and tables */
#define MAX_SAMPLES  4096

static uint64_t samples[MAX_SAMPLES];

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    (void)vcpu;
    (void)vcpus;
    bool huge = cmdline_has(cmdline, "2m");
    uint64_t stride = huge ? 2ull << 20 : 4096;
    uint64_t region_end = REGION_START + (huge ? 48ull << 20 : 8ull << 20);
    if (cmdline_has(cmdline, "late")) {
        uint64_t start = rdtsc();
        while (rdtsc() - start < 100000000ull)
            cpu_relax();
    }
    if (cmdline_has(cmdline, "fill")) {
        const char *n = cmdline_word(cmdline, 1);
        region_end = cmdline_number(n, 16) << 20;
        for (uint64_t a = REGION_START; a < region_end; a += 4096)
            *(volatile uint64_t *)a = a;
        int bad = 0;
        for (uint64_t a = REGION_START; a < region_end; a += 4096)
            bad += *(volatile uint64_t *)a != a;
        printf("mem_touch: filled %lu MiB, %d bad page(s)\n", (unsigned long)((region_end - REGION_START) >> 20), bad);
        if (cmdline_has(cmdline, "hold")) {     /* keeps it for about 4 s */
            uint64_t start = rdtsc();
            while (rdtsc() - start < 200000000ull)
                cpu_relax();
        }
        return bad;
    }
    size_t n = 0;
    for (uint64_t a = REGION_START; a < region_end && n < MAX_SAMPLES; a += stride, n++) {
        volatile uint64_t *p = (volatile uint64_t *)a;
        uint64_t t0 = rdtsc();
        *p = a;
        samples[n] = rdtsc() - t0;
    }
    int bad = 0;
    for (uint64_t a = REGION_START; a < region_end; a += stride)
        bad += *(volatile uint64_t *)a != a;
    printf("mem_touch: %zu first touches, %d bad page(s)\n", n, bad);
    bench_report(huge ? "ept_fault_2m" : "ept_fault_4k", median(samples, n), "ticks");
    return bad ? 1 : 0;
}
