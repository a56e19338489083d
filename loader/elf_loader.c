#include "loader/elf_loader.h"
#include "lib/error.h"
#include "lib/printf.h"
#include "lib/le.h"
#include "lib/string.h"

#define ELF_CLASS32 1
#define ELF_CLASS64 2
#define ELF_DATA_LSB 1
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define MAX_SEGMENTS 64

/* The fields we need, widened from either class. */
struct program_header {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz;
};

static void read_program_header(const uint8_t *ph, bool is64, struct program_header *out)
{
    if (is64) {
        *out = (struct program_header){ (uint32_t)le_get(ph, 4), le_get(ph + 8, 8),
                                        le_get(ph + 24, 8), le_get(ph + 32, 8),
                                        le_get(ph + 40, 8) };
    } else {
        *out = (struct program_header){ (uint32_t)le_get(ph, 4), le_get(ph + 4, 4),
                                        le_get(ph + 12, 4), le_get(ph + 16, 4),
                                        le_get(ph + 20, 4) };
    }
}

bool elf_load(const void *image, size_t size, const struct load_area *area,
              guest_write_fn write, void *ctx, uint64_t *entry, char *why, size_t why_size)
{
    const uint8_t *e = image;
    if (size < 52 || memcmp(e, "\x7f" "ELF", 4))
        return fail(why, why_size, "not an ELF file");
    bool is64 = e[4] == ELF_CLASS64;
    if ((!is64 && e[4] != ELF_CLASS32) || e[5] != ELF_DATA_LSB)
        return fail(why, why_size, "unsupported ELF class or byte order");
    if (is64 && size < 64)
        return fail(why, why_size, "truncated ELF header");
    uint16_t type = (uint16_t)le_get(e + 16, 2), machine = (uint16_t)le_get(e + 18, 2);
    if (type != ET_EXEC)
        return fail(why, why_size, "ELF type %u is not an executable", type);
    if (machine != (is64 ? EM_X86_64 : EM_386))
        return fail(why, why_size, "ELF machine %u is not x86", machine);
    uint64_t phoff = is64 ? le_get(e + 32, 8) : le_get(e + 28, 4);
    uint16_t phentsize = (uint16_t)le_get(e + (is64 ? 54 : 42), 2);
    uint16_t phnum = (uint16_t)le_get(e + (is64 ? 56 : 44), 2);
    if (phentsize < (is64 ? 56 : 32) || phnum == 0 || phnum > MAX_SEGMENTS ||
        phoff > size || (uint64_t)phentsize * phnum > size - phoff)
        return fail(why, why_size, "bad program header table");
    *entry = is64 ? le_get(e + 24, 8) : le_get(e + 24, 4);

    bool entry_loaded = false;
    for (uint16_t i = 0; i < phnum; i++) {
        struct program_header ph;
        read_program_header(e + phoff + (uint64_t)i * phentsize, is64, &ph);
        if (ph.type != PT_LOAD || ph.memsz == 0)
            continue;
        if (ph.filesz > ph.memsz || ph.offset > size || ph.filesz > size - ph.offset)
            return fail(why, why_size, "segment %u lies outside the file", i);
        char where[112];
        if (ph.paddr + ph.memsz < ph.paddr ||
            !load_area_allows(area, ph.paddr, ph.paddr + ph.memsz, where, sizeof(where)))
            return fail(why, why_size, "segment %u: %s", i,
                        ph.paddr + ph.memsz < ph.paddr ? "wraps around" : where);
        if (!write(ctx, ph.paddr, e + ph.offset, ph.filesz) ||
            !write(ctx, ph.paddr + ph.filesz, NULL, ph.memsz - ph.filesz))
            return fail(why, why_size, "out of memory loading segment %u", i);
        entry_loaded |= *entry >= ph.paddr && *entry < ph.paddr + ph.memsz;
    }
    if (!entry_loaded)
        return fail(why, why_size, "entry point 0x%lx is not in a loaded segment",
                    (unsigned long)*entry);
    return true;
}
