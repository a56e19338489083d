/* The processor's CPUID answers, kept (arch/cpuid_cache.h). */
#include "arch/cpuid_cache.h"

#define BASIC_LEAVES    0x21u       /* 0 .. 0x20 */
#define SUBLEAVES       8u          /* leaf 4 has one per cache level, 7 up to 3, ... */
#define EXTENDED_LEAVES 9u          /* 0x80000000 .. 0x80000008 */
#define EXTENDED_BASE   0x80000000u

static struct cpuid_regs basic[BASIC_LEAVES][SUBLEAVES];
static struct cpuid_regs extended[EXTENDED_LEAVES];
static uint32_t basic_max, extended_max;
static bool ready;

static bool kept(uint32_t leaf)
{
    return leaf != 0xb && leaf != 0xd && leaf != 0x1f;
}

void cpuid_cache_init(void)
{
    basic_max = cpuid(0, 0).eax;
    extended_max = cpuid(EXTENDED_BASE, 0).eax;
    for (uint32_t leaf = 0; leaf < BASIC_LEAVES && leaf <= basic_max; leaf++)
        if (kept(leaf))
            for (uint32_t sub = 0; sub < SUBLEAVES; sub++)
                basic[leaf][sub] = cpuid(leaf, sub);
    for (uint32_t i = 0; i < EXTENDED_LEAVES && EXTENDED_BASE + i <= extended_max; i++)
        extended[i] = cpuid(EXTENDED_BASE + i, 0);
    ready = true;
}

struct cpuid_regs cpuid_cached(uint32_t leaf, uint32_t subleaf)
{
    if (ready) {
        if (leaf < BASIC_LEAVES && leaf <= basic_max && subleaf < SUBLEAVES && kept(leaf))
            return basic[leaf][subleaf];
        /* The extended leaves up to 0x80000008 have no subleaves. */
        if (leaf >= EXTENDED_BASE && leaf - EXTENDED_BASE < EXTENDED_LEAVES && leaf <= extended_max)
            return extended[leaf - EXTENDED_BASE];
    }
    return cpuid(leaf, subleaf);
}
