#ifndef FUZZ_LOADER_GUEST_H
#define FUZZ_LOADER_GUEST_H
/* Guest memory for the loader harnesses: 64 MiB the loaders write through
 * their guest_write_fn, each write checked to stay inside guest RAM and off
 * the structures the loader places itself (but for those writes). */
#include "fuzz/fuzz.h"
#include "loader/guest_memmap.h"
#include "loader/guest_write.h"
#include "tests/unit/fixtures/guest_memory.h"

#define FUZZ_GUEST_SIZE (64u << 20)

struct fuzz_guest {
    uint8_t *mem;
    struct guest_mem_range map[GUEST_MEMMAP_MAX];
    size_t map_count;
    /* Ranges only the writes starting exactly there may touch. */
    struct { uint64_t start, end; } placed[2];
};

static inline struct fuzz_guest *fuzz_guest(void)
{
    static struct fuzz_guest g;
    if (!g.mem) {
        g.mem = malloc(FUZZ_GUEST_SIZE);
        g.map_count = guest_memory_map(FUZZ_GUEST_SIZE, g.map);
    }
    return &g;
}

static inline bool fuzz_in_ram(const struct fuzz_guest *g, uint64_t start, uint64_t end)
{
    for (size_t i = 0; i < g->map_count; i++)
        if (g->map[i].type == GUEST_MEM_RAM && start >= g->map[i].start &&
            end <= g->map[i].start + g->map[i].size)
            return true;
    return false;
}

static inline bool fuzz_guest_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
    struct fuzz_guest *g = ctx;
    if (gpa > FUZZ_GUEST_SIZE || len > FUZZ_GUEST_SIZE - gpa)
        return false;
    if (len) {
        for (unsigned i = 0; i < 2; i++)
            FUZZ_ASSERT(gpa == g->placed[i].start || gpa + len <= g->placed[i].start ||
                        gpa >= g->placed[i].end);
        /* The firmware's area (the map's reserved ranges) is the loader's
         * to leave alone, the placed structures excepted. */
        bool placed = gpa == g->placed[0].start || gpa == g->placed[1].start;
        FUZZ_ASSERT(placed || fuzz_in_ram(g, gpa, gpa + len));
    }
    struct test_guest t = { g->mem, FUZZ_GUEST_SIZE };
    return test_guest_write(&t, gpa, src, len);
}
#endif
