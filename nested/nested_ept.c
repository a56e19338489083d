/* EPT and VPID for L2 (nested/nested_ept.h). */
#include "nested/nested_ept.h"
#include "nested/ept02.h"
#include "nested/ept12.h"
#include "nested/nested.h"
#include "virt/dirty_log.h"
#include "virt/write_watch.h"
#include "virt/guest_mem.h"
#include "virt/vm.h"
#include "vmx/tlb.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_controls.h"
#include "vmx/vmx_cpu.h"
#include "arch/cpu.h"
#include "arch/cpuid_cache.h"
#include "arch/percpu.h"
#include "lib/page_alloc.h"

/* Exit-qualification bits 5:3 of an EPT violation: what the walk allowed
 * (SDM Vol. 3C 28.2.1, Table 28-7); bit 7 with bit 8 clear: an access to
 * L2's own paging structures. */
#define QUAL_ACCESS_MASK    7ull
#define QUAL_WRITE          (1ull << 1)
#define QUAL_LINEAR_VALID   (1ull << 7)
#define QUAL_TRANSLATED     (1ull << 8)
#define EPTP_AD_ENABLED     (1ull << 6)
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

/* The vCPU's root becomes a live one for `eptp12` (its old one let go).
 * False when out of memory. Out of line: nested entries mostly keep their
 * root. */
__attribute__((noinline)) static bool switch_root(struct vcpu *v, uint64_t eptp12)
{
    struct nested_vmx *n = v->nested;
    spin_lock(&v->vm->ept02_lock);
    struct ept02_cache *cache = cache_of(v->vm);
    if (cache) {
        if (n->ept02)
            ept02_put(cache, n->ept02);
        n->ept02 = ept02_get(cache, eptp12);
    }
    spin_unlock(&v->vm->ept02_lock);
    return cache && n->ept02;
}

/* vmcs02's EPT pointer: `root`'s, flushed on this CPU before its first use
 * here (nested/ept02.h: its PML4 page may have served another root), or
 * EPT01 without one. */
static inline void point_vmcs02_at(struct vcpu *v, struct ept02_root *root)
{
    struct nested_vmx *n = v->nested;
    uint64_t eptp = root ? root->eptp : ept_pointer(&v->vm->ept);
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
    if ((!root || __atomic_load_n(&root->stale, __ATOMIC_ACQUIRE) ||
         root->key != ept02_key(eptp12)) && !switch_root(v, eptp12))
        return false;
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
    uint64_t size = EPT_SIZE_4K, perms = walk->perms;
    spin_lock(&v->vm->ept02_lock);
    /* A page of L1's that L0 watches stays read-only for L2 too: its write
     * comes back here to end the watch (nested_ept_violation). Asked under
     * the lock that nested_ept_write_protect takes after a watch begins,
     * so that a leaf made meanwhile is either refused here or removed
     * there. */
    if ((perms & EPT12_ACCESS_WRITE) && write_watch_covers(v->vm, walk->l1_gpa))
        perms &= ~(uint64_t)EPT12_ACCESS_WRITE;
    struct ept02_cache *cache = cache_of(v->vm);
    /* A restart gets a fresh root, on which the mapping always fits. */
    for (int attempt = 0; cache && attempt < 2; attempt++) {
        size = ept02_page_size(&n->ept02->ept, l2_gpa, walk->page_size, size01);
        r = ept02_map(cache, n->ept02, l2_gpa & ~(size - 1), hpa & ~(size - 1), size, perms);
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

/* Sets `bits` in the EPT12 entry at L1-physical `gpa` if it still holds
 * `expected`, atomically, as the processor does (SDM Vol. 3C 30.3.5);
 * false if L1 changed it meanwhile. */
static bool set_ept12_flags(struct vm *vm, uint64_t gpa, uint64_t expected, uint64_t bits)
{
    uint64_t hpa, size;
    if (guest_mem_translate(vm, gpa, &hpa, &size) != TDP_MAPPED)
        return true;    /* not RAM: the write goes nowhere */
    bool set = __atomic_compare_exchange_n((uint64_t *)hpa, &expected, expected | bits, false,
                                           __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    if (set)
        write_watch_note(vm, gpa, sizeof(expected));
    return set;
}

enum pml_outcome { PML_NOTHING, PML_LOGGED, PML_FULL };

/* L1's page-modification log for a write that sets a dirty flag in EPT12
 * (SDM Vol. 3C 30.3.6): with the index outside 0-511 the log is full and
 * nothing is set or logged; else the page's L2-physical address goes in at
 * the index, which counts down (to FFFFH after entry 0). */
static enum pml_outcome pml_check(const struct vcpu *v)
{
    const struct vmcs12 *v12 = v->nested->vmcs12;
    if (!(vmcs12_get(v12, SECONDARY_VM_EXEC_CONTROL) & PROC2_ENABLE_PML))
        return PML_NOTHING;
    return ept12_pml_full((uint16_t)vmcs12_get(v12, GUEST_PML_INDEX)) ? PML_FULL : PML_LOGGED;
}

static void pml_log(struct vcpu *v, uint64_t l2_gpa)
{
    struct vmcs12 *v12 = v->nested->vmcs12;
    uint16_t index = (uint16_t)vmcs12_get(v12, GUEST_PML_INDEX);
    uint64_t entry = l2_gpa & ~0xfffull;
    unsigned slot = ept12_pml_log(&index);
    (void)guest_mem_write(v->vm, vmcs12_get(v12, PML_ADDRESS) + 8ull * slot, &entry, sizeof(entry));
    nested_set_for_l1(v->nested, GUEST_PML_INDEX, index);
}

/* The accessed and dirty flags a mapped walk sets (EPTP bit 6), and the
 * PML log entry of a dirty flag set; false if an entry changed under the
 * walk (walk again) or L1's log is full (*pml_full). */
static bool set_accessed_dirty(struct vcpu *v, uint64_t l2_gpa, const struct ept12_walk *walk,
                               bool write, bool *pml_full)
{
    uint64_t set[EPT12_LEVELS];
    ept12_ad_updates(walk, write, set);
    bool any = false;
    for (unsigned i = 0; i < walk->used; i++)
        any |= set[i] != 0;
    enum pml_outcome pml = any ? pml_check(v) : PML_NOTHING;
    *pml_full = pml == PML_FULL;
    if (*pml_full)
        return false;
    for (unsigned i = 0; i < walk->used; i++)
        if (set[i] && !set_ept12_flags(v->vm, walk->entry_gpa[i], walk->entry[i], set[i]))
            return false;
    if (pml == PML_LOGGED && (set[walk->used - 1] & EPT12_DIRTY))
        pml_log(v, l2_gpa);
    return true;
}

enum nested_ept_fault nested_ept_violation(struct vcpu *v, uint64_t qualification,
                                           uint64_t *detail)
{
    struct nested_vmx *n = v->nested;
    uint64_t l2_gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
    uint64_t eptp12 = vmcs12_get(n->vmcs12, EPT_POINTER);
    bool ad = eptp12 & EPTP_AD_ENABLED;
    /* With A/D, L2's accesses to its own paging structures are writes
     * (SDM Vol. 3C 30.3.5; Table 28-7 bit 1). */
    if (ad && (qualification & QUAL_LINEAR_VALID) && !(qualification & QUAL_TRANSLATED))
        qualification |= QUAL_WRITE;
    bool write = qualification & QUAL_WRITE;
    struct ept12_format format = offered_format();
    struct ept12_walk walk;
    for (int attempt = 0;; attempt++) {
        ept12_walk(eptp12, l2_gpa, (unsigned)(qualification & QUAL_ACCESS_MASK), &format,
                   read_ept12_entry, v->vm, &walk);
        if (walk.outcome != EPT12_MAPPED || !ad)
            break;
        bool pml_full;
        if (set_accessed_dirty(v, l2_gpa, &walk, write, &pml_full))
            break;
        if (pml_full)
            return NESTED_EPT_PML_FULL;
        if (attempt == 3)
            break;      /* L1 keeps changing the entry: map what it last said */
    }
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
    /* L2 writes a page of L1's that L0 watches (virt/write_watch.h): the
     * watch ends, and the page is mapped writable. */
    if (write && (walk.perms & EPT12_ACCESS_WRITE) && write_watch_covers(v->vm, walk.l1_gpa))
        (void)dirty_log_watched_write(v->vm, walk.l1_gpa);
    /* A page whose leaf is not dirty is not writable in EPT02: its first
     * write must come back to set the flag. */
    if (ad && !write && !(walk.entry[walk.used - 1] & EPT12_DIRTY))
        walk.perms &= ~EPT12_ACCESS_WRITE;
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

void nested_ept_write_protect(struct vm *vm, uint64_t hpa)
{
    uint64_t eptps[EPT02_SLOTS];
    unsigned changed = 0;
    spin_lock(&vm->ept02_lock);
    if (vm->ept02)
        changed = ept02_unmap_host_page(vm->ept02, hpa, eptps);
    spin_unlock(&vm->ept02_lock);
    for (unsigned i = 0; i < changed; i++)
        tlb_flush_ept_everywhere(eptps[i]);
}

void nested_ept_vm_free(struct vm *vm)
{
    if (!vm->ept02)
        return;
    ept02_cache_destroy(vm->ept02);
    page_free(vm->ept02, EPT02_CACHE_PAGES);
    vm->ept02 = NULL;
}
