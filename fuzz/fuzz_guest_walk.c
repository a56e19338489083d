/* The guest page walk (virt/guest_walk.c) over page tables made of the
 * input, with any control registers: it reads only the tables' memory and
 * gives an address within the physical width. */
#include "fuzz/fuzz.h"
#include "virt/guest_walk.h"

#define MEMORY (64 * 4096)
static uint8_t memory[MEMORY];

static bool rd(void *ctx, uint64_t gpa, void *dst, unsigned len)
{
    (void)ctx;
    if (gpa >= MEMORY || len > MEMORY - gpa)
        return false;
    memcpy(dst, memory + gpa, len);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { data, size, 0 };
    struct guest_paging p = { fuzz_take(&in, 8), fuzz_take(&in, 8), fuzz_take(&in, 8),
                              fuzz_take(&in, 8) };
    uint64_t linear = fuzz_take(&in, 8);
    memset(memory, 0, sizeof(memory));
    size_t rest = size - in.at < MEMORY ? size - in.at : MEMORY;
    memcpy(memory, data + in.at, rest);
    uint64_t gpa;
    if (guest_translate(&p, linear, rd, NULL, &gpa))
        FUZZ_ASSERT(gpa >> 52 == 0);
    return 0;
}
