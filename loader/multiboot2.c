/* Multiboot2 kernels (loader/multiboot2.h). Section numbers are the
 * Multiboot2 Specification 2.0's. */
#include "loader/multiboot2.h"
#include "lib/error.h"
#include "lib/le.h"
#include "lib/string.h"

/* The OS image header (3.1.1, 3.1.2). */
#define HEADER_MAGIC        0xe85250d6u
#define HEADER_SEARCH_LIMIT 32768
#define HEADER_FIXED_SIZE   16          /* magic, architecture, header_length, checksum */
#define ARCH_I386           0
#define TAG_ALIGN           8

/* Header tags (3.1.3-3.1.13); flags bit 0: optional. */
enum header_tag {
    HTAG_END = 0, HTAG_INFO_REQUEST = 1, HTAG_ADDRESS = 2, HTAG_ENTRY = 3,
    HTAG_CONSOLE_FLAGS = 4, HTAG_FRAMEBUFFER = 5, HTAG_MODULE_ALIGN = 6,
    HTAG_EFI_BOOT_SERVICES = 7, HTAG_EFI_I386_ENTRY = 8, HTAG_EFI_AMD64_ENTRY = 9,
    HTAG_RELOCATABLE = 10,
};
#define HTAG_OPTIONAL 1u
#define CONSOLE_REQUIRED 1u             /* console flags bit 0: some console must exist */

/* Boot information tags (3.6). */
enum info_tag {
    ITAG_END = 0, ITAG_CMDLINE = 1, ITAG_LOADER_NAME = 2, ITAG_MODULE = 3,
    ITAG_BASIC_MEMINFO = 4, ITAG_MMAP = 6, ITAG_ACPI_OLD = 14, ITAG_ACPI_NEW = 15,
    ITAG_LOAD_BASE = 21,
};
#define MMAP_ENTRY_SIZE     24          /* base_addr, length, type, reserved */
#define RSDP_V1_SIZE        20
#define INFO_PAGE_SIZE      4096
#define LOW_MEMORY_END      0x100000ull

static const char loader_name[] = "vmxvisor";

static size_t align_tag(size_t n)
{
    return (n + TAG_ALIGN - 1) & ~(size_t)(TAG_ALIGN - 1);
}

/* The header's offset: 3.1.1, 64-bit aligned and wholly in the first 32768
 * bytes; magic + architecture + header_length + checksum = 0 (3.1.2). */
static bool find_header(const uint8_t *k, size_t size, size_t *offset, uint32_t *length)
{
    size_t limit = size < HEADER_SEARCH_LIMIT ? size : HEADER_SEARCH_LIMIT;
    for (size_t off = 0; off + HEADER_FIXED_SIZE <= limit; off += TAG_ALIGN) {
        uint32_t magic = (uint32_t)le_get(k + off, 4), arch = (uint32_t)le_get(k + off + 4, 4);
        uint32_t len = (uint32_t)le_get(k + off + 8, 4);
        uint32_t checksum = (uint32_t)le_get(k + off + 12, 4);
        if (magic == HEADER_MAGIC && arch == ARCH_I386 && (uint32_t)(magic + arch + len + checksum) == 0 &&
            len >= HEADER_FIXED_SIZE && len <= limit - off) {
            *offset = off;
            *length = len;
            return true;
        }
    }
    return false;
}

bool multiboot2_is_kernel(const void *image, size_t size)
{
    size_t offset;
    uint32_t length;
    return find_header(image, size, &offset, &length);
}

/* What the header's tags ask for. */
struct header_request {
    bool has_address;
    struct multiboot_address_fields address;
    uint64_t entry;             /* 0: the ELF entry */
};

/* The information types we give (3.1.4's request must name only these
 * unless the tag is optional). */
static bool info_provided(uint32_t type)
{
    switch (type) {
    case ITAG_CMDLINE: case ITAG_LOADER_NAME: case ITAG_MODULE: case ITAG_BASIC_MEMINFO:
    case ITAG_MMAP: case ITAG_ACPI_OLD: case ITAG_ACPI_NEW: case ITAG_LOAD_BASE:
        return true;
    default:
        return false;
    }
}

static bool parse_tag(const uint8_t *t, uint16_t type, bool optional, uint32_t size,
                      struct header_request *req, char *why, size_t why_size)
{
    switch (type) {
    case HTAG_INFO_REQUEST:
        for (uint32_t at = 8; at + 4 <= size; at += 4) {
            uint32_t wanted = (uint32_t)le_get(t + at, 4);
            if (!optional && !info_provided(wanted))
                return fail(why, why_size, "Multiboot2 header requests boot information "
                            "type %u, which we do not provide", wanted);
        }
        return true;
    case HTAG_ADDRESS:
        if (size < 24)
            return fail(why, why_size, "Multiboot2 address tag of %u bytes (24 needed)", size);
        req->has_address = true;
        req->address = (struct multiboot_address_fields){
            .header_addr = (uint32_t)le_get(t + 8, 4), .load_addr = (uint32_t)le_get(t + 12, 4),
            .load_end_addr = (uint32_t)le_get(t + 16, 4),
            .bss_end_addr = (uint32_t)le_get(t + 20, 4) };
        return true;
    case HTAG_ENTRY:
        if (size < 12)
            return fail(why, why_size, "Multiboot2 entry address tag of %u bytes (12 needed)",
                        size);
        req->entry = (uint32_t)le_get(t + 8, 4);
        return true;
    case HTAG_CONSOLE_FLAGS:
        /* The consoles of 3.1.7 are EGA text: there is none here. */
        if (size >= 12 && (le_get(t + 8, 4) & CONSOLE_REQUIRED) && !optional)
            return fail(why, why_size, "Multiboot2 header requires a console, and this VM "
                        "has only a serial port");
        return true;
    case HTAG_FRAMEBUFFER:      /* no display: the information says none */
    case HTAG_MODULE_ALIGN:     /* modules are always page-aligned */
    case HTAG_RELOCATABLE:      /* loaded where it was linked, which is allowed */
        return true;
    case HTAG_EFI_BOOT_SERVICES:
    case HTAG_EFI_I386_ENTRY:
    case HTAG_EFI_AMD64_ENTRY:
        if (!optional)
            return fail(why, why_size, "Multiboot2 header requires EFI (tag %u); this VM "
                        "has a BIOS-style start", type);
        return true;
    default:
        if (!optional)
            return fail(why, why_size, "Multiboot2 header has a required tag of unknown "
                        "type %u", type);
        return true;
    }
}

/* The header's tags, 8-byte aligned after the fixed part, up to the end
 * tag (3.1.3). */
static bool parse_header(const uint8_t *k, size_t hdr, uint32_t length,
                         struct header_request *req, char *why, size_t why_size)
{
    *req = (struct header_request){ 0 };
    for (size_t at = HEADER_FIXED_SIZE;;) {
        if (at + 8 > length)
            return fail(why, why_size, "Multiboot2 header: its tags run past its length %u "
                        "without an end tag", length);
        const uint8_t *t = k + hdr + at;
        uint16_t type = (uint16_t)le_get(t, 2), flags = (uint16_t)le_get(t + 2, 2);
        uint32_t size = (uint32_t)le_get(t + 4, 4);
        if (type == HTAG_END)
            return true;
        if (size < 8 || size > length - at)
            return fail(why, why_size, "Multiboot2 header tag %u at offset %lu has size %u",
                        type, (unsigned long)at, size);
        if (!parse_tag(t, type, flags & HTAG_OPTIONAL, size, req, why, why_size))
            return false;
        at += align_tag(size);
    }
}

/* The information being built: total_size and reserved, then tags. */
struct info {
    uint8_t bytes[INFO_PAGE_SIZE];
    size_t used;
    uint64_t gpa;
    const struct multiboot_args *args;
};

/* Starts a tag of `size` bytes (its payload zeroed); NULL if the page is
 * full. */
static uint8_t *add_tag(struct info *p, uint32_t type, size_t size)
{
    size_t at = align_tag(p->used);
    if (size > INFO_PAGE_SIZE - at)
        return NULL;
    uint8_t *t = p->bytes + at;
    memset(t, 0, size);
    le_put(t, type, 4);
    le_put(t + 4, size, 4);
    p->used = at + size;
    return t;
}

static bool add_string_tag(struct info *p, uint32_t type, const char *s1, const char *s2)
{
    size_t n1 = strlen(s1), n2 = s2 ? strlen(s2) : 0;
    size_t len = n1 + (n2 ? 1 + n2 : 0) + 1;
    uint8_t *t = add_tag(p, type, 8 + len);
    if (!t)
        return false;
    memcpy(t + 8, s1, n1);
    if (n2) {
        t[8 + n1] = ' ';
        memcpy(t + 8 + n1 + 1, s2, n2);
    }
    return true;
}

/* 3.6.3: mem_lower from 0, mem_upper from 1 MiB to the first hole, in KiB. */
static bool add_memory_tags(struct info *p)
{
    const struct multiboot_args *args = p->args;
    uint8_t *t = add_tag(p, ITAG_BASIC_MEMINFO, 16);
    if (!t)
        return false;
    for (size_t i = 0; i < args->memory_map_count; i++) {
        const struct guest_mem_range *r = &args->memory_map[i];
        if (r->type == GUEST_MEM_RAM && r->start == 0)
            le_put(t + 8, r->size >> 10, 4);
        else if (r->type == GUEST_MEM_RAM && r->start == LOW_MEMORY_END)
            le_put(t + 12, r->size >> 10, 4);
    }
    /* 3.6.8: entry_size, entry_version 0, the entries (type 1 = RAM). */
    t = add_tag(p, ITAG_MMAP, 16 + args->memory_map_count * MMAP_ENTRY_SIZE);
    if (!t)
        return false;
    le_put(t + 8, MMAP_ENTRY_SIZE, 4);
    for (size_t i = 0; i < args->memory_map_count; i++) {
        uint8_t *e = t + 16 + i * MMAP_ENTRY_SIZE;
        le_put(e, args->memory_map[i].start, 8);
        le_put(e + 8, args->memory_map[i].size, 8);
        le_put(e + 16, args->memory_map[i].type, 4);
    }
    return true;
}

/* 3.6.15, 3.6.16: copies of the RSDP, the first 20 bytes (ACPI 1.0's) and
 * all 36. */
static bool add_acpi_tags(struct info *p)
{
    const uint8_t *rsdp = p->args->acpi_rsdp;
    if (!rsdp)
        return true;
    uint8_t *old = add_tag(p, ITAG_ACPI_OLD, 8 + RSDP_V1_SIZE);
    if (!old)
        return false;
    memcpy(old + 8, rsdp, RSDP_V1_SIZE);
    uint8_t *new = add_tag(p, ITAG_ACPI_NEW, 8 + MULTIBOOT2_RSDP_SIZE);
    if (!new)
        return false;
    memcpy(new + 8, rsdp, MULTIBOOT2_RSDP_SIZE);
    return true;
}

/* 3.6.6: mod_start, mod_end (the first byte after it), the string. */
static bool add_module_tag(void *ctx, size_t index, uint64_t start, uint64_t end)
{
    struct info *p = ctx;
    const char *name = p->args->modules[index].name;
    size_t len = strlen(name) + 1;
    uint8_t *t = add_tag(p, ITAG_MODULE, 16 + len);
    if (!t)
        return false;
    le_put(t + 8, start, 4);
    le_put(t + 12, end, 4);
    memcpy(t + 16, name, len);
    return true;
}

static bool write_info(const struct multiboot_args *args, const struct multiboot_result *kernel,
                       guest_write_fn write, void *ctx, char *why, size_t why_size)
{
    static struct info page;     /* a page: not on the (hypervisor's small) stack */
    page = (struct info){ .used = 8, .gpa = args->info_gpa, .args = args };
    uint8_t *base = NULL;
    if (!add_string_tag(&page, ITAG_CMDLINE, args->kernel_name, args->cmdline) ||
        !add_string_tag(&page, ITAG_LOADER_NAME, loader_name, NULL) || !add_memory_tags(&page) ||
        !add_acpi_tags(&page) || !(base = add_tag(&page, ITAG_LOAD_BASE, 12)))
        return fail(why, why_size, "the Multiboot2 information does not fit in its page "
                    "(command line too long)");
    le_put(base + 8, kernel->kernel_start, 4);
    if (!multiboot_place_modules(args, kernel->kernel_end, write, ctx, add_module_tag, &page, why,
                                 why_size))
        return false;
    if (!add_tag(&page, ITAG_END, 8))
        return fail(why, why_size, "the Multiboot2 information does not fit in its page");
    le_put(page.bytes, page.used, 4);       /* total_size */
    if (!write(ctx, args->info_gpa, page.bytes, sizeof(page.bytes)))
        return fail(why, why_size, "out of memory writing the Multiboot2 information");
    return true;
}

bool multiboot2_load(const void *image, size_t size, const struct multiboot_args *args,
                     guest_write_fn write, void *ctx, struct multiboot_result *out, char *why,
                     size_t why_size)
{
    const uint8_t *k = image;
    size_t hdr;
    uint32_t length;
    if (!find_header(k, size, &hdr, &length))
        return fail(why, why_size, "no Multiboot2 header (magic 0x%x, i386, with a valid "
                    "checksum) in the first %d bytes", HEADER_MAGIC, HEADER_SEARCH_LIMIT);
    struct header_request req;
    if (!parse_header(k, hdr, length, &req, why, why_size))
        return false;
    if (req.has_address && !req.entry)
        return fail(why, why_size, "Multiboot2 header has an address tag but no entry "
                    "address tag");
    if (!multiboot_load_kernel(image, size, hdr, req.has_address ? &req.address : NULL,
                               req.entry, args, write, ctx, out, why, why_size))
        return false;
    if (out->entry >> 32)
        return fail(why, why_size, "entry point 0x%lx is above 4 GiB, out of reach of the "
                    "32-bit start", (unsigned long)out->entry);
    return write_info(args, out, write, ctx, why, why_size);
}
