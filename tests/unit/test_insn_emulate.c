/* The MMIO instruction emulator (exits/insn_emulate.c) against the host
 * CPU: each case runs natively (the instruction copied between a prologue
 * that loads every register but RSP and the flags from a struct and an
 * epilogue that stores them back) and through the emulator, from the same
 * registers, flags and memory; registers, the status flags the SDM defines
 * for the case, and memory must come out the same. The memory operand is
 * [rbx] (or [ebx]); string instructions use rSI and rDI. A few cases of the
 * 16- and 32-bit modes, which the host cannot run here, have expected
 * results written out. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <setjmp.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>
#include "exits/insn_emulate.h"

#define CF 0x001ull
#define PF 0x004ull
#define AF 0x010ull
#define ZF 0x040ull
#define SF 0x080ull
#define DF 0x400ull
#define OF 0x800ull
#define STATUS (CF | PF | AF | ZF | SF | OF)
#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define RSI 6
#define RDI 7
#define AREA 8192           /* two pages: "device" at 0, "RAM" at 4096 */

/* Registers as the native prologue takes them (the emulator's layout). */
struct regs {
    uint64_t gpr[16];
    uint64_t rflags;
};

__asm__(".pushsection .text\n"
        "native_prologue:\n"
        "  push %rbp\n  push %rbx\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
        "  push %rdi\n"
        "  pushq 128(%rdi)\n  popfq\n"
        "  mov 0(%rdi), %rax\n  mov 8(%rdi), %rcx\n  mov 16(%rdi), %rdx\n  mov 24(%rdi), %rbx\n"
        "  mov 40(%rdi), %rbp\n  mov 48(%rdi), %rsi\n  mov 64(%rdi), %r8\n  mov 72(%rdi), %r9\n"
        "  mov 80(%rdi), %r10\n  mov 88(%rdi), %r11\n  mov 96(%rdi), %r12\n  mov 104(%rdi), %r13\n"
        "  mov 112(%rdi), %r14\n  mov 120(%rdi), %r15\n  mov 56(%rdi), %rdi\n"
        "native_prologue_end:\n"
        "native_epilogue:\n"
        "  push %rdi\n  mov 8(%rsp), %rdi\n"
        "  mov %rax, 0(%rdi)\n  mov %rcx, 8(%rdi)\n  mov %rdx, 16(%rdi)\n  mov %rbx, 24(%rdi)\n"
        "  mov %rbp, 40(%rdi)\n  mov %rsi, 48(%rdi)\n  mov %r8, 64(%rdi)\n  mov %r9, 72(%rdi)\n"
        "  mov %r10, 80(%rdi)\n  mov %r11, 88(%rdi)\n  mov %r12, 96(%rdi)\n  mov %r13, 104(%rdi)\n"
        "  mov %r14, 112(%rdi)\n  mov %r15, 120(%rdi)\n"
        "  pushfq\n  pop %rax\n  mov %rax, 128(%rdi)\n"
        "  pop %rax\n  mov %rax, 56(%rdi)\n  add $8, %rsp\n"
        "  cld\n"
        "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbx\n  pop %rbp\n  ret\n"
        "native_epilogue_end:\n"
        ".popsection\n");
extern const uint8_t native_prologue[], native_prologue_end[], native_epilogue[],
    native_epilogue_end[];

static uint8_t *code, *native_area, *emu_area;

static int setup(void **state)
{
    (void)state;
    code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    native_area = mmap(NULL, AREA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
                       -1, 0);
    emu_area = mmap(NULL, AREA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
                    -1, 0);
    return code == MAP_FAILED || native_area == MAP_FAILED || emu_area == MAP_FAILED;
}

static void run_native(const uint8_t *insn, size_t len, struct regs *r)
{
    size_t pro = native_prologue_end - native_prologue;
    size_t epi = native_epilogue_end - native_epilogue;
    memcpy(code, native_prologue, pro);
    memcpy(code + pro, insn, len);
    memcpy(code + pro + len, native_epilogue, epi);
    __builtin___clear_cache((char *)code, (char *)code + pro + len + epi);
    ((void (*)(struct regs *))code)(r);
}

/* The emulator's memory: host addresses inside emu_area, either kind. */
static unsigned device_reads, device_writes;

static bool in_area(uint64_t a, unsigned size)
{
    return a >= (uint64_t)emu_area && a + size <= (uint64_t)emu_area + AREA;
}

static bool mem_read(void *ctx, uint64_t address, bool linear, unsigned size, uint64_t *value)
{
    (void)ctx;
    if (!in_area(address, size))
        return false;
    device_reads += !linear;
    *value = 0;
    memcpy(value, (void *)address, size);
    return true;
}

static bool mem_write(void *ctx, uint64_t address, bool linear, unsigned size, uint64_t value)
{
    (void)ctx;
    if (!in_area(address, size))
        return false;
    device_writes += !linear;
    memcpy((void *)address, &value, size);
    return true;
}

static uint64_t no_segment_base(void *ctx, unsigned segment)
{
    (void)ctx;
    (void)segment;
    return 0;
}

/* The tests hand RSP and RFLAGS in loaded: these are never asked. */
static uint64_t not_asked(void *ctx)
{
    (void)ctx;
    fail_msg("RSP or RFLAGS asked for though loaded");
    return 0;
}

static const struct emu_memory memory = { mem_read, mem_write, no_segment_base, not_asked,
                                          not_asked };

/* A case: bytes, registers (RBX, RSI, RDI as offsets in the area), flags,
 * the device bytes, the status flags the SDM leaves undefined, and where
 * in the area the access falls (BT with a far bit offset). */
struct tcase {
    const char *bytes;
    size_t len;
    uint64_t gpr[16];
    uint64_t rflags;
    uint64_t mem[2];            /* the first 16 bytes of the device page */
    uint64_t undefined;
    uint64_t access_offset;
};

static const unsigned pointer_regs[] = { RBX, RSI, RDI };

static bool is_pointer(unsigned r)
{
    return r == RBX || r == RSI || r == RDI;
}

static void prepare(const struct tcase *t, uint8_t *area, struct regs *r)
{
    memset(area, 0, AREA);
    memcpy(area, t->mem, sizeof(t->mem));
    for (unsigned i = 0; i < 256; i++)
        area[4096 + i] = (uint8_t)(0xa0 + i);       /* "RAM" for string instructions */
    memcpy(r->gpr, t->gpr, sizeof(r->gpr));
    for (unsigned i = 0; i < 3; i++)
        r->gpr[pointer_regs[i]] += (uint64_t)area;
    r->rflags = (t->rflags & (STATUS | DF)) | 0x2;
}

static void check(const struct tcase *t)
{
    struct regs native, emu;
    prepare(t, native_area, &native);
    prepare(t, emu_area, &emu);
    run_native((const uint8_t *)t->bytes, t->len, &native);
    struct emu_input in = { .bytes = (const uint8_t *)t->bytes, .avail = t->len, .mode = MODE_64,
                            .mmio_gpa = (uint64_t)emu_area + t->access_offset };
    struct emu_state st = { .gpr = emu.gpr, .rflags = emu.rflags, .rsp_loaded = true,
                            .rflags_loaded = true };
    unsigned length = 0;
    enum emu_result res = insn_emulate(&in, &st, &memory, NULL, &length);
    char what[64] = "";
    for (size_t i = 0; i < t->len && strlen(what) < sizeof(what) - 4; i++)
        snprintf(what + strlen(what), sizeof(what) - strlen(what), "%02x ",
                 (uint8_t)t->bytes[i]);
    if (res != EMU_DONE || length != t->len)
        fail_msg("%s: result %d, length %u (want DONE, %zu)", what, res, length, t->len);
    for (unsigned i = 0; i < 16; i++) {
        if (i == 4)
            continue;       /* RSP: not the prologue's */
        uint64_t n = native.gpr[i], e = emu.gpr[i];
        if (is_pointer(i)) {
            n -= (uint64_t)native_area;
            e -= (uint64_t)emu_area;
        }
        if (n != e)
            fail_msg("%s: register %u 0x%lx, native 0x%lx", what, i, e, n);
    }
    uint64_t compared = STATUS & ~t->undefined;
    if ((native.rflags & compared) != (st.rflags & compared))
        fail_msg("%s: flags 0x%lx, native 0x%lx (compared 0x%lx)", what, st.rflags & compared,
                 native.rflags & compared, compared);
    if (memcmp(native_area, emu_area, AREA))
        fail_msg("%s: memory differs", what);
}

#define B(s) s, sizeof(s) - 1
#define CASE(bytes, ...) check(&(struct tcase){ B(bytes), __VA_ARGS__ })

static const uint64_t values[] = {
    0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
    0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffffull, 0x123456789abcdef0ull,
    0x0f0f0f0f0f0f0f0full,
};
#define NVALUES (sizeof(values) / sizeof(values[0]))

static void moves(void **state)
{
    (void)state;
    const uint64_t rax = 0x1122334455667788ull, mem = 0x99aabbccddeeff00ull;
    CASE("\x88\x03", .gpr = { [RAX] = rax });                   /* mov [rbx], al */
    CASE("\x88\x23", .gpr = { [RAX] = rax });                   /* mov [rbx], ah */
    CASE("\x89\x03", .gpr = { [RAX] = rax });
    CASE("\x66\x89\x03", .gpr = { [RAX] = rax });
    CASE("\x48\x89\x03", .gpr = { [RAX] = rax });
    CASE("\x4c\x89\x03", .gpr = { [8] = rax });                 /* mov [rbx], r8 */
    CASE("\x8a\x03", .gpr = { [RAX] = rax }, .mem = { mem });
    CASE("\x8a\x23", .gpr = { [RAX] = rax }, .mem = { mem });   /* mov ah, [rbx] */
    CASE("\x40\x8a\x33", .gpr = { [RSI] = 0x100 }, .mem = { mem }); /* mov sil, [rbx] */
    CASE("\x8b\x03", .gpr = { [RAX] = rax }, .mem = { mem });   /* zero-extends */
    CASE("\x66\x8b\x03", .gpr = { [RAX] = rax }, .mem = { mem });
    CASE("\x48\x8b\x03", .gpr = { [RAX] = rax }, .mem = { mem });
    CASE("\x44\x8b\x3b", .gpr = { [15] = rax }, .mem = { mem }); /* mov r15d, [rbx] */
    CASE("\xc6\x03\x5a", .mem = { mem });
    CASE("\x66\xc7\x03\x34\x12", .mem = { mem });
    CASE("\xc7\x03\x78\x56\x34\x92", .mem = { mem });
    CASE("\x48\xc7\x03\x78\x56\x34\x92", .mem = { mem });       /* imm32 sign-extended */
    CASE("\x0f\xb6\x03", .gpr = { [RAX] = rax }, .mem = { mem });
    CASE("\x66\x0f\xb6\x03", .gpr = { [RAX] = rax }, .mem = { mem });
    CASE("\x48\x0f\xb7\x03", .gpr = { [RAX] = rax }, .mem = { mem });
    CASE("\x0f\xbe\x03", .gpr = { [RAX] = rax }, .mem = { 0x80 });
    CASE("\x48\x0f\xbe\x03", .gpr = { [RAX] = rax }, .mem = { 0x80 });
    CASE("\x0f\xbf\x03", .gpr = { [RAX] = rax }, .mem = { 0x8000 });
    CASE("\x48\x63\x03", .gpr = { [RAX] = rax }, .mem = { 0x80000000 }); /* movsxd */
    CASE("\x67\x89\x03", .gpr = { [RAX] = rax });               /* mov [ebx], eax */
    CASE("\x2e\x89\x43\x08", .gpr = { [RAX] = rax }, .access_offset = 8); /* cs: [rbx+8] */
    CASE("\x89\x84\x13\x00\x00\x00\x00", .gpr = { [RAX] = rax, [RDX] = 0 }); /* [rbx+rdx] */
}

static void moffs(void **state)
{
    (void)state;
    /* The absolute address is the area's: different bytes for each run,
     * the emulator's taking its access from mmio_gpa anyway. */
    for (int store = 0; store < 2; store++) {
        uint8_t bytes[10] = { 0x48, store ? 0xa3 : 0xa1 };
        struct regs native, emu;
        struct tcase t = { .gpr = { [RAX] = 0x0102030405060708ull },
                           .mem = { 0xf0e0d0c0b0a09080ull } };
        prepare(&t, native_area, &native);
        prepare(&t, emu_area, &emu);
        uint64_t a = (uint64_t)native_area;
        memcpy(bytes + 2, &a, 8);
        run_native(bytes, sizeof(bytes), &native);
        struct emu_input in = { .bytes = bytes, .avail = sizeof(bytes), .mode = MODE_64,
                                .mmio_gpa = (uint64_t)emu_area };
        struct emu_state st = { .gpr = emu.gpr, .rflags = emu.rflags, .rsp_loaded = true,
                            .rflags_loaded = true };
        unsigned length;
        assert_int_equal(insn_emulate(&in, &st, &memory, NULL, &length), EMU_DONE);
        assert_int_equal(length, 10);
        assert_int_equal(emu.gpr[RAX], native.gpr[RAX]);
        assert_memory_equal(native_area, emu_area, 16);
    }
}

/* ADD, OR, ADC, SBB, AND, SUB, XOR, CMP in every memory form and size, over
 * values at the edges, with CF clear and set. */
static void alu_group(void **state)
{
    (void)state;
    for (unsigned op = 0; op < 8; op++) {
        bool logic = op == 1 || op == 4 || op == 6;
        uint64_t undefined = logic ? AF : 0;
        for (unsigned a = 0; a < NVALUES; a++)
            for (unsigned b = 0; b < NVALUES; b += 3)
                for (uint64_t cf = 0; cf < 2; cf++) {
                    uint64_t m[2] = { values[a] }, reg = values[b];
                    char bytes[8];
                    const struct { const char *prefix; uint8_t form; } forms[] = {
                        { "", 0 }, { "", 1 }, { "\x66", 1 }, { "\x48", 1 }, { "", 2 }, { "", 3 },
                        { "\x66", 3 }, { "\x48", 3 },
                    };
                    for (unsigned f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
                        size_t n = strlen(forms[f].prefix);
                        memcpy(bytes, forms[f].prefix, n);
                        bytes[n] = (char)(op << 3 | forms[f].form);
                        bytes[n + 1] = 0x0b;            /* [rbx], ecx */
                        check(&(struct tcase){ bytes, n + 2, .gpr = { [RCX] = reg },
                                               .rflags = cf, .mem = { m[0] },
                                               .undefined = undefined });
                    }
                    /* 80 /op ib, 81 /op id, 48 81, 66 81 iw, 83 /op ib, 48 83. */
                    uint8_t modrm = (uint8_t)(0x03 | op << 3);
                    uint8_t i8 = (uint8_t)reg;
                    uint32_t i32 = (uint32_t)reg;
                    char i[8];
                    memcpy(i, &i32, 4);
                    char c80[] = { (char)0x80, (char)modrm, (char)i8 };
                    char c81[] = { (char)0x81, (char)modrm, i[0], i[1], i[2], i[3] };
                    char c4881[] = { 0x48, (char)0x81, (char)modrm, i[0], i[1], i[2], i[3] };
                    char c6681[] = { 0x66, (char)0x81, (char)modrm, i[0], i[1] };
                    char c83[] = { (char)0x83, (char)modrm, (char)i8 };
                    char c4883[] = { 0x48, (char)0x83, (char)modrm, (char)i8 };
                    const struct { const char *b; size_t n; } imm[] = {
                        { c80, sizeof(c80) }, { c81, sizeof(c81) }, { c4881, sizeof(c4881) },
                        { c6681, sizeof(c6681) }, { c83, sizeof(c83) }, { c4883, sizeof(c4883) },
                    };
                    for (unsigned k = 0; k < sizeof(imm) / sizeof(imm[0]); k++)
                        check(&(struct tcase){ imm[k].b, imm[k].n, .rflags = cf,
                                               .mem = { m[0] }, .undefined = undefined });
                }
    }
}

static void test_inc_dec_not_neg(void **state)
{
    (void)state;
    const char *ops[] = {
        "\x84\x0b", "\x85\x0b", "\x48\x85\x0b", "\x66\x85\x0b",    /* test [rbx], cl/ecx */
        "\xfe\x03", "\xfe\x0b", "\xff\x03", "\xff\x0b", "\x66\xff\x03", "\x48\xff\x0b",
        "\xf6\x13", "\xf7\x13", "\x48\xf7\x13", "\xf6\x1b", "\xf7\x1b", "\x66\xf7\x1b",
        "\x48\xf7\x1b", "\xf0\xff\x03", "\xf0\x48\xf7\x1b",
    };
    for (unsigned o = 0; o < sizeof(ops) / sizeof(ops[0]); o++)
        for (unsigned a = 0; a < NVALUES; a++)
            for (uint64_t cf = 0; cf < 2; cf++)
                check(&(struct tcase){ ops[o], strlen(ops[o]), .gpr = { [RCX] = values[NVALUES - 1 - a] },
                                       .rflags = cf | (a & 1 ? OF | SF : 0), .mem = { values[a] },
                                       .undefined = o < 4 ? AF : 0 });
    /* TEST with immediates. */
    for (unsigned a = 0; a < NVALUES; a++) {
        CASE("\xf6\x03\x81", .mem = { values[a] }, .undefined = AF);
        CASE("\xf7\x03\x01\x00\x00\x80", .mem = { values[a] }, .undefined = AF);
        CASE("\x48\xf7\x03\x01\x00\x00\x80", .mem = { values[a] }, .undefined = AF);
        CASE("\x66\xf7\x03\x01\x80", .mem = { values[a] }, .undefined = AF);
    }
}

/* ROL, ROR, RCL, RCR, SHL, SHR, SAL, SAR by 1, CL and imm8, every size. */
static void shifts_and_rotates(void **state)
{
    (void)state;
    static const unsigned counts[] = { 0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65 };
    static const struct { const char *prefix; uint8_t op; unsigned bits; } forms[] = {
        { "", 0xd2, 8 }, { "", 0xd3, 32 }, { "\x66", 0xd3, 16 }, { "\x48", 0xd3, 64 },
    };
    for (unsigned kind = 0; kind < 8; kind++)
        for (unsigned f = 0; f < sizeof(forms) / sizeof(forms[0]); f++)
            for (unsigned c = 0; c < sizeof(counts) / sizeof(counts[0]); c++)
                for (unsigned a = 0; a < NVALUES; a += 2)
                    for (uint64_t cf = 0; cf < 2; cf++) {
                        unsigned bits = forms[f].bits;
                        unsigned masked = counts[c] & (bits == 64 ? 63 : 31);
                        bool rotate = kind < 4;
                        uint64_t undefined = 0;
                        if (masked) {
                            if (masked != 1)
                                undefined |= OF;
                            if (!rotate) {
                                undefined |= AF;
                                if (masked >= bits)
                                    undefined |= CF | OF;
                            }
                        }
                        char bytes[4];
                        size_t n = strlen(forms[f].prefix);
                        memcpy(bytes, forms[f].prefix, n);
                        bytes[n] = (char)forms[f].op;
                        bytes[n + 1] = (char)(0x03 | kind << 3);
                        check(&(struct tcase){ bytes, n + 2, .gpr = { [RCX] = counts[c] },
                                               .rflags = cf | SF, .mem = { values[a] },
                                               .undefined = undefined });
                        if (counts[c] == 1) {       /* D0/D1: by one */
                            bytes[n] = (char)(forms[f].op - 2);
                            check(&(struct tcase){ bytes, n + 2, .rflags = cf,
                                                   .mem = { values[a] },
                                                   .undefined = rotate ? 0 : AF });
                        }
                        /* C0/C1 with the count as imm8. */
                        bytes[n] = (char)(forms[f].op == 0xd2 ? 0xc0 : 0xc1);
                        bytes[n + 2] = (char)counts[c];
                        check(&(struct tcase){ bytes, n + 3, .rflags = cf, .mem = { values[a] },
                                               .undefined = undefined });
                    }
}

static void xchg_cmpxchg_and_bit_tests(void **state)
{
    (void)state;
    for (unsigned a = 0; a < NVALUES; a += 2) {
        uint64_t v = values[a];
        CASE("\x86\x0b", .gpr = { [RCX] = 0x1234 }, .mem = { v });
        CASE("\x87\x0b", .gpr = { [RCX] = 0x1234 }, .mem = { v });
        CASE("\x48\x87\x0b", .gpr = { [RCX] = 0x1234 }, .mem = { v });
        CASE("\x66\x87\x0b", .gpr = { [RCX] = 0x1234 }, .mem = { v });
        /* CMPXCHG: equal (RAX = memory) and not. */
        for (int equal = 0; equal < 2; equal++) {
            uint64_t rax = equal ? v : v ^ 0x10;
            CASE("\x0f\xb0\x0b", .gpr = { [RAX] = rax, [RCX] = 0x5a }, .mem = { v });
            CASE("\x0f\xb1\x0b", .gpr = { [RAX] = rax, [RCX] = 0x5a5a }, .mem = { v });
            CASE("\xf0\x48\x0f\xb1\x0b", .gpr = { [RAX] = rax, [RCX] = 0x5a5a }, .mem = { v });
            CASE("\x66\x0f\xb1\x0b", .gpr = { [RAX] = rax, [RCX] = 0x5a5a }, .mem = { v });
        }
        /* BT, BTS, BTR, BTC by register (within the operand) and imm8. */
        const uint64_t bt_undefined = OF | SF | AF | PF;
        for (unsigned bit = 0; bit < 64; bit += 7) {
            CASE("\x0f\xa3\x0b", .gpr = { [RCX] = bit & 31 }, .mem = { v }, .undefined = bt_undefined);
            CASE("\x0f\xab\x0b", .gpr = { [RCX] = bit & 31 }, .mem = { v }, .undefined = bt_undefined);
            CASE("\x48\x0f\xb3\x0b", .gpr = { [RCX] = bit }, .mem = { v }, .undefined = bt_undefined);
            CASE("\x66\x0f\xbb\x0b", .gpr = { [RCX] = bit & 15 }, .mem = { v }, .undefined = bt_undefined);
            char imm[] = { 0x0f, (char)0xba, 0x23, (char)bit };
            for (unsigned k = 4; k < 8; k++) {
                imm[2] = (char)(0x03 | k << 3);
                check(&(struct tcase){ imm, sizeof(imm), .mem = { v }, .undefined = bt_undefined });
            }
        }
    }
    /* A register bit offset beyond the operand: the CPU accesses the dword
     * that holds the bit, the emulator takes it from the access address. */
    CASE("\x0f\xab\x0b", .gpr = { [RCX] = 40 }, .mem = { 0, 0x1111 }, .undefined = OF | SF | AF | PF,
         .access_offset = 4);
}

/* MOVS, STOS, LODS: the device page at 0 and RAM at 4096, each way, with
 * and without REP, forwards and backwards, 8 to 64 bits, 32-bit addresses. */
static void strings(void **state)
{
    (void)state;
    const uint64_t dev[2] = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
    for (uint64_t df = 0; df < 2; df += 1) {
        uint64_t s = df ? 8 : 0, d = 4096 + (df ? 64 : 0);
        CASE("\xa4", .gpr = { [RSI] = s, [RDI] = d }, .rflags = df ? DF : 0, .mem = { dev[0], dev[1] });
        CASE("\xa5", .gpr = { [RSI] = s, [RDI] = d }, .rflags = df ? DF : 0, .mem = { dev[0], dev[1] });
        CASE("\x48\xa5", .gpr = { [RSI] = s, [RDI] = d }, .rflags = df ? DF : 0, .mem = { dev[0], dev[1] });
        CASE("\x66\xa5", .gpr = { [RSI] = s, [RDI] = d }, .rflags = df ? DF : 0, .mem = { dev[0], dev[1] });
        CASE("\xf3\xa4", .gpr = { [RCX] = 5, [RSI] = s, [RDI] = d }, .rflags = df ? DF : 0,
             .mem = { dev[0], dev[1] });
        CASE("\xf3\x48\xa5", .gpr = { [RCX] = 2, [RSI] = s, [RDI] = d }, .rflags = df ? DF : 0,
             .mem = { dev[0], dev[1] });
        /* RAM to the device. */
        CASE("\xf3\xa5", .gpr = { [RCX] = 2, [RSI] = d, [RDI] = s }, .rflags = df ? DF : 0);
        CASE("\xaa", .gpr = { [RAX] = 0x5a, [RDI] = s }, .rflags = df ? DF : 0);
        CASE("\xf3\xab", .gpr = { [RAX] = 0x12345678, [RCX] = 3, [RDI] = df ? 8 : 0 },
             .rflags = df ? DF : 0);
        CASE("\xf3\x48\xab", .gpr = { [RAX] = 0x123456789ull, [RCX] = 2, [RDI] = s },
             .rflags = df ? DF : 0);
        CASE("\xac", .gpr = { [RAX] = ~0ull, [RSI] = s }, .rflags = df ? DF : 0, .mem = { dev[0], dev[1] });
        CASE("\xad", .gpr = { [RAX] = ~0ull, [RSI] = s }, .rflags = df ? DF : 0, .mem = { dev[0], dev[1] });
        CASE("\xf3\xa4", .gpr = { [RCX] = 0, [RSI] = s, [RDI] = d }, .rflags = df ? DF : 0);
        CASE("\x67\xf3\xa4", .gpr = { [RCX] = 3, [RSI] = s, [RDI] = d }, .rflags = df ? DF : 0,
             .mem = { dev[0], dev[1] });
    }
}

/* A long REP stops after a batch with RIP to stay, and resumes. */
static void long_rep_in_batches(void **state)
{
    (void)state;
    static uint8_t big[3 * EMU_REP_BATCH];
    (void)big;
    uint64_t gpr[16] = { [RAX] = 0x77, [RCX] = EMU_REP_BATCH + 10, [RDI] = (uint64_t)emu_area };
    struct emu_state st = { .gpr = gpr, .rsp_loaded = true, .rflags_loaded = true };
    const uint8_t bytes[] = { 0xf3, 0xaa };     /* rep stosb into the area */
    struct emu_input in = { .bytes = bytes, .avail = 2, .mode = MODE_64 };
    unsigned length;
    assert_int_equal(insn_emulate(&in, &st, &memory, NULL, &length), EMU_AGAIN);
    assert_int_equal(gpr[RCX], 10);
    assert_int_equal(gpr[RDI], (uint64_t)emu_area + EMU_REP_BATCH);
    assert_int_equal(insn_emulate(&in, &st, &memory, NULL, &length), EMU_DONE);
    assert_int_equal(gpr[RCX], 0);
    assert_int_equal(length, 2);
    assert_int_equal(emu_area[EMU_REP_BATCH + 9], 0x77);
}

/* What the host cannot run here: 16- and 32-bit code, and refusals. */
static void other_modes_and_refusals(void **state)
{
    (void)state;
    uint64_t gpr[16];
    struct emu_state st = { .gpr = gpr, .rsp_loaded = true, .rflags_loaded = true };
    unsigned length;
    uint64_t *dev = (uint64_t *)emu_area;
    dev[0] = 0;
    /* 32-bit code: 89 03 stores EAX, 66 89 03 AX. */
    struct emu_input in = { .bytes = (const uint8_t *)"\x66\x89\x03", .avail = 3, .mode = MODE_32,
                            .mmio_gpa = (uint64_t)emu_area };
    memset(gpr, 0, sizeof(gpr));
    gpr[RAX] = 0x11223344;
    assert_int_equal(insn_emulate(&in, &st, &memory, NULL, &length), EMU_DONE);
    assert_int_equal(dev[0], 0x3344);
    /* 16-bit code: 66 89 07 stores EAX to [bx]; 81 07 iw adds a word. */
    in = (struct emu_input){ .bytes = (const uint8_t *)"\x66\x89\x07", .avail = 3, .mode = MODE_16,
                             .mmio_gpa = (uint64_t)emu_area };
    assert_int_equal(insn_emulate(&in, &st, &memory, NULL, &length), EMU_DONE);
    assert_int_equal(dev[0], 0x11223344);
    in.bytes = (const uint8_t *)"\x81\x07\x01\x00";
    in.avail = 4;
    assert_int_equal(insn_emulate(&in, &st, &memory, NULL, &length), EMU_DONE);
    assert_int_equal(length, 4);
    assert_int_equal(dev[0], 0x11223345);
    /* 16-bit addressing with disp16: 89 87 34 12 = mov [bx+0x1234], ax. */
    in.bytes = (const uint8_t *)"\x89\x87\x34\x12";
    assert_int_equal(insn_emulate(&in, &st, &memory, NULL, &length), EMU_DONE);
    assert_int_equal(length, 4);
    /* Refused: a register operand, MUL, a call through memory, truncation,
     * an unknown opcode; the registers untouched. */
    const char *refused[] = { "\x89\xc3", "\xf7\x23", "\xff\x13", "\x48\x89", "\x0f\x0b",
                              "\x62\x03", "\xc7\x03\x01" };
    for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        struct emu_input r = { .bytes = (const uint8_t *)refused[i], .avail = strlen(refused[i]) + (i == 6 ? 0 : 0),
                               .mode = MODE_64, .mmio_gpa = (uint64_t)emu_area };
        if (i == 1 || i == 2)
            r.avail = 2;
        memset(gpr, 0, sizeof(gpr));
        gpr[RAX] = 1;
        device_writes = 0;
        assert_int_equal(insn_emulate(&r, &st, &memory, NULL, &length), EMU_UNSUPPORTED);
        assert_int_equal(gpr[RAX], 1);
        assert_int_equal(device_writes, 0);
    }
    /* A fault: nothing changes. */
    in = (struct emu_input){ .bytes = (const uint8_t *)"\x48\x01\x0b", .avail = 3, .mode = MODE_64,
                             .mmio_gpa = 8 };
    memset(gpr, 0, sizeof(gpr));
    gpr[RCX] = 1;
    st.rflags = 0x2;
    assert_int_equal(insn_emulate(&in, &st, &memory, NULL, &length), EMU_FAULT);
    assert_int_equal(st.rflags, 0x2);
}

/* A read-modify-write reads the device once and writes it once. */
static void one_read_one_write(void **state)
{
    (void)state;
    device_reads = device_writes = 0;
    CASE("\xf0\x48\x01\x0b", .gpr = { [RCX] = 3 }, .mem = { 5 });
    assert_int_equal(device_reads, 1);
    assert_int_equal(device_writes, 1);
    device_reads = device_writes = 0;
    CASE("\x48\x39\x0b", .gpr = { [RCX] = 3 }, .mem = { 5 });   /* CMP: no write */
    assert_int_equal(device_reads, 1);
    assert_int_equal(device_writes, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(moves),
        cmocka_unit_test(moffs),
        cmocka_unit_test(alu_group),
        cmocka_unit_test(test_inc_dec_not_neg),
        cmocka_unit_test(shifts_and_rotates),
        cmocka_unit_test(xchg_cmpxchg_and_bit_tests),
        cmocka_unit_test(strings),
        cmocka_unit_test(long_rep_in_batches),
        cmocka_unit_test(other_modes_and_refusals),
        cmocka_unit_test(one_read_one_write),
    };
    return cmocka_run_group_tests_name("insn_emulate", tests, setup, NULL);
}
