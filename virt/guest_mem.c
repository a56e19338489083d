#include "virt/guest_mem.h"
#include "virt/vm.h"
#include "virt/mem_reserve.h"
#include "virt/write_watch.h"
#include "lib/page_alloc.h"
#include "lib/string.h"

bool guest_ram_slot(const struct vm *vm, uint64_t gpa, uint64_t *start, uint64_t *end)
{
    uint64_t low_end = guest_low_ram_end(vm->ram_size);
    if (gpa < low_end) {
        *start = 0;
        *end = low_end;
        return true;
    }
    uint64_t high_end = GUEST_HIGH_RAM_BASE + (vm->ram_size - low_end);
    if (gpa >= GUEST_HIGH_RAM_BASE && gpa < high_end) {
        *start = GUEST_HIGH_RAM_BASE;
        *end = high_end;
        return true;
    }
    return false;
}

static enum tdp_result map_locked(struct vm *vm, uint64_t gpa, uint64_t *mapped_size)
{
    uint64_t start, end, hpa, size;
    if (!guest_ram_slot(vm, gpa, &start, &end))
        return TDP_NOT_RAM;
    if (ept_translate(&vm->ept, gpa, &hpa, &size)) {   /* another vCPU was first */
        *mapped_size = 0;
        return TDP_MAPPED;
    }
    size = ept_choose_page_size(&vm->ept, gpa, start, end, vm->allow_2m, vm->allow_1g);
    /* Fall back to smaller pages when the host has no free huge page. */
    /* The VM's reservation is charged first (virt/mem_reserve.h): a VM
     * beyond it may find only smaller pages, or none. */
    for (;; size = size == EPT_SIZE_1G ? EPT_SIZE_2M : EPT_SIZE_4K) {
        uint64_t pages = size / PAGE_SIZE;
        if (mem_charge(&vm->mem, pages)) {
            void *backing = page_alloc_aligned(pages, pages);
            if (backing) {
                uint64_t base = gpa & ~(size - 1);
                if (ept_map(&vm->ept, base, (uint64_t)backing, size, EPT_RWX) != EPT_OK) {
                    page_free(backing, pages);
                    mem_uncharge(&vm->mem, pages);
                    return TDP_NO_MEMORY;
                }
                *mapped_size = size;
                return TDP_MAPPED;
            }
            mem_uncharge(&vm->mem, pages);
        }
        if (size == EPT_SIZE_4K)
            return TDP_NO_MEMORY;
    }
}

enum tdp_result tdp_page_fault(struct vm *vm, uint64_t gpa, uint64_t *mapped_size)
{
    spin_lock(&vm->lock);
    enum tdp_result r = map_locked(vm, gpa, mapped_size);
    spin_unlock(&vm->lock);
    return r;
}

/* EPT maps one page that is not the guest's memory: APIC virtualization's
 * APIC-access page at the xAPIC page (dev/apicv.c). It is a device there,
 * never RAM to copy from or to map for L2. */
static bool mapped_ram(const struct vm *vm, uint64_t gpa, uint64_t *hpa, uint64_t *page_size)
{
    return ept_translate(&vm->ept, gpa, hpa, page_size) &&
           !(vm->apic_access_page && (*hpa & ~0xfffull) == (uint64_t)vm->apic_access_page);
}

enum tdp_result guest_mem_translate(struct vm *vm, uint64_t gpa, uint64_t *hpa,
                                    uint64_t *page_size)
{
    if (mapped_ram(vm, gpa, hpa, page_size))
        return TDP_MAPPED;
    if (vm->apic_access_page && ept_translate(&vm->ept, gpa, hpa, page_size))
        return TDP_NOT_RAM;
    uint64_t mapped;
    enum tdp_result r = tdp_page_fault(vm, gpa, &mapped);
    if (r == TDP_MAPPED && !ept_translate(&vm->ept, gpa, hpa, page_size))
        return TDP_NOT_RAM;
    return r;
}

uint8_t *guest_mem_host(struct vm *vm, uint64_t gpa)
{
    uint64_t hpa, size;
    /* The common case, mapped already, without a call (the MMIO path reads
     * the guest's page tables through here). */
    if (mapped_ram(vm, gpa, &hpa, &size) ||
        guest_mem_translate(vm, gpa, &hpa, &size) == TDP_MAPPED)
        return (uint8_t *)hpa;
    return NULL;
}

static bool copy(struct vm *vm, uint64_t gpa, void *buf, size_t len, bool to_guest)
{
    uint8_t *b = buf;
    while (len) {
        size_t chunk = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        uint8_t *host = guest_mem_host(vm, gpa);
        if (!host)
            return false;
        if (to_guest)
            memcpy(host, b, chunk);
        else
            memcpy(b, host, chunk);
        gpa += chunk;
        b += chunk;
        len -= chunk;
    }
    return true;
}

bool guest_mem_write(struct vm *vm, uint64_t gpa, const void *src, size_t len)
{
    bool copied = copy(vm, gpa, (void *)src, len, true);
    write_watch_note(vm, gpa, len);
    return copied;
}

/* A page-table entry or an instruction's memory operand: 1, 2, 4 or 8
 * bytes inside one page, as nearly every small read is. One translation
 * and a load (the general copy's loop and string copy cost as much again
 * as the translation: a nested hypervisor's VMPTRLD walks four levels of
 * its page tables and reads its operand, each a read here). */
static bool read_small(struct vm *vm, uint64_t gpa, void *dst, size_t len)
{
    const uint8_t *host = guest_mem_host(vm, gpa);
    if (!host)
        return false;
    switch (len) {
    case 1: __builtin_memcpy(dst, host, 1); break;
    case 2: __builtin_memcpy(dst, host, 2); break;
    case 4: __builtin_memcpy(dst, host, 4); break;
    default: __builtin_memcpy(dst, host, 8); break;
    }
    return true;
}

bool guest_mem_read(struct vm *vm, uint64_t gpa, void *dst, size_t len)
{
    bool power_of_two = len && len <= 8 && !(len & (len - 1));
    if (power_of_two && (gpa & (PAGE_SIZE - 1)) + len <= PAGE_SIZE)
        return read_small(vm, gpa, dst, len);
    return copy(vm, gpa, dst, len, false);
}

static void free_table_page(void *page)
{
    page_free(page, 1);
}

static void release_backing(void *ctx, uint64_t gpa, uint64_t hpa, uint64_t size)
{
    struct vm *vm = ctx;
    uint64_t start, end;
    /* Leaves outside RAM are not the guest's memory (the APIC-access page
     * of APIC virtualization, dev/apicv.c): their owner frees them. */
    if (!guest_ram_slot(vm, gpa, &start, &end))
        return;
    page_free((void *)hpa, size / PAGE_SIZE);
    mem_uncharge(&vm->mem, size / PAGE_SIZE);
}

bool guest_mem_peek(struct vm *vm, uint64_t gpa, void *dst, size_t len)
{
    uint8_t *b = dst;
    bool ok = true;
    spin_lock(&vm->lock);
    while (len && ok) {
        size_t chunk = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        uint64_t hpa, size, start, end;
        if (vm->ept.pml4 && ept_translate(&vm->ept, gpa, &hpa, &size))
            memcpy(b, (const void *)hpa, chunk);
        else if ((ok = guest_ram_slot(vm, gpa, &start, &end)))
            memset(b, 0, chunk);    /* not backed yet: the zeros its first touch gets */
        gpa += chunk;
        b += chunk;
        len -= chunk;
    }
    spin_unlock(&vm->lock);
    return ok;
}

void guest_mem_destroy(struct vm *vm)
{
    spin_lock(&vm->lock);       /* the monitor may be reading (guest_mem_peek) */
    write_watch_reset_locked(vm);
    ept_destroy(&vm->ept, free_table_page, release_backing, vm);
    spin_unlock(&vm->lock);
}
