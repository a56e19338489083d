/* The Multiboot 1 and Multiboot2 loaders (loader/multiboot.c,
 * loader/multiboot2.c; FUZZ_MULTIBOOT2 picks the second) on any image, with
 * two modules: they write only guest RAM, the information page only as
 * itself. */
#include "fuzz/loader_guest.h"
#include "loader/multiboot.h"
#include "loader/multiboot2.h"

#if FUZZ_MULTIBOOT2
#define IS_KERNEL multiboot2_is_kernel
#define LOAD multiboot2_load
#else
#define IS_KERNEL multiboot_is_kernel
#define LOAD multiboot_load
#endif

#define INFO_GPA 0xb000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_guest *g = fuzz_guest();
    g->placed[0].start = INFO_GPA;
    g->placed[0].end = INFO_GPA + 4096;
    static const struct load_reserved info = { INFO_GPA, INFO_GPA + 4096, "the information" };
    struct load_area area = { .memory_map = g->map, .memory_map_count = g->map_count,
                              .limit = FUZZ_GUEST_SIZE, .reserved = &info, .reserved_count = 1 };
    static const uint8_t blob[3000] = { 1 };
    const struct multiboot_module modules[] = { { blob, sizeof(blob), "a.bin" },
                                                { data, size < 100 ? size : 100, "b.bin" } };
    struct multiboot_args args = { .kernel_name = "k.elf", .cmdline = "x=1", .modules = modules,
                                   .module_count = 2, .memory_map = g->map,
                                   .memory_map_count = g->map_count, .area = &area,
                                   .modules_min = 0x100000, .info_gpa = INFO_GPA,
                                   .acpi_rsdp = blob };     /* Multiboot2 copies it */
    struct multiboot_result out;
    char why[200];
    if (IS_KERNEL(data, size) &&
        LOAD(data, size, &args, fuzz_guest_write, g, &out, why, sizeof(why)))
        FUZZ_ASSERT(out.kernel_end >= out.kernel_start);
    return 0;
}
