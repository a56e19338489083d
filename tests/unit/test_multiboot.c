/* The multiboot (v1) loader on hand-built kernels: finding the header, an
 * ELF32 kernel and an a.out-kludge kernel loaded where they ask, modules
 * page-aligned above them, the information page (flags, memory sizes and
 * map, command line with argv[0], modules, loader name), and refusals with
 * a reason. A header is the magic with a valid checksum: a stray magic is
 * passed over, a damaged header is none. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "tests/unit/fixtures/guest_memory.h"
#include "loader/multiboot.h"

#define GUEST_SIZE  (64u << 20)         /* 64 MiB of "guest memory" */
#define LOAD_MIN    0x100000u
#define INFO_GPA    0xb000u
#define HDR_OFFSET  0x80u               /* the multiboot header in the images */
#define KERNEL_GPA  0x100000u           /* the ELF kernel's one segment */
#define KERNEL_FILE 0x2000u
#define KERNEL_MEM  0x3000u             /* 4 KiB of bss */
#define ENTRY       (KERNEL_GPA + 0x100)

static uint8_t *guest;
static uint8_t image[KERNEL_FILE];
static struct guest_mem_range map[GUEST_MEMMAP_MAX];
static size_t map_count;
static const uint8_t env[5000] = "TESTNAME=multiboot\nNR_CPUS=3\n";
static const uint8_t blob[100] = { 0xde, 0xad };
static const struct multiboot_module two_modules[] = {
    { env, sizeof(env), "env.txt" },
    { blob, sizeof(blob), "blob.bin" },
};

static struct test_guest test_guest;

static void put(uint8_t *p, uint64_t v, unsigned bytes) { memcpy(p, &v, bytes); }
static uint64_t get(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;
    memcpy(&v, p, bytes);
    return v;
}

/* A header with a valid checksum at `at`. */
static void put_header_at(uint8_t *at, uint32_t flags)
{
    put(at, 0x1badb002, 4);
    put(at + 4, flags, 4);
    put(at + 8, -(0x1badb002u + flags), 4);
}

static void put_header(uint32_t flags) { put_header_at(image + HDR_OFFSET, flags); }

/* An ELF32 i386 executable with one PT_LOAD segment: the whole file at
 * KERNEL_GPA plus bss, and the multiboot header (page-align, memory info). */
static void build_elf_kernel(void)
{
    memset(image, 0, sizeof(image));
    memcpy(image, "\x7f" "ELF", 4);
    image[4] = 1;                       /* ELFCLASS32 */
    image[5] = 1;                       /* little-endian */
    image[6] = 1;
    put(image + 16, 2, 2);              /* ET_EXEC */
    put(image + 18, 3, 2);              /* EM_386 */
    put(image + 20, 1, 4);
    put(image + 24, ENTRY, 4);
    put(image + 28, 52, 4);             /* e_phoff */
    put(image + 40, 52, 2);             /* e_ehsize */
    put(image + 42, 32, 2);             /* e_phentsize */
    put(image + 44, 1, 2);              /* e_phnum */
    uint8_t *ph = image + 52;
    put(ph, 1, 4);                      /* PT_LOAD */
    put(ph + 4, 0, 4);                  /* p_offset */
    put(ph + 8, KERNEL_GPA, 4);         /* p_vaddr */
    put(ph + 12, KERNEL_GPA, 4);        /* p_paddr */
    put(ph + 16, KERNEL_FILE, 4);
    put(ph + 20, KERNEL_MEM, 4);
    put(ph + 24, 5, 4);                 /* R+X */
    put_header(0x3);
    memset(image + 0x100, 0x90, KERNEL_FILE - 0x100);
}

/* A flat binary whose header carries the a.out kludge: the file loads at
 * 0x200000 (the header, at file offset HDR_OFFSET, lands at 0x200080), with
 * bss up to 0x204000 and the entry at 0x200100. */
static void build_aout_kernel(uint32_t load_end)
{
    memset(image, 0x90, sizeof(image));
    put_header(0x10003);
    put(image + HDR_OFFSET + 12, 0x200000 + HDR_OFFSET, 4);    /* header_addr */
    put(image + HDR_OFFSET + 16, 0x200000, 4);                 /* load_addr */
    put(image + HDR_OFFSET + 20, load_end, 4);                 /* load_end_addr */
    put(image + HDR_OFFSET + 24, 0x204000, 4);                 /* bss_end_addr */
    put(image + HDR_OFFSET + 28, 0x200100, 4);                 /* entry_addr */
}

static int setup(void **state)
{
    (void)state;
    guest = test_calloc(1, GUEST_SIZE);
    test_guest = (struct test_guest){ guest, GUEST_SIZE };
    build_elf_kernel();
    map_count = guest_memory_map(GUEST_SIZE, map);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_free(guest);
    return 0;
}

/* Where the kernel may go: the RAM of the map, but the information page. */
static const struct load_reserved info_page[] = {
    { INFO_GPA, INFO_GPA + 4096, "the multiboot information" },
};
static struct load_area area;

static struct multiboot_args args(const struct multiboot_module *mods, size_t count,
                                  const char *cmdline)
{
    area = (struct load_area){ .memory_map = map, .memory_map_count = map_count,
                               .limit = GUEST_SIZE, .reserved = info_page, .reserved_count = 1 };
    return (struct multiboot_args){ .kernel_name = "mb1.elf", .cmdline = cmdline,
                                    .modules = mods, .module_count = count,
                                    .memory_map = map, .memory_map_count = map_count,
                                    .area = &area, .modules_min = LOAD_MIN,
                                    .info_gpa = INFO_GPA };
}

static bool load(const struct multiboot_args *a, struct multiboot_result *out, char *why)
{
    return multiboot_load(image, sizeof(image), a, test_guest_write, &test_guest, out, why, 200);
}

static const uint8_t *info(void) { return guest + INFO_GPA; }
static const char *info_str(unsigned offset) { return (const char *)guest + get(info() + offset, 4); }

static void header_found_only_aligned_in_the_first_8k(void **state)
{
    (void)state;
    static uint8_t big[12000];
    memset(big, 0, sizeof(big));
    assert_false(multiboot_is_kernel(big, sizeof(big)));
    put_header_at(big + 8180, 0);       /* the header ends at 8192 */
    assert_true(multiboot_is_kernel(big, sizeof(big)));
    memset(big, 0, sizeof(big));
    put_header_at(big + 8184, 0);       /* would cross 8192 */
    assert_false(multiboot_is_kernel(big, sizeof(big)));
    memset(big, 0, sizeof(big));
    put_header_at(big + 102, 0);        /* not 32-bit aligned */
    assert_false(multiboot_is_kernel(big, sizeof(big)));
    assert_false(multiboot_is_kernel(big, 8));
    assert_true(multiboot_is_kernel(image, sizeof(image)));
}

/* 3.1.2: the checksum is part of the header; like GRUB and QEMU, the scan
 * passes over a magic without it (data, say) to the real header after it. */
static void stray_magic_before_the_header_is_skipped(void **state)
{
    (void)state;
    put(image + HDR_OFFSET - 16, 0x1badb002, 4);
    put(image + HDR_OFFSET - 12, 1u << 3, 4);   /* as a header: an unknown requirement */
    put(image + HDR_OFFSET - 8, 0, 4);          /* and no valid checksum */
    assert_true(multiboot_is_kernel(image, sizeof(image)));
    struct multiboot_args a = args(NULL, 0, "");
    struct multiboot_result out;
    char why[200] = "";
    assert_true(load(&a, &out, why));
    assert_int_equal(out.entry, ENTRY);
    build_elf_kernel();
}

/* A kernel in conventional memory (below 639 KiB) loads, as QEMU loads it;
 * its modules still go from 1 MiB up, clear of what the loader keeps low. */
static void kernel_below_1mib_modules_above(void **state)
{
    (void)state;
    const uint32_t low = 0x20000;
    put(image + 52 + 8, low, 4);                /* p_vaddr */
    put(image + 52 + 12, low, 4);               /* p_paddr */
    put(image + 24, low + 0x100, 4);            /* entry */
    struct multiboot_args a = args(two_modules, 1, "");
    struct multiboot_result out;
    char why[200] = "";
    assert_true(load(&a, &out, why));
    assert_int_equal(out.entry, low + 0x100);
    assert_int_equal(out.kernel_start, low);
    assert_int_equal(guest[low + 0x100], 0x90);
    uint32_t mods = (uint32_t)get(info() + 24, 4);
    assert_true(get(guest + mods, 4) >= LOAD_MIN);      /* mod_start */
    build_elf_kernel();
}

static void loads_elf_kernel_modules_and_information(void **state)
{
    (void)state;
    struct multiboot_args a = args(two_modules, 2, "console=ttyS0 fail");
    struct multiboot_result out;
    char why[200] = "";
    assert_true(load(&a, &out, why));
    assert_int_equal(out.entry, ENTRY);
    assert_int_equal(out.kernel_start, KERNEL_GPA);
    assert_int_equal(out.kernel_end, KERNEL_GPA + KERNEL_MEM);
    assert_int_equal(guest[KERNEL_GPA + 0x100], 0x90);
    assert_int_equal(guest[KERNEL_GPA + KERNEL_FILE], 0);  /* bss */

    /* flags: memory (0), cmdline (2), mods (3), mmap (6), loader name (9). */
    assert_int_equal(get(info(), 4), 0x24d);
    assert_int_equal(get(info() + 4, 4), 639);                          /* mem_lower, KiB */
    assert_int_equal(get(info() + 8, 4), (GUEST_SIZE - 0x100000) >> 10); /* mem_upper */
    assert_string_equal(info_str(16), "mb1.elf console=ttyS0 fail");
    assert_string_equal(info_str(64), "vmxvisor");
    const unsigned pointers[] = { 16, 24, 48, 64 };     /* all inside the one page */
    for (size_t i = 0; i < 4; i++) {
        assert_true(get(info() + pointers[i], 4) > INFO_GPA);
        assert_true(get(info() + pointers[i], 4) < INFO_GPA + 4096);
    }

    /* Modules: in order, page-aligned, the first on the page after the kernel. */
    assert_int_equal(get(info() + 20, 4), 2);
    const uint8_t *mods = guest + get(info() + 24, 4);
    uint32_t start0 = (uint32_t)get(mods, 4), start1 = (uint32_t)get(mods + 16, 4);
    assert_int_equal(start0, KERNEL_GPA + KERNEL_MEM);
    assert_int_equal(get(mods + 4, 4), start0 + sizeof(env));           /* mod_end, exclusive */
    assert_int_equal(start1 % 4096, 0);
    assert_true(start1 >= start0 + sizeof(env));
    assert_true(start1 < start0 + sizeof(env) + 4096);
    assert_int_equal(get(mods + 20, 4), start1 + sizeof(blob));
    assert_memory_equal(guest + start0, env, sizeof(env));
    assert_memory_equal(guest + start1, blob, sizeof(blob));
    assert_string_equal((const char *)guest + get(mods + 8, 4), "env.txt");
    assert_string_equal((const char *)guest + get(mods + 24, 4), "blob.bin");

    /* The memory map: size 20 (not counting itself), base, length, type. */
    assert_int_equal(get(info() + 44, 4), map_count * 24);
    const uint8_t *mmap = guest + get(info() + 48, 4);
    for (size_t i = 0; i < map_count; i++) {
        const uint8_t *e = mmap + i * 24;
        assert_int_equal(get(e, 4), 20);
        assert_int_equal(get(e + 4, 8), map[i].start);
        assert_int_equal(get(e + 12, 8), map[i].size);
        assert_int_equal(get(e + 20, 4), map[i].type);
    }
}

static void command_line_is_argv0_alone_without_cmdline(void **state)
{
    (void)state;
    struct multiboot_args a = args(NULL, 0, "");
    struct multiboot_result out;
    char why[200] = "";
    assert_true(load(&a, &out, why));
    assert_string_equal(info_str(16), "mb1.elf");
    assert_int_equal(get(info() + 20, 4), 0);
}

static void aout_kludge_addresses_win(void **state)
{
    (void)state;
    build_aout_kernel(0x200000 + 0x1000);      /* only the first 4 KiB of the file */
    struct multiboot_args a = args(two_modules, 1, "");
    struct multiboot_result out;
    char why[200] = "";
    assert_true(load(&a, &out, why));
    assert_int_equal(out.entry, 0x200100);
    assert_int_equal(out.kernel_start, 0x200000);
    assert_int_equal(out.kernel_end, 0x204000);
    assert_int_equal(get(guest + 0x200000 + HDR_OFFSET, 4), 0x1badb002);
    assert_int_equal(guest[0x200fff], 0x90);
    assert_int_equal(guest[0x201000], 0);      /* past load_end_addr: bss */
    assert_int_equal(guest[0x203fff], 0);
    const uint8_t *mods = guest + get(info() + 24, 4);
    assert_int_equal(get(mods, 4), 0x204000);

    build_aout_kernel(0);                      /* load_end_addr 0: the whole file */
    guest[0x201fff] = 0;
    assert_true(load(&a, &out, why));
    assert_int_equal(guest[0x201fff], 0x90);
    build_elf_kernel();
}

static void video_mode_flag_is_ignored(void **state)
{
    (void)state;
    put_header(0x7);
    struct multiboot_args a = args(NULL, 0, "");
    struct multiboot_result out;
    char why[200] = "";
    assert_true(load(&a, &out, why));
    assert_int_equal(get(info(), 4) & (3u << 11), 0);     /* no VBE or framebuffer info */
    build_elf_kernel();
}

static void refuses_with_a_reason(void **state)
{
    (void)state;
    struct multiboot_args a = args(two_modules, 2, "");
    struct multiboot_result out;
    char why[200];

    put(image + HDR_OFFSET, 0, 4);
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "no multiboot header"));
    build_elf_kernel();

    image[HDR_OFFSET + 8] ^= 1;                 /* a bad checksum: not a header */
    assert_false(multiboot_is_kernel(image, sizeof(image)));
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "no multiboot header (magic 0x1badb002 with a valid checksum)"));
    build_elf_kernel();

    put_header(0x3 | (1u << 3));                /* a requirement we do not know */
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "unknown required bits 0x8"));
    build_elf_kernel();

    put(image + 52 + 12, INFO_GPA, 4);          /* a segment over the information page */
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "overlaps the multiboot information at 0xb000-0xc000"));
    build_elf_kernel();

    put(image + 24, 0x900000, 4);               /* entry outside the segment */
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "entry point"));
    build_elf_kernel();

    put_header(0x10003);                        /* kludge flag, fields cut off by the file */
    memmove(image + sizeof(image) - 16, image + HDR_OFFSET, 12);
    memset(image + HDR_OFFSET, 0, 12);
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "address fields are missing"));
    build_elf_kernel();

    build_aout_kernel(0);
    put(image + HDR_OFFSET + 16, 0x200100, 4);  /* load_addr above header_addr */
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "load_addr"));
    build_aout_kernel(0x200000 + sizeof(image) + 1);    /* beyond the file */
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "beyond the file"));
    build_aout_kernel(0);
    put(image + HDR_OFFSET + 24, 0x201000, 4);  /* bss_end below the file's end */
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "bss_end_addr"));
    build_aout_kernel(0);
    put(image + HDR_OFFSET + 24, GUEST_SIZE + 4096, 4);
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "is not below"));
    build_aout_kernel(0);
    put(image + HDR_OFFSET + 28, 0x100000, 4);  /* entry outside the image */
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "entry address"));
    build_elf_kernel();

    /* A module that does not fit between the kernel and the end of RAM. */
    struct multiboot_args small = args(two_modules, 1, "");
    area.limit = KERNEL_GPA + KERNEL_MEM + 4096;
    assert_false(load(&small, &out, why));
    assert_non_null(strstr(why, "module 'env.txt' (4 KiB) does not fit"));

    /* More than a page of information. */
    static char long_cmdline[5000];
    memset(long_cmdline, 'x', sizeof(long_cmdline) - 1);
    struct multiboot_args overflow = args(NULL, 0, long_cmdline);
    assert_false(load(&overflow, &out, why));
    assert_non_null(strstr(why, "does not fit in its page"));
    static struct multiboot_module many[300];
    for (size_t i = 0; i < 300; i++)
        many[i] = (struct multiboot_module){ blob, 1, "a-module-with-a-rather-long-name" };
    struct multiboot_args too_many = args(many, 300, "");
    assert_false(load(&too_many, &out, why));
    assert_non_null(strstr(why, "does not fit in its page"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_found_only_aligned_in_the_first_8k),
        cmocka_unit_test(stray_magic_before_the_header_is_skipped),
        cmocka_unit_test(loads_elf_kernel_modules_and_information),
        cmocka_unit_test(kernel_below_1mib_modules_above),
        cmocka_unit_test(command_line_is_argv0_alone_without_cmdline),
        cmocka_unit_test(aout_kludge_addresses_win),
        cmocka_unit_test(video_mode_flag_is_ignored),
        cmocka_unit_test(refuses_with_a_reason),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
