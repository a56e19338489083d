#ifndef ARCH_BOOTINFO_H
#define ARCH_BOOTINFO_H
/* What the boot loader told us, parsed once from the Multiboot2 information. */
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define BOOT_MAX_MEM_RANGES 64
#define BOOT_MAX_MODULES    16

struct mem_range {
    uint64_t base, length;
};

struct boot_module {
    uint64_t start, end;        /* physical, end exclusive */
    const char *name;           /* the module's command line */
};

struct bootinfo {
    const char *cmdline;
    struct mem_range ram[BOOT_MAX_MEM_RANGES];  /* usable RAM only */
    size_t ram_count;
    struct boot_module modules[BOOT_MAX_MODULES];
    size_t module_count;
    uint64_t info_start, info_end;              /* the info structure itself */
    uint64_t acpi_rsdp;                         /* physical address of a copy, 0 if none */
};

extern struct bootinfo bootinfo;

/* Returns false (with a reason) if the loader is not Multiboot2-compliant. */
bool bootinfo_parse(uint32_t magic, uint64_t info_phys, const char **why);
/* "key=value" lookup on the kernel command line; copies the value. */
bool bootinfo_cmdline_value(const char *key, char *value, size_t size);
/* Whether the bare word is present on the kernel command line. */
bool bootinfo_cmdline_flag(const char *word);
#endif
