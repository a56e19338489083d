/* Dirty-page measurement (virt/dirty_log.h). */
#include "virt/dirty_log.h"
#include "virt/guest_mem.h"
#include "virt/vm.h"
#include "virt/write_watch.h"
#include "vmx/tlb.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_controls.h"
#include "vmx/vmx_cpu.h"
#include "mmu/ept.h"
#include "arch/cpu.h"
#include "arch/tsc.h"
#include "lib/bitmap.h"
#include "lib/page_alloc.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "sched/sched.h"

#define PML_ENTRIES 512
#define PML_EMPTY   (~0ull)     /* never logged: logged addresses have bits 11:0 clear */

/* A RAM page's bit: RAM below the PCI hole, then from 4 GiB on. */
static bool page_bit(const struct vm *vm, uint64_t gpa, uint64_t *bit)
{
    uint64_t low_end = guest_low_ram_end(vm->ram_size);
    uint64_t offset = gpa < low_end ? gpa : gpa - GUEST_HIGH_RAM_BASE + low_end;
    if (gpa >= low_end && gpa < GUEST_HIGH_RAM_BASE)
        return false;
    *bit = offset / PAGE_SIZE;
    return *bit < vm->dirty_log.ram_pages;
}

static void mark_dirty(struct vm *vm, uint64_t gpa)
{
    uint64_t bit;
    if (page_bit(vm, gpa, &bit))
        __atomic_fetch_or(&vm->dirty_log.dirty[bit / BITS_PER_WORD], 1ull << (bit % BITS_PER_WORD),
                          __ATOMIC_RELAXED);
}

static size_t bitmap_pages(uint64_t bits)
{
    return (BITMAP_WORDS(bits) * sizeof(uint64_t) + PAGE_SIZE - 1) / PAGE_SIZE;
}

void dirty_log_free(struct vm *vm)
{
    struct dirty_log *d = &vm->dirty_log;
    size_t pages = bitmap_pages(d->ram_pages);
    if (d->dirty)
        page_free(d->dirty, pages);
    if (d->protected)
        page_free(d->protected, pages);
    if (d->state == DIRTY_LOG_MEASURING) {
        vm->allow_2m = d->allow_2m;
        vm->allow_1g = d->allow_1g;
    }
    *d = (struct dirty_log){ 0 };
}


static void clear_dirty_flag(void *ctx, uint64_t gpa, uint64_t size, uint64_t *entry)
{
    (void)ctx, (void)gpa, (void)size;
    __atomic_fetch_and(entry, ~EPT_DIRTY, __ATOMIC_RELAXED);
}

/* A watched page (virt/write_watch.h) has no write permission either, and
 * gets it back at its first write, which its fault's handler counts:
 * protected as well, so that the measurement's end leaves it alone. */
static void take_write(void *ctx, uint64_t gpa, uint64_t size, uint64_t *entry)
{
    (void)size;
    struct vm *vm = ctx;
    uint64_t bit;
    if ((!(*entry & EPT_WRITE) && !write_watch_covers(vm, gpa)) || !page_bit(vm, gpa, &bit))
        return;
    bitmap_set(vm->dirty_log.protected, bit);
    __atomic_fetch_and(entry, ~EPT_WRITE, __ATOMIC_RELAXED);
}

static void give_write_back(void *ctx, uint64_t gpa, uint64_t size, uint64_t *entry)
{
    (void)size;
    struct vm *vm = ctx;
    uint64_t bit;
    if (page_bit(vm, gpa, &bit) && bitmap_test(vm->dirty_log.protected, bit) &&
        !write_watch_covers(vm, gpa))
        __atomic_fetch_or(entry, EPT_WRITE, __ATOMIC_RELAXED);
}

/* The EPT as a period starts: every dirty flag clear (PML), or write
 * permission taken from every RAM page (write protection); vm->lock held.
 * The CPUs' cached translations go with REQ_DIRTY_LOG or on the CPU loop's
 * first use of the VM. */
static void arm(struct vm *vm)
{
    ept_for_each_leaf(&vm->ept, vm->dirty_log.pml ? clear_dirty_flag : take_write, vm);
}

bool dirty_log_start(struct vm *vm, uint64_t cycles, uint32_t periods, char *why,
                     size_t why_size)
{
    struct dirty_log *d = &vm->dirty_log;
    spin_lock(&vm->lock);
    if (d->state == DIRTY_LOG_MEASURING) {
        spin_unlock(&vm->lock);
        snprintf(why, why_size, "a measurement is under way");
        return false;
    }
    dirty_log_free(vm);
    bool pml = (vmcs_config.ctl[VMX_CTL_PROC2] & PROC2_ENABLE_PML) && vm->ept.accessed_dirty;
    d->ram_pages = vm->ram_size / PAGE_SIZE;
    size_t pages = bitmap_pages(d->ram_pages);
    d->dirty = page_alloc(pages);
    d->protected = pml ? NULL : page_alloc(pages);
    if (!d->dirty || (!pml && !d->protected) || ept_split_large(&vm->ept) != EPT_OK) {
        dirty_log_free(vm);
        spin_unlock(&vm->lock);
        snprintf(why, why_size, "out of host memory");
        return false;
    }
    memset(d->dirty, 0, pages * PAGE_SIZE);
    if (d->protected)
        memset(d->protected, 0, pages * PAGE_SIZE);
    d->pml = pml;
    d->allow_2m = vm->allow_2m;
    d->allow_1g = vm->allow_1g;
    vm->allow_2m = vm->allow_1g = false;
    arm(vm);
    d->periods = periods;
    d->period = 0;
    d->period_cycles = cycles;
    d->start = rdtsc();
    d->end = d->start + cycles;
    __atomic_store_n(&d->state, DIRTY_LOG_MEASURING, __ATOMIC_RELEASE);
    spin_unlock(&vm->lock);
    /* Every CPU drops the VM's cached EPT translations: those with write
     * permission or a dirty flag would not fault or log. */
    tlb_flush_ept_everywhere(ept_pointer(&vm->ept));
    for (uint32_t i = 0; i < vm->vcpu_count; i++)
        vcpu_request(&vm->vcpus[i], REQ_DIRTY_LOG);
    return true;
}

/* The log entries below the index in a vCPU's buffer, or all that are not
 * empty (another CPU's, whose index is in its VMCS), into the dirty set. */
static void drain(struct vm *vm, uint64_t *buffer, unsigned from)
{
    for (unsigned i = from; i < PML_ENTRIES; i++) {
        if (buffer[i] != PML_EMPTY)
            mark_dirty(vm, buffer[i]);
        buffer[i] = PML_EMPTY;
    }
}

void dirty_log_vcpu_sync(struct vcpu *v)
{
    struct vm *vm = v->vm;
    tlb_flush_ept(ept_pointer(&vm->ept));
    bool want = vm->dirty_log.state == DIRTY_LOG_MEASURING && vm->dirty_log.pml;
    if (want == v->pml_on)
        return;
    if (v->in_l2) {
        vcpu_request(v, REQ_DIRTY_LOG);     /* vmcs01 is not current: after the nested exit */
        return;
    }
    if (want) {
        if (!v->pml_buffer && !(v->pml_buffer = page_alloc(1)))
            return;     /* its writes go uncounted */
        memset(v->pml_buffer, 0xff, PAGE_SIZE);
        vmcs_write(PML_ADDRESS, (uint64_t)(uintptr_t)v->pml_buffer);
        vmcs_write(GUEST_PML_INDEX, PML_ENTRIES - 1);
        loaded_vmcs_set_proc2(&v->lv, v->lv.controls.proc2 | PROC2_ENABLE_PML);
    } else {
        loaded_vmcs_set_proc2(&v->lv, v->lv.controls.proc2 & ~PROC2_ENABLE_PML);
    }
    v->pml_on = want;
}

void dirty_log_pml_full(struct vcpu *v)
{
    if (v->pml_buffer)
        drain(v->vm, v->pml_buffer, 0);
    vmcs_write(GUEST_PML_INDEX, PML_ENTRIES - 1);
}

bool dirty_log_watched_write(struct vm *vm, uint64_t gpa)
{
    if (!write_watch_fault(vm, gpa))
        return false;
    if (vm->dirty_log.state == DIRTY_LOG_MEASURING)
        dirty_log_mapped(vm, gpa, true);
    return true;
}

bool dirty_log_write_fault(struct vm *vm, uint64_t gpa)
{
    struct dirty_log *d = &vm->dirty_log;
    if (d->state != DIRTY_LOG_MEASURING || d->pml)
        return false;
    bool fixed = false;
    spin_lock(&vm->lock);
    uint64_t size, bit, *leaf = ept_leaf(&vm->ept, gpa, &size);
    if (leaf && (*leaf & EPT_READ) && !(*leaf & EPT_WRITE) && page_bit(vm, gpa, &bit) &&
        bitmap_test(d->protected, bit)) {
        mark_dirty(vm, gpa);
        __atomic_fetch_or(leaf, EPT_WRITE, __ATOMIC_RELAXED);
        fixed = true;
    }
    spin_unlock(&vm->lock);
    return fixed;
}

void dirty_log_mapped(struct vm *vm, uint64_t gpa, bool write)
{
    struct dirty_log *d = &vm->dirty_log;
    if (write) {
        mark_dirty(vm, gpa);
        return;
    }
    if (d->pml)
        return;     /* its dirty flag starts clear: the first write logs */
    spin_lock(&vm->lock);
    uint64_t size, *leaf = ept_leaf(&vm->ept, gpa, &size);
    if (d->state == DIRTY_LOG_MEASURING && leaf)
        take_write(vm, gpa & ~(size - 1), size, leaf);
    spin_unlock(&vm->lock);
}

static uint64_t count_dirty(const struct dirty_log *d)
{
    uint64_t n = 0;
    for (uint64_t w = 0; w < BITMAP_WORDS(d->ram_pages); w++)
        n += (uint64_t)__builtin_popcountll(d->dirty[w]);
    return n;
}

/* A period's pages/s and MiB/s, with two decimals. */
static void print_period(const struct vm *vm, uint32_t period)
{
    const struct dirty_log *d = &vm->dirty_log;
    const struct dirty_period *p = &d->result[period];
    uint64_t per_s = p->ms ? p->pages * 1000 / p->ms : 0;
    uint64_t kib_per_s = per_s * (PAGE_SIZE / 1024);
    char which[32] = "";
    if (d->periods > 1)
        snprintf(which, sizeof(which), ", period %u of %u", period + 1, d->periods);
    kprintf("vm %s: dirty rate %lu pages/s, %lu.%02lu MiB/s (%lu pages written in %lu ms, %s%s)\n",
            vm->config.name, per_s, kib_per_s / 1024, kib_per_s % 1024 * 100 / 1024, p->pages,
            p->ms, d->pml ? "PML" : "write protection", which);
}

void dirty_log_check(struct vm *vm, uint64_t now)
{
    struct dirty_log *d = &vm->dirty_log;
    if (d->state != DIRTY_LOG_MEASURING || (int64_t)(now - d->end) < 0)
        return;
    spin_lock(&vm->lock);
    if (d->state != DIRTY_LOG_MEASURING || (int64_t)(now - d->end) < 0) {     /* another CPU did */
        spin_unlock(&vm->lock);
        return;
    }
    if (d->pml)
        for (uint32_t i = 0; i < vm->vcpu_count; i++)
            if (vm->vcpus[i].pml_buffer)
                drain(vm, vm->vcpus[i].pml_buffer, 0);
    uint32_t period = d->period;
    uint64_t khz = tsc_khz();
    d->result[period] = (struct dirty_period){ .pages = count_dirty(d),
                                               .ms = (now - d->start) / (khz ? khz : 1) };
    bool last = period + 1 == d->periods;
    if (last) {
        if (!d->pml)
            ept_for_each_leaf(&vm->ept, give_write_back, vm);
        vm->allow_2m = d->allow_2m;
        vm->allow_1g = d->allow_1g;
        __atomic_store_n(&d->state, DIRTY_LOG_DONE, __ATOMIC_RELEASE);
    } else {
        /* The next period: its own dirty set; pages written in this one
         * are clean (or read-only) again. */
        memset(d->dirty, 0, BITMAP_WORDS(d->ram_pages) * sizeof(uint64_t));
        arm(vm);
        d->period = period + 1;
        d->start = now;
        d->end = now + d->period_cycles;
    }
    spin_unlock(&vm->lock);
    for (uint32_t i = 0; i < vm->vcpu_count; i++) {
        vcpu_request(&vm->vcpus[i], REQ_DIRTY_LOG);
        if (!last)      /* out soon, to drop what their CPUs cached */
            sched_kick(vm->vcpus[i].se.cpu);
    }
    print_period(vm, period);
}

void dirty_log_print(struct vm *vm)
{
    const struct dirty_log *d = &vm->dirty_log;
    if (d->state == DIRTY_LOG_IDLE) {
        kprintf("vm %s: no dirty-rate measurement yet (dirty_rate %s SECONDS)\n", vm->config.name,
                vm->config.name);
        return;
    }
    uint32_t done = d->state == DIRTY_LOG_MEASURING ? d->period : d->periods;
    if (d->state == DIRTY_LOG_MEASURING)
        kprintf("vm %s: measuring the dirty-page rate, period %u of %u\n", vm->config.name,
                d->period + 1, d->periods);
    for (uint32_t p = 0; p < done; p++)
        print_period(vm, p);
    if (d->state == DIRTY_LOG_MEASURING)
        return;
    /* The last period's dirty pages as guest-physical ranges, one per line. */
    uint64_t low_end = guest_low_ram_end(vm->ram_size), high_first = low_end / PAGE_SIZE;
    for (uint64_t bit = 0; bit < d->ram_pages;) {
        if (!bitmap_test(d->dirty, bit)) {
            bit++;
            continue;
        }
        uint64_t first = bit;
        /* A range ends where RAM jumps to 4 GiB. */
        while (bit < d->ram_pages && bitmap_test(d->dirty, bit) && (bit != high_first || bit == first))
            bit++;
        uint64_t start = first * PAGE_SIZE, end = bit * PAGE_SIZE;
        if (start >= low_end)
            start += GUEST_HIGH_RAM_BASE - low_end;
        if (end > low_end)
            end += GUEST_HIGH_RAM_BASE - low_end;
        kprintf("  0x%09lx-0x%09lx %lu pages\n", start, end - 1, bit - first);
    }
}
