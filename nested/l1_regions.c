#include "nested/l1_regions.h"
#include "nested/nested.h"
#include "virt/guest_mem.h"
#include "virt/vcpu.h"

#define PAGE_OFFSET_MASK 0xfffull

void *l1_region_host(struct vcpu *v, uint64_t page)
{
    struct nested_vmx *n = v->nested;
    unsigned i = (unsigned)(page >> 12) & (NESTED_KEPT_REGIONS - 1);
    if (n->kept_regions[i].host && n->kept_regions[i].page == page)
        return n->kept_regions[i].host;
    void *host = guest_mem_host(v->vm, page);
    if (host) {
        n->kept_regions[i].page = page;
        n->kept_regions[i].host = host;
    }
    return host;
}

uint32_t l1_region_revision(struct vcpu *v, uint64_t addr)
{
    uint32_t revision = UINT32_MAX;
    if (v->nested && !(addr & PAGE_OFFSET_MASK)) {
        const uint32_t *region = l1_region_host(v, addr);
        return region ? __atomic_load_n(region, __ATOMIC_RELAXED) : UINT32_MAX;
    }
    /* VMXON's region (no VMX operation yet to keep pages in), or not a
     * page's start (a link pointer the entry checks will refuse): read as
     * it is, across pages if it must. */
    if (!guest_mem_read(v->vm, addr, &revision, sizeof(revision)))
        revision = UINT32_MAX;
    return revision;
}
