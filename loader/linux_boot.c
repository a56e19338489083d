#include "loader/linux_boot.h"
#include "lib/error.h"
#include "lib/le.h"
#include "lib/page_alloc.h"
#include "lib/string.h"

/* Offsets in the image's first sectors, which the zero page mirrors
 * (boot.rst "The real-mode kernel header"; struct boot_params). */
#define HDR_START            0x1f1
#define HDR_SETUP_SECTS      0x1f1
#define HDR_BOOT_FLAG        0x1fe
#define HDR_JUMP_OFFSET      0x201      /* the header ends at 0x202 + this byte */
#define HDR_MAGIC            0x202
#define HDR_VERSION          0x206
#define HDR_KERNEL_VERSION   0x20e      /* the version string's offset, less 0x200 */
#define HDR_TYPE_OF_LOADER   0x210
#define HDR_LOADFLAGS        0x211
#define HDR_CODE32_START     0x214
#define HDR_RAMDISK_IMAGE    0x218
#define HDR_RAMDISK_SIZE     0x21c
#define HDR_CMD_LINE_PTR     0x228
#define HDR_INITRD_ADDR_MAX  0x22c
#define HDR_XLOADFLAGS       0x236
#define HDR_CMDLINE_SIZE     0x238
#define HDR_PREF_ADDRESS     0x258
#define HDR_INIT_SIZE        0x260
#define BP_ACPI_RSDP_ADDR    0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE  0x0c4
#define BP_EXT_CMD_LINE_PTR  0x0c8
#define BP_E820_ENTRIES      0x1e8
#define BP_E820_TABLE        0x2d0
#define BP_E820_MAX          128
#define BP_E820_ENTRY_SIZE   20
#define ZERO_PAGE_SIZE       4096

#define BOOT_FLAG            0xaa55
#define PROTOCOL_64BIT_ENTRY 0x20c      /* 2.12: xloadflags, XLF_KERNEL_64 */
#define LOADED_HIGH          0x01       /* loadflags: a bzImage, loaded at 1 MiB or above */
#define XLF_KERNEL_64        0x01       /* a 64-bit entry point at load address + 0x200 */
#define ENTRY_64_OFFSET      0x200
#define LINUX_KERNEL_MIN_GPA 0x100000ull
#define LOADER_UNDEFINED     0xff       /* type_of_loader for a loader with no assigned ID */

bool linux_is_bzimage(const void *image, size_t size)
{
    const uint8_t *k = image;
    return size > HDR_MAGIC + 4 && le_get(k + HDR_BOOT_FLAG, 2) == BOOT_FLAG &&
           !memcmp(k + HDR_MAGIC, "HdrS", 4);
}

void linux_kernel_version(const void *image, size_t size, char *out, size_t out_size)
{
    const uint8_t *k = image;
    out[0] = '\0';
    if (!linux_is_bzimage(image, size) || size < HDR_KERNEL_VERSION + 2 || out_size == 0)
        return;
    /* boot.rst "kernel_version": protocol 2.00+, a NUL-terminated string at
     * this offset + 0x200 in the setup code; the first word is the release. */
    uint64_t at = le_get(k + HDR_KERNEL_VERSION, 2) + 0x200ull;
    size_t n = 0;
    while (at + n < size && n + 1 < out_size && k[at + n] > ' ' && k[at + n] <= '~')
        n++;
    memcpy(out, k + at, n);
    out[n] = '\0';
}

/* The RAM range of the VM's map that holds [start, end), or NULL. */
static const struct guest_mem_range *ram_holding(const struct linux_boot_args *args,
                                                 uint64_t start, uint64_t end)
{
    return guest_ram_holding(args->memory_map, args->memory_map_count, start, end);
}

/* boot.rst: the initrd goes as high as possible below initrd_addr_max, in
 * the RAM above the kernel, page-aligned. */
static bool place_initrd(const uint8_t *k, const struct linux_boot_args *args,
                         struct linux_boot_result *out, char *why, size_t why_size)
{
    uint64_t limit = le_get(k + HDR_INITRD_ADDR_MAX, 4) + 1ull;
    const struct guest_mem_range *low = ram_holding(args, out->kernel_gpa, out->kernel_end);
    uint64_t top = low->start + low->size < limit ? low->start + low->size : limit;
    /* First, so that top - kernel_end below cannot wrap. */
    if (top <= out->kernel_end)
        return fail(why, why_size, "no room for the initrd above the kernel: the kernel ends "
                    "at 0x%lx, the initrd must end by 0x%lx (initrd_addr_max + 1 or RAM's end)",
                    (unsigned long)out->kernel_end, (unsigned long)top);
    if (args->initrd_size > top - out->kernel_end)
        return fail(why, why_size, "the initrd (%lu KiB) does not fit between the kernel's end "
                    "0x%lx and 0x%lx: give the VM more memory",
                    (unsigned long)(args->initrd_size >> 10), (unsigned long)out->kernel_end,
                    (unsigned long)top);
    out->initrd_gpa = (top - args->initrd_size) & ~(PAGE_SIZE - 1);
    if (out->initrd_gpa < out->kernel_end)
        return fail(why, why_size, "the initrd does not fit above the kernel");
    return true;
}

static void fill_zero_page(uint8_t *zp, const uint8_t *k, size_t header_end,
                           const struct linux_boot_args *args, const struct linux_boot_result *out)
{
    memset(zp, 0, ZERO_PAGE_SIZE);
    memcpy(zp + HDR_START, k + HDR_START, header_end - HDR_START);
    zp[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
    le_put(zp + HDR_CODE32_START, out->kernel_gpa, 4);
    le_put(zp + HDR_CMD_LINE_PTR, args->cmdline_gpa, 4);
    le_put(zp + BP_EXT_CMD_LINE_PTR, args->cmdline_gpa >> 32, 4);
    if (args->initrd) {
        le_put(zp + HDR_RAMDISK_IMAGE, out->initrd_gpa, 4);
        le_put(zp + HDR_RAMDISK_SIZE, args->initrd_size, 4);
        le_put(zp + BP_EXT_RAMDISK_IMAGE, out->initrd_gpa >> 32, 4);
        le_put(zp + BP_EXT_RAMDISK_SIZE, (uint64_t)args->initrd_size >> 32, 4);
    }
    le_put(zp + BP_ACPI_RSDP_ADDR, args->rsdp_gpa, 8);
    size_t n = args->memory_map_count < BP_E820_MAX ? args->memory_map_count : BP_E820_MAX;
    for (size_t i = 0; i < n; i++) {
        uint8_t *e = zp + BP_E820_TABLE + i * BP_E820_ENTRY_SIZE;
        le_put(e, args->memory_map[i].start, 8);
        le_put(e + 8, args->memory_map[i].size, 8);
        le_put(e + 16, args->memory_map[i].type, 4);
    }
    zp[BP_E820_ENTRIES] = (uint8_t)n;
}

bool linux_load(const void *image, size_t size, const struct linux_boot_args *args,
                guest_write_fn write, void *ctx, struct linux_boot_result *out, char *why,
                size_t why_size)
{
    const uint8_t *k = image;
    if (!linux_is_bzimage(image, size) || size < HDR_INIT_SIZE + 4)
        return fail(why, why_size, "not a Linux bzImage (no boot flag 0xaa55 and \"HdrS\")");
    out->protocol = (uint16_t)le_get(k + HDR_VERSION, 2);
    if (out->protocol < PROTOCOL_64BIT_ENTRY || !(k[HDR_XLOADFLAGS] & XLF_KERNEL_64))
        return fail(why, why_size, "boot protocol %u.%02u without a 64-bit entry point "
                    "(needs 2.12 and XLF_KERNEL_64)", out->protocol >> 8, out->protocol & 0xff);
    if (!(k[HDR_LOADFLAGS] & LOADED_HIGH))
        return fail(why, why_size, "a zImage (loaded below 1 MiB) is not supported");
    /* boot.rst: 0 setup sectors means 4, for ancient compatibility. */
    size_t setup_sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
    size_t setup_size = (setup_sects + 1) * 512;
    size_t header_end = HDR_MAGIC + k[HDR_JUMP_OFFSET];
    if (setup_size >= size || header_end < HDR_INIT_SIZE + 4 || header_end > setup_size)
        return fail(why, why_size, "truncated bzImage: %lu setup sectors, %lu bytes",
                    (unsigned long)setup_sects, (unsigned long)size);
    size_t payload = size - setup_size;
    uint64_t init_size = le_get(k + HDR_INIT_SIZE, 4);
    out->kernel_gpa = le_get(k + HDR_PREF_ADDRESS, 8);
    out->kernel_end = out->kernel_gpa + (init_size > payload ? init_size : payload);
    /* boot.rst: a bzImage's protected-mode kernel loads at 1 MiB or above;
     * below are the zero page, the command line and the boot page tables. */
    if (out->kernel_gpa < LINUX_KERNEL_MIN_GPA)
        return fail(why, why_size, "the kernel's load address 0x%lx is below 1 MiB, over the "
                    "zero page, command line and boot page tables (a bzImage loads at 1 MiB "
                    "or above)", (unsigned long)out->kernel_gpa);
    if (!ram_holding(args, out->kernel_gpa, out->kernel_end))
        return fail(why, why_size, "the kernel needs RAM at 0x%lx-0x%lx (init_size): give the "
                    "VM more memory", (unsigned long)out->kernel_gpa,
                    (unsigned long)out->kernel_end);
    out->entry = out->kernel_gpa + ENTRY_64_OFFSET;

    size_t cmdline_len = strlen(args->cmdline);
    uint64_t cmdline_max = le_get(k + HDR_CMDLINE_SIZE, 4);
    if (cmdline_len > cmdline_max)
        return fail(why, why_size, "the command line (%lu bytes) is longer than the kernel's "
                    "cmdline_size %lu", (unsigned long)cmdline_len, (unsigned long)cmdline_max);
    if (args->initrd && !place_initrd(k, args, out, why, why_size))
        return false;

    uint8_t zero_page[ZERO_PAGE_SIZE];
    fill_zero_page(zero_page, k, header_end, args, out);
    if (!write(ctx, out->kernel_gpa, k + setup_size, payload) ||
        (args->initrd && !write(ctx, out->initrd_gpa, args->initrd, args->initrd_size)) ||
        !write(ctx, args->cmdline_gpa, args->cmdline, cmdline_len + 1) ||
        !write(ctx, args->zero_page_gpa, zero_page, sizeof(zero_page)))
        return fail(why, why_size, "out of memory loading the kernel");
    return true;
}
