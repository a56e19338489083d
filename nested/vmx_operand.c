/* Operands of exiting VMX instructions (see vmx_operand.h). */
#include "nested/vmx_operand.h"

/* The VM-exit instruction-information field (SDM Vol. 3C Tables 28-12 and
 * 28-13): the same layout for every instruction here, except that reg1 and
 * the register/memory bit exist only for VMREAD and VMWRITE. */
#define INFO_SCALE(i)           ((i) & 3)
#define INFO_REG1(i)            ((i) >> 3 & 15)
#define INFO_ADDRESS_SIZE(i)    ((i) >> 7 & 7)      /* 0: 16-bit, 1: 32-bit, 2: 64-bit */
#define INFO_IS_REGISTER        (1u << 10)
#define INFO_SEGMENT(i)         ((i) >> 15 & 7)
#define INFO_INDEX_REG(i)       ((i) >> 18 & 15)
#define INFO_INDEX_INVALID      (1u << 22)
#define INFO_BASE_REG(i)        ((i) >> 23 & 15)
#define INFO_BASE_INVALID       (1u << 27)
#define INFO_REG2(i)            ((i) >> 28 & 15)

/* Segment access rights in the VMCS format (SDM Vol. 3C 25.4.1, Vol. 3A
 * 3.4.5.1 for the type). */
#define AR_TYPE_CODE            (1u << 3)
#define AR_TYPE_EXPAND_DOWN     (1u << 2)   /* data segments */
#define AR_TYPE_WRITABLE        (1u << 1)   /* data segments */
#define AR_TYPE_READABLE        (1u << 1)   /* code segments */
#define AR_DEFAULT_BIG          (1u << 14)  /* D/B: an expand-down segment ends at 4 GiB - 1 */
#define AR_UNUSABLE             (1u << 16)

static unsigned address_bits(uint32_t info)
{
    switch (INFO_ADDRESS_SIZE(info)) {
    case 0: return 16;
    case 1: return 32;
    default: return 64;     /* 2; the processor uses no other value */
    }
}

static uint64_t low_bits_mask(unsigned bits)
{
    return bits >= 64 ? ~0ull : (1ull << bits) - 1;
}

static uint64_t sign_extend(uint64_t value, unsigned bits)
{
    uint64_t sign = 1ull << (bits - 1);
    return ((value & low_bits_mask(bits)) ^ sign) - sign;
}

void vmx_operand_decode(enum vmx_operand_insn insn, uint32_t instruction_info,
                        uint64_t exit_qualification, struct vmx_operand *op)
{
    bool reads_or_writes_field = insn == VMX_OPERAND_VMREAD || insn == VMX_OPERAND_VMWRITE;
    *op = (struct vmx_operand){
        .insn = insn,
        .is_register = reads_or_writes_field && (instruction_info & INFO_IS_REGISTER),
        .reg1 = (uint8_t)INFO_REG1(instruction_info),
        .reg2 = (uint8_t)INFO_REG2(instruction_info),
        .address_bits = (uint8_t)address_bits(instruction_info),
        .segment = (enum vmx_operand_segment)INFO_SEGMENT(instruction_info),
        .has_base = !(instruction_info & INFO_BASE_INVALID),
        .has_index = !(instruction_info & INFO_INDEX_INVALID),
        .base_reg = (uint8_t)INFO_BASE_REG(instruction_info),
        .index_reg = (uint8_t)INFO_INDEX_REG(instruction_info),
        .scale_shift = (uint8_t)INFO_SCALE(instruction_info),
    };
    /* SDM Vol. 3C 28.2.1: the qualification holds the displacement, already
     * sign-extended to 64 bits (for RIP-relative addressing, the displacement
     * plus the next instruction's RIP, with no base or index); a 16- or
     * 32-bit address has only that many bits of displacement (Vol. 2A 2.1.5). */
    op->displacement = sign_extend(exit_qualification, op->address_bits);
}

unsigned vmx_operand_size(enum vmx_operand_insn insn, bool in_64bit_mode)
{
    switch (insn) {
    case VMX_OPERAND_VMREAD:
    case VMX_OPERAND_VMWRITE:
        return in_64bit_mode ? 8 : 4;
    case VMX_OPERAND_INVEPT:
    case VMX_OPERAND_INVVPID:
        return 16;
    default:
        return 8;
    }
}

bool vmx_operand_writes_memory(enum vmx_operand_insn insn)
{
    return insn == VMX_OPERAND_VMPTRST || insn == VMX_OPERAND_VMREAD;
}

uint64_t vmx_operand_register(const struct vmx_operand_guest *guest, unsigned reg)
{
    uint64_t value = guest->gpr[reg & 15];
    return guest->in_64bit_mode ? value : (uint32_t)value;
}

/* SDM Vol. 1 3.7.5: base + index * scale + displacement, in the address
 * size (the sum wraps at 2^16 or 2^32 for the smaller sizes). */
static uint64_t effective_address(const struct vmx_operand *op,
                                  const struct vmx_operand_guest *guest)
{
    uint64_t ea = op->displacement;
    if (op->has_base)
        ea += guest->gpr[op->base_reg];
    if (op->has_index)
        ea += guest->gpr[op->index_reg] << op->scale_shift;
    return ea & low_bits_mask(op->address_bits);
}

static bool report_fault(struct vmx_operand_fault *fault, uint8_t vector, const char *reason)
{
    *fault = (struct vmx_operand_fault){ .vector = vector, .error_code = 0, .reason = reason };
    return false;
}

/* A memory reference through SS faults with #SS, any other with #GP (SDM
 * Vol. 3C 31.3, each instruction's "Protected Mode" and "64-Bit Mode"
 * exceptions). */
static uint8_t fault_vector(enum vmx_operand_segment segment)
{
    return segment == VMX_SEGMENT_SS ? VMX_OPERAND_VECTOR_SS : VMX_OPERAND_VECTOR_GP;
}

static bool is_canonical(uint64_t address, unsigned bits)
{
    return sign_extend(address, bits) == address;
}

/* 64-bit mode (SDM Vol. 3A 3.4.4): no limit or type checks; only FS and GS
 * have a base; every byte accessed must have a canonical address (Vol. 1
 * 3.3.7.1), so an operand may not straddle the non-canonical hole. */
static bool linear_address_64bit(const struct vmx_operand *op,
                                 const struct vmx_operand_guest *guest, uint64_t offset,
                                 unsigned size, uint64_t *linear, struct vmx_operand_fault *fault)
{
    bool has_base = op->segment == VMX_SEGMENT_FS || op->segment == VMX_SEGMENT_GS;
    uint64_t address = offset + (has_base ? guest->segment.base : 0);
    unsigned bits = guest->la57 ? 57 : 48;
    if (!is_canonical(address, bits) || !is_canonical(address + size - 1, bits))
        return report_fault(fault, fault_vector(op->segment), "non-canonical address");
    *linear = address;
    return true;
}

/* The offset range a segment allows (SDM Vol. 3A 5.3): up to the limit for
 * an expand-up segment, above it up to 64 KiB - 1 or 4 GiB - 1 (D/B) for an
 * expand-down data segment. Whether an access past a limit of 4 GiB - 1
 * faults is left to the implementation (5.3); processors with VMX do not
 * fault there (KVM's get_vmx_mem_address), nor does this. */
static bool within_limit(const struct vmx_operand_segment_state *segment, uint64_t offset,
                         unsigned size)
{
    uint64_t last = offset + size - 1;
    uint32_t ar = segment->access_rights;
    if (!(ar & AR_TYPE_CODE) && (ar & AR_TYPE_EXPAND_DOWN)) {
        uint64_t top = ar & AR_DEFAULT_BIG ? 0xffffffffull : 0xffffull;
        return offset > segment->limit && last <= top;
    }
    return segment->limit == 0xffffffffu || last <= segment->limit;
}

/* Protected mode, and compatibility mode with it (the VMX instructions are
 * #UD in real-address and virtual-8086 mode before any exit): the segment
 * must be usable, of a type that allows the access (Vol. 3A 5.5, each
 * instruction's exceptions in Vol. 3C 31.3) and large enough; the linear
 * address is 32 bits. */
static bool linear_address_segmented(const struct vmx_operand *op,
                                     const struct vmx_operand_guest *guest, uint64_t offset,
                                     unsigned size, uint64_t *linear,
                                     struct vmx_operand_fault *fault)
{
    const struct vmx_operand_segment_state *segment = &guest->segment;
    uint32_t ar = segment->access_rights;
    bool code = ar & AR_TYPE_CODE;
    if (ar & AR_UNUSABLE)
        return report_fault(fault, fault_vector(op->segment), "unusable segment");
    if (vmx_operand_writes_memory(op->insn) && (code || !(ar & AR_TYPE_WRITABLE)))
        return report_fault(fault, VMX_OPERAND_VECTOR_GP, "write to a code or read-only segment");
    if (code && !(ar & AR_TYPE_READABLE))
        return report_fault(fault, VMX_OPERAND_VECTOR_GP, "read of an execute-only segment");
    if (!within_limit(segment, offset, size))
        return report_fault(fault, fault_vector(op->segment), "beyond the segment limit");
    *linear = (segment->base + offset) & 0xffffffffull;
    return true;
}

bool vmx_operand_linear_address(const struct vmx_operand *op, const struct vmx_operand_guest *guest,
                                uint64_t *linear, struct vmx_operand_fault *fault)
{
    uint64_t offset = effective_address(op, guest);
    unsigned size = vmx_operand_size(op->insn, guest->in_64bit_mode);
    if (guest->in_64bit_mode)
        return linear_address_64bit(op, guest, offset, size, linear, fault);
    return linear_address_segmented(op, guest, offset, size, linear, fault);
}
