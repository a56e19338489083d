/* Multiboot2 information parsing on a hand-built information structure. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "arch/bootinfo.h"

static _Alignas(8) uint8_t info[512];
static size_t used;

static void *add_tag(uint32_t type, uint32_t size)
{
    uint32_t *tag = (uint32_t *)(info + used);
    tag[0] = type;
    tag[1] = size;
    used += (size + 7) & ~7u;
    return tag;
}

static uint64_t build_info(const char *cmdline)
{
    memset(info, 0, sizeof(info));
    used = 8;
    char *c = add_tag(1, 8 + strlen(cmdline) + 1);
    strcpy(c + 8, cmdline);
    uint32_t *mmap = add_tag(6, 16 + 3 * 24);
    mmap[2] = 24;
    uint64_t *e = (uint64_t *)(mmap + 4);
    e[0] = 0; e[1] = 0x9fc00; ((uint32_t *)&e[2])[0] = 1;          /* available */
    e[3] = 0xf0000; e[4] = 0x10000; ((uint32_t *)&e[5])[0] = 2;    /* reserved */
    e[6] = 0x100000; e[7] = 0x7f00000; ((uint32_t *)&e[8])[0] = 1; /* available */
    uint32_t *mod = add_tag(3, 16 + 8);
    mod[2] = 0x200000;
    mod[3] = 0x201000;
    strcpy((char *)(mod + 4), "vms.cfg");
    add_tag(0, 8);
    ((uint32_t *)info)[0] = (uint32_t)used;
    return (uint64_t)(uintptr_t)info;
}

static void parses_memory_map_modules_and_cmdline(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_true(bootinfo_parse(0x36d76289, build_info("exit=bochs batch"), &why));
    assert_string_equal(bootinfo.cmdline, "exit=bochs batch");
    assert_int_equal(bootinfo.ram_count, 2);
    assert_int_equal(bootinfo.ram[1].base, 0x100000);
    assert_int_equal(bootinfo.ram[1].length, 0x7f00000);
    assert_int_equal(bootinfo.module_count, 1);
    assert_string_equal(bootinfo.modules[0].name, "vms.cfg");
    assert_int_equal(bootinfo.modules[0].end - bootinfo.modules[0].start, 0x1000);
}

static void rejects_other_loaders(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_false(bootinfo_parse(0x2badb002, build_info(""), &why));
    assert_string_equal(why, "not started by a Multiboot2 boot loader (bad magic in EAX)");
}

/* A boot loader that breaks the format gets a reason, never a hang or a
 * read past the structure: a tag of size 0, one running past the total
 * size, memory-map entries of size 0, a missing end tag, an unterminated
 * command line. */
static void refuses_malformed_information(void **state)
{
    (void)state;
    const char *why = NULL;
    build_info("x");
    ((uint32_t *)info)[3] = 0;                          /* the command-line tag's size */
    assert_false(bootinfo_parse(0x36d76289, (uint64_t)(uintptr_t)info, &why));
    assert_non_null(strstr(why, "shorter than its header"));

    build_info("x");
    ((uint32_t *)info)[0] = 40;                         /* total cuts the mmap tag */
    assert_false(bootinfo_parse(0x36d76289, (uint64_t)(uintptr_t)info, &why));
    assert_non_null(strstr(why, "past the end"));

    build_info("x");
    ((uint32_t *)(info + 24))[2] = 0;                   /* mmap entry_size 0 */
    assert_false(bootinfo_parse(0x36d76289, (uint64_t)(uintptr_t)info, &why));
    assert_non_null(strstr(why, "entries smaller than 24 bytes"));

    build_info("x");
    ((uint32_t *)info)[0] = (uint32_t)used - 8;         /* no room for the end tag */
    assert_false(bootinfo_parse(0x36d76289, (uint64_t)(uintptr_t)info, &why));
    assert_non_null(strstr(why, "without its end tag"));

    build_info("abc");
    info[8 + 8 + 3] = 'd';                              /* overwrite the NUL: "abcd" */
    ((uint32_t *)info)[3] = 8 + 4;                      /* and the tag ends there */
    assert_false(bootinfo_parse(0x36d76289, (uint64_t)(uintptr_t)info, &why));
    assert_non_null(strstr(why, "command line is not terminated"));

    assert_true(bootinfo_parse(0x36d76289, build_info("fine"), &why));
}

static void command_line_words_and_values(void **state)
{
    (void)state;
    const char *why;
    memset(&bootinfo, 0, sizeof(bootinfo));
    assert_true(bootinfo_parse(0x36d76289, build_info("batchy exit=qemu batch x=1"), &why));
    char v[8];
    assert_true(bootinfo_cmdline_value("exit", v, sizeof(v)));
    assert_string_equal(v, "qemu");
    assert_true(bootinfo_cmdline_flag("batch"));
    assert_false(bootinfo_cmdline_flag("exit"));        /* only as exit=... */
    assert_false(bootinfo_cmdline_value("batch", v, sizeof(v)));
    assert_false(bootinfo_cmdline_flag("batc"));
    assert_true(bootinfo_cmdline_value("x", v, 2));
    assert_string_equal(v, "1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_memory_map_modules_and_cmdline),
        cmocka_unit_test(rejects_other_loaders),
        cmocka_unit_test(command_line_words_and_values),
        cmocka_unit_test(refuses_malformed_information),
    };
    return cmocka_run_group_tests_name("bootinfo", tests, NULL, NULL);
}
