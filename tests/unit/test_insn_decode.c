/* MMIO instruction decoding on real encodings (as assembled by gas). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "exits/insn_decode.h"

static struct mmio_insn decode(const char *bytes, size_t n, enum cpu_mode mode)
{
    struct mmio_insn insn;
    if (!insn_decode_mmio((const uint8_t *)bytes, n, mode, &insn))
        fail_msg("did not decode");
    return insn;
}

#define D64(s) decode(s, sizeof(s) - 1, MODE_64)

static void stores(void **state)
{
    (void)state;
    struct mmio_insn i = D64("\x89\x07");                   /* mov %eax,(%rdi) */
    assert_int_equal(i.kind, MMIO_STORE);
    assert_int_equal(i.size, 4);
    assert_int_equal(i.reg, 0);
    assert_int_equal(i.length, 2);
    i = D64("\x48\x89\x4c\x24\x08");                        /* mov %rcx,0x8(%rsp) */
    assert_int_equal(i.size, 8);
    assert_int_equal(i.reg, 1);
    assert_int_equal(i.length, 5);
    i = D64("\x44\x88\x80\x00\x00\xe0\xfe");                /* mov %r8b,-0x1200000(%rax) */
    assert_int_equal(i.size, 1);
    assert_int_equal(i.reg, 8);
    assert_false(i.high_byte);
    assert_int_equal(i.length, 7);
    i = D64("\x88\x27");                                    /* mov %ah,(%rdi) */
    assert_true(i.high_byte);
    assert_int_equal(i.reg, 0);
    i = D64("\x66\x89\x1e");                                /* mov %bx,(%rsi) */
    assert_int_equal(i.size, 2);
    assert_int_equal(i.reg, 3);
    assert_int_equal(i.length, 3);
    i = D64("\x89\x05\x10\x00\x00\x00");                    /* mov %eax,0x10(%rip) */
    assert_int_equal(i.length, 6);
}

static void immediates(void **state)
{
    (void)state;
    struct mmio_insn i = D64("\xc7\x00\x78\x56\x34\x12");   /* movl $0x12345678,(%rax) */
    assert_int_equal(i.kind, MMIO_STORE);
    assert_true(i.has_immediate);
    assert_int_equal(i.immediate, 0x12345678);
    assert_int_equal(i.length, 6);
    i = D64("\x48\xc7\x00\xff\xff\xff\xff");                /* movq $-1,(%rax) */
    assert_int_equal(i.size, 8);
    assert_int_equal(i.immediate, ~0ull);
    assert_int_equal(mmio_store_value(&i, 0), ~0ull);
    i = D64("\xc6\x44\x24\x10\xab");                        /* movb $0xab,0x10(%rsp) */
    assert_int_equal(i.size, 1);
    assert_int_equal(i.immediate, 0xab);
    assert_int_equal(i.length, 5);
    i = D64("\x66\xc7\x07\x34\x12");                        /* movw $0x1234,(%rdi) */
    assert_int_equal(i.size, 2);
    assert_int_equal(i.length, 5);
}

static void loads_and_widening(void **state)
{
    (void)state;
    struct mmio_insn i = D64("\x8b\x07");                   /* mov (%rdi),%eax */
    assert_int_equal(i.kind, MMIO_LOAD);
    assert_int_equal(mmio_load_result(&i, 0xffffffff00000000ull, 0x1234), 0x1234);
    i = D64("\x8a\x07");                                    /* mov (%rdi),%al */
    assert_int_equal(mmio_load_result(&i, 0x1122334455667788ull, 0xff), 0x11223344556677ffull);
    i = D64("\x8a\x27");                                    /* mov (%rdi),%ah */
    assert_true(i.high_byte);
    assert_int_equal(mmio_load_result(&i, 0x1122334455667788ull, 0xab), 0x112233445566ab88ull);
    i = D64("\x0f\xb6\x07");                                /* movzbl (%rdi),%eax */
    assert_int_equal(i.size, 1);
    assert_int_equal(mmio_load_result(&i, ~0ull, 0xff), 0xff);
    i = D64("\x0f\xb6\x37");                                /* movzbl (%rdi),%esi */
    assert_false(i.high_byte);
    assert_int_equal(i.reg, 6);
    i = D64("\x48\x0f\xbf\x07");                            /* movswq (%rdi),%rax */
    assert_int_equal(i.size, 2);
    assert_int_equal(mmio_load_result(&i, 0, 0x8000), 0xffffffffffff8000ull);
    i = D64("\x4c\x8b\x3c\x25\x00\x00\xc0\xfe");            /* mov 0xfffffffffec00000,%r15 */
    assert_int_equal(i.reg, 15);
    assert_int_equal(i.size, 8);
    assert_int_equal(i.length, 8);
}

static void moffs_forms(void **state)
{
    (void)state;
    struct mmio_insn i = D64("\xa1\x00\x00\xe0\xfe\x00\x00\x00\x00");   /* movabs 0xfee00000,%eax */
    assert_int_equal(i.kind, MMIO_LOAD);
    assert_int_equal(i.length, 9);
    i = decode("\xa3\x00\x00\xe0\xfe", 5, MODE_32);                      /* mov %eax,0xfee00000 */
    assert_int_equal(i.kind, MMIO_STORE);
    assert_int_equal(i.size, 4);
    assert_int_equal(i.length, 5);
}

static void other_modes(void **state)
{
    (void)state;
    struct mmio_insn i = decode("\x89\x04\x24", 3, MODE_32);   /* mov %eax,(%esp) */
    assert_int_equal(i.size, 4);
    assert_int_equal(i.length, 3);
    i = decode("\x89\x47\x02", 3, MODE_16);                     /* mov %ax,2(%bx) */
    assert_int_equal(i.size, 2);
    assert_int_equal(i.length, 3);
    i = decode("\x66\x89\x06\x00\x10", 5, MODE_16);             /* mov %eax,(0x1000) */
    assert_int_equal(i.size, 4);
    assert_int_equal(i.length, 5);
}

static void refusals(void **state)
{
    (void)state;
    struct mmio_insn i;
    assert_false(insn_decode_mmio((const uint8_t *)"\x01\x07", 2, MODE_64, &i));   /* add */
    assert_false(insn_decode_mmio((const uint8_t *)"\x89\xc0", 2, MODE_64, &i));   /* register */
    assert_false(insn_decode_mmio((const uint8_t *)"\x89\x87\x00", 3, MODE_64, &i)); /* truncated */
    assert_false(insn_decode_mmio((const uint8_t *)"\xc7\x08\x00\x00", 4, MODE_64, &i)); /* /1 */
    assert_false(insn_decode_mmio((const uint8_t *)"\x66\x66", 2, MODE_64, &i));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stores),
        cmocka_unit_test(immediates),
        cmocka_unit_test(loads_and_widening),
        cmocka_unit_test(moffs_forms),
        cmocka_unit_test(other_modes),
        cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests_name("insn_decode", tests, NULL, NULL);
}
