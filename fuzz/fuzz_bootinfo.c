/* The Multiboot2 boot-information parser (arch/bootinfo.c) on any
 * structure: the total size the input claims is trusted only as far as the
 * buffer goes (a boot loader's structure lies in memory that exists), and
 * what it keeps points inside the structure. */
#include "fuzz/fuzz.h"
#include "arch/bootinfo.h"

#define INFO_MAX 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t info[INFO_MAX] __attribute__((aligned(8)));
    size_t n = size < INFO_MAX ? size : INFO_MAX;
    memset(info, 0, sizeof(info));
    memcpy(info, data, n);
    uint32_t total;
    memcpy(&total, info, 4);
    if (total > INFO_MAX) {
        total = INFO_MAX;
        memcpy(info, &total, 4);
    }
    memset(&bootinfo, 0, sizeof(bootinfo));    /* as at boot: parsed once, from zero */
    const char *why;
    if (!bootinfo_parse(0x36d76289, (uint64_t)(uintptr_t)info, &why))
        return 0;
    uint64_t start = (uint64_t)(uintptr_t)info, end = start + total;
    FUZZ_ASSERT(bootinfo.module_count <= BOOT_MAX_MODULES);
    FUZZ_ASSERT(bootinfo.ram_count <= BOOT_MAX_MEM_RANGES);
    for (size_t i = 0; i < bootinfo.module_count; i++)
        FUZZ_ASSERT((uint64_t)(uintptr_t)bootinfo.modules[i].name >= start &&
                    (uint64_t)(uintptr_t)bootinfo.modules[i].name < end);
    /* The command line: in the structure, or the parser's own "". */
    FUZZ_ASSERT(!*bootinfo.cmdline || ((uint64_t)(uintptr_t)bootinfo.cmdline >= start &&
                                       (uint64_t)(uintptr_t)bootinfo.cmdline < end));
    char value[32];
    (void)bootinfo_cmdline_value("exit", value, sizeof(value));
    (void)bootinfo_cmdline_flag("batch");
    return 0;
}
