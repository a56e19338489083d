#ifndef ARCH_CPUID_CACHE_H
#define ARCH_CPUID_CACHE_H
/*
 * The processor's CPUID answers, read once at start-up. A hypervisor that
 * is itself a VM (vmxvisor as L1) pays a VM exit to its own hypervisor for
 * every CPUID it executes, and each CPUID exit of its guests would pay one
 * more; the answers the exit handler starts from do not change (the
 * processor's features, caches and limits), so they are kept. Not kept:
 * leaf 0xD, whose sizes follow the XCR0 of the moment, and the topology
 * leaves 0xB and 0x1F, whose answer names the CPU executing CPUID (the
 * guests get their own, exits/exit_cpuid.c); leaf 1's initial APIC ID
 * (EBX[31:24]) is the BSP's, which callers replace.
 */
#include <stdint.h>
#include "arch/cpu.h"

/* Reads the answers (on the BSP, after CR4 is final: leaf 1 reports
 * CR4.OSXSAVE). */
void cpuid_cache_init(void);
/* CPUID(leaf, subleaf) as cached, or executed for a leaf not cached. */
struct cpuid_regs cpuid_cached(uint32_t leaf, uint32_t subleaf);
#endif
