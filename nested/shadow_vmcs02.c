/* Hardware VMCS shadowing for L2 (nested/shadow_vmcs02.h). */
#include "nested/shadow_vmcs02.h"
#include "nested/nested.h"
#include "nested/shadow_fields.h"
#include "nested/shadow_vmcs.h"
#include "nested/vmcs12.h"
#include "virt/write_watch.h"
#include "virt/guest_mem.h"
#include "virt/vcpu.h"
#include "virt/vm.h"
#include "vmx/loaded_vmcs.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_controls.h"
#include "arch/percpu.h"
#include "lib/bitmap.h"
#include "lib/page_alloc.h"
#include "lib/string.h"

#define BITMAP_PAGES 2      /* VMREAD's, then VMWRITE's */

/* The words of L0's VMREAD (0) and VMWRITE (1) bitmaps that let some
 * field through: the only ones a merge writes. */
static uint16_t open_words[2][SHADOW_BITMAP_WORDS];
static unsigned open_count[2];

void shadow02_init(void)
{
    for (unsigned write = 0; write < 2; write++) {
        const uint64_t *l0 = shadow_vmcs_bitmap(write);
        if (l0)
            open_count[write] =
                (unsigned)bitmap_words_with_clear_bits(l0, SHADOW_BITMAP_WORDS, open_words[write]);
    }
}

/* shadow02 and vmcs02's bitmaps (all ones but where a merge writes), made
 * at the first entry that links them; false without memory. */
static bool make_shadow02(struct nested_vmx *n)
{
    if (n->shadow02)
        return true;
    uint64_t *bitmaps = page_alloc(BITMAP_PAGES);
    uint64_t region = bitmaps ? shadow_region_alloc() : 0;
    if (!region) {
        if (bitmaps)
            page_free(bitmaps, BITMAP_PAGES);
        return false;
    }
    memset(bitmaps, 0xff, BITMAP_PAGES * 4096);
    n->bitmaps02 = bitmaps;
    n->shadow02 = region;
    /* The processor may keep it active where vmcs02 is: cleared with it. */
    n->vmcs02.shadow = region;
    return true;
}

/* The fields L2 can write through shadow02 back into L1's region; shadow02
 * holds no region's after. shadow02 is active where vmcs02 last entered
 * (a VM entry with VMCS shadowing makes the linked VMCS active, SDM Vol. 3C
 * 25.1), which need not be this CPU while L1 runs: there it is cleared
 * first, with vmcs02, its data then in memory (25.11.1). */
static void write_back(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    if (n->shadow02_of == NESTED_NO_VMCS)
        return;
    uint32_t cpu = __atomic_load_n(&n->vmcs02.cpu, __ATOMIC_ACQUIRE);
    if (cpu != VMCS_NOT_LOADED && cpu != this_cpu()->index)
        loaded_vmcs_clear(&n->vmcs02);
    const struct shadow_fields *f = shadow_vmcs_fields();
    uint64_t flags = shadow_region_enter(n->shadow02);
    for (unsigned i = 0; i < f->rw_count; i++)
        vmcs12_place_set(n->shadow02_image, &f->rw[i], vmcs_read(f->rw[i].encoding));
    shadow_region_leave(v, n->shadow02, flags);
    write_watch_note(v->vm, n->shadow02_of, sizeof(*n->shadow02_image));
    n->shadow02_of = NESTED_NO_VMCS;
}

static void unlink(struct nested_vmx *n)
{
    if (!n->shadow02_linked)
        return;
    loaded_vmcs_set_proc2(&n->vmcs02, n->vmcs02.controls.proc2 & ~PROC2_VMCS_SHADOWING);
    vmcs_write(VMCS_LINK_POINTER, ~0ull);
    n->shadow02_linked = false;
}

void shadow02_enter(struct vcpu *v, uint32_t proc2_12)
{
    struct nested_vmx *n = v->nested;
    const struct vmcs12 *v12 = n->vmcs12;
    uint64_t link = vmcs12_get(v12, VMCS_LINK_POINTER);
    /* The entry checks passed the pointer (4 KiB-aligned, a shadow VMCS
     * of our revision: SDM Vol. 3C 27.3.1.5) and the bitmaps' addresses
     * (27.2.1.1). */
    struct vmcs12 *image = NULL;
    if ((proc2_12 & PROC2_VMCS_SHADOWING) && link != ~0ull && shadow_vmcs_used(v) &&
        make_shadow02(n))
        image = guest_page_ref_get(v->vm, &n->link12, link);
    if (!image) {
        unlink(n);
        return;
    }
    if (n->shadow02_of != link) {
        write_back(v);
        uint64_t flags = shadow_region_enter(n->shadow02);
        shadow_region_load(image);
        shadow_region_leave(v, n->shadow02, flags);
        n->shadow02_of = link;
        n->shadow02_image = image;
    }
    /* L1 may have changed its bitmaps since the last entry, as with the
     * MSR bitmap (nested/switch.c): merged at every entry. */
    uint64_t *read02 = n->bitmaps02, *write02 = n->bitmaps02 + SHADOW_BITMAP_WORDS;
    shadow_bitmap_merge(read02, shadow_vmcs_bitmap(false),
                        guest_page_ref_get(v->vm, &n->vmread_bitmap12, vmcs12_get(v12, VMREAD_BITMAP)),
                        open_words[0], open_count[0]);
    shadow_bitmap_merge(write02, shadow_vmcs_bitmap(true),
                        guest_page_ref_get(v->vm, &n->vmwrite_bitmap12, vmcs12_get(v12, VMWRITE_BITMAP)),
                        open_words[1], open_count[1]);
    if (!n->shadow02_linked) {
        vmcs_write(VMREAD_BITMAP, (uint64_t)read02);
        vmcs_write(VMWRITE_BITMAP, (uint64_t)write02);
        vmcs_write(VMCS_LINK_POINTER, n->shadow02);
        loaded_vmcs_set_proc2(&n->vmcs02, n->vmcs02.controls.proc2 | PROC2_VMCS_SHADOWING);
        n->shadow02_linked = true;
    }
}

void shadow02_release(struct vcpu *v, uint64_t gpa)
{
    if (v->nested->shadow02_of == gpa)
        write_back(v);
}

void shadow02_written(struct vcpu *v, uint64_t gpa, uint32_t encoding)
{
    struct nested_vmx *n = v->nested;
    if (n->shadow02_of != gpa ||
        !shadow_bitmap_passes((const uint8_t *)shadow_vmcs_bitmap(false), encoding))
        return;
    uint64_t flags = shadow_region_enter(n->shadow02);
    vmcs_write(encoding & ~1u, vmcs12_get(n->shadow02_image, encoding & ~1u));    /* a high half: its field */
    shadow_region_leave(v, n->shadow02, flags);
}

void shadow02_free(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    if (!n->shadow02)
        return;
    loaded_vmcs_drop_shadow(&n->vmcs02);
    page_free((void *)n->shadow02, 1);
    page_free(n->bitmaps02, BITMAP_PAGES);
    n->shadow02 = 0;
    n->bitmaps02 = NULL;
    n->shadow02_of = NESTED_NO_VMCS;
    n->shadow02_linked = false;
}
