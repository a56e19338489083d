#ifndef NESTED_VMX_OPERAND_H
#define NESTED_VMX_OPERAND_H
/*
 * The operands of a VMX instruction L1 executed: VMXON, VMCLEAR, VMPTRLD,
 * VMPTRST, VMREAD, VMWRITE, INVEPT, INVVPID. The exit describes the operand
 * in the VM-exit instruction-information field (SDM Vol. 3C 28.2.5, Table
 * 28-12 for INVEPT, INVVPID, VMCLEAR, VMPTRLD, VMPTRST, VMXON and Table 28-13
 * for VMREAD, VMWRITE) and puts a memory operand's displacement in the exit
 * qualification (28.2.1); its linear address is then formed from the guest's
 * registers and segment as the instruction itself would (SDM Vol. 1 3.7.5,
 * Vol. 3A 3.4 and 5.3), faults included. Pure: the caller supplies the
 * registers, so this is unit-tested on the host.
 */
#include <stdint.h>
#include <stdbool.h>

enum vmx_operand_insn {
    VMX_OPERAND_VMXON, VMX_OPERAND_VMCLEAR, VMX_OPERAND_VMPTRLD, VMX_OPERAND_VMPTRST,
    VMX_OPERAND_VMREAD, VMX_OPERAND_VMWRITE, VMX_OPERAND_INVEPT, VMX_OPERAND_INVVPID,
};

/* Segment registers as the instruction-information field numbers them. */
enum vmx_operand_segment {
    VMX_SEGMENT_ES, VMX_SEGMENT_CS, VMX_SEGMENT_SS, VMX_SEGMENT_DS, VMX_SEGMENT_FS,
    VMX_SEGMENT_GS,
};

/* General-purpose registers are numbered as in the instruction encoding:
 * 0 RAX, 1 RCX, 2 RDX, 3 RBX, 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15. */
struct vmx_operand {
    enum vmx_operand_insn insn;
    /* VMREAD's destination or VMWRITE's source is register reg1 rather than
     * memory (bit 10); always false for the other instructions, whose
     * operand is memory (a register form is #UD before any exit). */
    bool is_register;
    uint8_t reg1;
    /* VMREAD/VMWRITE: the register holding the field encoding; INVEPT and
     * INVVPID: the register holding the type. Undefined for the others. */
    uint8_t reg2;
    /* The memory operand: segment:[base + index << scale_shift + displacement]
     * at `address_bits` (16, 32 or 64). The displacement is sign-extended
     * from the address size. */
    uint8_t address_bits;
    enum vmx_operand_segment segment;
    bool has_base, has_index;
    uint8_t base_reg, index_reg, scale_shift;
    uint64_t displacement;
};

/* Decodes the operand of `insn` from the exit's instruction information and
 * qualification. */
void vmx_operand_decode(enum vmx_operand_insn insn, uint32_t instruction_info,
                        uint64_t exit_qualification, struct vmx_operand *op);

/* A segment register as the VMCS guest-state area holds it (SDM Vol. 3C
 * 25.4.1): the limit in bytes, the access rights in the VMCS format (type
 * 3:0, S 4, DPL 6:5, P 7, L 13, D/B 14, G 15, unusable 16). */
struct vmx_operand_segment_state {
    uint64_t base;
    uint32_t limit;
    uint32_t access_rights;
};

/* The guest state an operand depends on. */
struct vmx_operand_guest {
    uint64_t gpr[16];
    struct vmx_operand_segment_state segment;  /* the segment the operand names */
    bool in_64bit_mode;     /* IA32_EFER.LMA = 1 and CS.L = 1 */
    bool la57;              /* CR4.LA57: canonical addresses have 57 bits, not 48 */
};

/* Bytes of the memory operand: VMREAD/VMWRITE move 64 bits in 64-bit mode
 * and 32 outside it; the VMCS pointer of VMXON, VMCLEAR, VMPTRLD, VMPTRST
 * is 64 bits; INVEPT and INVVPID read a 128-bit descriptor (SDM Vol. 3C
 * 31.3). */
unsigned vmx_operand_size(enum vmx_operand_insn insn, bool in_64bit_mode);

/* Whether the instruction writes its memory operand (VMPTRST, VMREAD) rather
 * than reads it. */
bool vmx_operand_writes_memory(enum vmx_operand_insn insn);

/* A register operand as the instruction reads it: all 64 bits in 64-bit
 * mode, the low 32 outside it (the VMREAD/VMWRITE field encoding and value,
 * the INVEPT/INVVPID type; SDM Vol. 3C 31.3). */
uint64_t vmx_operand_register(const struct vmx_operand_guest *guest, unsigned reg);

/* The exception the access raises instead: #GP(0), or #SS(0) when the
 * segment is SS; `reason` names the check that failed, for traces. */
struct vmx_operand_fault {
    uint8_t vector;
    uint32_t error_code;
    const char *reason;
};
#define VMX_OPERAND_VECTOR_SS 12
#define VMX_OPERAND_VECTOR_GP 13

/* The linear address of a memory operand (op->is_register false) of
 * vmx_operand_size bytes; false, with the fault, if the access faults. */
bool vmx_operand_linear_address(const struct vmx_operand *op, const struct vmx_operand_guest *guest,
                                uint64_t *linear, struct vmx_operand_fault *fault);
#endif
