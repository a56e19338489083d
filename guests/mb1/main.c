/* The test: what a multiboot loader and a QEMU-like PC give a kernel. It
 * reads the multiboot information (command line with argv[0], memory sizes
 * and map, modules, the first of which is an environment file of KEY=VALUE
 * lines as kvm-unit-tests passes one), learns the CPU count from fw_cfg,
 * starts the APs, and exits through isa-debug-exit: status 1 when every
 * check passed. The command line's `expect_cpus=N` says how many CPUs the
 * test expects fw_cfg to report. */
#include "guests/mb1/mb1.h"

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002u
/* Multiboot 0.6.96 3.3: the information's flags. */
#define MBI_MEMORY      (1u << 0)
#define MBI_CMDLINE     (1u << 2)
#define MBI_MODS        (1u << 3)
#define MBI_MMAP        (1u << 6)
#define MBI_LOADER_NAME (1u << 9)
#define MMAP_RAM        1
#define PAGE_SIZE       4096u

#define FW_CFG_CTL      0x510
#define FW_CFG_DATA     0x511
#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_NB_CPUS  0x0005

/* Multiboot 0.6.96 3.3 "Boot information format", as far as we read it. */
struct multiboot_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr, drives_length, drives_addr, config_table;
    uint32_t boot_loader_name;
};

struct multiboot_module {
    uint32_t mod_start, mod_end, string, reserved;
};

struct __attribute__((packed)) multiboot_mmap_entry {
    uint32_t size;              /* of the rest of the entry */
    uint64_t base_addr, length;
    uint32_t type;
};

static bool is_space(char c) { return c == ' ' || c == '\t'; }

/* A decimal number at s; false if there is none. */
static bool parse_unsigned(const char *s, unsigned *out)
{
    if (*s < '0' || *s > '9')
        return false;
    for (*out = 0; *s >= '0' && *s <= '9'; s++)
        *out = *out * 10 + (unsigned)(*s - '0');
    return true;
}

/* Prints the words of the command line as argv[]; returns the value of
 * expect_cpus=N (0 when absent). */
static unsigned read_cmdline(const char *cmdline)
{
    static const char key[] = "expect_cpus=";
    unsigned argc = 0, expect = 0;
    printf("command line: '%s'\n", cmdline);
    printf("command line length: %u\n", (unsigned)strlen(cmdline));
    for (const char *p = cmdline; *p;) {
        if (is_space(*p)) {
            p++;
            continue;
        }
        size_t len = 0;
        while (p[len] && !is_space(p[len]))
            len++;
        printf("argv[%u] = %.*s\n", argc++, (int)len, p);
        if (len > sizeof(key) - 1 && !strncmp(p, key, sizeof(key) - 1))
            parse_unsigned(p + sizeof(key) - 1, &expect);
        p += len;
    }
    return expect;
}

static void check_memory(const struct multiboot_info *mbi)
{
    uint64_t ram = 0;
    unsigned entries = 0;
    for (uint32_t off = 0; off < mbi->mmap_length; entries++) {
        const struct multiboot_mmap_entry *e = (const void *)(mbi->mmap_addr + off);
        if (e->type == MMAP_RAM)
            ram += e->length;
        off += e->size + sizeof(e->size);
    }
    uint32_t ram_kib = (uint32_t)(ram >> 10);
    report(ram_kib == mbi->mem_lower + mbi->mem_upper,
           "memory map: %u entries, %u KiB RAM = mem_lower %u + mem_upper %u KiB", entries,
           ram_kib, mbi->mem_lower, mbi->mem_upper);
}

/* The environment file: KEY=VALUE lines; blank lines and # comments skipped. */
static void read_environment(const char *text, size_t size)
{
    unsigned vars = 0, bad = 0;
    for (size_t at = 0; at < size;) {
        size_t len = 0;
        while (at + len < size && text[at + len] != '\n' && text[at + len])
            len++;
        const char *line = text + at;
        at += len + 1;
        if (!len || line[0] == '#')
            continue;
        size_t eq = 0;
        while (eq < len && line[eq] != '=')
            eq++;
        if (eq == 0 || eq == len) {
            printf("env: malformed line '%.*s'\n", (int)len, line);
            bad++;
            continue;
        }
        printf("env: %.*s = %.*s\n", (int)eq, line, (int)(len - eq - 1), line + eq + 1);
        vars++;
    }
    report(vars > 0 && !bad, "environment: %u variables, %u malformed lines", vars, bad);
}

static void check_modules(const struct multiboot_info *mbi)
{
    const struct multiboot_module *mods = (const void *)mbi->mods_addr;
    bool aligned = true;
    for (uint32_t i = 0; i < mbi->mods_count; i++) {
        printf("module %u: '%s' at 0x%x, %u bytes\n", i, (const char *)mods[i].string,
               mods[i].mod_start, mods[i].mod_end - mods[i].mod_start);
        aligned &= mods[i].mod_start % PAGE_SIZE == 0;
    }
    report(aligned, "%u modules, page-aligned (header flag 0)", mbi->mods_count);
    if (mbi->mods_count)
        read_environment((const char *)mods[0].mod_start, mods[0].mod_end - mods[0].mod_start);
    else
        report(false, "environment: no module");
}

static void fw_cfg_read(uint16_t key, void *buf, size_t len)
{
    outw(FW_CFG_CTL, key);
    for (size_t i = 0; i < len; i++)
        ((uint8_t *)buf)[i] = inb(FW_CFG_DATA);
}

/* QEMU's fw_cfg tells the CPU count (little-endian u16). */
static unsigned fw_cfg_cpus(void)
{
    char signature[4];
    uint8_t cpus[2];
    fw_cfg_read(FW_CFG_SIGNATURE, signature, sizeof(signature));
    report(!strncmp(signature, "QEMU", 4), "fw_cfg signature '%.*s'", 4, signature);
    fw_cfg_read(FW_CFG_NB_CPUS, cpus, sizeof(cpus));
    unsigned n = cpus[0] | (unsigned)cpus[1] << 8;
    printf("fw_cfg: %u cpus\n", n);
    return n;
}

/* Low memory as a boot loader leaves it: between the real-mode data area
 * and the information structure the loader wrote nothing (no page tables
 * or GDT of its own: the kernel starts with paging off and makes its own). */
static void check_low_memory(const struct multiboot_info *mbi)
{
    const volatile uint32_t *p = (const volatile uint32_t *)0x1000;
    uint32_t end = (uint32_t)(uintptr_t)mbi < 0x100000 ? (uint32_t)(uintptr_t)mbi : 0xb000;
    uint32_t written = 0;
    for (; (uintptr_t)p < end; p++)
        written += *p != 0;
    report(written == 0, "low memory 0x1000-0x%x untouched by the loader (%u words written)",
           end, written);
}

void mb1_main(uint32_t magic, const struct multiboot_info *mbi)
{
    const uint32_t wanted = MBI_MEMORY | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME;
    printf("mb1: multiboot test kernel\n");
    report(magic == MULTIBOOT_BOOTLOADER_MAGIC, "multiboot magic 0x%x", magic);
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC || (mbi->flags & wanted) != wanted) {
        report(false, "multiboot information flags 0x%x, want 0x%x", mbi->flags, wanted);
        report_summary_and_exit();
    }
    printf("boot loader: %s\n", (const char *)mbi->boot_loader_name);
    unsigned expect_cpus = read_cmdline((const char *)mbi->cmdline);
    check_memory(mbi);
    check_low_memory(mbi);
    check_modules(mbi);
    unsigned cpus = fw_cfg_cpus();
    if (expect_cpus)
        report(cpus == expect_cpus, "fw_cfg cpu count %u, expect_cpus=%u", cpus, expect_cpus);
    unsigned aps = cpus ? cpus - 1 : 0, up = smp_start_aps(aps);
    report(up == aps, "all APs up (%u of %u)", up, aps);
    report_summary_and_exit();
}
