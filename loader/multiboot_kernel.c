/* Loading a Multiboot kernel and its modules (loader/multiboot_kernel.h). */
#include "loader/multiboot_kernel.h"
#include "loader/elf_loader.h"
#include "lib/error.h"
#include "lib/page_alloc.h"

static uint64_t page_align_up(uint64_t a)
{
    return (a + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

/* Forwards the loader's writes and notes the span they cover, so that the
 * modules can go above the kernel whichever way it was loaded. */
struct span_write {
    guest_write_fn write;
    void *ctx;
    uint64_t start, end;
};

static bool write_noting_span(void *ctx, uint64_t gpa, const void *src, size_t len)
{
    struct span_write *s = ctx;
    if (gpa < s->start)
        s->start = gpa;
    if (gpa + len > s->end)
        s->end = gpa + len;
    return s->write(s->ctx, gpa, src, len);
}

/* The kernel from the header's address fields (see the header). */
static bool load_at_addresses(const uint8_t *k, size_t size, size_t hdr,
                              const struct multiboot_address_fields *a, uint64_t entry,
                              const struct multiboot_args *args, struct span_write *w,
                              char *why, size_t why_size)
{
    if (a->load_addr > a->header_addr || a->header_addr - a->load_addr > hdr)
        return fail(why, why_size, "header address fields: load_addr 0x%x does not lie at or "
                    "before header_addr 0x%x within the file", a->load_addr, a->header_addr);
    size_t file_offset = hdr - (a->header_addr - a->load_addr);
    uint64_t file_size = a->load_end_addr ? (uint64_t)a->load_end_addr - a->load_addr
                                          : size - file_offset;
    if (a->load_end_addr && a->load_end_addr < a->load_addr)
        return fail(why, why_size, "header address fields: load_end_addr 0x%x is below "
                    "load_addr 0x%x", a->load_end_addr, a->load_addr);
    if (file_size > size - file_offset)
        return fail(why, why_size, "header address fields: load_end_addr 0x%x lies beyond "
                    "the file's end", a->load_end_addr);
    uint64_t mem_end = (uint64_t)a->load_addr + file_size;
    if (a->bss_end_addr && a->bss_end_addr < mem_end)
        return fail(why, why_size, "header address fields: bss_end_addr 0x%x is below the "
                    "loaded end 0x%lx", a->bss_end_addr, (unsigned long)mem_end);
    if (a->bss_end_addr)
        mem_end = a->bss_end_addr;
    char where[112];
    if (!load_area_allows(args->area, a->load_addr, mem_end, where, sizeof(where)))
        return fail(why, why_size, "the kernel: %s", where);
    if (entry < a->load_addr || entry >= mem_end)
        return fail(why, why_size, "entry address 0x%lx is not in the loaded image "
                    "0x%x-0x%lx", (unsigned long)entry, a->load_addr, (unsigned long)mem_end);
    if (!write_noting_span(w, a->load_addr, k + file_offset, file_size) ||
        !write_noting_span(w, a->load_addr + file_size, NULL, mem_end - a->load_addr - file_size))
        return fail(why, why_size, "out of memory loading the kernel");
    return true;
}

bool multiboot_load_kernel(const void *image, size_t size, size_t header_offset,
                           const struct multiboot_address_fields *addr, uint64_t entry,
                           const struct multiboot_args *args, guest_write_fn write, void *ctx,
                           struct multiboot_result *out, char *why, size_t why_size)
{
    struct span_write w = { write, ctx, UINT64_MAX, 0 };
    if (addr) {
        if (!load_at_addresses(image, size, header_offset, addr, entry, args, &w, why, why_size))
            return false;
        out->entry = entry;
    } else {
        if (!elf_load(image, size, args->area, write_noting_span, &w, &out->entry, why,
                      why_size))
            return false;
        if (entry)
            out->entry = entry;
    }
    out->kernel_start = w.start;
    out->kernel_end = w.end;
    return true;
}

bool multiboot_place_modules(const struct multiboot_args *args, uint64_t kernel_end,
                             guest_write_fn write, void *ctx, multiboot_module_placed_fn placed,
                             void *placed_ctx, char *why, size_t why_size)
{
    uint64_t next = page_align_up(kernel_end), limit = args->area->limit;
    if (next < args->modules_min)
        next = args->modules_min;
    for (size_t i = 0; i < args->module_count; i++) {
        const struct multiboot_module *m = &args->modules[i];
        if (next > limit || m->size > limit - next)
            return fail(why, why_size, "module '%s' (%lu KiB) does not fit between 0x%lx and "
                        "the end of low memory 0x%lx: give the VM more memory", m->name,
                        (unsigned long)(m->size >> 10), (unsigned long)next,
                        (unsigned long)limit);
        if (!write(ctx, next, m->data, m->size))
            return fail(why, why_size, "out of memory loading module '%s'", m->name);
        if (!placed(placed_ctx, i, next, next + m->size))
            return fail(why, why_size, "the boot information does not fit in its page "
                        "(module names too long)");
        next = page_align_up(next + m->size);
    }
    return true;
}
