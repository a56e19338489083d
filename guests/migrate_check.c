/* Guest state across migrations: each round loads r8-r15 and xmm0-xmm7 with
 * values derived from a seed, spins (the hypervisor may preempt or move the
 * vCPU meanwhile), stores them back and compares; a 64 KiB buffer keeps a
 * pattern checked every round. Runs for the window on its command line (in
 * millions of TSC cycles) and reports rounds and mismatches. */
#include "guests/runtime/guest.h"

#define BUFFER_WORDS (64 * 1024 / 8)
#define SPINS 2000

static uint64_t buffer[BUFFER_WORDS];

static unsigned check_registers(uint64_t seed)
{
    uint64_t out[16];
    __asm__ volatile(
        "mov %[seed], %%r8\n\t"
        "lea 1(%%r8), %%r9\n\t"
        "lea 2(%%r8), %%r10\n\t"
        "lea 3(%%r8), %%r11\n\t"
        "lea 4(%%r8), %%r12\n\t"
        "lea 5(%%r8), %%r13\n\t"
        "lea 6(%%r8), %%r14\n\t"
        "lea 7(%%r8), %%r15\n\t"
        "movq %%r15, %%xmm0\n\t"
        "movq %%r14, %%xmm1\n\t"
        "movq %%r13, %%xmm2\n\t"
        "movq %%r12, %%xmm3\n\t"
        "movq %%r11, %%xmm4\n\t"
        "movq %%r10, %%xmm5\n\t"
        "movq %%r9, %%xmm6\n\t"
        "movq %%r8, %%xmm7\n\t"
        "mov %[spins], %%ecx\n"
        "1: pause\n\t"
        "dec %%ecx\n\t"
        "jnz 1b\n\t"
        "mov %%r8, 0(%[out])\n\t"
        "mov %%r9, 8(%[out])\n\t"
        "mov %%r10, 16(%[out])\n\t"
        "mov %%r11, 24(%[out])\n\t"
        "mov %%r12, 32(%[out])\n\t"
        "mov %%r13, 40(%[out])\n\t"
        "mov %%r14, 48(%[out])\n\t"
        "mov %%r15, 56(%[out])\n\t"
        "movq %%xmm0, 64(%[out])\n\t"
        "movq %%xmm1, 72(%[out])\n\t"
        "movq %%xmm2, 80(%[out])\n\t"
        "movq %%xmm3, 88(%[out])\n\t"
        "movq %%xmm4, 96(%[out])\n\t"
        "movq %%xmm5, 104(%[out])\n\t"
        "movq %%xmm6, 112(%[out])\n\t"
        "movq %%xmm7, 120(%[out])\n\t"
        :: [seed] "r"(seed), [spins] "i"(SPINS), [out] "r"(out)
        /* xmm0-7 are not listed: guests are built with -mgeneral-regs-only,
         * so the compiler keeps nothing there (and refuses them as clobbers). */
        : "rcx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "memory", "cc");
    unsigned bad = 0;
    for (unsigned i = 0; i < 8; i++)
        bad += (out[i] != seed + i) + (out[8 + i] != seed + 7 - i);
    return bad;
}

static unsigned check_buffer(uint64_t round)
{
    unsigned bad = 0;
    for (unsigned i = 0; i < BUFFER_WORDS; i += 64) {
        bad += buffer[i] != round * 0x9e3779b97f4a7c15ull + i;
        buffer[i] = (round + 1) * 0x9e3779b97f4a7c15ull + i;
    }
    return bad;
}

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    (void)vcpus;
    uint64_t deadline = rdtsc() + cmdline_number(cmdline, 100) * 1000000;
    for (unsigned i = 0; i < BUFFER_WORDS; i += 64)
        buffer[i] = 0 * 0x9e3779b97f4a7c15ull + i;
    uint64_t rounds = 0, mismatches = 0;
    /* Interrupts on, as an OS runs: external interrupts then exit to the
     * hypervisor at once (none reaches this guest, which has no IDT). Bochs
     * 2.7 does not exit on them while RFLAGS.IF = 0, although SDM Vol. 3C
     * 26.3 says it should, so a kick would wait for the time slice. */
    __asm__ volatile("sti");
    while (rdtsc() < deadline) {
        mismatches += check_registers(0x1000 * rounds + vcpu);
        mismatches += check_buffer(rounds);
        rounds++;
    }
    printf("migrate_check: vcpu %u: %lu rounds, %lu mismatches\n", vcpu, rounds, mismatches);
    return mismatches ? 1 : 0;
}
