/* QEMU's fw_cfg items (dev/fw_cfg.c): each key's bytes, unknown keys, and
 * the selector/data protocol (rewind on select, 0 past the end). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "dev/fw_cfg.h"

static const struct fw_cfg_machine machine = { .ram_size = 0x123456789ull, .cpus = 0x0203 };

static void item_is(uint16_t key, const uint8_t *expected, size_t len)
{
    uint8_t out[FW_CFG_ITEM_MAX];
    memset(out, 0xcc, sizeof(out));
    assert_int_equal(fw_cfg_item(key, &machine, out), len);
    assert_memory_equal(out, expected, len);
}

static void signature_and_id(void **state)
{
    (void)state;
    item_is(FW_CFG_SIGNATURE, (const uint8_t *)"QEMU", 4);
    item_is(FW_CFG_ID, (const uint8_t[]){ 1, 0, 0, 0 }, 4);
}

static void ram_size_is_u64_le(void **state)
{
    (void)state;
    item_is(FW_CFG_RAM_SIZE, (const uint8_t[]){ 0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0 }, 8);
}

static void cpu_counts_are_u16_le(void **state)
{
    (void)state;
    item_is(FW_CFG_NB_CPUS, (const uint8_t[]){ 0x03, 0x02 }, 2);
    item_is(FW_CFG_MAX_CPUS, (const uint8_t[]){ 0x03, 0x02 }, 2);
}

static void file_dir_is_empty(void **state)
{
    (void)state;
    item_is(FW_CFG_FILE_DIR, (const uint8_t[]){ 0, 0, 0, 0 }, 4);
}

static void unknown_keys_are_empty(void **state)
{
    (void)state;
    uint8_t out[FW_CFG_ITEM_MAX];
    assert_int_equal(fw_cfg_item(0x0002, &machine, out), 0);
    assert_int_equal(fw_cfg_item(0x8000, &machine, out), 0);    /* arch-local: none */
    assert_int_equal(fw_cfg_item(0xffff, &machine, out), 0);
}

static void reads_advance_then_return_zero(void **state)
{
    (void)state;
    struct fw_cfg s;
    fw_cfg_select(&s, FW_CFG_SIGNATURE);
    char got[7];
    for (int i = 0; i < 7; i++)
        got[i] = (char)fw_cfg_read_byte(&s, &machine);
    assert_memory_equal(got, "QEMU\0\0\0", 7);
}

static void select_rewinds(void **state)
{
    (void)state;
    struct fw_cfg s;
    fw_cfg_select(&s, FW_CFG_NB_CPUS);
    assert_int_equal(fw_cfg_read_byte(&s, &machine), 0x03);
    fw_cfg_select(&s, FW_CFG_NB_CPUS);
    assert_int_equal(fw_cfg_read_byte(&s, &machine), 0x03);
    assert_int_equal(fw_cfg_read_byte(&s, &machine), 0x02);
    fw_cfg_select(&s, 0x1234);
    assert_int_equal(fw_cfg_read_byte(&s, &machine), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signature_and_id),
        cmocka_unit_test(ram_size_is_u64_le),
        cmocka_unit_test(cpu_counts_are_u16_le),
        cmocka_unit_test(file_dir_is_empty),
        cmocka_unit_test(unknown_keys_are_empty),
        cmocka_unit_test(reads_advance_then_return_zero),
        cmocka_unit_test(select_rewinds),
    };
    return cmocka_run_group_tests_name("fw_cfg", tests, NULL, NULL);
}
