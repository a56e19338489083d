#include "exits/insn_decode.h"
#include "lib/string.h"

struct prefixes {
    bool operand_size;      /* 66 */
    bool address_size;      /* 67 */
    uint8_t rex;            /* 0 if none */
};

static unsigned operand_bytes(enum cpu_mode mode, const struct prefixes *p)
{
    if (p->rex & 8)
        return 8;
    bool is16 = mode == MODE_16;
    return (is16 ^ p->operand_size) ? 2 : 4;
}

/* Length of ModRM + SIB + displacement starting at b[0] (the ModRM byte);
 * 0 if truncated. */
static size_t modrm_length(const uint8_t *b, size_t avail, enum cpu_mode mode,
                           const struct prefixes *p)
{
    if (!avail)
        return 0;
    unsigned mod = b[0] >> 6, rm = b[0] & 7;
    bool addr16 = (mode == MODE_16) ^ p->address_size && mode != MODE_64;
    size_t len = 1;
    if (addr16) {
        if (mod == 0 && rm == 6)
            len += 2;
        else if (mod == 1)
            len += 1;
        else if (mod == 2)
            len += 2;
        return len <= avail ? len : 0;
    }
    if (mod != 3 && rm == 4) {
        if (avail < 2)
            return 0;
        len++;
        if (mod == 0 && (b[1] & 7) == 5)
            len += 4;
    }
    if (mod == 0 && rm == 5)
        len += 4;           /* disp32, RIP-relative in 64-bit mode */
    else if (mod == 1)
        len += 1;
    else if (mod == 2)
        len += 4;
    return len <= avail ? len : 0;
}

static uint64_t read_le(const uint8_t *b, unsigned n)
{
    uint64_t v = 0;
    memcpy(&v, b, n);
    return v;
}

static void set_register(struct mmio_insn *out, unsigned modrm, const struct prefixes *p)
{
    unsigned reg = (modrm >> 3 & 7) | (p->rex & 4 ? 8 : 0);
    /* Without REX, byte registers 4-7 are AH, CH, DH, BH; that concerns the
     * register operand, which MOVZX/MOVSX widen. */
    unsigned reg_bytes = out->kind == MMIO_LOAD ? out->dest_size : out->size;
    out->high_byte = reg_bytes == 1 && !p->rex && reg >= 4;
    out->reg = out->high_byte ? reg - 4 : reg;
}

bool insn_decode_mmio(const uint8_t *b, size_t avail, enum cpu_mode mode, struct mmio_insn *out)
{
    struct prefixes p = { 0 };
    size_t i = 0;
    memset(out, 0, sizeof(*out));
    for (; i < avail && i < 15; i++) {
        uint8_t c = b[i];
        if (c == 0x66)
            p.operand_size = true;
        else if (c == 0x67)
            p.address_size = true;
        else if (c == 0x2e || c == 0x36 || c == 0x3e || c == 0x26 || c == 0x64 || c == 0x65 ||
                 c == 0xf0 || c == 0xf2 || c == 0xf3)
            continue;       /* segment, lock, rep: no effect on a plain MOV's shape */
        else
            break;
    }
    if (mode == MODE_64 && i < avail && (b[i] & 0xf0) == 0x40)
        p.rex = b[i++];
    if (i >= avail)
        return false;
    uint8_t op = b[i++];
    size_t modrm_at = i, tail = 0;
    switch (op) {
    case 0x88: case 0x89: case 0x8a: case 0x8b:
        out->kind = op & 2 ? MMIO_LOAD : MMIO_STORE;
        out->size = op & 1 ? (uint8_t)operand_bytes(mode, &p) : 1;
        out->dest_size = out->size;
        break;
    case 0xc6: case 0xc7:
        if (i >= avail || (b[i] >> 3 & 7) != 0)
            return false;
        out->kind = MMIO_STORE;
        out->size = op & 1 ? (uint8_t)operand_bytes(mode, &p) : 1;
        out->has_immediate = true;
        tail = out->size == 8 ? 4 : out->size;      /* imm32 sign-extended for 64-bit */
        break;
    case 0xa0: case 0xa1: case 0xa2: case 0xa3: {
        unsigned offset_bytes = mode == MODE_64 ? (p.address_size ? 4 : 8)
                                : ((mode == MODE_16) ^ p.address_size) ? 2 : 4;
        out->kind = op & 2 ? MMIO_STORE : MMIO_LOAD;
        out->size = op & 1 ? (uint8_t)operand_bytes(mode, &p) : 1;
        out->dest_size = out->size;
        out->reg = 0;
        out->length = (uint8_t)(i + offset_bytes);
        return out->length <= avail;
    }
    case 0x0f: {
        if (i >= avail)
            return false;
        uint8_t op2 = b[i++];
        if (op2 != 0xb6 && op2 != 0xb7 && op2 != 0xbe && op2 != 0xbf)
            return false;
        modrm_at = i;
        out->kind = MMIO_LOAD;
        out->size = op2 & 1 ? 2 : 1;
        out->dest_size = (uint8_t)operand_bytes(mode, &p);
        out->sign_extend = op2 >= 0xbe;
        break;
    }
    default:
        return false;
    }
    size_t m = modrm_length(b + modrm_at, avail - modrm_at, mode, &p);
    if (!m || (b[modrm_at] >> 6) == 3 || modrm_at + m + tail > avail)
        return false;       /* truncated, or a register operand: not a memory access */
    if (!out->has_immediate)
        set_register(out, b[modrm_at], &p);
    if (out->has_immediate) {
        uint64_t imm = read_le(b + modrm_at + m, (unsigned)tail);
        if (out->size == 8)
            imm = (uint64_t)(int64_t)(int32_t)imm;
        out->immediate = imm;
    }
    out->length = (uint8_t)(modrm_at + m + tail);
    return true;
}

static uint64_t mask_of(unsigned bytes)
{
    return bytes >= 8 ? ~0ull : (1ull << (bytes * 8)) - 1;
}

uint64_t mmio_load_result(const struct mmio_insn *insn, uint64_t old, uint64_t value)
{
    value &= mask_of(insn->size);
    if (insn->high_byte)
        return (old & ~0xff00ull) | (value << 8);
    if (insn->sign_extend && value >> (insn->size * 8 - 1) & 1)
        value |= ~mask_of(insn->size);
    value &= mask_of(insn->dest_size);
    /* A 32-bit destination zero-extends into the full register; 8- and
     * 16-bit ones keep the upper bits (SDM Vol. 1 3.4.1.1). */
    if (insn->dest_size >= 4)
        return value;
    return (old & ~mask_of(insn->dest_size)) | value;
}

uint64_t mmio_store_value(const struct mmio_insn *insn, uint64_t reg_value)
{
    if (insn->has_immediate)
        return insn->immediate & mask_of(insn->size);
    if (insn->high_byte)
        return reg_value >> 8 & 0xff;
    return reg_value & mask_of(insn->size);
}
