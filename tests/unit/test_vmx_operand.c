/* Operands of exiting VMX instructions: decoding the instruction-information
 * field and forming the linear address, faults included. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "nested/vmx_operand.h"

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
enum { NONE = -1 };
enum { ADDR16, ADDR32, ADDR64 };

/* Segment access rights in the VMCS format: S=1, P=1, and the type. */
#define AR_PRESENT      0x0090u
#define AR_DB_G         0xc000u
#define AR_DATA_RW      (AR_PRESENT | AR_DB_G | 0x3)
#define AR_DATA_RO      (AR_PRESENT | AR_DB_G | 0x1)
#define AR_DATA_RW_DOWN (AR_PRESENT | 0x7)              /* expand-down, B=0: ends at 64 KiB - 1 */
#define AR_CODE_RX      (AR_PRESENT | AR_DB_G | 0xb)
#define AR_CODE_X       (AR_PRESENT | AR_DB_G | 0x9)
#define AR_UNUSABLE     0x10000u

/* The instruction-information field of a memory operand (SDM Vol. 3C
 * Tables 28-12 and 28-13). */
static uint32_t memory_info(unsigned scale, unsigned address_size, unsigned segment, int index,
                            int base, unsigned reg2)
{
    uint32_t info = scale | address_size << 7 | segment << 15 | reg2 << 28;
    info |= index == NONE ? 1u << 22 : (uint32_t)index << 18;
    info |= base == NONE ? 1u << 27 : (uint32_t)base << 23;
    return info;
}

static uint32_t register_info(unsigned reg1, unsigned reg2)
{
    return reg1 << 3 | 1u << 10 | reg2 << 28;
}

static struct vmx_operand_guest long_mode_guest(void)
{
    return (struct vmx_operand_guest){
        .segment = { .base = 0, .limit = 0xffffffff, .access_rights = AR_DATA_RW },
        .in_64bit_mode = true,
    };
}

static struct vmx_operand_guest protected_mode_guest(uint64_t base, uint32_t limit, uint32_t ar)
{
    return (struct vmx_operand_guest){
        .segment = { .base = base, .limit = limit, .access_rights = ar },
    };
}

static uint64_t address_ok(enum vmx_operand_insn insn, uint32_t info, uint64_t qualification,
                           const struct vmx_operand_guest *guest)
{
    struct vmx_operand op;
    vmx_operand_decode(insn, info, qualification, &op);
    uint64_t linear = 0;
    struct vmx_operand_fault fault = { 0 };
    if (!vmx_operand_linear_address(&op, guest, &linear, &fault))
        fail_msg("unexpected fault %u: %s", fault.vector, fault.reason);
    return linear;
}

static void expect_fault(enum vmx_operand_insn insn, uint32_t info, uint64_t qualification,
                         const struct vmx_operand_guest *guest, uint8_t vector, const char *reason)
{
    struct vmx_operand op;
    vmx_operand_decode(insn, info, qualification, &op);
    uint64_t linear = 0;
    struct vmx_operand_fault fault = { 0 };
    assert_false(vmx_operand_linear_address(&op, guest, &linear, &fault));
    assert_int_equal(fault.vector, vector);
    assert_int_equal(fault.error_code, 0);
    assert_string_equal(fault.reason, reason);
}

static void register_operands_of_vmread_and_vmwrite(void **state)
{
    (void)state;
    struct vmx_operand op;
    vmx_operand_decode(VMX_OPERAND_VMREAD, register_info(RBX, R13), 0, &op);
    assert_true(op.is_register);
    assert_int_equal(op.reg1, RBX);
    assert_int_equal(op.reg2, R13);
    vmx_operand_decode(VMX_OPERAND_VMWRITE, register_info(R15, RAX), 0, &op);
    assert_true(op.is_register);
    assert_int_equal(op.reg1, R15);
    assert_int_equal(op.reg2, RAX);

    struct vmx_operand_guest guest = long_mode_guest();
    guest.gpr[R13] = 0xffffffff00006c16ull;
    assert_int_equal(vmx_operand_register(&guest, R13), 0xffffffff00006c16ull);
    guest.in_64bit_mode = false;    /* operand size 32 outside 64-bit mode */
    assert_int_equal(vmx_operand_register(&guest, R13), 0x6c16);
}

/* Bit 10 exists only for VMREAD/VMWRITE; the other instructions have a
 * memory operand, and the register of INVEPT/INVVPID is reg2. */
static void other_instructions_have_a_memory_operand(void **state)
{
    (void)state;
    struct vmx_operand invept, vmptrld;
    vmx_operand_decode(VMX_OPERAND_INVEPT, memory_info(0, ADDR64, VMX_SEGMENT_DS, NONE, RSI, R9),
                       0, &invept);
    assert_false(invept.is_register);
    assert_int_equal(invept.reg2, R9);
    vmx_operand_decode(VMX_OPERAND_VMPTRLD, memory_info(0, ADDR64, VMX_SEGMENT_DS, NONE, RAX, 0) |
                       1u << 10, 0, &vmptrld);
    assert_false(vmptrld.is_register);

    /* the INVEPT type, read as 32 bits outside 64-bit mode */
    struct vmx_operand_guest guest = protected_mode_guest(0, 0xffffffff, AR_DATA_RW);
    guest.gpr[R9] = 0x1234567800000002ull;
    assert_int_equal(vmx_operand_register(&guest, invept.reg2), 2);
}

static void decoded_fields(void **state)
{
    (void)state;
    struct vmx_operand op;
    vmx_operand_decode(VMX_OPERAND_VMXON, memory_info(3, ADDR32, VMX_SEGMENT_GS, R12, RBP, 0),
                       0x40, &op);
    assert_int_equal(op.insn, VMX_OPERAND_VMXON);
    assert_int_equal(op.scale_shift, 3);
    assert_int_equal(op.address_bits, 32);
    assert_int_equal(op.segment, VMX_SEGMENT_GS);
    assert_true(op.has_index);
    assert_int_equal(op.index_reg, R12);
    assert_true(op.has_base);
    assert_int_equal(op.base_reg, RBP);
    assert_int_equal(op.displacement, 0x40);
    vmx_operand_decode(VMX_OPERAND_VMCLEAR, memory_info(0, ADDR16, VMX_SEGMENT_SS, NONE, NONE, 0),
                       0, &op);
    assert_int_equal(op.address_bits, 16);
    assert_false(op.has_index);
    assert_false(op.has_base);
}

static void every_addressing_form(void **state)
{
    (void)state;
    struct vmx_operand_guest g = long_mode_guest();
    g.gpr[RBX] = 0x10000;
    g.gpr[RSI] = 0x30;
    enum vmx_operand_insn insn = VMX_OPERAND_VMPTRLD;
    /* [base] */
    assert_int_equal(address_ok(insn, memory_info(0, ADDR64, VMX_SEGMENT_DS, NONE, RBX, 0), 0, &g),
                     0x10000);
    /* [base + disp] */
    assert_int_equal(address_ok(insn, memory_info(0, ADDR64, VMX_SEGMENT_DS, NONE, RBX, 0), 0x18,
                                &g), 0x10018);
    /* [index * scale] for each scale */
    for (unsigned scale = 0; scale < 4; scale++)
        assert_int_equal(address_ok(insn, memory_info(scale, ADDR64, VMX_SEGMENT_DS, RSI, NONE, 0),
                                    0, &g), 0x30u << scale);
    /* [base + index * scale + disp] */
    assert_int_equal(address_ok(insn, memory_info(2, ADDR64, VMX_SEGMENT_DS, RSI, RBX, 0), 0x8, &g),
                     0x10000 + 0x30 * 4 + 8);
    /* [disp32] alone */
    assert_int_equal(address_ok(insn, memory_info(0, ADDR64, VMX_SEGMENT_DS, NONE, NONE, 0),
                                0x2000, &g), 0x2000);
    /* RIP-relative: the exit qualification is the displacement plus RIP */
    assert_int_equal(address_ok(insn, memory_info(0, ADDR64, VMX_SEGMENT_DS, NONE, NONE, 0),
                                0xffffffff81002345ull, &g), 0xffffffff81002345ull);
    /* RSP as base, an index of R15 */
    g.gpr[RSP] = 0x7000;
    g.gpr[R15] = 1;
    assert_int_equal(address_ok(insn, memory_info(3, ADDR64, VMX_SEGMENT_SS, R15, RSP, 0), 0, &g),
                     0x7008);
}

/* 16-bit addresses wrap at 64 KiB, their displacement is 16 bits. */
static void address_size_16(void **state)
{
    (void)state;
    struct vmx_operand_guest g = protected_mode_guest(0x10000, 0xffff, AR_DATA_RW);
    g.gpr[RBX] = 0xfff0;
    g.gpr[RSI] = 0x20;
    uint32_t bx_si = memory_info(0, ADDR16, VMX_SEGMENT_DS, RSI, RBX, 0);
    assert_int_equal(address_ok(VMX_OPERAND_VMPTRLD, bx_si, 0, &g), 0x10010);
    /* bp-2: the same whether the processor sign-extended disp16 or not */
    g.gpr[RBX] = 0x100;
    uint32_t bx = memory_info(0, ADDR16, VMX_SEGMENT_DS, NONE, RBX, 0);
    assert_int_equal(address_ok(VMX_OPERAND_VMPTRLD, bx, 0xfffe, &g), 0x100fe);
    assert_int_equal(address_ok(VMX_OPERAND_VMPTRLD, bx, 0xfffffffffffffffeull, &g), 0x100fe);
    /* Upper register bits play no part */
    g.gpr[RBX] = 0xabcd0000ull | 0x40;
    assert_int_equal(address_ok(VMX_OPERAND_VMPTRLD, bx, 0, &g), 0x10040);
}

static void address_size_32_truncates(void **state)
{
    (void)state;
    struct vmx_operand_guest g = protected_mode_guest(0x1000, 0xffffffff, AR_DATA_RW);
    g.gpr[RAX] = 0xfffffff0;
    /* 0xfffffff0 + 0x20 wraps to 0x10 in the effective address */
    uint32_t rax = memory_info(0, ADDR32, VMX_SEGMENT_DS, NONE, RAX, 0);
    assert_int_equal(address_ok(VMX_OPERAND_VMPTRLD, rax, 0x20, &g), 0x1010);
    /* the linear address wraps at 4 GiB too */
    g.segment.base = 0xfffff000;
    assert_int_equal(address_ok(VMX_OPERAND_VMPTRLD, rax, 0x2000, &g), 0x0ff0);

    /* In 64-bit mode with a 32-bit address (67h) only the effective address
     * is truncated: an FS base still makes it 64 bits. */
    g = long_mode_guest();
    g.gpr[RAX] = 0x100000010ull;
    assert_int_equal(address_ok(VMX_OPERAND_VMPTRLD, rax, 0xffffffe0, &g), 0xfffffff0);
    uint32_t fs_rax = memory_info(0, ADDR32, VMX_SEGMENT_FS, NONE, RAX, 0);
    g.segment.base = 0x7f0000000000ull;
    assert_int_equal(address_ok(VMX_OPERAND_VMPTRLD, fs_rax, 0xffffffe0, &g), 0x7f00fffffff0ull);
}

static void displacement_is_sign_extended(void **state)
{
    (void)state;
    struct vmx_operand op;
    uint32_t info32 = memory_info(0, ADDR32, VMX_SEGMENT_DS, NONE, RBX, 0);
    vmx_operand_decode(VMX_OPERAND_VMPTRLD, info32, 0xfffffff0, &op);
    assert_int_equal(op.displacement, (uint64_t)-16);
    uint32_t info16 = memory_info(0, ADDR16, VMX_SEGMENT_DS, NONE, RBX, 0);
    vmx_operand_decode(VMX_OPERAND_VMPTRLD, info16, 0x8000, &op);
    assert_int_equal(op.displacement, (uint64_t)-0x8000);

    struct vmx_operand_guest g = long_mode_guest();
    g.gpr[RBX] = 0x1000;
    uint32_t info64 = memory_info(0, ADDR64, VMX_SEGMENT_DS, NONE, RBX, 0);
    assert_int_equal(address_ok(VMX_OPERAND_VMPTRLD, info64, (uint64_t)-16, &g), 0xff0);
    /* a negative disp32 below a small base reaches the top of the address space */
    g.gpr[RBX] = 0x8;
    assert_int_equal(address_ok(VMX_OPERAND_VMPTRLD, info64, (uint64_t)-16, &g),
                     0xfffffffffffffff8ull);
}

/* In 64-bit mode only FS and GS have a base (SDM Vol. 3A 3.4.4). */
static void long_mode_segment_bases(void **state)
{
    (void)state;
    struct vmx_operand_guest g = long_mode_guest();
    g.gpr[RDI] = 0x5000;
    g.segment.base = 0x100000;
    for (unsigned seg = VMX_SEGMENT_ES; seg <= VMX_SEGMENT_GS; seg++) {
        uint64_t expected = seg == VMX_SEGMENT_FS || seg == VMX_SEGMENT_GS ? 0x105000 : 0x5000;
        assert_int_equal(address_ok(VMX_OPERAND_VMPTRLD, memory_info(0, ADDR64, seg, NONE, RDI, 0),
                                    0, &g), expected);
    }
    /* limits, types and usability do not matter in 64-bit mode */
    g.segment = (struct vmx_operand_segment_state){ .base = 0, .limit = 0,
                                                    .access_rights = AR_UNUSABLE };
    assert_int_equal(address_ok(VMX_OPERAND_VMPTRST, memory_info(0, ADDR64, VMX_SEGMENT_DS, NONE,
                                                                 RDI, 0), 0, &g), 0x5000);
}

static void non_canonical_faults(void **state)
{
    (void)state;
    struct vmx_operand_guest g = long_mode_guest();
    g.gpr[RAX] = 0x0000800000000000ull;
    expect_fault(VMX_OPERAND_VMPTRLD, memory_info(0, ADDR64, VMX_SEGMENT_DS, NONE, RAX, 0), 0, &g,
                 VMX_OPERAND_VECTOR_GP, "non-canonical address");
    expect_fault(VMX_OPERAND_VMPTRLD, memory_info(0, ADDR64, VMX_SEGMENT_SS, NONE, RAX, 0), 0, &g,
                 VMX_OPERAND_VECTOR_SS, "non-canonical address");
    /* an FS base can make the address non-canonical */
    g.gpr[RAX] = 0x10;
    g.segment.base = 0x00007ffffffffff0ull;
    expect_fault(VMX_OPERAND_VMPTRLD, memory_info(0, ADDR64, VMX_SEGMENT_FS, NONE, RAX, 0), 0, &g,
                 VMX_OPERAND_VECTOR_GP, "non-canonical address");
    /* the last byte counts: 8 bytes at 2^47 - 8 fit, at 2^47 - 4 they do not */
    g.segment.base = 0;
    g.gpr[RAX] = 0x00007ffffffffff8ull;
    uint32_t rax = memory_info(0, ADDR64, VMX_SEGMENT_DS, NONE, RAX, 0);
    assert_int_equal(address_ok(VMX_OPERAND_VMPTRLD, rax, 0, &g), 0x00007ffffffffff8ull);
    expect_fault(VMX_OPERAND_VMPTRLD, rax, 4, &g, VMX_OPERAND_VECTOR_GP, "non-canonical address");
    /* an INVEPT descriptor is 16 bytes */
    expect_fault(VMX_OPERAND_INVEPT, rax, 0, &g, VMX_OPERAND_VECTOR_GP, "non-canonical address");
    /* with CR4.LA57, 57 bits are canonical */
    g.gpr[RAX] = 0x00ff000000000000ull;
    expect_fault(VMX_OPERAND_VMPTRLD, rax, 0, &g, VMX_OPERAND_VECTOR_GP, "non-canonical address");
    g.la57 = true;
    assert_int_equal(address_ok(VMX_OPERAND_VMPTRLD, rax, 0, &g), 0x00ff000000000000ull);
    g.gpr[RAX] = 0x0100000000000000ull;
    expect_fault(VMX_OPERAND_VMPTRLD, rax, 0, &g, VMX_OPERAND_VECTOR_GP, "non-canonical address");
}

/* The operand's size decides the limit check: the last byte must fit. */
static void segment_limit(void **state)
{
    (void)state;
    struct vmx_operand_guest g = protected_mode_guest(0x200000, 0xfff, AR_DATA_RW);
    uint32_t ds_rbx = memory_info(0, ADDR32, VMX_SEGMENT_DS, NONE, RBX, 0);
    uint32_t ss_rbx = memory_info(0, ADDR32, VMX_SEGMENT_SS, NONE, RBX, 0);
    g.gpr[RBX] = 0xff8;
    assert_int_equal(address_ok(VMX_OPERAND_VMPTRLD, ds_rbx, 0, &g), 0x200ff8);
    expect_fault(VMX_OPERAND_VMPTRLD, ds_rbx, 1, &g, VMX_OPERAND_VECTOR_GP,
                 "beyond the segment limit");
    expect_fault(VMX_OPERAND_VMPTRLD, ss_rbx, 1, &g, VMX_OPERAND_VECTOR_SS,
                 "beyond the segment limit");
    /* VMREAD/VMWRITE move 4 bytes outside 64-bit mode */
    g.gpr[RBX] = 0xffc;
    assert_int_equal(address_ok(VMX_OPERAND_VMWRITE, ds_rbx, 0, &g), 0x200ffc);
    expect_fault(VMX_OPERAND_VMPTRST, ds_rbx, 0, &g, VMX_OPERAND_VECTOR_GP,
                 "beyond the segment limit");
    /* INVVPID's descriptor is 16 bytes */
    g.gpr[RBX] = 0xff0;
    assert_int_equal(address_ok(VMX_OPERAND_INVVPID, ds_rbx, 0, &g), 0x200ff0);
    expect_fault(VMX_OPERAND_INVVPID, ds_rbx, 8, &g, VMX_OPERAND_VECTOR_GP,
                 "beyond the segment limit");
    /* a 16-bit effective address may still end past a 64 KiB limit */
    g = protected_mode_guest(0, 0xffff, AR_DATA_RW);
    g.gpr[RBX] = 0xfffc;
    expect_fault(VMX_OPERAND_VMPTRLD, memory_info(0, ADDR16, VMX_SEGMENT_DS, NONE, RBX, 0), 0, &g,
                 VMX_OPERAND_VECTOR_GP, "beyond the segment limit");
}

/* A 4 GiB - 1 limit does not fault on an access that wraps past 4 GiB. */
static void flat_segment_wraps(void **state)
{
    (void)state;
    struct vmx_operand_guest g = protected_mode_guest(0, 0xffffffff, AR_DATA_RW);
    g.gpr[RBX] = 0xfffffffc;
    assert_int_equal(address_ok(VMX_OPERAND_VMPTRLD,
                                memory_info(0, ADDR32, VMX_SEGMENT_DS, NONE, RBX, 0), 0, &g),
                     0xfffffffc);
}

/* Expand-down: valid offsets lie above the limit, up to 64 KiB - 1 with B=0. */
static void expand_down_segment(void **state)
{
    (void)state;
    struct vmx_operand_guest g = protected_mode_guest(0x30000, 0x0fff, AR_DATA_RW_DOWN);
    uint32_t ss_rsp = memory_info(0, ADDR16, VMX_SEGMENT_SS, NONE, RSP, 0);
    g.gpr[RSP] = 0x1000;
    assert_int_equal(address_ok(VMX_OPERAND_VMPTRST, ss_rsp, 0, &g), 0x31000);
    g.gpr[RSP] = 0x0ff8;
    expect_fault(VMX_OPERAND_VMPTRST, ss_rsp, 0, &g, VMX_OPERAND_VECTOR_SS,
                 "beyond the segment limit");
    g.gpr[RSP] = 0xfff8;
    assert_int_equal(address_ok(VMX_OPERAND_VMPTRST, ss_rsp, 0, &g), 0x3fff8);
    /* 8 bytes at 0xfffc end past the 64 KiB top (a 32-bit address reaches there) */
    g.gpr[RSP] = 0xfffc;
    expect_fault(VMX_OPERAND_VMPTRST, memory_info(0, ADDR32, VMX_SEGMENT_SS, NONE, RSP, 0), 0,
                 &g, VMX_OPERAND_VECTOR_SS, "beyond the segment limit");
}

static void unusable_segment(void **state)
{
    (void)state;
    struct vmx_operand_guest g = protected_mode_guest(0, 0xffffffff, AR_UNUSABLE);
    expect_fault(VMX_OPERAND_VMPTRLD, memory_info(0, ADDR32, VMX_SEGMENT_ES, NONE, RAX, 0), 0, &g,
                 VMX_OPERAND_VECTOR_GP, "unusable segment");
    expect_fault(VMX_OPERAND_VMPTRLD, memory_info(0, ADDR32, VMX_SEGMENT_SS, NONE, RAX, 0), 0, &g,
                 VMX_OPERAND_VECTOR_SS, "unusable segment");
}

/* Writes need a writable data segment; reads any but an execute-only code
 * segment. */
static void segment_type(void **state)
{
    (void)state;
    uint32_t cs_rax = memory_info(0, ADDR32, VMX_SEGMENT_CS, NONE, RAX, 0);
    uint32_t ds_rax = memory_info(0, ADDR32, VMX_SEGMENT_DS, NONE, RAX, 0);
    struct vmx_operand_guest code = protected_mode_guest(0, 0xffffffff, AR_CODE_RX);
    struct vmx_operand_guest exec_only = protected_mode_guest(0, 0xffffffff, AR_CODE_X);
    struct vmx_operand_guest read_only = protected_mode_guest(0, 0xffffffff, AR_DATA_RO);
    const char *not_writable = "write to a code or read-only segment";
    assert_int_equal(address_ok(VMX_OPERAND_VMPTRLD, cs_rax, 0x100, &code), 0x100);
    assert_int_equal(address_ok(VMX_OPERAND_VMWRITE, ds_rax, 0x100, &read_only), 0x100);
    expect_fault(VMX_OPERAND_VMPTRST, cs_rax, 0, &code, VMX_OPERAND_VECTOR_GP, not_writable);
    expect_fault(VMX_OPERAND_VMREAD, cs_rax, 0, &code, VMX_OPERAND_VECTOR_GP, not_writable);
    expect_fault(VMX_OPERAND_VMPTRST, ds_rax, 0, &read_only, VMX_OPERAND_VECTOR_GP, not_writable);
    expect_fault(VMX_OPERAND_VMPTRLD, cs_rax, 0, &exec_only, VMX_OPERAND_VECTOR_GP,
                 "read of an execute-only segment");
    expect_fault(VMX_OPERAND_INVEPT, cs_rax, 0, &exec_only, VMX_OPERAND_VECTOR_GP,
                 "read of an execute-only segment");
}

static void operand_sizes_and_direction(void **state)
{
    (void)state;
    static const struct {
        enum vmx_operand_insn insn;
        unsigned size_64, size_32;
        bool writes;
    } expected[] = {
        { VMX_OPERAND_VMXON, 8, 8, false },   { VMX_OPERAND_VMCLEAR, 8, 8, false },
        { VMX_OPERAND_VMPTRLD, 8, 8, false }, { VMX_OPERAND_VMPTRST, 8, 8, true },
        { VMX_OPERAND_VMREAD, 8, 4, true },   { VMX_OPERAND_VMWRITE, 8, 4, false },
        { VMX_OPERAND_INVEPT, 16, 16, false }, { VMX_OPERAND_INVVPID, 16, 16, false },
    };
    for (unsigned i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        assert_int_equal(vmx_operand_size(expected[i].insn, true), expected[i].size_64);
        assert_int_equal(vmx_operand_size(expected[i].insn, false), expected[i].size_32);
        assert_int_equal(vmx_operand_writes_memory(expected[i].insn), expected[i].writes);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(register_operands_of_vmread_and_vmwrite),
        cmocka_unit_test(other_instructions_have_a_memory_operand),
        cmocka_unit_test(decoded_fields),
        cmocka_unit_test(every_addressing_form),
        cmocka_unit_test(address_size_16),
        cmocka_unit_test(address_size_32_truncates),
        cmocka_unit_test(displacement_is_sign_extended),
        cmocka_unit_test(long_mode_segment_bases),
        cmocka_unit_test(non_canonical_faults),
        cmocka_unit_test(segment_limit),
        cmocka_unit_test(flat_segment_wraps),
        cmocka_unit_test(expand_down_segment),
        cmocka_unit_test(unusable_segment),
        cmocka_unit_test(segment_type),
        cmocka_unit_test(operand_sizes_and_direction),
    };
    return cmocka_run_group_tests_name("vmx_operand", tests, NULL, NULL);
}
