#ifndef VIRT_CPUID_ANSWERS_H
#define VIRT_CPUID_ANSWERS_H
/*
 * A VM's CPUID answers that are the same for all its vCPUs and all its
 * life, kept as the exit handler computed them (exits/exit_cpuid.c), so a
 * CPUID exit is one lookup: no CPUID of the host (an exit of its own when
 * vmxvisor is itself a guest, a slow instruction on hardware), no filter.
 * KVM keeps the whole table per vCPU and patches the bits that follow
 * guest state; here the leaves that do (the APIC ID, CR4.OSXSAVE, XCR0's
 * sizes, the topology) are simply never kept and are computed at each
 * exit. Filled at first use; a VM starts with none (vm_power.c clears it).
 */
#include <stdint.h>
#include <stdbool.h>
#include "arch/cpu.h"

#define CPUID_ANSWER_LEAVES    0x21u    /* basic leaves 0 .. 0x20 */
#define CPUID_ANSWER_SUBLEAVES 8u
#define CPUID_ANSWER_SLOTS     (CPUID_ANSWER_LEAVES * CPUID_ANSWER_SUBLEAVES)

/* An answer as the guest's RAX, RBX, RCX and RDX take it (zero-extended):
 * the exit copies it without a conversion. */
struct cpuid_answer {
    uint64_t rax, rbx, rcx, rdx;
};

struct cpuid_answers {
    struct cpuid_answer answer[CPUID_ANSWER_SLOTS];
    bool kept[CPUID_ANSWER_SLOTS];      /* answer[] holds it */
};

/* The slot of (leaf, subleaf), or CPUID_ANSWER_SLOTS if it has none. */
static inline uint32_t cpuid_answer_slot(uint32_t leaf, uint32_t subleaf)
{
    if (leaf >= CPUID_ANSWER_LEAVES || subleaf >= CPUID_ANSWER_SUBLEAVES)
        return CPUID_ANSWER_SLOTS;
    return leaf * CPUID_ANSWER_SUBLEAVES + subleaf;
}

/* The kept answer for (leaf, subleaf), or NULL. Acquire: another vCPU may
 * have just kept it (cpuid_answer_keep stores the answer first). */
static inline const struct cpuid_answer *cpuid_answer_find(const struct cpuid_answers *a,
                                                           uint32_t leaf, uint32_t subleaf)
{
    uint32_t slot = cpuid_answer_slot(leaf, subleaf);
    if (slot == CPUID_ANSWER_SLOTS || !__atomic_load_n(&a->kept[slot], __ATOMIC_ACQUIRE))
        return NULL;
    return &a->answer[slot];
}

/* Keeps `r` as the answer for (leaf, subleaf) if it has a slot. vCPUs that
 * race here store the same answer. */
static inline void cpuid_answer_keep(struct cpuid_answers *a, uint32_t leaf, uint32_t subleaf,
                                     struct cpuid_regs r)
{
    uint32_t slot = cpuid_answer_slot(leaf, subleaf);
    if (slot == CPUID_ANSWER_SLOTS)
        return;
    a->answer[slot] = (struct cpuid_answer){ r.eax, r.ebx, r.ecx, r.edx };
    __atomic_store_n(&a->kept[slot], true, __ATOMIC_RELEASE);
}
#endif
