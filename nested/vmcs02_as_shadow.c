/* vmcs02 as L1's shadow VMCS (nested/vmcs02_as_shadow.h). */
#include "nested/vmcs02_as_shadow.h"
#include "nested/nested.h"
#include "nested/shadow_fields.h"
#include "nested/shadow_vmcs.h"
#include "nested/vmcs02_fields.h"
#include "nested/vmcs12.h"
#include "virt/vcpu.h"
#include "virt/vcpu_vmcs.h"
#include "virt/vm.h"
#include "virt/vmcs_setup.h"
#include "vmx/loaded_vmcs.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_controls.h"
#include "vmx/vmx_cpu.h"
#include "vmx/vmx_insn.h"
#include "arch/cpu.h"
#include "arch/cpuid_cache.h"
#include "arch/percpu.h"
#include "arch/platform.h"
#include "lib/page_alloc.h"
#include "lib/string.h"

/* The fields L1 may write in vmcs02 as its shadow, which each entry takes
 * back (nested/vmcs02_as_shadow.h): guest fields, and those vmcs02 holds
 * for L1 only, which a nested exit puts there: the event to inject, which
 * every processor has, and two that some lack (bits of `optional`). A field
 * the processor lacks is in no bitmap: L1 reaches vmcs12's through the
 * emulation. */
#define PUT_FIELDS(X)                                                                     \
    X(VM_ENTRY_INTR_INFO) X(VM_ENTRY_EXCEPTION_ERROR_CODE) X(VM_ENTRY_INSTRUCTION_LEN)
#define OPTIONAL_FIELDS(X) X(VMX_PREEMPTION_TIMER_VALUE, 1) X(GUEST_PML_INDEX, 2)
/* And the fields vmcs02 has values of its own in, which L1s touch between
 * some exits and entries (vmxvisor as L1 reads CR0, CR4 and EFER to decode
 * L2's instructions, and opens and closes its interrupt window with the
 * primary controls): swapped, vmcs12's value shown L1 in vmcs02 while it
 * is the shadow, vmcs02's own put back by the entry. L1 writes the
 * controls there (taken back as the writable fields are); its writes of
 * the others exit. CR0, CR4 and EFER are swapped only after the exit
 * reasons L1 read them at (nested_vmx.vmcs02_swap_reasons): for the
 * others an exit leaves their vmcs12 values unworked (the three-way rule,
 * nested/switch.c) and L1's reads of them exit, read by the second VMREAD
 * bitmap. */
#define SWAPPED_GUEST_FIELDS(X) X(GUEST_CR0, cr0) X(GUEST_CR4, cr4) X(GUEST_IA32_EFER, efer)

static struct {
    bool available;
    uint8_t *vmread_bitmap, *vmread_bitmap_swapped, *vmwrite_bitmap;
    unsigned optional;
} scheme;

static void let_read(uint8_t *bitmap, uint32_t encoding)
{
    if (shadow_vmcs_keeps(encoding))
        shadow_bitmap_let_through(bitmap, encoding);
}

/* The VMREAD bitmap for an exit that swaps CR0, CR4 and EFER or not. */
static const uint8_t *read_bitmap(bool swapped)
{
    return swapped ? scheme.vmread_bitmap_swapped : scheme.vmread_bitmap;
}

void vmcs02_as_shadow_init(void)
{
    if (!(vmcs_config.misc & VMX_MISC_VMWRITE_ANY_FIELD) || !shadow_vmcs_keeps(GUEST_RIP))
        return;
    scheme.vmread_bitmap = page_alloc(1);
    scheme.vmread_bitmap_swapped = page_alloc(1);
    scheme.vmwrite_bitmap = page_alloc(1);
    if (!scheme.vmread_bitmap || !scheme.vmread_bitmap_swapped || !scheme.vmwrite_bitmap)
        panic("out of memory for the vmcs02-as-shadow bitmaps");
    memset(scheme.vmread_bitmap, 0xff, SHADOW_BITMAP_BYTES);
    memset(scheme.vmwrite_bitmap, 0xff, SHADOW_BITMAP_BYTES);
#define LET_READ(id) let_read(scheme.vmread_bitmap, id);
    GUEST_FIELDS(LET_READ)
    EXIT_INFO_FIELDS(LET_READ)
    LET_READ(VM_EXIT_REASON)
#undef LET_READ
#define LET_WRITE(id)                                                                     \
    shadow_bitmap_let_through(scheme.vmread_bitmap, id);                                  \
    shadow_bitmap_let_through(scheme.vmwrite_bitmap, id);
    VMCS02_SHADOW_WRITABLE_GUEST_FIELDS(LET_WRITE)
    PUT_FIELDS(LET_WRITE)
    LET_WRITE(CPU_BASED_VM_EXEC_CONTROL)
#define LET_WRITE_OPTIONAL(id, bit)                                                       \
    if (shadow_vmcs_keeps(id)) {                                                          \
        LET_WRITE(id)                                                                     \
        scheme.optional |= bit;                                                           \
    }
    OPTIONAL_FIELDS(LET_WRITE_OPTIONAL)
#undef LET_WRITE_OPTIONAL
#undef LET_WRITE
    memcpy(scheme.vmread_bitmap_swapped, scheme.vmread_bitmap, SHADOW_BITMAP_BYTES);
#define LET_READ_SWAPPED(id, own) let_read(scheme.vmread_bitmap_swapped, id);
    SWAPPED_GUEST_FIELDS(LET_READ_SWAPPED)
#undef LET_READ_SWAPPED
    scheme.available = true;
}

#define PAUSE_MIN 16
#define PAUSE_MAX 1024

bool vmcs02_as_shadow_allowed(const struct vcpu *v)
{
    enum vmcs02_shadow_setting setting = v->vm->config.vmcs02_shadow;
    return scheme.available &&
           (setting == VMCS02_SHADOW_ON || (setting == VMCS02_SHADOW_AUTO && !running_in_vm()));
}

bool vmcs02_as_shadow_wanted(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    if (n->vmcs02_shadow != VMCS02_NOT_SHADOW)
        return true;
    if (!n->shadow_linked || n->shadow_promoted)
        return false;
    if (n->vmcs02_shadow_pause) {
        n->vmcs02_shadow_pause--;
        return false;
    }
    return true;
}

/* Unrolled, each field a constant: a nested exit and entry take them all. */
void vmcs02_as_shadow_put(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    const struct vmcs12 *v12 = n->vmcs12;
#define PUT(id) vmcs_write_base(id, vmcs12_get(v12, id));
#define PUT_OPTIONAL(id, bit)                                                             \
    if (scheme.optional & (bit))                                                          \
        PUT(id)
#define SWAP(id, own)                                                                     \
    n->vmcs02_own.own = vmcs_read_base(id);                                               \
    PUT(id)
    PUT_FIELDS(PUT)
    OPTIONAL_FIELDS(PUT_OPTIONAL)
    if (n->vmcs02_swapped) {
        SWAPPED_GUEST_FIELDS(SWAP)
    }
    PUT(CPU_BASED_VM_EXEC_CONTROL)      /* vmcs02.controls keeps vmcs02's own */
#undef SWAP
#undef PUT_OPTIONAL
#undef PUT
}

/* VMCLEAR of vmcs02, interrupts off (a cross-CPU clear must not run
 * between): its data in its region, which may then change (SDM Vol. 3C
 * 25.11.1); and it is clear, so that it is launched next. */
static void clear_vmcs02_irqs_off(struct nested_vmx *n)
{
    if (vmclear(n->vmcs02.vmcs) != VMX_SUCCEED)
        panic("VMCLEAR of vmcs02 failed");
    n->vmcs02.launched = false;
}

static void clear_vmcs02(struct nested_vmx *n)
{
    uint64_t flags = irq_save();
    clear_vmcs02_irqs_off(n);
    irq_restore(flags);
}

static void set_indicator(struct nested_vmx *n, bool shadow)
{
    uint32_t *revision = (uint32_t *)n->vmcs02.vmcs;
    *revision = shadow ? *revision | VMCS12_SHADOW_INDICATOR : *revision & ~VMCS12_SHADOW_INDICATOR;
}

void vmcs02_as_shadow_park(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    clear_vmcs02(n);
    set_indicator(n, true);
    if (n->vmcs02_shadow == VMCS02_NOT_SHADOW) {
        if (n->shadow_linked)
            shadow_vmcs_unlink(v);
        vmcs_write(VMREAD_BITMAP, (uint64_t)read_bitmap(false));
        n->vmcs02_swap_bitmap_linked = false;
        vmcs_write(VMWRITE_BITMAP, (uint64_t)scheme.vmwrite_bitmap);
        vmcs_write(VMCS_LINK_POINTER, n->vmcs02.vmcs);
        loaded_vmcs_set_proc2(&v->lv, v->lv.controls.proc2 | PROC2_VMCS_SHADOWING);
    }
    if (n->vmcs02_swap_bitmap_linked != n->vmcs02_swapped) {
        n->vmcs02_swap_bitmap_linked = n->vmcs02_swapped;
        vmcs_write(VMREAD_BITMAP, (uint64_t)read_bitmap(n->vmcs02_swapped));
    }
    /* L1's VMREADs and VMWRITEs may leave its data in this processor: a
     * migration of vmcs01 clears it with it (vmx/loaded_vmcs.h). */
    v->lv.shadow = n->vmcs02.vmcs;
    n->vmcs02_shadow = VMCS02_PARKED;
    n->vmcs02_shadow_parks++;
}

/* vmcs02 current for `copy`, then the vCPU's VMCS again (vmcs02
 * ordinary). */
static void with_vmcs02_loaded(struct vcpu *v, void (*copy)(struct vcpu *v))
{
    struct nested_vmx *n = v->nested;
    if (loaded_vmcs_load(&n->vmcs02))
        vmcs_write_host_per_cpu_state();    /* it came from another CPU */
    copy(v);
    if (loaded_vmcs_load(v->vmcs))
        vmcs_write_host_per_cpu_state();
}

/* The writable fields from vmcs02 (current) into vmcs12. Those a check
 * reads count as L1's writes if they changed (nested_note_written); RIP,
 * RSP, the timer value and the event to inject, which none reads (or
 * whose own checks run at every entry that injects), and which vmcs02 has
 * already, are only stored. */
static void take_fields(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    struct vmcs12 *v12 = n->vmcs12;
#define STORE(id) vmcs12_set(v12, id, vmcs_read_base(id));
#define TAKE(id)                                                                          \
    if (shadow_field_take(v12, id, vmcs_read_base(id)))                                   \
        nested_note_written(n, id);
    STORE(GUEST_RIP) STORE(GUEST_RSP) TAKE(GUEST_RFLAGS) TAKE(GUEST_INTERRUPTIBILITY_INFO)
    PUT_FIELDS(STORE)
    if (scheme.optional & 1)
        STORE(VMX_PREEMPTION_TIMER_VALUE)
    if (scheme.optional & 2)
        TAKE(GUEST_PML_INDEX)
    TAKE(CPU_BASED_VM_EXEC_CONTROL)
#undef TAKE
#undef STORE
    /* vmcs02's own values back (a change of vmcs12's makes the entry write
     * them anew: controls_stale, entry_state_stale). */
    vmcs_write_base(CPU_BASED_VM_EXEC_CONTROL, n->vmcs02.controls.proc);
#define RESTORE(id, own) vmcs_write_base(id, n->vmcs02_own.own);
    if (n->vmcs02_swapped) {
        SWAPPED_GUEST_FIELDS(RESTORE)
    }
#undef RESTORE
}

void vmcs02_as_shadow_take(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    v->lv.shadow = 0;
    n->vmcs02_shadow = VMCS02_TAKEN;
    n->vmcs02_shadow_next_pause = PAUSE_MIN;
    n->vmcs02_shadow_takes++;
    uint32_t me = this_cpu()->index;
    uint64_t flags = irq_save();
    clear_vmcs02_irqs_off(n);
    set_indicator(n, false);
    /* The vCPU's VMCS from here on: the entry runs on it next. */
    if (n->vmcs02.cpu == me) {
        vcpu_vmcs_becomes(v, &n->vmcs02);
        loaded_vmcs_make_current(&n->vmcs02, me);
        irq_restore(flags);
    } else {
        irq_restore(flags);
        vcpu_run_on(v, &n->vmcs02);     /* active on the CPU L1 last ran on: it moves */
    }
    take_fields(v);
}

void vmcs02_as_shadow_refill(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    uint64_t flags = shadow_region_enter(n->vmcs02.vmcs);
    vmcs02_as_shadow_put(v);
    shadow_region_leave(v, n->vmcs02.vmcs, flags);
}

void vmcs02_as_shadow_repark(struct vcpu *v)
{
    if (v->nested->vmcs02_shadow != VMCS02_TAKEN)
        return;
    vcpu_run_on(v, &v->lv);     /* the take left vmcs02 current */
    vmcs02_as_shadow_park(v);
    vmcs02_as_shadow_refill(v);
}

void vmcs02_as_shadow_written(struct vcpu *v, uint32_t encoding)
{
    struct nested_vmx *n = v->nested;
    uint32_t field = encoding & ~1u;
    if (!shadow_bitmap_passes(read_bitmap(n->vmcs02_swap_bitmap_linked), field))
        return;
    uint64_t flags = shadow_region_enter(n->vmcs02.vmcs);
    vmcs_write(field, vmcs12_get(n->vmcs12, field));
    shadow_region_leave(v, n->vmcs02.vmcs, flags);
}

void vmcs02_as_shadow_read(struct vcpu *v, uint32_t encoding)
{
    struct nested_vmx *n = v->nested;
    if (n->vmcs02_shadow != VMCS02_PARKED || n->vmcs02_swapped)
        return;
#define SWAPPED(id, own) || (encoding & ~1u) == id
    if (0 SWAPPED_GUEST_FIELDS(SWAPPED))
        n->vmcs02_swap_reasons |= 1ull << (n->vmcs02_parked_reason & 63);
#undef SWAPPED
}

void vmcs02_as_shadow_with_current(struct vcpu *v, void (*copy)(struct vcpu *v))
{
    struct nested_vmx *n = v->nested;
    if (n->vmcs02_shadow != VMCS02_PARKED) {
        with_vmcs02_loaded(v, copy);
        return;
    }
    /* A shadow VMCS may be current for VMREAD and VMWRITE (25.10). */
    uint64_t flags = shadow_region_enter(n->vmcs02.vmcs);
    copy(v);
    shadow_region_leave(v, n->vmcs02.vmcs, flags);
}

#define MISS_WINDOW 64
#define MISS_LIMIT 32

bool vmcs02_as_shadow_missed(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    if (n->vmcs02_shadow != VMCS02_PARKED)
        return false;
    if (n->vmcs02_shadow_parks - n->vmcs02_miss_window >= MISS_WINDOW) {
        n->vmcs02_miss_window = n->vmcs02_shadow_parks;
        n->vmcs02_misses = 0;
    }
    return ++n->vmcs02_misses >= MISS_LIMIT;
}

/* Each time for twice as long: an L1 that keeps making them (whose fields
 * the shadow apart has in its static lists, so that nothing is learnt to
 * keep the scheme away) pays the misses that bring the scheme down again
 * a few times only. */
#define STEP_ASIDE_PAUSE_MAX (1u << 20)

void vmcs02_as_shadow_step_aside(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    vmcs02_as_shadow_leave(v);
    uint32_t pause = n->vmcs02_step_aside_pause;
    pause = !pause ? PAUSE_MAX : pause < STEP_ASIDE_PAUSE_MAX ? 2 * pause : STEP_ASIDE_PAUSE_MAX;
    n->vmcs02_step_aside_pause = pause;
    n->vmcs02_shadow_pause = pause;
    n->vmcs02_misses = 0;
    n->vmcs02_shadow_steps_aside++;
}

void vmcs02_as_shadow_leave(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    if (n->vmcs02_shadow == VMCS02_PARKED) {
        /* What L1 wrote there since the exit is vmcs12's, as it would
         * have been at the entry (which VMCLEARs it, as this does). */
        uint64_t flags = shadow_region_enter(n->vmcs02.vmcs);
        take_fields(v);
        /* An event L1 wrote there to inject is vmcs12's now, and vmcs02
         * keeps none, as after an exit without the scheme (finish_exit):
         * the next entry writes the event fields only if its vmcs12
         * injects (prepare_vmcs02), and that may be another VMCS. */
        vmcs_write_base(VM_ENTRY_INTR_INFO, 0);
        shadow_region_leave(v, n->vmcs02.vmcs, flags);
        n->vmcs02.launched = false;
        set_indicator(n, false);
        n->vmcs02_shadow_leaves++;
        uint32_t pause = n->vmcs02_shadow_next_pause ? n->vmcs02_shadow_next_pause : PAUSE_MIN;
        n->vmcs02_shadow_pause = pause;
        n->vmcs02_shadow_next_pause = pause < PAUSE_MAX ? 2 * pause : PAUSE_MAX;
    }
    loaded_vmcs_set_proc2(&v->lv, v->lv.controls.proc2 & ~PROC2_VMCS_SHADOWING);
    vmcs_write(VMCS_LINK_POINTER, ~0ull);
    v->lv.shadow = 0;
    n->vmcs02_shadow = VMCS02_NOT_SHADOW;
}
