/* The Linux boot protocol loader on hand-built bzImages: where the kernel,
 * initrd, command line and zero page go, what the zero page says (setup
 * header copy, loader type, pointers, e820), and refusals with a reason. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "tests/unit/fixtures/guest_memory.h"
#include "loader/linux_boot.h"

#define GUEST_SIZE   (64u << 20)        /* 64 MiB of "guest memory" */
#define KERNEL_GPA   0x1000000u         /* pref_address: 16 MiB */
#define INIT_SIZE    0x800000u
#define ZERO_PAGE    0xa000u
#define CMDLINE      0x9000u
#define SETUP_SECTS  3

static uint8_t *guest;
static uint8_t image[(SETUP_SECTS + 1) * 512 + 8192];
static const uint8_t initrd[5000] = { 0x1f, 0x8b };
static struct guest_mem_range map[GUEST_MEMMAP_MAX];
static size_t map_count;

static struct test_guest test_guest;

static void put(uint8_t *p, uint64_t v, unsigned bytes) { memcpy(p, &v, bytes); }
static uint64_t get(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;
    memcpy(&v, p, bytes);
    return v;
}

/* A protocol 2.15 bzImage with a 64-bit entry: 3 setup sectors, then 8 KiB
 * of "protected-mode kernel". */
static void build_bzimage(void)
{
    memset(image, 0, sizeof(image));
    image[0x1f1] = SETUP_SECTS;
    put(image + 0x1fe, 0xaa55, 2);
    image[0x200] = 0xeb;
    image[0x201] = 0x6a;                /* header ends at 0x26c */
    memcpy(image + 0x202, "HdrS", 4);
    put(image + 0x206, 0x20f, 2);
    image[0x211] = 0x01;                /* LOADED_HIGH */
    put(image + 0x22c, 0x7fffffff, 4);  /* initrd_addr_max */
    put(image + 0x230, 0x200000, 4);    /* kernel_alignment */
    image[0x234] = 1;                   /* relocatable */
    put(image + 0x236, 0x7f, 2);        /* xloadflags incl. XLF_KERNEL_64 */
    put(image + 0x238, 2047, 4);        /* cmdline_size */
    put(image + 0x258, KERNEL_GPA, 8);  /* pref_address */
    put(image + 0x260, INIT_SIZE, 4);
    memset(image + (SETUP_SECTS + 1) * 512, 0xcc, 8192);
}

static int setup(void **state)
{
    (void)state;
    guest = test_calloc(1, GUEST_SIZE);
    test_guest = (struct test_guest){ guest, GUEST_SIZE };
    build_bzimage();
    map_count = guest_memory_map(GUEST_SIZE, map);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_free(guest);
    return 0;
}

static struct linux_boot_args args(const void *rd, size_t rd_size, const char *cmdline)
{
    return (struct linux_boot_args){ .initrd = rd, .initrd_size = rd_size, .cmdline = cmdline,
                                     .cmdline_gpa = CMDLINE, .zero_page_gpa = ZERO_PAGE,
                                     .rsdp_gpa = 0xe0000, .memory_map = map,
                                     .memory_map_count = map_count };
}

static bool load(const struct linux_boot_args *a, struct linux_boot_result *out, char *why)
{
    return linux_load(image, sizeof(image), a, test_guest_write, &test_guest, out, why, 160);
}

static void memory_map_is_the_pc_layout(void **state)
{
    (void)state;
    struct guest_mem_range m[GUEST_MEMMAP_MAX];
    assert_int_equal(guest_memory_map(64u << 20, m), 4);
    assert_int_equal(m[0].start, 0);
    assert_int_equal(m[0].size, 0x9fc00);
    assert_int_equal(m[0].type, GUEST_MEM_RAM);
    assert_int_equal(m[1].type, GUEST_MEM_RESERVED);
    assert_int_equal(m[2].start, 0xe0000);
    assert_int_equal(m[2].type, GUEST_MEM_RESERVED);
    assert_int_equal(m[3].start, 0x100000);
    assert_int_equal(m[3].size, (64u << 20) - 0x100000);
    /* 4 GiB of RAM: 3 GiB low, the last GiB above 4 GiB (the device hole). */
    assert_int_equal(guest_memory_map(4ull << 30, m), 5);
    assert_int_equal(m[3].start + m[3].size, 0xc0000000ull);
    assert_int_equal(m[4].start, 0x100000000ull);
    assert_int_equal(m[4].size, 1ull << 30);
}

static void loads_kernel_initrd_cmdline_and_zero_page(void **state)
{
    (void)state;
    struct linux_boot_args a = args(initrd, sizeof(initrd), "console=ttyS0 quiet");
    struct linux_boot_result out;
    char why[160] = "";
    assert_true(load(&a, &out, why));
    assert_int_equal(out.protocol, 0x20f);
    assert_int_equal(out.kernel_gpa, KERNEL_GPA);
    assert_int_equal(out.entry, KERNEL_GPA + 0x200);        /* the 64-bit entry */
    assert_int_equal(out.kernel_end, KERNEL_GPA + INIT_SIZE);
    assert_int_equal(guest[KERNEL_GPA], 0xcc);               /* past the setup sectors */
    assert_int_equal(guest[KERNEL_GPA + 8191], 0xcc);
    /* The initrd: page-aligned, as high as RAM allows, above the kernel. */
    assert_int_equal(out.initrd_gpa % 4096, 0);
    assert_true(out.initrd_gpa + sizeof(initrd) <= GUEST_SIZE);
    assert_true(out.initrd_gpa + sizeof(initrd) > GUEST_SIZE - 4096);
    assert_memory_equal(guest + out.initrd_gpa, initrd, sizeof(initrd));
    assert_string_equal((const char *)guest + CMDLINE, "console=ttyS0 quiet");

    const uint8_t *zp = guest + ZERO_PAGE;
    assert_memory_equal(zp + 0x202, "HdrS", 4);             /* the header is copied */
    assert_int_equal(get(zp + 0x206, 2), 0x20f);
    assert_int_equal(zp[0x210], 0xff);                      /* type_of_loader */
    assert_int_equal(get(zp + 0x214, 4), KERNEL_GPA);       /* code32_start */
    assert_int_equal(get(zp + 0x228, 4), CMDLINE);
    assert_int_equal(get(zp + 0x218, 4), out.initrd_gpa);
    assert_int_equal(get(zp + 0x21c, 4), sizeof(initrd));
    assert_int_equal(get(zp + 0x070, 8), 0xe0000);          /* acpi_rsdp_addr */
    assert_int_equal(zp[0x1e8], map_count);                 /* e820_entries */
    for (size_t i = 0; i < map_count; i++) {
        const uint8_t *e = zp + 0x2d0 + i * 20;
        assert_int_equal(get(e, 8), map[i].start);
        assert_int_equal(get(e + 8, 8), map[i].size);
        assert_int_equal(get(e + 16, 4), map[i].type);
    }
    assert_int_equal(zp[0x26c], 0);                         /* nothing past the header */
}

static void without_initrd_the_pointers_stay_zero(void **state)
{
    (void)state;
    struct linux_boot_args a = args(NULL, 0, "");
    struct linux_boot_result out;
    char why[160] = "";
    assert_true(load(&a, &out, why));
    assert_int_equal(get(guest + ZERO_PAGE + 0x218, 4), 0);
    assert_int_equal(get(guest + ZERO_PAGE + 0x21c, 4), 0);
}

static void initrd_respects_initrd_addr_max(void **state)
{
    (void)state;
    put(image + 0x22c, 0x01ffffff, 4);      /* the initrd must end below 32 MiB */
    struct linux_boot_args a = args(initrd, sizeof(initrd), "");
    struct linux_boot_result out;
    char why[160] = "";
    assert_true(load(&a, &out, why));
    assert_true(out.initrd_gpa + sizeof(initrd) <= 0x2000000);
    assert_true(out.initrd_gpa >= out.kernel_end);
    build_bzimage();
}

/* The release string the header points at (boot.rst kernel_version), cut at
 * the first blank; none where the offset points outside the image. */
static void reads_the_kernel_version(void **state)
{
    (void)state;
    char version[16];
    put(image + 0x20e, 0x300, 2);
    strcpy((char *)image + 0x500, "6.1.0-57-amd64 (debian-kernel@lists.debian.org) #1 SMP");
    linux_kernel_version(image, sizeof(image), version, sizeof(version));
    assert_string_equal(version, "6.1.0-57-amd64");
    linux_kernel_version(image, sizeof(image), version, 6);
    assert_string_equal(version, "6.1.0");
    put(image + 0x20e, 0xffff, 2);
    linux_kernel_version(image, sizeof(image), version, sizeof(version));
    assert_string_equal(version, "");
    image[0x202] = 'X';                 /* not a bzImage */
    linux_kernel_version(image, sizeof(image), version, sizeof(version));
    assert_string_equal(version, "");
    build_bzimage();                    /* for the tests after this one */
}

static void refuses_with_a_reason(void **state)
{
    (void)state;
    struct linux_boot_args a = args(initrd, sizeof(initrd), "");
    struct linux_boot_result out;
    char why[160];

    image[0x202] = 'X';
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "not a Linux bzImage"));
    build_bzimage();

    put(image + 0x206, 0x20b, 2);           /* 2.11: no 64-bit entry protocol */
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "2.11 without a 64-bit entry"));
    build_bzimage();

    put(image + 0x236, 0x7e, 2);            /* no XLF_KERNEL_64 */
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "XLF_KERNEL_64"));
    build_bzimage();

    image[0x211] = 0;                       /* a zImage */
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "zImage"));
    build_bzimage();

    image[0x1f1] = 200;                     /* setup sectors beyond the file */
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "truncated"));
    build_bzimage();

    put(image + 0x258, 0x2000, 8);          /* pref_address over the boot structures */
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "below 1 MiB"));
    build_bzimage();

    put(image + 0x260, GUEST_SIZE, 4);      /* init_size beyond RAM */
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "more memory"));
    build_bzimage();

    put(image + 0x238, 4, 4);               /* cmdline_size 4 */
    struct linux_boot_args long_cmdline = args(NULL, 0, "console=ttyS0");
    assert_false(load(&long_cmdline, &out, why));
    assert_non_null(strstr(why, "cmdline_size 4"));
    build_bzimage();

    /* initrd_addr_max below the kernel's end: refused before top - kernel_end
     * can wrap (with a 4 KiB limit, top - size would wrap too and put the
     * 5000-byte initrd near 2^64). */
    put(image + 0x22c, 0xfff, 4);
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "no room for the initrd above the kernel"));
    put(image + 0x22c, KERNEL_GPA + INIT_SIZE - 1, 4);     /* ends exactly at the kernel's end */
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "no room for the initrd above the kernel"));
    build_bzimage();

    /* An initrd that does not fit between the kernel and the end of RAM. */
    static uint8_t huge[GUEST_SIZE - KERNEL_GPA - INIT_SIZE + 4096];
    struct linux_boot_args big = args(huge, sizeof(huge), "");
    assert_false(load(&big, &out, why));
    assert_non_null(strstr(why, "initrd"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memory_map_is_the_pc_layout),
        cmocka_unit_test(loads_kernel_initrd_cmdline_and_zero_page),
        cmocka_unit_test(without_initrd_the_pointers_stay_zero),
        cmocka_unit_test(initrd_respects_initrd_addr_max),
        cmocka_unit_test(refuses_with_a_reason),
        cmocka_unit_test(reads_the_kernel_version),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
