/* The bzImage loader (loader/linux_boot.c) on any image: it writes only
 * guest RAM, the zero page and command line only as themselves; the release
 * string it reads from the header stays in the image and its buffer. */
#include "fuzz/loader_guest.h"
#include "loader/linux_boot.h"
#include <string.h>

#define ZERO_PAGE 0x7000u
#define CMDLINE   0x20000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_guest *g = fuzz_guest();
    g->placed[0].start = ZERO_PAGE;
    g->placed[0].end = ZERO_PAGE + 4096;
    g->placed[1].start = CMDLINE;
    g->placed[1].end = CMDLINE + 4096;
    static const uint8_t initrd[5000] = { 7 };
    struct linux_boot_args args = { .initrd = initrd, .initrd_size = sizeof(initrd),
                                    .cmdline = "console=ttyS0", .cmdline_gpa = CMDLINE,
                                    .zero_page_gpa = ZERO_PAGE, .rsdp_gpa = 0xe0000,
                                    .memory_map = g->map, .memory_map_count = g->map_count };
    struct linux_boot_result out;
    char why[200], version[24];
    linux_kernel_version(data, size, version, sizeof(version));
    FUZZ_ASSERT(strlen(version) < sizeof(version));
    if (linux_is_bzimage(data, size) &&
        linux_load(data, size, &args, fuzz_guest_write, g, &out, why, sizeof(why)))
        FUZZ_ASSERT(out.kernel_gpa >= 0x100000);
    return 0;
}
