#ifndef NESTED_EPT12_H
#define NESTED_EPT12_H
/*
 * A walk of L1's extended page tables (EPT12) for an L2 guest-physical
 * address, as the processor walks EPT (SDM Vol. 3C 30.3.2, "EPT
 * Translation Mechanism"): 4 levels from the EPTP, leaves of 4 KiB, 2 MiB
 * or 1 GiB. Pure: the tables live in L1's memory and are read through a
 * callback, so the walker is unit-tested on the host like mmu/ept.c. Its
 * outcome is what L0 needs both to build EPT02 (the L1-physical address
 * and the permissions) and to reflect an EPT violation or misconfiguration
 * to L1 (the permissions for the exit qualification, SDM Vol. 3C 28.2.1).
 */
#include <stdint.h>
#include <stdbool.h>

/* Reads the 8-byte EPT entry at L1-physical `gpa`; false where L1 has no
 * memory (the walk then sees all ones, as a read of nothing returns). */
typedef bool (*ept12_read_fn)(void *ctx, uint64_t gpa, uint64_t *entry);

enum ept12_outcome {
    EPT12_MAPPED,           /* the access is permitted */
    EPT12_VIOLATION,        /* not present, or the access is not permitted */
    EPT12_MISCONFIG,        /* an entry with reserved bits or a bad memory type */
};

/* What the walk found. perms: the logical AND of bits 2:0 (R, W, X) of every
 * entry it used, the one it stopped at included (SDM Vol. 3C 28.2.1,
 * qualification bits 5:3). */
#define EPT12_LEVELS 4
struct ept12_walk {
    enum ept12_outcome outcome;
    unsigned perms;
    uint64_t l1_gpa;        /* EPT12_MAPPED: the L1-physical address */
    uint64_t page_size;     /* EPT12_MAPPED: the leaf's size */
    unsigned memory_type;   /* EPT12_MAPPED: the leaf's EPT memory type, bits 5:3 */
    /* The entries the walk read, from the PML4E down (the last one is
     * where it stopped, the leaf when EPT12_MAPPED), and where they are. */
    unsigned used;
    uint64_t entry[EPT12_LEVELS], entry_gpa[EPT12_LEVELS];
};

/* Access kinds, as bits 2:0 of an EPT-violation qualification. */
#define EPT12_ACCESS_READ  1u
#define EPT12_ACCESS_WRITE 2u
#define EPT12_ACCESS_EXEC  4u

/* What L1 was offered (IA32_VMX_EPT_VPID_CAP): entries with only X set are
 * permitted with execute_only, misconfigured without; 1 GiB leaves only
 * with huge_1g (2 MiB leaves always: every EPT offer has them here). */
struct ept12_format {
    unsigned phys_addr_bits;
    bool execute_only;
    bool huge_1g;
};

/* Walks EPT12 (EPTP `eptp`) for `l2_gpa` and an access of kinds `access`. */
void ept12_walk(uint64_t eptp, uint64_t l2_gpa, unsigned access,
                const struct ept12_format *format, ept12_read_fn read, void *ctx,
                struct ept12_walk *out);
/* EPT accessed and dirty flags (SDM Vol. 3C 30.3.5), for an EPTP with bit
 * 6 set and a walk that mapped the access: the flags each entry the walk
 * used still lacks, `set[i]` for walk->entry[i] (0: none): accessed in
 * every one, dirty in the leaf for a write. The processor sets them
 * atomically in L1's memory; so does the caller. */
#define EPT12_ACCESSED (1ull << 8)
#define EPT12_DIRTY    (1ull << 9)
void ept12_ad_updates(const struct ept12_walk *walk, bool write, uint64_t set[EPT12_LEVELS]);

/* Page-modification logging (SDM Vol. 3C 30.3.6), before an accessed or
 * dirty flag is set: with the PML index outside 0-511 the log is full (a
 * PML-full exit; no flag is set, nothing is logged). */
#define EPT12_PML_ENTRIES 512
static inline bool ept12_pml_full(uint16_t index)
{
    return index >= EPT12_PML_ENTRIES;
}
/* A dirty flag set with the log not full: the entry's slot (the index),
 * and the index counts down, from 0 to FFFFH. */
static inline unsigned ept12_pml_log(uint16_t *index)
{
    unsigned slot = *index;
    *index = (uint16_t)(*index - 1);
    return slot;
}
#endif
