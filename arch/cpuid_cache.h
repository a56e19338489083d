#ifndef ARCH_CPUID_CACHE_H
#define ARCH_CPUID_CACHE_H
/*
 * The processor's CPUID answers, read once at start-up when this
 * hypervisor is itself a VM (CPUID.1:ECX[31], vmxvisor as L1): it pays a
 * VM exit to its own hypervisor for every CPUID it executes, and each
 * CPUID exit of its guests would pay one more. The basic leaves the exit
 * handler starts from do not change (the processor's features, caches and
 * limits), so they are kept. Not kept: leaf 0xD, whose sizes follow the
 * XCR0 of the moment, and the topology leaves 0xB and 0x1F, whose answer
 * names the CPU executing CPUID (the guests get their own,
 * exits/exit_cpuid.c); leaf 1's initial APIC ID (EBX[31:24]) is the BSP's,
 * which callers replace. On bare hardware CPUID is left to the processor:
 * there is no exit to save.
 */
#include <stdint.h>
#include <stdbool.h>
#include "arch/cpu.h"

/* Reads the answers if running in a VM, and the address width always (on
 * the BSP, after CR4 is final: leaf 1 reports CR4.OSXSAVE). */
void cpuid_cache_init(void);

#define CPUID_CACHE_BASIC_LEAVES 0x21u      /* 0 .. 0x20 */
#define CPUID_CACHE_SUBLEAVES    8u         /* leaf 4 has one per cache level, 7 up to 3, ... */
#define CPUID_CACHE_KEPT (~((1ull << 0xb) | (1ull << 0xd) | (1ull << 0x1f)))
extern struct cpuid_regs cpuid_cache[CPUID_CACHE_BASIC_LEAVES][CPUID_CACHE_SUBLEAVES];
/* How many basic leaves are cached: 0 on bare hardware. */
extern uint32_t cpuid_cache_leaves;
/* Whether this hypervisor is itself a VM (vmxvisor as L1). */
static inline bool running_in_vm(void)
{
    return cpuid_cache_leaves != 0;
}

/* CPUID(leaf, subleaf) of the processor, from the cache where it has the
 * leaf. Inline and without a call: every CPUID exit of every guest asks,
 * and a call would make the exit handler save registers. */
static inline struct cpuid_regs host_cpuid(uint32_t leaf, uint32_t subleaf)
{
    if (leaf < cpuid_cache_leaves && subleaf < CPUID_CACHE_SUBLEAVES && (CPUID_CACHE_KEPT >> leaf & 1))
        return cpuid_cache[leaf][subleaf];
    return cpuid(leaf, subleaf);
}

/* The physical-address width (MAXPHYADDR), read once: nested entries and
 * the APIC base check ask for it, and in a VM each CPUID is an exit. The
 * guests see the host's (CPUID 0x80000008 passes through). */
extern unsigned cpu_phys_addr_width;
static inline unsigned cpu_phys_addr_bits(void)
{
    return cpu_phys_addr_width;
}

/* The same as an address mask. */
static inline uint64_t cpu_phys_addr_mask(void)
{
    return (1ull << cpu_phys_addr_bits()) - 1;
}
#endif
