#include "loader/multiboot.h"
#include "lib/error.h"
#include "lib/le.h"
#include "lib/page_alloc.h"
#include "lib/string.h"

/* The OS image header (3.1.1, 3.1.2). */
#define HEADER_MAGIC        0x1badb002u
#define HEADER_SEARCH_LIMIT 8192        /* the header lies wholly in these bytes */
#define HEADER_SIZE         12          /* magic, flags, checksum */
#define HEADER_AOUT_SIZE    32          /* + header_addr .. entry_addr (3.1.3) */
#define HDR_FLAGS           4
#define HDR_CHECKSUM        8
#define HDR_HEADER_ADDR     12
#define HDR_LOAD_ADDR       16
#define HDR_LOAD_END_ADDR   20
#define HDR_BSS_END_ADDR    24
#define HDR_ENTRY_ADDR      28

#define FLAG_PAGE_ALIGN     (1u << 0)   /* modules on 4 KiB boundaries: always */
#define FLAG_MEMORY_INFO    (1u << 1)   /* mem_* and mmap_*: always given */
#define FLAG_VIDEO_MODE     (1u << 2)   /* ignored, as QEMU does (see the header) */
#define FLAG_AOUT_KLUDGE    (1u << 16)
/* 3.1.2: bits 0-15 are requirements; a loader that does not understand one
 * must fail. Bits 16-31 are optional; of those only the kludge means something. */
#define FLAGS_REQUIRED      0xffffu
#define FLAGS_UNDERSTOOD    (FLAG_PAGE_ALIGN | FLAG_MEMORY_INFO | FLAG_VIDEO_MODE)

/* The boot information format (3.3): offsets in the structure. */
#define INFO_FLAGS          0
#define INFO_MEM_LOWER      4
#define INFO_MEM_UPPER      8
#define INFO_CMDLINE        16
#define INFO_MODS_COUNT     20
#define INFO_MODS_ADDR      24
#define INFO_MMAP_LENGTH    44
#define INFO_MMAP_ADDR      48
#define INFO_BOOT_LOADER_NAME 64
#define INFO_SIZE           88          /* up to vbe_interface_len, the last 0.6.96 field */
#define INFO_HAS_MEMORY     (1u << 0)
#define INFO_HAS_CMDLINE    (1u << 2)
#define INFO_HAS_MODS       (1u << 3)
#define INFO_HAS_MMAP       (1u << 6)
#define INFO_HAS_LOADER_NAME (1u << 9)
#define MOD_ENTRY_SIZE      16          /* mod_start, mod_end, string, reserved */
#define MMAP_ENTRY_SIZE     24          /* size (of the rest: 20), base_addr, length, type */
#define INFO_PAGE_SIZE      4096
#define LOW_MEMORY_END      0x100000ull /* "upper memory starts at address 1 megabyte" */

static const char loader_name[] = "vmxvisor";

/* The header's offset in the image: 3.1.1, the magic at a 32-bit aligned
 * offset with the whole header in the first 8192 bytes. The magic alone
 * proves nothing (it can be data, or another header's field): 3.1.2 makes
 * magic + flags + checksum == 0 part of the header, and GRUB and QEMU take
 * the first candidate that passes, scanning on past those that do not. */
static bool find_header(const uint8_t *k, size_t size, size_t *offset)
{
    size_t limit = size < HEADER_SEARCH_LIMIT ? size : HEADER_SEARCH_LIMIT;
    for (size_t off = 0; off + HEADER_SIZE <= limit; off += 4) {
        uint32_t magic = (uint32_t)le_get(k + off, 4);
        uint32_t flags = (uint32_t)le_get(k + off + HDR_FLAGS, 4);
        uint32_t checksum = (uint32_t)le_get(k + off + HDR_CHECKSUM, 4);
        if (magic == HEADER_MAGIC && (uint32_t)(magic + flags + checksum) == 0) {
            *offset = off;
            return true;
        }
    }
    return false;
}

bool multiboot_is_kernel(const void *image, size_t size)
{
    size_t offset;
    return find_header(image, size, &offset);
}

/* The information page being built: the structure at offset 0, then the
 * arrays and strings it points to. */
struct info_page {
    uint8_t bytes[INFO_PAGE_SIZE];
    size_t used;
    uint64_t gpa;
    const struct multiboot_args *args;
};

/* Reserves `len` bytes (4-byte aligned) and returns their offset in the
 * page, or false when the page is full. */
static bool info_reserve(struct info_page *p, size_t len, size_t *offset)
{
    size_t at = (p->used + 3) & ~(size_t)3;
    if (len > INFO_PAGE_SIZE - at)
        return false;
    *offset = at;
    p->used = at + len;
    return true;
}

/* Copies a string into the page and returns its guest address in *gpa. */
static bool info_string(struct info_page *p, const char *s, uint32_t *gpa)
{
    size_t len = strlen(s) + 1, at;
    if (!info_reserve(p, len, &at))
        return false;
    memcpy(p->bytes + at, s, len);
    *gpa = (uint32_t)(p->gpa + at);
    return true;
}

/* 3.3: "the amount of lower and upper memory, in kilobytes": RAM from 0,
 * and RAM from 1 MiB up to the first hole. */
static void put_memory_sizes(uint8_t *info, const struct multiboot_args *args)
{
    for (size_t i = 0; i < args->memory_map_count; i++) {
        const struct guest_mem_range *r = &args->memory_map[i];
        if (r->type != GUEST_MEM_RAM)
            continue;
        if (r->start == 0)
            le_put(info + INFO_MEM_LOWER, r->size >> 10, 4);
        else if (r->start == LOW_MEMORY_END)
            le_put(info + INFO_MEM_UPPER, r->size >> 10, 4);
    }
}

/* The command line: the kernel's name as argv[0], then the VM's command
 * line, as QEMU passes it. */
static bool put_cmdline(struct info_page *p, const struct multiboot_args *args)
{
    size_t name_len = strlen(args->kernel_name), rest = strlen(args->cmdline);
    size_t len = name_len + (rest ? 1 + rest : 0) + 1, at;
    if (!info_reserve(p, len, &at))
        return false;
    memcpy(p->bytes + at, args->kernel_name, name_len);
    if (rest) {
        p->bytes[at + name_len] = ' ';
        memcpy(p->bytes + at + name_len + 1, args->cmdline, rest);
    }
    p->bytes[at + len - 1] = '\0';
    le_put(p->bytes + INFO_CMDLINE, p->gpa + at, 4);
    return true;
}

static bool put_memory_map(struct info_page *p, const struct multiboot_args *args)
{
    size_t at;
    if (!info_reserve(p, args->memory_map_count * MMAP_ENTRY_SIZE, &at))
        return false;
    for (size_t i = 0; i < args->memory_map_count; i++) {
        uint8_t *e = p->bytes + at + i * MMAP_ENTRY_SIZE;
        le_put(e, MMAP_ENTRY_SIZE - 4, 4);  /* "size" does not count itself */
        le_put(e + 4, args->memory_map[i].start, 8);
        le_put(e + 12, args->memory_map[i].size, 8);
        le_put(e + 20, args->memory_map[i].type, 4);   /* 1 = RAM, as in e820 */
    }
    le_put(p->bytes + INFO_MMAP_LENGTH, args->memory_map_count * MMAP_ENTRY_SIZE, 4);
    le_put(p->bytes + INFO_MMAP_ADDR, p->gpa + at, 4);
    return true;
}

/* Module entries: mod_start, mod_end (the first byte after it), the
 * string, in the array reserved at `table`. */
struct module_entries {
    struct info_page *page;
    size_t table;
};

static bool put_module_entry(void *ctx, size_t index, uint64_t start, uint64_t end)
{
    struct module_entries *m = ctx;
    uint8_t *e = m->page->bytes + m->table + index * MOD_ENTRY_SIZE;
    uint32_t string;
    if (!info_string(m->page, m->page->args->modules[index].name, &string))
        return false;
    le_put(e, start, 4);
    le_put(e + 4, end, 4);
    le_put(e + 8, string, 4);
    return true;
}

static bool load_modules(struct info_page *p, const struct multiboot_args *args,
                         uint64_t kernel_end, guest_write_fn write, void *ctx, char *why,
                         size_t why_size)
{
    struct module_entries entries = { .page = p };
    if (!info_reserve(p, args->module_count * MOD_ENTRY_SIZE, &entries.table))
        return fail(why, why_size, "the multiboot information for %lu modules does not fit "
                    "in its page", (unsigned long)args->module_count);
    if (!multiboot_place_modules(args, kernel_end, write, ctx, put_module_entry, &entries, why,
                                 why_size))
        return false;
    le_put(p->bytes + INFO_MODS_COUNT, args->module_count, 4);
    le_put(p->bytes + INFO_MODS_ADDR, p->gpa + entries.table, 4);
    return true;
}

static bool write_info(const struct multiboot_args *args, uint64_t kernel_end,
                       guest_write_fn write, void *ctx, char *why, size_t why_size)
{
    struct info_page page = { .used = INFO_SIZE, .gpa = args->info_gpa, .args = args };
    uint32_t name;
    put_memory_sizes(page.bytes, args);
    if (!put_memory_map(&page, args) || !put_cmdline(&page, args) ||
        !info_string(&page, loader_name, &name))
        return fail(why, why_size, "the multiboot information does not fit in its page "
                    "(command line too long)");
    le_put(page.bytes + INFO_BOOT_LOADER_NAME, name, 4);
    if (!load_modules(&page, args, kernel_end, write, ctx, why, why_size))
        return false;
    le_put(page.bytes + INFO_FLAGS, INFO_HAS_MEMORY | INFO_HAS_CMDLINE | INFO_HAS_MODS |
                                    INFO_HAS_MMAP | INFO_HAS_LOADER_NAME, 4);
    if (!write(ctx, args->info_gpa, page.bytes, sizeof(page.bytes)))
        return fail(why, why_size, "out of memory writing the multiboot information");
    return true;
}

bool multiboot_load(const void *image, size_t size, const struct multiboot_args *args,
                    guest_write_fn write, void *ctx, struct multiboot_result *out, char *why,
                    size_t why_size)
{
    const uint8_t *k = image;
    size_t hdr;
    if (!find_header(k, size, &hdr))
        return fail(why, why_size, "no multiboot header (magic 0x%x with a valid checksum) in "
                    "the first %d bytes", HEADER_MAGIC, HEADER_SEARCH_LIMIT);
    uint32_t flags = (uint32_t)le_get(k + hdr + HDR_FLAGS, 4);
    if (flags & FLAGS_REQUIRED & ~FLAGS_UNDERSTOOD)
        return fail(why, why_size, "multiboot header requires features we do not provide "
                    "(flags 0x%x, unknown required bits 0x%x)", flags,
                    flags & FLAGS_REQUIRED & ~FLAGS_UNDERSTOOD);
    struct multiboot_address_fields addr;
    uint64_t entry = 0;
    if (flags & FLAG_AOUT_KLUDGE) {
        if (size - hdr < HEADER_AOUT_SIZE || hdr + HEADER_AOUT_SIZE > HEADER_SEARCH_LIMIT)
            return fail(why, why_size, "multiboot header at offset 0x%lx: the a.out kludge's "
                        "address fields are missing", (unsigned long)hdr);
        addr = (struct multiboot_address_fields){
            .header_addr = (uint32_t)le_get(k + hdr + HDR_HEADER_ADDR, 4),
            .load_addr = (uint32_t)le_get(k + hdr + HDR_LOAD_ADDR, 4),
            .load_end_addr = (uint32_t)le_get(k + hdr + HDR_LOAD_END_ADDR, 4),
            .bss_end_addr = (uint32_t)le_get(k + hdr + HDR_BSS_END_ADDR, 4),
        };
        entry = (uint32_t)le_get(k + hdr + HDR_ENTRY_ADDR, 4);
    }
    if (!multiboot_load_kernel(image, size, hdr, flags & FLAG_AOUT_KLUDGE ? &addr : NULL, entry,
                               args, write, ctx, out, why, why_size))
        return false;
    return write_info(args, out->kernel_end, write, ctx, why, why_size);
}
