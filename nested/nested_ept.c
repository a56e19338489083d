/* EPT and VPID for L2 (nested/nested_ept.h). */
#include "nested/nested_ept.h"
#include "nested/ept02.h"
#include "nested/ept12.h"
#include "nested/nested.h"
#include "virt/guest_mem.h"
#include "virt/vm.h"
#include "vmx/tlb.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_controls.h"
#include "vmx/vmx_cpu.h"
#include "arch/cpu.h"
#include "arch/percpu.h"
#include "lib/page_alloc.h"

/* Exit-qualification bits 5:3 of an EPT violation: what the walk allowed
 * (SDM Vol. 3C 28.2.1, Table 28-7). */
#define QUAL_ACCESS_MASK    7ull
#define QUAL_PERMS_SHIFT    3
#define QUAL_PERMS_MASK     (7ull << QUAL_PERMS_SHIFT)
/* Table pages the roots of a VM may hold: an eighth of its RAM's 4 KiB
 * pages over 64, i.e. EPT02 with 4 KiB leaves over all of L1's RAM eight
 * times over, and never less than a few roots' worth. */
#define EPT02_BUDGET_PER_RAM_PAGES 64
#define EPT02_BUDGET_MIN 256
#define EPT02_CACHE_PAGES ((sizeof(struct ept02_cache) + PAGE_SIZE - 1) / PAGE_SIZE)

static void *alloc_table_page(void) { return page_alloc(1); }
static void free_table_page(void *page) { page_free(page, 1); }

bool nested_l2_uses_ept(const struct vcpu *v)
{
    if (!v->in_l2)
        return false;
    const struct vmcs12 *v12 = v->nested->vmcs12;
    return (vmcs12_get(v12, CPU_BASED_VM_EXEC_CONTROL) & PROC_ACTIVATE_SECONDARY) &&
           (vmcs12_get(v12, SECONDARY_VM_EXEC_CONTROL) & PROC2_ENABLE_EPT);
}

uint64_t nested_ept02_budget_pages(uint64_t ram_size)
{
    uint64_t budget = ram_size / PAGE_SIZE / EPT02_BUDGET_PER_RAM_PAGES;
    return (budget > EPT02_BUDGET_MIN ? budget : EPT02_BUDGET_MIN) + EPT02_CACHE_PAGES;
}

/* The VM's root cache, made at first use; called with ept02_lock held. */
static struct ept02_cache *cache_of(struct vm *vm)
{
    if (!vm->ept02) {
        struct ept02_cache *c = page_alloc(EPT02_CACHE_PAGES);
        if (!c)
            return NULL;
        ept02_cache_init(c, alloc_table_page, free_table_page,
                         nested_ept02_budget_pages(vm->ram_size));
        vm->ept02 = c;
    }
    return vm->ept02;
}

/* The vCPU's root becomes a live one for `eptp12` (its old one let go);
 * ept02_lock held. False when out of memory. */
static bool switch_root(struct vcpu *v, uint64_t eptp12)
{
    struct nested_vmx *n = v->nested;
    struct ept02_cache *cache = cache_of(v->vm);
    if (!cache)
        return false;
    if (n->ept02)
        ept02_put(cache, n->ept02);
    n->ept02 = ept02_get(cache, eptp12);
    return n->ept02 != NULL;
}

/* vmcs02's EPT pointer: `root`'s, flushed on this CPU before its first use
 * here (nested/ept02.h: its PML4 page may have served another root), or
 * EPT01 without one. */
static void point_vmcs02_at(struct vcpu *v, struct ept02_root *root)
{
    struct nested_vmx *n = v->nested;
    uint64_t eptp = root ? ept_pointer(&root->ept) : ept_pointer(&v->vm->ept);
    if (root) {
        uint64_t cpu_bit = 1ull << this_cpu()->index;
        if (!(__atomic_load_n(&root->flushed_cpus, __ATOMIC_ACQUIRE) & cpu_bit)) {
            tlb_flush_ept(eptp);
            __atomic_fetch_or(&root->flushed_cpus, cpu_bit, __ATOMIC_ACQ_REL);
        }
    }
    if (eptp != n->eptp02) {
        vmcs_write(EPT_POINTER, eptp);
        n->eptp02 = eptp;
    }
}

bool nested_ept_enter(struct vcpu *v, uint32_t proc2_12)
{
    struct nested_vmx *n = v->nested;
    if (!(proc2_12 & PROC2_ENABLE_EPT)) {
        point_vmcs02_at(v, NULL);
        return true;
    }
    uint64_t eptp12 = vmcs12_get(n->vmcs12, EPT_POINTER);
    struct ept02_root *root = n->ept02;
    if (!root || __atomic_load_n(&root->stale, __ATOMIC_ACQUIRE) ||
        root->key != ept02_key(eptp12)) {
        spin_lock(&v->vm->ept02_lock);
        bool ok = switch_root(v, eptp12);
        spin_unlock(&v->vm->ept02_lock);
        if (!ok)
            return false;
    }
    point_vmcs02_at(v, n->ept02);
    return true;
}

static bool read_ept12_entry(void *ctx, uint64_t gpa, uint64_t *entry)
{
    return guest_mem_read(ctx, gpa, entry, sizeof(*entry));
}

/* What L1 was offered (nested/vmx_caps.c), as the walker needs it. */
static struct ept12_format offered_format(void)
{
    uint64_t cap = nested_caps.msr[NESTED_VMX_EPT_VPID_CAP];
    return (struct ept12_format){ .phys_addr_bits = cpu_phys_addr_bits(),
                                  .execute_only = cap & EPT_CAP_EXEC_ONLY,
                                  .huge_1g = cap & EPT_CAP_1G };
}

bool nested_l2_to_l1_gpa(void *vcpu, uint64_t l2_gpa, uint64_t *l1_gpa)
{
    struct vcpu *v = vcpu;
    struct ept12_format format = offered_format();
    struct ept12_walk walk;
    ept12_walk(vmcs12_get(v->nested->vmcs12, EPT_POINTER), l2_gpa, EPT12_ACCESS_READ, &format,
               read_ept12_entry, v->vm, &walk);
    *l1_gpa = walk.l1_gpa;
    return walk.outcome == EPT12_MAPPED;
}

/* The largest leaf EPT02 may have for an EPT12 leaf of `size12` over an
 * EPT01 leaf of `size01`: no larger than either or than the hardware
 * offers, and not where EPT02 has smaller pages in the way. */
static uint64_t ept02_page_size(const struct ept *ept02, uint64_t l2_gpa, uint64_t size12,
                                uint64_t size01)
{
    uint64_t size = size12 < size01 ? size12 : size01;
    if (size == EPT_SIZE_1G && !(vmcs_config.ept_vpid_cap & EPT_CAP_1G))
        size = EPT_SIZE_2M;
    if (size == EPT_SIZE_2M && !(vmcs_config.ept_vpid_cap & EPT_CAP_2M))
        size = EPT_SIZE_4K;
    while (size > EPT_SIZE_4K) {
        uint64_t base = l2_gpa & ~(size - 1);
        uint64_t hpa, found;
        /* Only a leaf of this very size may be replaced in place. */
        if (!ept_range_has_mappings(ept02, base, size) ||
            (ept_translate(ept02, base, &hpa, &found) && found == size))
            break;
        size >>= 9;
    }
    return size;
}

/* Maps the L2-physical page of `l2_gpa` in the vCPU's root as the walk
 * found it, `hpa` being the host address of the walk's L1-physical
 * address in an EPT01 leaf of `size01`. */
static enum nested_ept_fault map_l2_page(struct vcpu *v, uint64_t l2_gpa, uint64_t hpa,
                                         uint64_t size01, const struct ept12_walk *walk)
{
    struct nested_vmx *n = v->nested;
    enum ept02_map_result r = EPT02_NO_MEMORY;
    uint64_t size = EPT_SIZE_4K;
    spin_lock(&v->vm->ept02_lock);
    struct ept02_cache *cache = cache_of(v->vm);
    /* A restart gets a fresh root, on which the mapping always fits. */
    for (int attempt = 0; cache && attempt < 2; attempt++) {
        size = ept02_page_size(&n->ept02->ept, l2_gpa, walk->page_size, size01);
        r = ept02_map(cache, n->ept02, l2_gpa & ~(size - 1), hpa & ~(size - 1), size,
                      walk->perms);
        if (r != EPT02_RESTART)
            break;
        if (!switch_root(v, vmcs12_get(n->vmcs12, EPT_POINTER))) {
            r = EPT02_NO_MEMORY;
            break;
        }
        point_vmcs02_at(v, n->ept02);
    }
    spin_unlock(&v->vm->ept02_lock);
    if (r != EPT02_MAPPED)
        return NESTED_EPT_NO_MEMORY;
    v->stats.ept02_maps[size == EPT_SIZE_4K ? 0 : size == EPT_SIZE_2M ? 1 : 2]++;
    return NESTED_EPT_MAPPED;
}

enum nested_ept_fault nested_ept_violation(struct vcpu *v, uint64_t qualification,
                                           uint64_t *detail)
{
    struct nested_vmx *n = v->nested;
    uint64_t l2_gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
    struct ept12_format format = offered_format();
    struct ept12_walk walk;
    ept12_walk(vmcs12_get(n->vmcs12, EPT_POINTER), l2_gpa, (unsigned)(qualification & QUAL_ACCESS_MASK),
               &format, read_ept12_entry, v->vm, &walk);
    switch (walk.outcome) {
    case EPT12_MISCONFIG:
        return NESTED_EPT_MISCONFIG;
    case EPT12_VIOLATION:
        /* The access and linear-address bits as the hardware saw L2's
         * access; bits 5:3 what EPT12 allowed (Table 28-7). */
        *detail = (qualification & ~QUAL_PERMS_MASK) | (uint64_t)walk.perms << QUAL_PERMS_SHIFT;
        return NESTED_EPT_VIOLATION;
    case EPT12_MAPPED:
        break;
    }
    uint64_t hpa, size01;
    switch (guest_mem_translate(v->vm, walk.l1_gpa, &hpa, &size01)) {
    case TDP_NOT_RAM:
        *detail = walk.l1_gpa;
        return NESTED_EPT_NOT_RAM;
    case TDP_NO_MEMORY:
        return NESTED_EPT_NO_MEMORY;
    case TDP_MAPPED:
        break;
    }
    return map_l2_page(v, l2_gpa, hpa, size01, &walk);
}

void nested_invept(struct vcpu *v, uint64_t eptp12, bool all)
{
    struct nested_vmx *n = v->nested;
    struct vm *vm = v->vm;
    spin_lock(&vm->ept02_lock);
    if (vm->ept02) {
        /* The vCPU runs L1: its root goes now if dropped. */
        if (n->ept02 && (all || n->ept02->key == ept02_key(eptp12))) {
            ept02_put(vm->ept02, n->ept02);
            n->ept02 = NULL;
        }
        ept02_drop(vm->ept02, eptp12, all);
    }
    spin_unlock(&vm->ept02_lock);
}

void nested_ept_vm_free(struct vm *vm)
{
    if (!vm->ept02)
        return;
    ept02_cache_destroy(vm->ept02);
    page_free(vm->ept02, EPT02_CACHE_PAGES);
    vm->ept02 = NULL;
}
