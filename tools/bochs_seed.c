/*
 * bochs_seed.so: preloaded into Bochs by tools/vmxrun (--seed). Bochs seeds
 * the C library's generator from the clock when it starts, and its RDRAND
 * and RDSEED return that generator's bytes: a guest's randomness (Linux's
 * KASLR offsets, its entropy pool) and with it everything that depends on
 * it, down to lock contention and a boot's length, would follow the second
 * a run starts in. With VMXRUN_BOCHS_SEED set, the seed is that number
 * instead, and a run is the same every time. Everything else in a run is
 * already fixed (the emulated clock starts at vmxrun's time0 and advances
 * one tick per instruction).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>

void srand(unsigned seed)
{
    const char *fixed = getenv("VMXRUN_BOCHS_SEED");
    if (fixed)
        seed = (unsigned)strtoul(fixed, NULL, 10);
    void (*libc_srand)(unsigned) = (void (*)(unsigned))dlsym(RTLD_NEXT, "srand");
    libc_srand(seed);
}
