/* Multiboot2 information parsing (Multiboot2 spec, "Boot information format"). */
#include "arch/bootinfo.h"
#include "lib/string.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289
enum {
    MB2_TAG_END = 0, MB2_TAG_CMDLINE = 1, MB2_TAG_MODULE = 3, MB2_TAG_MMAP = 6,
    MB2_TAG_ACPI_OLD = 14, MB2_TAG_ACPI_NEW = 15,
};
#define MB2_MEMORY_AVAILABLE 1

struct mb2_tag { uint32_t type, size; };
struct mb2_tag_module { uint32_t type, size, mod_start, mod_end; char cmdline[]; };
struct mb2_tag_mmap { uint32_t type, size, entry_size, entry_version; };
struct mb2_mmap_entry { uint64_t base, length; uint32_t type, reserved; };

struct bootinfo bootinfo;

static void add_ram(uint64_t base, uint64_t length)
{
    if (bootinfo.ram_count < BOOT_MAX_MEM_RANGES)
        bootinfo.ram[bootinfo.ram_count++] = (struct mem_range){ base, length };
}

bool bootinfo_parse(uint32_t magic, uint64_t info_phys, const char **why)
{
    if (magic != MB2_BOOTLOADER_MAGIC) {
        *why = "not started by a Multiboot2 boot loader (bad magic in EAX)";
        return false;
    }
    /* A boot loader that breaks the format gets a message, not a hang or a
     * read past the structure: every tag must fit its header and the total
     * size, strings must end inside their tags, memory-map entries must
     * have at least the size the format defines, and the end tag must be
     * there. */
    uint32_t total = *(const uint32_t *)info_phys;
    bootinfo = (struct bootinfo){ .info_start = info_phys, .info_end = info_phys + total,
                                  .cmdline = "" };
    uint64_t end = info_phys + total;
    for (uint64_t p = info_phys + 8;;) {
        const struct mb2_tag *tag = (const void *)p;
        if (p > end || end - p < sizeof(*tag)) {
            *why = "bad boot information: it ends without its end tag";
            return false;
        }
        if (tag->size < sizeof(*tag) || tag->size > end - p) {
            *why = "bad boot information: a tag shorter than its header or past the end";
            return false;
        }
        if (tag->type == MB2_TAG_END)
            break;
        switch (tag->type) {
        case MB2_TAG_CMDLINE:
            if (!memchr((const void *)(p + 8), '\0', tag->size - 8)) {
                *why = "bad boot information: the command line is not terminated in its tag";
                return false;
            }
            bootinfo.cmdline = (const char *)(p + 8);
            break;
        case MB2_TAG_MODULE: {
            const struct mb2_tag_module *m = (const void *)p;
            if (tag->size <= sizeof(*m) ||
                !memchr(m->cmdline, '\0', tag->size - sizeof(*m))) {
                *why = "bad boot information: a module's string is not terminated in its tag";
                return false;
            }
            if (bootinfo.module_count < BOOT_MAX_MODULES)
                bootinfo.modules[bootinfo.module_count++] =
                    (struct boot_module){ m->mod_start, m->mod_end, m->cmdline };
            break;
        }
        case MB2_TAG_MMAP: {
            const struct mb2_tag_mmap *mm = (const void *)p;
            if (tag->size < sizeof(*mm) || mm->entry_size < sizeof(struct mb2_mmap_entry)) {
                *why = "bad boot information: a memory map with entries smaller than 24 bytes";
                return false;
            }
            for (uint64_t e = p + sizeof(*mm); e + mm->entry_size <= p + tag->size;
                 e += mm->entry_size) {
                /* entry_size need not keep the entries 8-byte aligned:
                 * copied, not dereferenced in place (found by fuzz/). */
                struct mb2_mmap_entry ent;
                memcpy(&ent, (const void *)e, sizeof(ent));
                if (ent.type == MB2_MEMORY_AVAILABLE)
                    add_ram(ent.base, ent.length);
            }
            break;
        }
        case MB2_TAG_ACPI_OLD:
        case MB2_TAG_ACPI_NEW:
            if (!bootinfo.acpi_rsdp || tag->type == MB2_TAG_ACPI_NEW)
                bootinfo.acpi_rsdp = p + 8;
            break;
        }
        p += (tag->size + 7) & ~7u;
    }
    if (!bootinfo.ram_count) {
        *why = "the boot loader gave no memory map";
        return false;
    }
    return true;
}

/* Finds the command-line word `name` (bare, or as "name=value" when
 * `with_value`); returns a pointer just past the name, or NULL. */
static const char *find_word(const char *name, bool with_value)
{
    size_t n = strlen(name);
    for (const char *s = bootinfo.cmdline; *s;) {
        while (*s == ' ')
            s++;
        if (!strncmp(s, name, n)) {
            char next = s[n];
            if (with_value ? next == '=' : (next == ' ' || next == '\0'))
                return s + n;
        }
        while (*s && *s != ' ')
            s++;
    }
    return NULL;
}

bool bootinfo_cmdline_value(const char *key, char *value, size_t size)
{
    const char *v = find_word(key, true);
    if (!v || !size)
        return false;
    v++;
    size_t i = 0;
    while (v[i] && v[i] != ' ' && i + 1 < size) {
        value[i] = v[i];
        i++;
    }
    value[i] = '\0';
    return true;
}

bool bootinfo_cmdline_flag(const char *word)
{
    return find_word(word, false) != NULL;
}
