/* The processor's CPUID answers, kept (arch/cpuid_cache.h). */
#include "arch/cpuid_cache.h"

#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID_MAX_EXTENDED    0x80000000u
#define CPUID_ADDRESS_SIZES   0x80000008u
#define MAXPHYADDR_DEFAULT    36    /* SDM: the width when CPUID does not say */

struct cpuid_regs cpuid_cache[CPUID_CACHE_BASIC_LEAVES][CPUID_CACHE_SUBLEAVES];
uint32_t cpuid_cache_leaves;
unsigned cpu_phys_addr_width = MAXPHYADDR_DEFAULT;

void cpuid_cache_init(void)
{
    if (cpuid(CPUID_MAX_EXTENDED, 0).eax >= CPUID_ADDRESS_SIZES)
        cpu_phys_addr_width = cpuid(CPUID_ADDRESS_SIZES, 0).eax & 0xff;
    if (!(cpuid(1, 0).ecx & CPUID1_ECX_HYPERVISOR))
        return;
    uint32_t max = cpuid(0, 0).eax;
    uint32_t leaves = max < CPUID_CACHE_BASIC_LEAVES ? max + 1 : CPUID_CACHE_BASIC_LEAVES;
    for (uint32_t leaf = 0; leaf < leaves; leaf++)
        if (CPUID_CACHE_KEPT >> leaf & 1)
            for (uint32_t sub = 0; sub < CPUID_CACHE_SUBLEAVES; sub++)
                cpuid_cache[leaf][sub] = cpuid(leaf, sub);
    cpuid_cache_leaves = leaves;
}
