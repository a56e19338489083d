/* The EPT12 walker (nested/ept12.c) over tables made of the input: a
 * mapped outcome has a page size of 4K, 2M or 1G, an L1 address within the
 * physical width, and permissions that allow the access. */
#include "fuzz/fuzz.h"
#include "nested/ept12.h"

#define MEMORY (64 * 4096)
static uint8_t memory[MEMORY];

static bool rd(void *ctx, uint64_t gpa, uint64_t *entry)
{
    (void)ctx;
    if (gpa >= MEMORY || 8 > MEMORY - gpa)
        return false;
    memcpy(entry, memory + gpa, 8);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { data, size, 0 };
    uint64_t eptp = fuzz_take(&in, 8), l2_gpa = fuzz_take(&in, 8);
    unsigned access = (unsigned)fuzz_take(&in, 1) & 7;
    struct ept12_format f = { .phys_addr_bits = 36 + (unsigned)fuzz_take(&in, 1) % 17,
                              .execute_only = fuzz_take(&in, 1) & 1,
                              .huge_1g = fuzz_take(&in, 1) & 1 };
    memset(memory, 0, sizeof(memory));
    size_t rest = size - in.at < MEMORY ? size - in.at : MEMORY;
    memcpy(memory, data + in.at, rest);
    struct ept12_walk w;
    ept12_walk(eptp, l2_gpa, access, &f, rd, NULL, &w);
    if (w.outcome == EPT12_MAPPED) {
        FUZZ_ASSERT(w.page_size == 1ull << 12 || w.page_size == 1ull << 21 ||
                    (w.page_size == 1ull << 30 && f.huge_1g));
        FUZZ_ASSERT(w.l1_gpa >> f.phys_addr_bits == 0);
        FUZZ_ASSERT((w.perms & access) == access);
        /* A/D: accessed where missing in the walk's entries, dirty only in
         * its leaf and only for a write. */
        uint64_t set[EPT12_LEVELS];
        bool write = access & EPT12_ACCESS_WRITE;
        ept12_ad_updates(&w, write, set);
        for (unsigned i = 0; i < EPT12_LEVELS; i++) {
            FUZZ_ASSERT(!(set[i] & ~(EPT12_ACCESSED | EPT12_DIRTY)));
            FUZZ_ASSERT(i < w.used || !set[i]);
            FUZZ_ASSERT(!(set[i] & EPT12_DIRTY) || (write && i + 1 == w.used));
            FUZZ_ASSERT(!(set[i] & w.entry[i]));
        }
    }
    FUZZ_ASSERT(w.perms <= 7 && w.used >= 1 && w.used <= EPT12_LEVELS);
    return 0;
}
