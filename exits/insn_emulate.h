#ifndef EXITS_INSN_EMULATE_H
#define EXITS_INSN_EMULATE_H
/*
 * The instructions a guest may point at a device page (MMIO), emulated as
 * the CPU would execute them (SDM Vol. 2): MOV in all its forms, MOVZX,
 * MOVSX, MOVSXD; the ALU group ADD, OR, ADC, SBB, AND, SUB, XOR, CMP (to and
 * from memory, with immediates); TEST; INC, DEC, NOT, NEG; the shifts and
 * rotates (by 1, CL, imm8); XCHG and CMPXCHG (LOCK allowed); BT, BTS, BTR,
 * BTC (register and immediate bit offsets); MOVS, STOS and LODS with or
 * without REP; 8/16/32/64-bit operands and 16/32/64-bit addresses. A
 * read-modify-write reads the device once and writes it once.
 *
 * Pure: the guest's registers come in a struct, memory through callbacks,
 * so every instruction is unit-tested against the host CPU running it.
 * The one memory operand of a non-string instruction is the access the EPT
 * violation reported (`mmio_gpa`: the CPU computed the address, bit-offset
 * adjustment of BT included); string instructions address by segment base
 * plus rSI/rDI, linear addresses the caller routes to RAM or a device.
 */
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

enum cpu_mode { MODE_16, MODE_32, MODE_64 };   /* the code segment's default size */

enum { EMU_ES, EMU_CS, EMU_SS, EMU_DS, EMU_FS, EMU_GS };   /* segment register numbers */

/* The guest's registers where they are kept (no copies on the hot path):
 * an array of RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15. The emulator
 * writes one only once the instruction's memory accesses have succeeded. */
struct emu_state {
    uint64_t *gpr;
    uint64_t rflags;
    /* RSP (gpr[4]) and RFLAGS are read through the callbacks the first time
     * an instruction needs them, unless already there: a MOV needs neither. */
    bool rsp_loaded, rflags_loaded;
};

struct emu_input {
    const uint8_t *bytes;   /* the instruction, fetched at RIP */
    size_t avail;
    enum cpu_mode mode;
    uint64_t mmio_gpa;      /* the faulting access */
};

/* An access of `size` (1, 2, 4 or 8) bytes at `address`: guest-physical
 * (the device's) when `linear` is false, else linear. False if it faults
 * (the callee has injected the fault) or cannot be done. */
struct emu_memory {
    bool (*read)(void *ctx, uint64_t address, bool linear, unsigned size, uint64_t *value);
    bool (*write)(void *ctx, uint64_t address, bool linear, unsigned size, uint64_t value);
    /* A segment's base (EMU_ES ...), asked only by string instructions. */
    uint64_t (*segment_base)(void *ctx, unsigned segment);
    uint64_t (*read_rsp)(void *ctx);
    uint64_t (*read_rflags)(void *ctx);
};

enum emu_result {
    EMU_DONE,           /* executed: RIP moves on by *length */
    EMU_AGAIN,          /* a REP string instruction stopped after a batch: RIP stays */
    EMU_FAULT,          /* a memory access faulted: nothing more, RIP stays */
    EMU_UNSUPPORTED,    /* not an instruction emulated here (or truncated) */
};

/* Iterations of a REP string instruction per call; the rest after the
 * guest runs again (it may take interrupts between them, as the CPU does). */
#define EMU_REP_BATCH 1024

enum emu_result insn_emulate(const struct emu_input *in, struct emu_state *state,
                             const struct emu_memory *memory, void *ctx, unsigned *length);
#endif
