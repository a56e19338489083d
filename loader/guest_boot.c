#include "loader/guest_boot.h"
#include "loader/elf_loader.h"
#include "virt/guest_layout.h"
#include "virt/guest_mem.h"
#include "loader/guest_memmap.h"
#include "loader/linux_boot.h"
#include "loader/multiboot.h"
#include "loader/multiboot2.h"
#include "virt/vm.h"
#include "arch/bootinfo.h"
#include "lib/error.h"
#include "lib/string.h"

#define PTE_P  (1ull << 0)
#define PTE_W  (1ull << 1)
#define PTE_PS (1ull << 7)
/* Descriptors of the GDT every start uses (GUEST_SEL_* in virt/guest_layout.h). */
#define GDT_CODE32 0x00cf9b000000ffffull
#define GDT_CODE64 0x00af9b000000ffffull
#define GDT_DATA   0x00cf93000000ffffull

const struct boot_module *guest_boot_module(const char *name)
{
    for (size_t i = 0; i < bootinfo.module_count; i++)
        if (!strcmp(bootinfo.modules[i].name, name))
            return &bootinfo.modules[i];
    return NULL;
}

/* GDT and an identity map of the first 4 GiB (2 MiB pages) for a 64-bit
 * start (a test guest's, Linux's); see virt/guest_layout.h. A multiboot
 * kernel starts with paging off and makes its own GDT, and a real-mode start
 * needs neither: their low memory stays as a boot loader leaves it. */
static bool write_boot_structures(struct vm *vm)
{
    const uint64_t gdt[] = { 0, GDT_CODE64, GDT_CODE64, GDT_DATA, GDT_CODE32 };
    _Static_assert(sizeof(gdt) == GUEST_GDT_SIZE, "GUEST_GDT_SIZE");
    uint64_t table[512];
    if (!guest_mem_write(vm, GUEST_GDT_GPA, gdt, sizeof(gdt)))
        return false;
    memset(table, 0, sizeof(table));
    table[0] = GUEST_PDPT_GPA | PTE_P | PTE_W;
    if (!guest_mem_write(vm, GUEST_PML4_GPA, table, sizeof(table)))
        return false;
    for (int i = 0; i < 4; i++)
        table[i] = (GUEST_PD_GPA + i * 4096) | PTE_P | PTE_W;
    if (!guest_mem_write(vm, GUEST_PDPT_GPA, table, sizeof(table)))
        return false;
    for (int pd = 0; pd < 4; pd++) {
        for (int i = 0; i < 512; i++)
            table[i] = (((uint64_t)pd << 30) + ((uint64_t)i << 21)) | PTE_P | PTE_W | PTE_PS;
        if (!guest_mem_write(vm, GUEST_PD_GPA + pd * 4096, table, sizeof(table)))
            return false;
    }
    return true;
}

static bool write_for_loader(void *ctx, uint64_t gpa, const void *src, size_t len)
{
    static const uint8_t zeros[256];
    if (src)
        return guest_mem_write(ctx, gpa, src, len);
    for (size_t done = 0; done < len; done += sizeof(zeros)) {
        size_t n = len - done < sizeof(zeros) ? len - done : sizeof(zeros);
        if (!guest_mem_write(ctx, gpa + done, zeros, n))
            return false;
    }
    return true;
}

static bool load_linux(struct vm *vm, const void *image, size_t size, char *why, size_t why_size)
{
    struct guest_mem_range map[GUEST_MEMMAP_MAX];
    struct linux_boot_args args = {
        .cmdline = vm->config.cmdline, .cmdline_gpa = GUEST_CMDLINE_GPA,
        .zero_page_gpa = GUEST_ZERO_PAGE_GPA, .rsdp_gpa = GUEST_ACPI_GPA,
        .memory_map = map, .memory_map_count = guest_memory_map(vm->ram_size, map),
    };
    if (vm->config.initrd[0]) {
        const struct boot_module *initrd = guest_boot_module(vm->config.initrd);
        if (!initrd)
            return fail(why, why_size, "initrd '%s' is not among the boot modules",
                        vm->config.initrd);
        args.initrd = (const void *)initrd->start;
        args.initrd_size = initrd->end - initrd->start;
    }
    struct linux_boot_result loaded;
    if (!write_boot_structures(vm))
        return fail(why, why_size, "out of memory");
    if (!linux_load(image, size, &args, write_for_loader, vm, &loaded, why, why_size))
        return false;
    /* boot.rst "64-bit Boot Protocol": long mode with an identity map of the
     * kernel, zero page and command line; CS = __BOOT_CS (0x10), the data
     * segments __BOOT_DS (0x18); interrupts off; RSI = the zero page. */
    vm->boot = (struct boot_state){ .mode = BOOT_CPU_LONG, .rip = loaded.entry,
                                    .code_selector = GUEST_SEL_LINUX_CS,
                                    .rsi = GUEST_ZERO_PAGE_GPA, .image_kind = "Linux " };
    linux_kernel_version(image, size, vm->boot.image_kind + strlen(vm->boot.image_kind),
                         sizeof(vm->boot.image_kind) - strlen(vm->boot.image_kind));
    return true;
}

/* The boot modules named in the VM's `modules` key (separated by spaces),
 * in order, for a multiboot kernel. */
static bool find_multiboot_modules(const char *names, struct multiboot_module *out,
                                   size_t *count, char *why, size_t why_size)
{
    *count = 0;
    for (const char *p = names; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        size_t len = 0;
        while (p[len] && p[len] != ' ')
            len++;
        char name[VM_IMAGE_MAX];
        if (len >= sizeof(name))
            return fail(why, why_size, "module name '%.*s' is too long", (int)len, p);
        memcpy(name, p, len);
        name[len] = '\0';
        const struct boot_module *m = guest_boot_module(name);
        if (!m)
            return fail(why, why_size, "module '%s' is not among the boot modules", name);
        if (*count == BOOT_MAX_MODULES)
            return fail(why, why_size, "more than %d modules", BOOT_MAX_MODULES);
        out[(*count)++] = (struct multiboot_module){ (const void *)m->start,
                                                     m->end - m->start, m->name };
        p += len;
    }
    return true;
}

/* A Multiboot or Multiboot2 kernel may go anywhere in RAM below 4 GiB (or
 * the end of low RAM) but where the loader writes its information (the
 * firmware's tables are not RAM in the map); its modules above 1 MiB.
 * Multiboot2's information carries a copy of the firmware's RSDP, which
 * is in guest memory already (machine/vm_power.c boots the firmware first). */
static bool load_multiboot(struct vm *vm, const void *image, size_t size, bool version2,
                           char *why, size_t why_size)
{
    struct guest_mem_range map[GUEST_MEMMAP_MAX];
    struct multiboot_module modules[BOOT_MAX_MODULES];
    static const struct load_reserved reserved[] = {
        { GUEST_MB_INFO_GPA, GUEST_MB_INFO_GPA + 4096, "the multiboot information" },
    };
    struct load_area area = {
        .memory_map = map, .memory_map_count = guest_memory_map(vm->ram_size, map),
        .limit = guest_low_ram_end(vm->ram_size), .reserved = reserved, .reserved_count = 1,
    };
    uint8_t rsdp[MULTIBOOT2_RSDP_SIZE];
    struct multiboot_args args = {
        .kernel_name = vm->config.image, .cmdline = vm->config.cmdline, .modules = modules,
        .memory_map = map, .memory_map_count = area.memory_map_count,
        .area = &area, .modules_min = GUEST_IMAGE_MIN_GPA, .info_gpa = GUEST_MB_INFO_GPA,
        .acpi_rsdp = guest_mem_read(vm, GUEST_ACPI_GPA, rsdp, sizeof(rsdp)) ? rsdp : NULL,
    };
    if (!find_multiboot_modules(vm->config.modules, modules, &args.module_count, why,
                                why_size))
        return false;
    struct multiboot_result loaded;
    if (version2 ? !multiboot2_load(image, size, &args, write_for_loader, vm, &loaded, why, why_size)
                 : !multiboot_load(image, size, &args, write_for_loader, vm, &loaded, why, why_size))
        return false;
    /* Multiboot 0.6.96 3.2 and Multiboot2 3.3, "Machine state": EAX = the
     * magic, EBX = the information; 32-bit protected mode, paging off,
     * flat code and data segments; interrupts off. The kernel makes its
     * own stack and GDT. */
    vm->boot = (struct boot_state){ .mode = BOOT_CPU_PROTECTED, .rip = loaded.entry,
                                    .code_selector = GUEST_SEL_CODE32,
                                    .rax = version2 ? MULTIBOOT2_BOOTLOADER_MAGIC
                                                    : MULTIBOOT_BOOTLOADER_MAGIC,
                                    .rbx = GUEST_MB_INFO_GPA,
                                    };
    const char *kind = version2 ? "multiboot2" : "multiboot";
    memcpy(vm->boot.image_kind, kind, strlen(kind) + 1);
    return true;
}

/* A test guest's ELF goes anywhere in RAM but where its 64-bit start keeps
 * the GDT and page tables, the command line and the vCPUs' boot stacks
 * (virt/guest_layout.h); a real-mode one between its interrupt vector
 * table, BIOS data and stack below GUEST_REAL_IMAGE_MIN_GPA and the EBDA. */
static bool load_elf(struct vm *vm, const void *image, size_t size, char *why, size_t why_size)
{
    bool real = vm->config.start == START_REAL;
    struct guest_mem_range map[GUEST_MEMMAP_MAX];
    const struct load_reserved long_start[] = {
        { GUEST_GDT_GPA, GUEST_PD_GPA + 4 * 4096, "the boot GDT and page tables" },
        { GUEST_CMDLINE_GPA, GUEST_CMDLINE_GPA + 4096, "the command line" },
        { GUEST_BOOT_STACK - vm->vcpu_count * GUEST_BOOT_STACK_PER_VCPU, GUEST_BOOT_STACK,
          "the vCPUs' boot stacks" },
    };
    static const struct load_reserved real_start[] = {
        { 0, GUEST_REAL_IMAGE_MIN_GPA, "the real-mode vector table, BIOS data and stack" },
    };
    struct load_area area = {
        .memory_map = map, .memory_map_count = guest_memory_map(vm->ram_size, map),
        .limit = guest_low_ram_end(vm->ram_size),
        .reserved = real ? real_start : long_start,
        .reserved_count = real ? 1 : sizeof(long_start) / sizeof(long_start[0]),
    };
    if (real && area.limit > GUEST_REAL_IMAGE_END)
        area.limit = GUEST_REAL_IMAGE_END;
    uint64_t entry;
    if (!elf_load(image, size, &area, write_for_loader, vm, &entry, why, why_size))
        return false;
    if (real) {
        vm->boot = (struct boot_state){ .mode = BOOT_CPU_REAL, .rip = entry,
                                        .rsp = GUEST_REAL_STACK,
                                        .image_kind = "ELF, real-mode start" };
        return true;
    }
    if (!write_boot_structures(vm) ||
        !guest_mem_write(vm, GUEST_CMDLINE_GPA, vm->config.cmdline,
                         strlen(vm->config.cmdline) + 1))
        return fail(why, why_size, "out of memory");
    vm->boot = (struct boot_state){ .mode = BOOT_CPU_LONG, .rip = entry,
                                    .rsp = GUEST_BOOT_STACK, .code_selector = GUEST_SEL_CODE64,
                                    .rdi = 0, .rsi = vm->vcpu_count, .rdx = GUEST_CMDLINE_GPA,
                                    .image_kind = "ELF" };
    return true;
}

bool guest_boot_load(struct vm *vm, char *why, size_t why_size)
{
    const struct boot_module *module = guest_boot_module(vm->config.image);
    if (!module)
        return fail(why, why_size, "not among the boot modules");
    const void *image = (const void *)module->start;
    size_t size = module->end - module->start;
    bool linux = linux_is_bzimage(image, size) && vm->config.start != START_REAL;
    /* GRUB's multiboot2 command for an image with both headers. */
    bool multiboot2 = !linux && multiboot2_is_kernel(image, size) &&
                      vm->config.start != START_REAL;
    bool multiboot = !linux && (multiboot2 || multiboot_is_kernel(image, size)) &&
                     vm->config.start != START_REAL;
    /* Settings the image's format has no use for are a mistake in the
     * configuration, not something to ignore silently. */
    if (vm->config.initrd[0] && !linux)
        return fail(why, why_size, "initrd '%s' given, but the image is not a Linux bzImage",
                    vm->config.initrd);
    if (vm->config.modules[0] && !multiboot)
        return fail(why, why_size, "modules given, but the image is not a multiboot kernel");
    if (linux)
        return load_linux(vm, image, size, why, why_size);
    if (multiboot)
        return load_multiboot(vm, image, size, multiboot2, why, why_size);
    return load_elf(vm, image, size, why, why_size);
}
