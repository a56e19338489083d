/* The Multiboot2 loader on hand-built kernels: the header (alignment,
 * architecture, checksum), its tags (information request, address and
 * entry, console, EFI, unknown ones, optional or not), an ELF kernel and an
 * address-tag kernel loaded where they ask, modules page-aligned above them,
 * and the information: total size, the command line with argv[0], the
 * loader's name, basic memory and the map, both RSDP copies, the load base,
 * modules with their strings, the end tag. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "tests/unit/fixtures/guest_memory.h"
#include "loader/multiboot2.h"

#define GUEST_SIZE  (64u << 20)
#define LOAD_MIN    0x100000u
#define INFO_GPA    0xb000u
#define HDR_OFFSET  0x1000u             /* 8-byte aligned, beyond the first 4 KiB */
#define KERNEL_GPA  0x100000u
#define KERNEL_FILE 0x3000u
#define KERNEL_MEM  0x4000u
#define ENTRY       (KERNEL_GPA + 0x2100)
#define MAGIC       0xe85250d6u

static uint8_t *guest;
static uint8_t image[KERNEL_FILE];
static size_t header_len;
static struct guest_mem_range map[GUEST_MEMMAP_MAX];
static size_t map_count;
static const uint8_t cfg[3000] = "[vm inner]\nimage = cpuid_test.elf\n";
static const uint8_t blob[100] = { 0xde, 0xad };
static const struct multiboot_module two_modules[] = {
    { cfg, sizeof(cfg), "vms.cfg" },
    { blob, sizeof(blob), "cpuid_test.elf" },
};
static uint8_t rsdp[MULTIBOOT2_RSDP_SIZE];
static struct test_guest test_guest;

static void put(uint8_t *p, uint64_t v, unsigned bytes) { memcpy(p, &v, bytes); }
static uint64_t get(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;
    memcpy(&v, p, bytes);
    return v;
}

/* The header's fixed part with the checksum for the length so far. */
static void seal_header(void)
{
    uint8_t *h = image + HDR_OFFSET;
    put(h, MAGIC, 4);
    put(h + 4, 0, 4);
    put(h + 8, header_len, 4);
    put(h + 12, -(MAGIC + (uint32_t)header_len), 4);
}

static void start_header(void) { header_len = 16; }

/* A tag of `size` bytes with `payload` after type, flags and size. */
static void add_header_tag(uint16_t type, uint16_t flags, const uint32_t *payload, unsigned words)
{
    uint8_t *t = image + HDR_OFFSET + header_len;
    put(t, type, 2);
    put(t + 2, flags, 2);
    put(t + 4, 8 + 4 * words, 4);
    for (unsigned i = 0; i < words; i++)
        put(t + 8 + 4 * i, payload[i], 4);
    header_len += (8 + 4 * words + 7) & ~7u;
}

static void end_header(void)
{
    add_header_tag(0, 0, NULL, 0);
    seal_header();
}

/* An ELF64 x86-64 executable with one PT_LOAD segment: the file at
 * KERNEL_GPA plus bss, entry at ENTRY (a 32-bit entry, as vmxvisor's). */
static void build_elf_kernel(void)
{
    memset(image, 0, sizeof(image));
    memcpy(image, "\x7f" "ELF", 4);
    image[4] = 2;                       /* ELFCLASS64 */
    image[5] = 1;
    image[6] = 1;
    put(image + 16, 2, 2);              /* ET_EXEC */
    put(image + 18, 62, 2);             /* EM_X86_64 */
    put(image + 20, 1, 4);
    put(image + 24, ENTRY, 8);
    put(image + 32, 64, 8);             /* e_phoff */
    put(image + 52, 64, 2);             /* e_ehsize */
    put(image + 54, 56, 2);             /* e_phentsize */
    put(image + 56, 1, 2);              /* e_phnum */
    uint8_t *ph = image + 64;
    put(ph, 1, 4);                      /* PT_LOAD */
    put(ph + 4, 5, 4);                  /* R+X */
    put(ph + 8, 0, 8);                  /* p_offset */
    put(ph + 16, KERNEL_GPA, 8);
    put(ph + 24, KERNEL_GPA, 8);
    put(ph + 32, KERNEL_FILE, 8);
    put(ph + 40, KERNEL_MEM, 8);
    memset(image + 0x2000, 0x90, KERNEL_FILE - 0x2000);
    start_header();
    end_header();
}

static int setup(void **state)
{
    (void)state;
    guest = test_calloc(1, GUEST_SIZE);
    test_guest = (struct test_guest){ guest, GUEST_SIZE };
    build_elf_kernel();
    map_count = guest_memory_map(GUEST_SIZE, map);
    for (unsigned i = 0; i < sizeof(rsdp); i++)
        rsdp[i] = (uint8_t)(0x40 + i);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_free(guest);
    return 0;
}

static const struct load_reserved info_page[] = {
    { INFO_GPA, INFO_GPA + 4096, "the multiboot information" },
};
static struct load_area area;

static struct multiboot_args args(const struct multiboot_module *mods, size_t count,
                                  const char *cmdline)
{
    area = (struct load_area){ .memory_map = map, .memory_map_count = map_count,
                               .limit = GUEST_SIZE, .reserved = info_page, .reserved_count = 1 };
    return (struct multiboot_args){ .kernel_name = "vmxvisor.elf", .cmdline = cmdline,
                                    .modules = mods, .module_count = count,
                                    .memory_map = map, .memory_map_count = map_count,
                                    .area = &area, .modules_min = LOAD_MIN,
                                    .info_gpa = INFO_GPA, .acpi_rsdp = rsdp };
}

static bool load(const struct multiboot_args *a, struct multiboot_result *out, char *why)
{
    return multiboot2_load(image, sizeof(image), a, test_guest_write, &test_guest, out, why, 200);
}

/* The information's tag of `type` (the `nth` one), or NULL. */
static const uint8_t *info_tag(uint32_t type, unsigned nth)
{
    const uint8_t *info = guest + INFO_GPA;
    uint32_t total = (uint32_t)get(info, 4);
    for (uint32_t at = 8; at + 8 <= total;) {
        const uint8_t *t = info + at;
        uint32_t size = (uint32_t)get(t + 4, 4);
        if (get(t, 4) == type && nth-- == 0)
            return t;
        if (get(t, 4) == 0)
            return NULL;
        at += (size + 7) & ~7u;
    }
    return NULL;
}

static void finds_the_header(void **state)
{
    (void)state;
    assert_true(multiboot2_is_kernel(image, sizeof(image)));
    /* Misaligned: not a header. */
    memmove(image + HDR_OFFSET + 4, image + HDR_OFFSET, 24);
    memset(image + HDR_OFFSET, 0, 4);
    assert_false(multiboot2_is_kernel(image, sizeof(image)));
    build_elf_kernel();
    put(image + HDR_OFFSET + 12, 0, 4);         /* bad checksum */
    assert_false(multiboot2_is_kernel(image, sizeof(image)));
    build_elf_kernel();
    put(image + HDR_OFFSET + 4, 4, 4);          /* MIPS */
    put(image + HDR_OFFSET + 12, -(MAGIC + 4 + (uint32_t)header_len), 4);
    assert_false(multiboot2_is_kernel(image, sizeof(image)));
    build_elf_kernel();
    put(image + HDR_OFFSET + 8, 0x10000, 4);    /* longer than the file */
    put(image + HDR_OFFSET + 12, -(MAGIC + 0x10000), 4);
    assert_false(multiboot2_is_kernel(image, sizeof(image)));
}

static void loads_an_elf_kernel_with_its_information(void **state)
{
    (void)state;
    struct multiboot_args a = args(two_modules, 2, "serial=1 nosmp");
    struct multiboot_result out;
    char why[200] = "";
    assert_true(load(&a, &out, why));
    assert_int_equal(out.entry, ENTRY);
    assert_int_equal(out.kernel_start, KERNEL_GPA);
    assert_int_equal(out.kernel_end, KERNEL_GPA + KERNEL_MEM);
    assert_int_equal(guest[KERNEL_GPA + 0x2000], 0x90);
    assert_int_equal(guest[KERNEL_GPA + KERNEL_MEM - 1], 0);

    const uint8_t *info = guest + INFO_GPA;
    assert_int_equal(get(info + 4, 4), 0);      /* reserved */
    const uint8_t *t = info_tag(1, 0);
    assert_non_null(t);
    assert_string_equal((const char *)t + 8, "vmxvisor.elf serial=1 nosmp");
    assert_string_equal((const char *)info_tag(2, 0) + 8, "vmxvisor");
    t = info_tag(4, 0);
    assert_int_equal(get(t + 8, 4), 639);       /* KiB below the EBDA */
    assert_int_equal(get(t + 12, 4), (GUEST_SIZE - 0x100000) >> 10);
    t = info_tag(6, 0);
    assert_int_equal(get(t + 4, 4), 16 + 24 * map_count);
    assert_int_equal(get(t + 8, 4), 24);
    assert_int_equal(get(t + 12, 4), 0);
    for (size_t i = 0; i < map_count; i++) {
        assert_int_equal(get(t + 16 + 24 * i, 8), map[i].start);
        assert_int_equal(get(t + 16 + 24 * i + 8, 8), map[i].size);
        assert_int_equal(get(t + 16 + 24 * i + 16, 4), map[i].type);
    }
    t = info_tag(14, 0);
    assert_int_equal(get(t + 4, 4), 28);
    assert_memory_equal(t + 8, rsdp, 20);
    t = info_tag(15, 0);
    assert_int_equal(get(t + 4, 4), 44);
    assert_memory_equal(t + 8, rsdp, 36);
    assert_int_equal(get(info_tag(21, 0) + 8, 4), KERNEL_GPA);
    /* Modules page-aligned above the kernel, each with its string. */
    uint64_t first = KERNEL_GPA + KERNEL_MEM;
    t = info_tag(3, 0);
    assert_int_equal(get(t + 8, 4), first);
    assert_int_equal(get(t + 12, 4), first + sizeof(cfg));
    assert_string_equal((const char *)t + 16, "vms.cfg");
    assert_memory_equal(guest + first, cfg, sizeof(cfg));
    t = info_tag(3, 1);
    assert_int_equal(get(t + 8, 4), first + 4096);
    assert_string_equal((const char *)t + 16, "cpuid_test.elf");
    assert_null(info_tag(3, 2));
    /* Every tag 8-byte aligned, the last the end tag, total_size exact. */
    uint32_t total = (uint32_t)get(info, 4);
    assert_int_equal(get(info + total - 8, 4), 0);
    assert_int_equal(get(info + total - 4, 4), 8);
}

static void address_and_entry_tags_win(void **state)
{
    (void)state;
    memset(image, 0x90, sizeof(image));
    start_header();
    const uint32_t address[] = { 0x200000 + HDR_OFFSET, 0x200000, 0, 0x205000 };
    const uint32_t entry[] = { 0x200200 };
    add_header_tag(2, 0, address, 4);
    add_header_tag(3, 0, entry, 1);
    end_header();
    struct multiboot_args a = args(NULL, 0, "");
    struct multiboot_result out;
    char why[200] = "";
    assert_true(load(&a, &out, why));
    assert_int_equal(out.entry, 0x200200);
    assert_int_equal(out.kernel_start, 0x200000);
    assert_int_equal(out.kernel_end, 0x205000);
    assert_int_equal(guest[0x200000 + HDR_OFFSET], 0xd6);
    assert_string_equal((const char *)info_tag(1, 0) + 8, "vmxvisor.elf");

    /* An address tag without an entry tag. */
    start_header();
    add_header_tag(2, 0, address, 4);
    end_header();
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "no entry address tag"));
}

static void honours_or_refuses_tags(void **state)
{
    (void)state;
    struct multiboot_args a = args(NULL, 0, "");
    struct multiboot_result out;
    char why[200];
    /* Requests for what we give, framebuffer and module alignment: loaded. */
    start_header();
    const uint32_t wanted[] = { 1, 3, 6, 14, 15 };
    add_header_tag(1, 0, wanted, 5);
    const uint32_t fb[] = { 1024, 768, 32 };
    add_header_tag(5, 0, fb, 3);
    add_header_tag(6, 0, NULL, 0);
    end_header();
    assert_true(load(&a, &out, why));
    assert_null(info_tag(8, 0));        /* no framebuffer information */

    struct { uint16_t type, flags; uint32_t payload; const char *why; } refused[] = {
        { 1, 0, 8, "information type 8" },        /* framebuffer info, required */
        { 4, 0, 1, "requires a console" },
        { 7, 0, 0, "requires EFI (tag 7)" },
        { 9, 0, 0x100000, "requires EFI (tag 9)" },
        { 77, 0, 0, "unknown type 77" },
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        build_elf_kernel();
        start_header();
        add_header_tag(refused[i].type, refused[i].flags, &refused[i].payload, 1);
        end_header();
        why[0] = '\0';
        assert_false(load(&a, &out, why));
        if (!strstr(why, refused[i].why))
            fail_msg("tag %u: '%s' lacks '%s'", refused[i].type, why, refused[i].why);
        /* Optional, the same tag is passed over. */
        start_header();
        add_header_tag(refused[i].type, 1, &refused[i].payload, 1);
        end_header();
        assert_true(load(&a, &out, why));
    }
    /* Tags past the header's length, and a tag of size 4. */
    start_header();
    add_header_tag(6, 0, NULL, 0);
    seal_header();
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "without an end tag"));
    start_header();
    add_header_tag(6, 0, NULL, 0);
    put(image + HDR_OFFSET + 16 + 4, 4, 4);
    end_header();
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "has size 4"));
}

static void refuses_what_does_not_fit(void **state)
{
    (void)state;
    struct multiboot_args a = args(two_modules, 2, "");
    struct multiboot_result out;
    char why[200];
    area.limit = KERNEL_GPA + KERNEL_MEM + 4096;
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "module 'cpuid_test.elf' (0 KiB) does not fit"));
    static char long_line[4100];
    memset(long_line, 'x', sizeof(long_line) - 1);
    a = args(NULL, 0, long_line);
    assert_false(load(&a, &out, why));
    assert_non_null(strstr(why, "does not fit in its page"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(finds_the_header, setup, teardown),
        cmocka_unit_test_setup_teardown(loads_an_elf_kernel_with_its_information, setup, teardown),
        cmocka_unit_test_setup_teardown(address_and_entry_tags_win, setup, teardown),
        cmocka_unit_test_setup_teardown(honours_or_refuses_tags, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_what_does_not_fit, setup, teardown),
    };
    return cmocka_run_group_tests_name("multiboot2", tests, NULL, NULL);
}
