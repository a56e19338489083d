/* The ELF loader on hand-built images: good ones load, bad ones are refused
 * with a reason and write nothing outside guest memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "tests/unit/fixtures/guest_memory.h"
#include "loader/elf_loader.h"

static uint8_t guest[0x400000];         /* 4 MiB of "guest memory" */
static uint8_t image[4096];

static struct test_guest test_guest = { guest, sizeof(guest) };

static void put(uint8_t *p, uint64_t v, unsigned bytes) { memcpy(p, &v, bytes); }

/* ELF64 with one PT_LOAD: 16 bytes of file data at 1 MiB, 64 bytes in memory. */
static size_t build_elf64(void)
{
    memset(image, 0, sizeof(image));
    memcpy(image, "\x7f" "ELF", 4);
    image[4] = 2; image[5] = 1; image[6] = 1;
    put(image + 16, 2, 2);          /* ET_EXEC */
    put(image + 18, 62, 2);         /* x86-64 */
    put(image + 24, 0x100004, 8);   /* entry */
    put(image + 32, 64, 8);         /* phoff */
    put(image + 54, 56, 2);
    put(image + 56, 1, 2);
    uint8_t *ph = image + 64;
    put(ph, 1, 4);                  /* PT_LOAD */
    put(ph + 8, 256, 8);            /* offset */
    put(ph + 24, 0x100000, 8);      /* paddr */
    put(ph + 32, 16, 8);            /* filesz */
    put(ph + 40, 64, 8);            /* memsz */
    memset(image + 256, 0xab, 16);
    return 512;
}

/* The guest's RAM as its memory map says (below 639 KiB and from 1 MiB),
 * with the boot GDT and page tables of a 64-bit start kept out. */
static bool load(size_t size, uint64_t *entry, char *why)
{
    static struct guest_mem_range map[GUEST_MEMMAP_MAX];
    static const struct load_reserved reserved[] = {
        { 0x1000, 0x8000, "the boot GDT and page tables" },
    };
    struct load_area area = { .memory_map = map,
                              .memory_map_count = guest_memory_map(sizeof(guest), map),
                              .limit = sizeof(guest), .reserved = reserved, .reserved_count = 1 };
    return elf_load(image, size, &area, test_guest_write, &test_guest, entry, why, 128);
}

/* Below 1 MiB is RAM too (QEMU and GRUB load kernels there): a segment
 * that stays clear of what the loader keeps there loads. */
static void loads_low_segments(void **state)
{
    (void)state;
    memset(guest, 0x55, sizeof(guest));
    build_elf64();
    put(image + 24, 0x10004, 8);        /* entry */
    put(image + 64 + 24, 0x10000, 8);   /* paddr */
    uint64_t entry;
    char why[128] = "";
    assert_true(load(512, &entry, why));
    assert_int_equal(entry, 0x10004);
    assert_int_equal(guest[0x10000], 0xab);
    assert_int_equal(guest[0x10010], 0);
}

static void loads_segments_and_zeroes_bss(void **state)
{
    (void)state;
    memset(guest, 0x55, sizeof(guest));
    uint64_t entry;
    char why[128] = "";
    assert_true(load(build_elf64(), &entry, why));
    assert_int_equal(entry, 0x100004);
    assert_int_equal(guest[0x100000], 0xab);
    assert_int_equal(guest[0x10000f], 0xab);
    assert_int_equal(guest[0x100010], 0);
    assert_int_equal(guest[0x10003f], 0);
    assert_int_equal(guest[0x100040], 0x55);
}

static void loads_elf32(void **state)
{
    (void)state;
    memset(image, 0, sizeof(image));
    memcpy(image, "\x7f" "ELF", 4);
    image[4] = 1; image[5] = 1;
    put(image + 16, 2, 2);
    put(image + 18, 3, 2);          /* i386 */
    put(image + 24, 0x200000, 4);
    put(image + 28, 52, 4);
    put(image + 42, 32, 2);
    put(image + 44, 1, 2);
    uint8_t *ph = image + 52;
    put(ph, 1, 4);
    put(ph + 4, 128, 4);
    put(ph + 12, 0x200000, 4);
    put(ph + 16, 4, 4);
    put(ph + 20, 4, 4);
    memcpy(image + 128, "\x90\x90\xeb\xfe", 4);
    uint64_t entry;
    char why[128] = "";
    assert_true(load(256, &entry, why));
    assert_int_equal(entry, 0x200000);
    assert_memory_equal(guest + 0x200000, "\x90\x90\xeb\xfe", 4);
}

static void expect_refusal(size_t size, const char *message)
{
    uint64_t entry;
    char why[128] = "";
    assert_false(load(size, &entry, why));
    assert_string_equal(why, message);
}

static void refuses_bad_images(void **state)
{
    (void)state;
    memset(image, 0, sizeof(image));
    memcpy(image, "MZ", 2);
    expect_refusal(512, "not an ELF file");
    expect_refusal(10, "not an ELF file");

    build_elf64();
    put(image + 16, 3, 2);          /* ET_DYN */
    expect_refusal(512, "ELF type 3 is not an executable");

    build_elf64();
    put(image + 18, 40, 2);         /* ARM */
    expect_refusal(512, "ELF machine 40 is not x86");

    build_elf64();
    put(image + 32, 4000, 8);       /* program headers past the end */
    expect_refusal(512, "bad program header table");

    build_elf64();
    put(image + 64 + 8, 500, 8);    /* segment data past the end of the file */
    expect_refusal(512, "segment 0 lies outside the file");

    build_elf64();
    put(image + 64 + 24, 0x1000, 8);    /* over what the start keeps in low memory */
    expect_refusal(512, "segment 0: 0x1000-0x1040 overlaps the boot GDT and page tables at "
                        "0x1000-0x8000");

    build_elf64();
    put(image + 64 + 24, 0x9ffe0, 8);   /* across the end of conventional memory */
    expect_refusal(512, "segment 0: 0x9ffe0-0xa0020 is not in one range of guest RAM");

    build_elf64();
    put(image + 64 + 40, 0x10000000, 8);    /* larger than guest memory */
    expect_refusal(512, "segment 0: 0x100000-0x10100000 is not below 0x400000");

    build_elf64();
    put(image + 24, 0x300000, 8);
    expect_refusal(512, "entry point 0x300000 is not in a loaded segment");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loads_segments_and_zeroes_bss),
        cmocka_unit_test(loads_low_segments),
        cmocka_unit_test(loads_elf32),
        cmocka_unit_test(refuses_bad_images),
    };
    return cmocka_run_group_tests_name("elf_loader", tests, NULL, NULL);
}
