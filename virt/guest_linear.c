/* Guest memory by linear address (virt/guest_linear.h). */
#include "virt/guest_linear.h"
#include "virt/event_inject.h"
#include "virt/guest_mem.h"
#include "virt/guest_walk.h"
#include "virt/vm.h"
#include "vmx/vmcs.h"
#include "arch/cpu.h"
#include "lib/string.h"

#define VECTOR_PF      14
#define PF_ERROR_WRITE (1u << 1)

struct mapped_memory {
    struct vm *vm;
    guest_phys_map_fn map;
    void *map_ctx;
};

/* The guest-physical address as the VM's, or false where there is none. */
static bool vm_address(const struct mapped_memory *m, uint64_t gpa, uint64_t *vm_gpa)
{
    if (!m->map) {
        *vm_gpa = gpa;
        return true;
    }
    return m->map(m->map_ctx, gpa, vm_gpa);
}

static bool read_guest(void *ctx, uint64_t gpa, void *dst, unsigned len)
{
    const struct mapped_memory *m = ctx;
    uint64_t vm_gpa;
    return vm_address(m, gpa, &vm_gpa) && guest_mem_read(m->vm, vm_gpa, dst, len);
}

/* A walk through the VM's own memory that records the entries it reads
 * into `t` (one that reads more than it holds is not recorded). */
struct recorded_walk {
    struct vm *vm;
    struct linear_translation *t;
};

/* A page-table entry of 4 or 8 bytes, aligned (so inside one page), as
 * one load: the guest may be writing it from another CPU. */
static uint64_t load_entry(const uint8_t *host, unsigned bytes)
{
    return bytes == 8 ? __atomic_load_n((const uint64_t *)host, __ATOMIC_RELAXED)
                      : __atomic_load_n((const uint32_t *)host, __ATOMIC_RELAXED);
}

static bool read_recording(void *ctx, uint64_t gpa, void *dst, unsigned len)
{
    struct recorded_walk *w = ctx;
    struct linear_translation *t = w->t;
    const uint8_t *host = guest_mem_host(w->vm, gpa);
    if (!host)
        return false;
    uint64_t value = load_entry(host, len);
    memcpy(dst, &value, len);
    if (t->entries < LINEAR_MEMO_ENTRIES) {
        t->entry_host[t->entries] = host;
        t->entry_value[t->entries] = value;
        t->entry_bytes[t->entries] = (uint8_t)len;
    }
    t->entries++;
    return true;
}

/* Whether `t` still translates `page` under `paging`. */
static bool translation_holds(const struct linear_translation *t, uint64_t page,
                              const struct guest_paging *paging)
{
    if (!t->valid || t->linear_page != page || t->paging.cr0 != paging->cr0 ||
        t->paging.cr3 != paging->cr3 || t->paging.cr4 != paging->cr4 ||
        t->paging.efer != paging->efer)
        return false;
    for (unsigned i = 0; i < t->entries; i++)
        if (load_entry(t->entry_host[i], t->entry_bytes[i]) != t->entry_value[i])
            return false;
    return true;
}

/* The translation of page number `page` that `memo` holds, or NULL. */
static inline const struct linear_translation *memo_find(const struct linear_memo *memo,
                                                         uint64_t page,
                                                         const struct guest_paging *paging)
{
    for (unsigned i = 0; i < LINEAR_MEMO_PAGES; i++)
        if (translation_holds(&memo->page[i], page, paging))
            return &memo->page[i];
    return NULL;
}

/* The translation of the page at `linear` into `fresh`: held by `memo`,
 * or walked and kept there if it reached RAM (a page that is not, or had
 * no memory for its first touch, is walked again next time); NULL if the
 * page is not mapped. */
static const struct linear_translation *memo_translate(struct vcpu *v, struct linear_memo *memo,
                                                       const struct guest_paging *paging,
                                                       uint64_t linear,
                                                       struct linear_translation *fresh)
{
    uint64_t page = linear >> 12;
    const struct linear_translation *held = memo_find(memo, page, paging);
    if (held)
        return held;
    *fresh = (struct linear_translation){ .linear_page = page, .paging = *paging };
    struct recorded_walk walk = { v->vm, fresh };
    uint64_t gpa;
    if (!guest_translate(paging, page << 12, read_recording, &walk, &gpa))
        return NULL;
    fresh->gpa_page = gpa & ~0xfffull;
    fresh->host_page = guest_mem_host(v->vm, fresh->gpa_page);
    fresh->valid = fresh->entries <= LINEAR_MEMO_ENTRIES && fresh->host_page;
    if (!fresh->valid)
        return fresh;
    struct linear_translation *kept = &memo->page[memo->next];
    memo->next = (memo->next + 1) % LINEAR_MEMO_PAGES;
    *kept = *fresh;
    return kept;
}

static void page_fault(struct vcpu *v, uint64_t linear, bool write)
{
    v->cr2 = linear;
    write_cr2(v->cr2);      /* the register is the guest's (machine/vcpu_run.c) */
    inject_exception(v, VECTOR_PF, true, write ? PF_ERROR_WRITE : 0);
}

static struct guest_paging current_paging(void)
{
    return (struct guest_paging){ vmcs_read_base(GUEST_CR0), vmcs_read_base(GUEST_CR3),
                                  vmcs_read_base(GUEST_CR4), vmcs_read_base(GUEST_IA32_EFER) };
}

/* vcpu_linear_access_memo for all but a read within one page the memo holds:
 * out of line, with its walk's room on the stack. */
static __attribute__((noinline)) bool
linear_access_memo_walking(struct vcpu *v, uint64_t linear, void *buf, unsigned len, bool write,
                           struct linear_memo *memo, const struct guest_paging *paging)
{
    struct linear_translation fresh;
    for (unsigned done = 0; done < len;) {
        const struct linear_translation *t = memo_translate(v, memo, paging, linear + done, &fresh);
        if (!t) {
            page_fault(v, linear + done, write);
            return false;
        }
        unsigned offset = (unsigned)((linear + done) & 4095);
        unsigned chunk = 4096 - offset;
        if (chunk > len - done)
            chunk = len - done;
        uint8_t *bytes = (uint8_t *)buf + done;
        if (write)
            (void)guest_mem_write(v->vm, t->gpa_page + offset, bytes, chunk);
        else if (t->host_page)
            memcpy(bytes, t->host_page + offset, chunk);
        else
            memset(bytes, 0xff, chunk);     /* not RAM */
        done += chunk;
    }
    return true;
}

bool vcpu_linear_access_memo(struct vcpu *v, uint64_t linear, void *buf, unsigned len, bool write,
                             struct linear_memo *memo)
{
    struct guest_paging paging = current_paging();
    unsigned offset = (unsigned)(linear & 4095);
    if (!write && offset + len <= 4096) {
        const struct linear_translation *held = memo_find(memo, linear >> 12, &paging);
        if (held) {
            memcpy(buf, held->host_page + offset, len);
            return true;
        }
    }
    return linear_access_memo_walking(v, linear, buf, len, write, memo, &paging);
}

bool vcpu_linear_access_mapped(struct vcpu *v, uint64_t linear, void *buf, unsigned len,
                               bool write, guest_phys_map_fn map, void *map_ctx)
{
    struct mapped_memory memory = { v->vm, map, map_ctx };
    struct guest_paging paging = current_paging();
    for (unsigned done = 0; done < len;) {
        uint64_t gpa, vm_gpa;
        if (!guest_translate(&paging, linear + done, read_guest, &memory, &gpa)) {
            page_fault(v, linear + done, write);
            return false;
        }
        unsigned chunk = 4096 - (unsigned)(gpa & 4095);
        if (chunk > len - done)
            chunk = len - done;
        uint8_t *bytes = (uint8_t *)buf + done;
        bool mapped = vm_address(&memory, gpa, &vm_gpa);
        if (write) {
            if (mapped)
                (void)guest_mem_write(v->vm, vm_gpa, bytes, chunk);
        } else if (!mapped || !guest_mem_read(v->vm, vm_gpa, bytes, chunk)) {
            memset(bytes, 0xff, chunk);
        }
        done += chunk;
    }
    return true;
}

bool vcpu_linear_access(struct vcpu *v, uint64_t linear, void *buf, unsigned len, bool write)
{
    return vcpu_linear_access_mapped(v, linear, buf, len, write, NULL, NULL);
}
