/* MMIO instruction emulation (exits/insn_emulate.h). Opcodes and flag
 * rules: SDM Vol. 2 (each instruction's "Operation" and "Flags Affected"),
 * Vol. 1 3.4.3 for the status flags. */
#include "exits/insn_emulate.h"
#include "lib/string.h"

#define MAX_LENGTH 15
#define FLAG_CF (1ull << 0)
#define FLAG_PF (1ull << 2)
#define FLAG_AF (1ull << 4)
#define FLAG_ZF (1ull << 6)
#define FLAG_SF (1ull << 7)
#define FLAG_DF (1ull << 10)
#define FLAG_OF (1ull << 11)
#define FLAGS_STATUS (FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF)
#define REG_RAX 0
#define REG_RCX 1
#define REG_RSI 6
#define REG_RDI 7

/* An instruction as decoded (SDM Vol. 2 ch. 2: prefixes, REX, opcode,
 * ModRM, SIB, displacement, immediate). */
struct insn {
    enum cpu_mode mode;
    bool operand_override, address_override, rep, lock;
    int segment;                /* override, or -1 */
    uint8_t rex;
    bool two_byte;
    uint8_t opcode;
    uint8_t modrm;
    size_t length;              /* up to the immediate, then with it */
    unsigned operand_size;      /* 1, 2, 4, 8 */
    unsigned address_size;      /* 2, 4, 8 */
};

static uint64_t mask_of(unsigned size)
{
    return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static uint64_t sign_of(unsigned size)
{
    return 1ull << (size * 8 - 1);
}

static uint64_t sign_extend(uint64_t v, unsigned size)
{
    unsigned shift = 64 - size * 8;
    return (uint64_t)((int64_t)(v << shift) >> shift);
}

static uint64_t read_le(const uint8_t *b, unsigned n)
{
    uint64_t v = 0;
    memcpy(&v, b, n);
    return v;
}

/* The default operand size, changed by 66 and REX.W (SDM Vol. 1 3.6). */
static unsigned full_operand_size(const struct insn *i)
{
    if (i->rex & 8)
        return 8;
    return (i->mode == MODE_16) ^ i->operand_override ? 2 : 4;
}

static unsigned address_size(const struct insn *i)
{
    if (i->mode == MODE_64)
        return i->address_override ? 4 : 8;
    return (i->mode == MODE_16) ^ i->address_override ? 2 : 4;
}

/* ModRM's register operand: the reg field, extended by REX.R. */
static unsigned reg_field(const struct insn *i)
{
    return (i->modrm >> 3 & 7) | (i->rex & 4 ? 8 : 0);
}

/* Length of ModRM, SIB and displacement at b (the ModRM byte); 0 if
 * truncated (SDM Vol. 2 2.1.5, Tables 2-1 to 2-3). */
static size_t modrm_length(const uint8_t *b, size_t avail, unsigned addr_size)
{
    if (!avail)
        return 0;
    unsigned mod = b[0] >> 6, rm = b[0] & 7;
    size_t len = 1;
    if (addr_size == 2) {
        if ((mod == 0 && rm == 6) || mod == 2)
            len += 2;
        else if (mod == 1)
            len += 1;
        return len <= avail ? len : 0;
    }
    if (mod != 3 && rm == 4) {
        if (avail < 2)
            return 0;
        len++;
        if (mod == 0 && (b[1] & 7) == 5)
            len += 4;
    }
    if ((mod == 0 && rm == 5) || mod == 2)
        len += 4;           /* disp32 (RIP-relative in 64-bit mode) */
    else if (mod == 1)
        len += 1;
    return len <= avail ? len : 0;
}

/* Prefixes, REX, opcode and ModRM (when the opcode has one); false if
 * truncated. i->length ends after ModRM/SIB/displacement. */
static bool decode(const struct emu_input *in, struct insn *i, bool *has_modrm)
{
    const uint8_t *b = in->bytes;
    size_t avail = in->avail < MAX_LENGTH ? in->avail : MAX_LENGTH, at = 0;
    *i = (struct insn){ .mode = in->mode, .segment = -1 };
    static const int8_t segments[256] = { [0x26] = EMU_ES + 1, [0x2e] = EMU_CS + 1,
                                          [0x36] = EMU_SS + 1, [0x3e] = EMU_DS + 1,
                                          [0x64] = EMU_FS + 1, [0x65] = EMU_GS + 1 };
    for (; at < avail; at++) {
        uint8_t c = b[at];
        if (c == 0x66)
            i->operand_override = true;
        else if (c == 0x67)
            i->address_override = true;
        else if (c == 0xf3 || c == 0xf2)
            i->rep = true;      /* MOVS, STOS, LODS repeat either way */
        else if (c == 0xf0)
            i->lock = true;
        else if (segments[c])
            i->segment = segments[c] - 1;
        else
            break;
    }
    /* REX must come last, just before the opcode (SDM Vol. 2 2.2.1). */
    if (in->mode == MODE_64 && at < avail && (b[at] & 0xf0) == 0x40)
        i->rex = b[at++];
    if (at >= avail)
        return false;
    i->opcode = b[at++];
    if (i->opcode == 0x0f) {
        if (at >= avail)
            return false;
        i->two_byte = true;
        i->opcode = b[at++];
    }
    i->operand_size = full_operand_size(i);
    i->address_size = address_size(i);
    /* Every opcode emulated has a ModRM but the moffs MOVs and the string
     * instructions (A0-AF). */
    *has_modrm = i->two_byte || i->opcode < 0xa0 || i->opcode > 0xaf;
    if (*has_modrm) {
        size_t n = modrm_length(b + at, avail - at, i->address_size);
        if (!n)
            return false;
        i->modrm = b[at];
        at += n;
    }
    i->length = at;
    return true;
}

/* An immediate of `size` bytes after what was decoded, sign-extended. */
static bool take_immediate(const struct emu_input *in, struct insn *i, unsigned size,
                           uint64_t *value)
{
    if (i->length + size > in->avail || i->length + size > MAX_LENGTH)
        return false;
    *value = sign_extend(read_le(in->bytes + i->length, size), size);
    i->length += size;
    return true;
}

/* The immediate of an instruction with a full-size operand: 16 bits for a
 * 16-bit operand, else 32 sign-extended. */
static unsigned immediate_size(unsigned operand_size)
{
    return operand_size == 2 ? 2 : operand_size == 1 ? 1 : 4;
}

struct ctx {
    const struct emu_input *in;
    struct emu_state *s;
    const struct emu_memory *mem;
    void *arg;
};

/* RSP and RFLAGS come in on first use. */
static void need_rsp(const struct ctx *c, unsigned reg)
{
    if (reg == 4 && !c->s->rsp_loaded) {
        c->s->gpr[4] = c->mem->read_rsp(c->arg);
        c->s->rsp_loaded = true;
    }
}

static uint64_t flags_of(const struct ctx *c)
{
    if (!c->s->rflags_loaded) {
        c->s->rflags = c->mem->read_rflags(c->arg);
        c->s->rflags_loaded = true;
    }
    return c->s->rflags;
}

/* Registers as an instruction names them: without REX, byte registers 4-7
 * are AH, CH, DH, BH; 32-bit writes clear bits 63:32 (SDM Vol. 1 3.4.1.1). */
static uint64_t get_reg(const struct ctx *c, const struct insn *i, unsigned reg, unsigned size)
{
    const struct emu_state *s = c->s;
    need_rsp(c, reg);
    if (size == 1 && !i->rex && reg >= 4 && reg < 8)
        return s->gpr[reg - 4] >> 8 & 0xff;
    return s->gpr[reg] & mask_of(size);
}

static void set_reg(const struct ctx *c, const struct insn *i, unsigned reg, unsigned size,
                    uint64_t value)
{
    struct emu_state *s = c->s;
    need_rsp(c, reg);
    if (size == 1 && !i->rex && reg >= 4 && reg < 8) {
        s->gpr[reg - 4] = (s->gpr[reg - 4] & ~0xff00ull) | (value & 0xff) << 8;
        return;
    }
    if (size == 4)
        s->gpr[reg] = value & 0xffffffffull;
    else
        s->gpr[reg] = (s->gpr[reg] & ~mask_of(size)) | (value & mask_of(size));
}

static bool parity_even(uint64_t v)
{
    return !__builtin_parity((unsigned)(v & 0xff));
}

/* SF, ZF, PF of a result. */
static uint64_t result_flags(uint64_t r, unsigned size)
{
    return (r & sign_of(size) ? FLAG_SF : 0) | ((r & mask_of(size)) == 0 ? FLAG_ZF : 0) |
           (parity_even(r) ? FLAG_PF : 0);
}

static void set_flags(const struct ctx *c, uint64_t affected, uint64_t values)
{
    c->s->rflags = (flags_of(c) & ~affected) | (values & affected);
}

enum alu_op { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };

/* a OP b at `size`, the status flags in *flags (SDM Vol. 2: ADD, ADC: CF
 * the carry out, OF the signed overflow; SUB, SBB, CMP: CF the borrow;
 * AND, OR, XOR: CF and OF clear, AF undefined, cleared here). */
static uint64_t alu(enum alu_op op, uint64_t a, uint64_t b, bool carry_in, unsigned size,
                    uint64_t *flags)
{
    uint64_t m = mask_of(size), sign = sign_of(size), r, cf = 0, of = 0, af = 0;
    a &= m;
    b &= m;
    switch (op) {
    case ALU_ADD:
    case ALU_ADC: {
        uint64_t cin = op == ALU_ADC && carry_in;
        r = (a + b + cin) & m;
        cf = size == 8 ? (r < a || (cin && r == a)) : a + b + cin > m;
        of = (a ^ r) & (b ^ r) & sign;
        af = (a ^ b ^ r) & 0x10;
        break;
    }
    case ALU_SUB:
    case ALU_SBB:
    case ALU_CMP: {
        uint64_t bin = op == ALU_SBB && carry_in;
        r = (a - b - bin) & m;
        cf = a < b || (bin && a == b);
        of = (a ^ b) & (a ^ r) & sign;
        af = (a ^ b ^ r) & 0x10;
        break;
    }
    case ALU_OR: r = a | b; break;
    case ALU_AND: r = a & b; break;
    default: r = a ^ b; break;
    }
    *flags = (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0) | (af ? FLAG_AF : 0) | result_flags(r, size);
    return r;
}

/* The shift and rotate group (C0, C1, D0-D3; reg field: ROL, ROR, RCL,
 * RCR, SHL, SHR, SAL, SAR). The count is masked to 5 bits (6 with a
 * 64-bit operand); a masked count of 0 changes nothing, flags included.
 * OF is defined for a count of 1 only, AF never (cleared here). False if
 * nothing changes (nothing is written back). */
static bool shift(unsigned kind, uint64_t *value, unsigned count_raw, unsigned size,
                  const struct ctx *c)
{
    unsigned bits = size * 8, count = count_raw & (size == 8 ? 63 : 31);
    uint64_t m = mask_of(size), sign = sign_of(size), a = *value & m, r = a;
    if (!count)
        return false;
    bool cf = flags_of(c) & FLAG_CF, of = false;
    switch (kind) {
    case 0: /* ROL */
    case 1: { /* ROR */
        unsigned n = count % bits;
        if (kind == 0) {
            r = n ? ((a << n) | (a >> (bits - n))) & m : a;
            cf = r & 1;
            of = ((r & sign) != 0) ^ cf;
        } else {
            r = n ? ((a >> n) | (a << (bits - n))) & m : a;
            cf = (r & sign) != 0;
            of = ((r & sign) != 0) ^ ((r & (sign >> 1)) != 0);
        }
        *value = r;
        set_flags(c, FLAG_CF | (count == 1 ? FLAG_OF : 0),
                  (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0));
        return true;
    }
    case 2: /* RCL */
    case 3: { /* RCR: through CF, a (bits + 1)-bit rotation */
        unsigned n = size == 1 ? count % 9 : size == 2 ? count % 17 : count;
        if (kind == 3)
            of = ((a & sign) != 0) ^ cf;        /* before the rotation (RCR) */
        for (unsigned k = 0; k < n; k++) {
            bool out = kind == 2 ? (r & sign) != 0 : r & 1;
            r = kind == 2 ? ((r << 1) | cf) & m : (r >> 1) | (cf ? sign : 0);
            cf = out;
        }
        if (kind == 2)
            of = ((r & sign) != 0) ^ cf;
        *value = r;
        set_flags(c, FLAG_CF | (count == 1 ? FLAG_OF : 0),
                  (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0));
        return true;
    }
    case 4: /* SHL */
    case 6: /* SAL */
        cf = count <= bits && (a >> (bits - count) & 1);
        r = count >= bits ? 0 : (a << count) & m;
        of = ((r & sign) != 0) ^ cf;
        break;
    case 5: /* SHR */
        cf = count <= bits && (a >> (count - 1) & 1);
        r = count >= bits ? 0 : a >> count;
        of = (a & sign) != 0;
        break;
    default: { /* SAR */
        uint64_t sa = sign_extend(a, size);
        unsigned n = count >= bits ? bits - 1 : count;
        cf = count >= bits ? (a & sign) != 0 : (sa >> (n - 1)) & 1;
        r = (uint64_t)((int64_t)sa >> n) & m;
        of = false;
        break;
    }
    }
    *value = r;
    set_flags(c, FLAGS_STATUS, (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0) | result_flags(r, size));
    return true;
}

static bool load(const struct ctx *c, unsigned size, uint64_t *v)
{
    return c->mem->read(c->arg, c->in->mmio_gpa, false, size, v);
}

static bool store(const struct ctx *c, unsigned size, uint64_t v)
{
    return c->mem->write(c->arg, c->in->mmio_gpa, false, size, v & mask_of(size));
}

/* ALU op with memory as destination (`to_memory`) or source. */
static enum emu_result alu_memory(const struct ctx *c, const struct insn *i, enum alu_op op,
                                  bool to_memory, uint64_t other, unsigned size)
{
    uint64_t m, flags;
    if (!load(c, size, &m))
        return EMU_FAULT;
    uint64_t a = to_memory ? m : other, b = to_memory ? other : m;
    uint64_t r = alu(op, a, b, flags_of(c) & FLAG_CF, size, &flags);
    if (op != ALU_CMP) {
        if (to_memory && !store(c, size, r))
            return EMU_FAULT;
        if (!to_memory)
            set_reg(c, i, reg_field(i), size, r);
    }
    set_flags(c, FLAGS_STATUS, flags);
    return EMU_DONE;
}

/* INC, DEC, NOT, NEG and TEST with an immediate: one operand in memory. */
static enum emu_result unary(const struct ctx *c, const struct insn *i, unsigned kind,
                             unsigned size)
{
    uint64_t m, flags;
    if (!load(c, size, &m))
        return EMU_FAULT;
    uint64_t r;
    switch (kind) {
    case 'i': case 'd': /* INC, DEC: CF unchanged */
        r = alu(kind == 'i' ? ALU_ADD : ALU_SUB, m, 1, false, size, &flags);
        set_flags(c, FLAGS_STATUS & ~FLAG_CF, flags);
        break;
    case 'n': /* NOT: no flags */
        r = ~m;
        break;
    default: /* NEG: CF = operand != 0 */
        r = alu(ALU_SUB, 0, m, false, size, &flags);
        set_flags(c, FLAGS_STATUS, flags);
        break;
    }
    (void)i;
    return store(c, size, r) ? EMU_DONE : EMU_FAULT;
}

/* BT, BTS, BTR, BTC (kind 0-3) with bit offset `offset` taken modulo the
 * operand size: the CPU already moved the access to the word holding the
 * bit. CF = the bit; the other status flags undefined but ZF, unchanged. */
static enum emu_result bit_test(const struct ctx *c, unsigned kind, uint64_t offset,
                                unsigned size)
{
    uint64_t m;
    if (!load(c, size, &m))
        return EMU_FAULT;
    uint64_t bit = 1ull << (offset & (size * 8 - 1));
    set_flags(c, FLAG_CF, m & bit ? FLAG_CF : 0);
    if (kind == 0)
        return EMU_DONE;
    uint64_t r = kind == 1 ? m | bit : kind == 2 ? m & ~bit : m ^ bit;
    return store(c, size, r) ? EMU_DONE : EMU_FAULT;
}

/* rSI, rDI, rCX at the address size (SDM Vol. 1 3.7.5). */
static uint64_t addr_reg(const struct emu_state *s, unsigned reg, unsigned asize)
{
    return s->gpr[reg] & mask_of(asize);
}

static void set_addr_reg(struct emu_state *s, unsigned reg, unsigned asize, uint64_t v)
{
    if (asize == 2)
        s->gpr[reg] = (s->gpr[reg] & ~0xffffull) | (v & 0xffff);
    else
        s->gpr[reg] = v & mask_of(asize);
}

/* MOVS, STOS, LODS (A4, A5, AA-AD), REP or not: by linear addresses,
 * DS:rSI (or the override) and ES:rDI, moving by the size, down with DF. */
static enum emu_result string_op(const struct ctx *c, const struct insn *i, unsigned size)
{
    struct emu_state *s = c->s;
    unsigned as = i->address_size;
    int64_t step = flags_of(c) & FLAG_DF ? -(int64_t)size : (int64_t)size;
    /* In 64-bit mode ES, DS and SS have base 0; FS and GS keep theirs. */
    int src_segment = i->segment >= 0 ? i->segment : EMU_DS;
    uint64_t src_base = i->mode == MODE_64 && src_segment != EMU_FS && src_segment != EMU_GS
                            ? 0 : c->mem->segment_base(c->arg, (unsigned)src_segment);
    uint64_t es_base = i->mode == MODE_64 ? 0 : c->mem->segment_base(c->arg, EMU_ES);
    bool movs = (i->opcode & ~1) == 0xa4, stos = (i->opcode & ~1) == 0xaa;
    for (unsigned n = 0; !i->rep || n < EMU_REP_BATCH; n++) {
        if (i->rep && addr_reg(s, REG_RCX, as) == 0)
            return EMU_DONE;
        uint64_t v = s->gpr[REG_RAX] & mask_of(size);
        if (!stos && !c->mem->read(c->arg, src_base + addr_reg(s, REG_RSI, as), true, size, &v))
            return EMU_FAULT;
        if (movs || stos) {
            if (!c->mem->write(c->arg, es_base + addr_reg(s, REG_RDI, as), true, size, v))
                return EMU_FAULT;
            set_addr_reg(s, REG_RDI, as, addr_reg(s, REG_RDI, as) + (uint64_t)step);
        } else {
            set_reg(c, i, REG_RAX, size, v);    /* LODS */
        }
        if (!stos)
            set_addr_reg(s, REG_RSI, as, addr_reg(s, REG_RSI, as) + (uint64_t)step);
        if (!i->rep)
            return EMU_DONE;
        set_addr_reg(s, REG_RCX, as, addr_reg(s, REG_RCX, as) - 1);
    }
    return addr_reg(s, REG_RCX, as) ? EMU_AGAIN : EMU_DONE;
}

/* 0F xx. */
static enum emu_result two_byte(const struct ctx *c, struct insn *i)
{
    unsigned size = i->operand_size, reg = reg_field(i);
    uint64_t m, imm;
    switch (i->opcode) {
    case 0xb6: case 0xb7: case 0xbe: case 0xbf: { /* MOVZX, MOVSX */
        unsigned from = i->opcode & 1 ? 2 : 1;
        if (!load(c, from, &m))
            return EMU_FAULT;
        set_reg(c, i, reg, size, i->opcode & 8 ? sign_extend(m, from) : m);
        return EMU_DONE;
    }
    case 0xb0: case 0xb1: { /* CMPXCHG r/m, r */
        if (i->opcode == 0xb0)
            size = 1;
        uint64_t flags, acc = get_reg(c, i, REG_RAX, size);
        if (!load(c, size, &m))
            return EMU_FAULT;
        alu(ALU_CMP, acc, m, false, size, &flags);
        set_flags(c, FLAGS_STATUS, flags);
        /* The destination is written back either way (SDM Vol. 2 CMPXCHG). */
        bool equal = flags & FLAG_ZF;
        if (!store(c, size, equal ? get_reg(c, i, reg, size) : m))
            return EMU_FAULT;
        if (!equal)
            set_reg(c, i, REG_RAX, size, m);
        return EMU_DONE;
    }
    case 0xa3: case 0xab: case 0xb3: case 0xbb: /* BT, BTS, BTR, BTC r/m, r */
        return bit_test(c, (i->opcode >> 3) & 3, get_reg(c, i, reg, size), size);
    case 0xba: /* BT group r/m, imm8 (/4-/7) */
        if ((i->modrm >> 3 & 7) < 4 || !take_immediate(c->in, i, 1, &imm))
            return EMU_UNSUPPORTED;
        return bit_test(c, (i->modrm >> 3 & 7) - 4, imm & 0xff, size);
    default:
        return EMU_UNSUPPORTED;
    }
}

static enum emu_result execute(const struct ctx *c, struct insn *i)
{
    struct emu_state *s = c->s;
    uint8_t op = i->opcode;
    unsigned size = op & 1 ? i->operand_size : 1, reg = reg_field(i), sub = i->modrm >> 3 & 7;
    uint64_t m, imm;
    if (i->two_byte)
        return two_byte(c, i);
    if (op < 0x40 && (op & 7) < 4) /* ADD ... CMP: r/m,r and r,r/m */
        return alu_memory(c, i, op >> 3, !(op & 2), get_reg(c, i, reg, size), size);
    switch (op) {
    case 0x80: case 0x81: case 0x82: case 0x83: {
        if (op == 0x82 && i->mode == MODE_64)
            return EMU_UNSUPPORTED;
        size = op == 0x81 || op == 0x83 ? i->operand_size : 1;
        if (!take_immediate(c->in, i, op == 0x81 ? immediate_size(size) : 1, &imm))
            return EMU_UNSUPPORTED;
        return alu_memory(c, i, sub, true, imm, size);
    }
    case 0x84: case 0x85: case 0xf6: case 0xf7: { /* TEST; F6/F7: TEST, NOT, NEG */
        if (op >= 0xf6 && sub >= 2)
            return sub == 2 ? unary(c, i, 'n', size) : sub == 3 ? unary(c, i, 'g', size)
                                                             : EMU_UNSUPPORTED;
        uint64_t other = op < 0xf6 ? get_reg(c, i, reg, size) : 0, flags;
        if (op >= 0xf6 && !take_immediate(c->in, i, immediate_size(size), &other))
            return EMU_UNSUPPORTED;
        if (!load(c, size, &m))
            return EMU_FAULT;
        alu(ALU_AND, m, other, false, size, &flags);
        set_flags(c, FLAGS_STATUS, flags);
        return EMU_DONE;
    }
    case 0xfe: case 0xff: /* INC, DEC; the rest (calls, jumps, PUSH) not here */
        return sub <= 1 ? unary(c, i, sub ? 'd' : 'i', size) : EMU_UNSUPPORTED;
    case 0x86: case 0x87: /* XCHG r/m, r */
        if (!load(c, size, &m) || !store(c, size, get_reg(c, i, reg, size)))
            return EMU_FAULT;
        set_reg(c, i, reg, size, m);
        return EMU_DONE;
    case 0x88: case 0x89: /* MOV r/m, r */
        return store(c, size, get_reg(c, i, reg, size)) ? EMU_DONE : EMU_FAULT;
    case 0x8a: case 0x8b: /* MOV r, r/m */
        if (!load(c, size, &m))
            return EMU_FAULT;
        set_reg(c, i, reg, size, m);
        return EMU_DONE;
    case 0x63: /* MOVSXD (64-bit mode); MOV r32, r/m32 without REX.W */
        if (i->mode != MODE_64 || !load(c, 4, &m))
            return i->mode != MODE_64 ? EMU_UNSUPPORTED : EMU_FAULT;
        set_reg(c, i, reg, i->operand_size, i->operand_size == 8 ? sign_extend(m, 4) : m);
        return EMU_DONE;
    case 0xc6: case 0xc7: /* MOV r/m, imm */
        if (sub || !take_immediate(c->in, i, immediate_size(size), &imm))
            return EMU_UNSUPPORTED;
        return store(c, size, imm) ? EMU_DONE : EMU_FAULT;
    case 0xa0: case 0xa1: case 0xa2: case 0xa3: { /* MOV with a moffs */
        if (!take_immediate(c->in, i, i->address_size, &imm))
            return EMU_UNSUPPORTED;
        if (op >= 0xa2)
            return store(c, size, get_reg(c, i, REG_RAX, size)) ? EMU_DONE : EMU_FAULT;
        if (!load(c, size, &m))
            return EMU_FAULT;
        set_reg(c, i, REG_RAX, size, m);
        return EMU_DONE;
    }
    case 0xa4: case 0xa5: case 0xaa: case 0xab: case 0xac: case 0xad:
        return string_op(c, i, size);
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: { /* shifts, rotates */
        size = op & 1 ? i->operand_size : 1;
        uint64_t count = 1;
        if (op <= 0xc1 && !take_immediate(c->in, i, 1, &count))
            return EMU_UNSUPPORTED;
        if (op >= 0xd2)
            count = s->gpr[REG_RCX];
        if (!load(c, size, &m))
            return EMU_FAULT;
        if (!shift(sub, &m, (unsigned)(count & 0xff), size, c))
            return EMU_DONE;
        return store(c, size, m) ? EMU_DONE : EMU_FAULT;
    }
    default:
        return EMU_UNSUPPORTED;
    }
}

enum emu_result insn_emulate(const struct emu_input *in, struct emu_state *state,
                             const struct emu_memory *memory, void *arg, unsigned *length)
{
    struct insn i;
    bool has_modrm;
    if (!decode(in, &i, &has_modrm))
        return EMU_UNSUPPORTED;
    /* A register operand (mod = 3) touches no memory: not an MMIO exit. */
    if (has_modrm && i.modrm >> 6 == 3)
        return EMU_UNSUPPORTED;
    const struct ctx c = { in, state, memory, arg };
    uint64_t rflags = state->rflags;
    bool rflags_loaded = state->rflags_loaded;
    enum emu_result r = execute(&c, &i);
    /* All or nothing: every path writes registers only after its memory
     * accesses succeeded, but may have set flags before its store. A
     * string instruction that faults keeps the iterations done before the
     * fault, as the CPU does. */
    bool string = !i.two_byte && i.opcode >= 0xa4 && i.opcode <= 0xad;
    if (r == EMU_UNSUPPORTED || (r == EMU_FAULT && !string)) {
        state->rflags = rflags;
        state->rflags_loaded = rflags_loaded;
    }
    *length = (unsigned)i.length;
    return r;
}
