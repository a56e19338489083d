#ifndef EXITS_INSN_DECODE_H
#define EXITS_INSN_DECODE_H
/*
 * Decoding of the instructions guests use on MMIO: the MOV family (88, 89,
 * 8A, 8B, C6, C7, A0-A3, 0F B6/B7/BE/BF). Enough to emulate a device
 * register access or to drop a write to nothing: direction, size, register
 * or immediate, and the instruction's length (SDM Vol. 2, ch. 2).
 */
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

enum cpu_mode { MODE_16, MODE_32, MODE_64 };   /* the code segment's default size */

enum mmio_kind { MMIO_LOAD, MMIO_STORE };

struct mmio_insn {
    uint8_t length;
    enum mmio_kind kind;
    uint8_t size;           /* bytes accessed in memory: 1, 2, 4 or 8 */
    uint8_t reg;            /* GPR number (0 RAX ... 15 R15) loaded or stored */
    bool high_byte;         /* AH, CH, DH, BH: bits 15:8 of GPR reg */
    bool has_immediate;     /* a store of `immediate` rather than of reg */
    uint64_t immediate;
    uint8_t dest_size;      /* loads: register bytes written (movzx/movsx widen) */
    bool sign_extend;
};

/* Decodes the instruction in bytes[0..avail). False if it is not one we
 * emulate (or is truncated). */
bool insn_decode_mmio(const uint8_t *bytes, size_t avail, enum cpu_mode mode,
                      struct mmio_insn *out);

/* What a load of `value` (size bytes) does to the destination register. */
uint64_t mmio_load_result(const struct mmio_insn *insn, uint64_t old_reg, uint64_t value);
/* The value a store writes (size bytes), given the source register. */
uint64_t mmio_store_value(const struct mmio_insn *insn, uint64_t reg_value);
#endif
