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

struct emu_state {
    uint64_t gpr[16];       /* RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15 */
    uint64_t rflags;
};

struct emu_input {
    const uint8_t *bytes;   /* the instruction, fetched at RIP */
    size_t avail;
    enum cpu_mode mode;
    uint64_t mmio_gpa;      /* the faulting access */
    uint64_t segment_base[6];
};

/* An access of `size` (1, 2, 4 or 8) bytes at `address`: guest-physical
 * (the device's) when `linear` is false, else linear. False if it faults
 * (the callee has injected the fault) or cannot be done. */
struct emu_memory {
    bool (*read)(void *ctx, uint64_t address, bool linear, unsigned size, uint64_t *value);
    bool (*write)(void *ctx, uint64_t address, bool linear, unsigned size, uint64_t value);
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
