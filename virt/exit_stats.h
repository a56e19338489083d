#ifndef VIRT_EXIT_STATS_H
#define VIRT_EXIT_STATS_H
/* Per-vCPU VM-exit statistics: count and host TSC cycles per exit reason. */
#include <stdint.h>

#define EXIT_REASON_MAX 80

struct exit_stats {
    uint64_t count[EXIT_REASON_MAX];
    /* Of count[], those completed in the exit fastpath (exits/exits.h):
     * not timed (machine/vcpu_run.c says why); cycles[] is the others'. */
    uint64_t fast[EXIT_REASON_MAX];
    uint64_t cycles[EXIT_REASON_MAX];   /* TSC spent in the hypervisor handling them */
    /* Nested VMX: of count[], the exits from L2, and of those the ones
     * reflected to L1 (the rest L0 handled on L2's behalf). */
    uint64_t from_l2[EXIT_REASON_MAX], to_l1[EXIT_REASON_MAX];
    uint64_t launches;                  /* VM entries by VMLAUNCH; the others resumed */
    /* TSC spent in the run loop (machine/vcpu_run.c): in the guest, in
     * the exits' handling (cycles[]), and the rest: before the first entry,
     * and entries that failed. The guest's share is what is left over
     * (exit_stats_guest_cycles): no sum on the exit path. */
    uint64_t loop_cycles, unattributed_cycles;
    uint64_t ept_maps[3];               /* on-demand mappings by size: 4K, 2M, 1G */
    uint64_t ept02_maps[3];             /* the same in its L2's shadow EPT (nested/) */
    uint64_t interrupts_injected;       /* external interrupts from the virtual APIC */
    uint64_t nmis_injected;
    /* dropped: SMI and reserved-mode IPIs, and NMIs on a CPU without
     * virtual NMIs (virt/event_inject.h) */
    uint64_t ipis_sent, ipis_dropped;
};

/* VM entries: each ended in one of the exits counted (a vCPU in its guest
 * now has one more). Counted so rather than at each entry: one instruction
 * less on every exit. */
static inline uint64_t exit_stats_entries(const struct exit_stats *s)
{
    uint64_t entries = 0;
    for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
        entries += s->count[r];
    return entries;
}

/* TSC spent in the guest. */
static inline uint64_t exit_stats_guest_cycles(const struct exit_stats *s)
{
    uint64_t root = s->unattributed_cycles;
    for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
        root += s->cycles[r];
    return s->loop_cycles - root;
}

#endif
