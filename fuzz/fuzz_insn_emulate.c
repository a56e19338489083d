/* The MMIO instruction emulator (exits/insn_emulate.c) on any bytes, mode,
 * registers and device contents: it takes at most 15 bytes, reports a
 * length only for what it executed, and touches memory only at the
 * faulting address or (string instructions) inside an 8 KiB window. */
#include "fuzz/fuzz.h"
#include "exits/insn_emulate.h"

#define WINDOW 8192
static uint8_t window[WINDOW];

static bool access_ok(uint64_t address, unsigned size)
{
    uint64_t base = (uint64_t)(uintptr_t)window;
    return address >= base && address - base <= WINDOW - size;
}

static bool rd(void *ctx, uint64_t address, bool linear, unsigned size, uint64_t *value)
{
    (void)ctx;
    FUZZ_ASSERT(size == 1 || size == 2 || size == 4 || size == 8);
    if (!linear)
        FUZZ_ASSERT(address == (uint64_t)(uintptr_t)window);
    if (!access_ok(address, size))
        return false;       /* the caller's #PF */
    *value = 0;
    memcpy(value, (void *)(uintptr_t)address, size);
    return true;
}

static bool wr(void *ctx, uint64_t address, bool linear, unsigned size, uint64_t value)
{
    (void)ctx;
    FUZZ_ASSERT(size == 1 || size == 2 || size == 4 || size == 8);
    if (!linear)
        FUZZ_ASSERT(address == (uint64_t)(uintptr_t)window);
    if (!access_ok(address, size))
        return false;
    memcpy((void *)(uintptr_t)address, &value, size);
    return true;
}

static uint64_t segment_base(void *ctx, unsigned segment)
{
    (void)ctx;
    return segment == EMU_FS ? 64 : 0;
}

static uint64_t lazy_rsp(void *ctx)
{
    (void)ctx;
    return 0x1000;
}

static uint64_t lazy_rflags(void *ctx)
{
    (void)ctx;
    return 0x202;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { data, size, 0 };
    uint8_t bytes[15];
    for (unsigned i = 0; i < sizeof(bytes); i++)
        bytes[i] = (uint8_t)fuzz_take(&in, 1);
    struct emu_input e = { .bytes = bytes, .avail = fuzz_take(&in, 1) % 16,
                           .mode = (enum cpu_mode)(fuzz_take(&in, 1) % 3),
                           .mmio_gpa = (uint64_t)(uintptr_t)window };
    uint64_t gpr[16];
    for (unsigned r = 0; r < 16; r++)
        gpr[r] = fuzz_take(&in, 1) & 1 ? (uint64_t)(uintptr_t)window + fuzz_take(&in, 2) % WINDOW
                                        : fuzz_take(&in, 8);
    gpr[1] = fuzz_take(&in, 2);         /* RCX: a count that ends */
    struct emu_state st = { .gpr = gpr, .rflags = fuzz_take(&in, 8) };
    st.rsp_loaded = fuzz_take(&in, 1) & 1;
    st.rflags_loaded = fuzz_take(&in, 1) & 1;
    for (unsigned i = 0; i < 64; i++)
        window[i] = (uint8_t)fuzz_take(&in, 1);
    unsigned length = 0;
    enum emu_result r = insn_emulate(&e, &st, &(struct emu_memory){ rd, wr, segment_base, lazy_rsp, lazy_rflags }, NULL, &length);
    if (r == EMU_DONE)
        FUZZ_ASSERT(length >= 1 && length <= e.avail);
    return 0;
}
