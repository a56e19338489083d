#include "dev/apicv.h"
#include "dev/devices.h"
#include "dev/vlapic.h"
#include "dev/apic_access.h"
#include "virt/vcpu_msrs.h"
#include "mmu/ept.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_cpu.h"
#include "lib/page_alloc.h"
#include "lib/string.h"

#define CR8_EXITS (PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING)
#define FULL_PROC2 (PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_VIRTUALIZE_X2APIC | \
                    PROC2_APIC_REGISTER_VIRT | PROC2_VIRTUAL_INTR_DELIVERY)

/* The x2APIC MSRs whose reads APIC-register virtualization serves from the
 * page (SDM Vol. 3C 30.5): ID, version, TPR, PPR, LDR, SVR, ISR, TMR, IRR,
 * ESR, ICR, the LVT entries, initial count and divide configuration. Not
 * EOI and SELF IPI (write-only: #GP), nor current count (the model's). */
static bool x2apic_read_virtualised(uint32_t msr)
{
    uint32_t r = msr - X2APIC_MSR_FIRST;
    return r == 0x2 || r == 0x3 || r == 0x8 || r == 0xa || r == 0xd || r == 0xf ||
           (r >= 0x10 && r <= 0x28) || r == 0x30 || (r >= 0x32 && r <= 0x38) || r == 0x3e;
}

static enum apicv_mode cpu_mode(void)
{
    const uint32_t *ctl = vmcs_config.ctl;
    if (!(ctl[VMX_CTL_PROC] & PROC_USE_TPR_SHADOW))
        return APICV_OFF;
    if ((ctl[VMX_CTL_PROC2] & FULL_PROC2) == FULL_PROC2)
        return APICV_FULL;
    return APICV_TPR_SHADOW;
}

bool apicv_vm_init(struct vm *vm)
{
    vm->apicv = vm->config.apicv ? cpu_mode() : APICV_OFF;
    if (vm->apicv != APICV_FULL)
        return true;
    vm->apic_access_page = page_alloc(1);
    uint64_t *bitmap = vm->x2apic_msr_bitmap = page_alloc(1);
    if (!vm->apic_access_page || !bitmap)
        return false;
    memset(vm->apic_access_page, 0, PAGE_SIZE);
    /* The VM's bitmap, and the MSRs x2APIC virtualization serves: the vCPUs
     * in x2APIC mode use it (write_controls). */
    memcpy(bitmap, vm->msr_bitmap, PAGE_SIZE);
    for (uint32_t msr = X2APIC_MSR_FIRST; msr <= X2APIC_MSR_LAST; msr++)
        if (x2apic_read_virtualised(msr))
            msr_bitmap_open(bitmap, msr, true, false);
    /* TPR, EOI and SELF IPI writes are virtualised (SDM Vol. 3C 30.5). */
    msr_bitmap_open(bitmap, X2APIC_MSR_FIRST + (APIC_REG_TPR >> 4), false, true);
    msr_bitmap_open(bitmap, X2APIC_MSR_FIRST + (APIC_REG_EOI >> 4), false, true);
    msr_bitmap_open(bitmap, X2APIC_MSR_FIRST + (APIC_REG_SELF_IPI >> 4), false, true);
    return true;
}

void apicv_vm_free(struct vm *vm)
{
    if (vm->apic_access_page)
        page_free(vm->apic_access_page, 1);
    if (vm->x2apic_msr_bitmap)
        page_free(vm->x2apic_msr_bitmap, 1);
    vm->apic_access_page = NULL;
    vm->x2apic_msr_bitmap = NULL;
}

bool apicv_vm_boot(struct vm *vm)
{
    /* Accesses are virtualised where the guest-physical address translates
     * to the APIC-access address (SDM Vol. 3C 30.4), so EPT maps the xAPIC
     * page there, as KVM does. Not executable: a fetch from it would be no
     * APIC access. A vCPU that moves its APIC elsewhere is emulated there
     * (exits/mmio.c) and loses the virtualization (KVM's APIC-base inhibit). */
    if (vm->apicv != APICV_FULL)
        return true;
    return ept_map(&vm->ept, APIC_DEFAULT_BASE, (uint64_t)vm->apic_access_page, EPT_SIZE_4K,
                   EPT_READ | EPT_WRITE) == EPT_OK;
}

const char *apicv_mode_name(const struct vm *vm)
{
    static const char *const names[] = { [APICV_OFF] = "off", [APICV_TPR_SHADOW] = "TPR shadow",
                                         [APICV_FULL] = "on" };
    return names[vm->apicv];
}

/* EOI-exit bitmap field i/2: TMR words i and i+1, or all ones while the
 * EOI guard is on. */
static void write_eoi_exit_pair(struct vcpu *v, unsigned i)
{
    uint64_t bits = v->apicv.eoi_guard ? ~0ull
                                       : (uint64_t)v->apicv.eoi_exit[i + 1] << 32 | v->apicv.eoi_exit[i];
    vmcs_write(EOI_EXIT_BITMAP0 + i, bits);
}

/* The VMCS's APIC controls for the vCPU's APIC mode (SDM Vol. 3C 25.6.2,
 * 25.6.8): virtualize APIC accesses in xAPIC mode at the default base,
 * virtualize x2APIC mode with its MSR bitmap in x2APIC mode (the two are
 * exclusive: 27.2.1.1). */
static void write_controls(struct vcpu *v, enum apicv_mode now)
{
    struct vlapic *apic = v->apic;
    if (now != APICV_FULL)
        vlapic_irr_words_unknown(apic);     /* the processor's self-IPIs stop here */
    uint32_t proc = v->lv.controls.proc;
    loaded_vmcs_set_proc(&v->lv, now == APICV_OFF ? (proc & ~PROC_USE_TPR_SHADOW) | CR8_EXITS
                                                  : (proc | PROC_USE_TPR_SHADOW) & ~CR8_EXITS);
    if (now != APICV_OFF) {
        vmcs_write(VIRTUAL_APIC_PAGE_ADDR, (uint64_t)apic->regs);
        vmcs_write(TPR_THRESHOLD, 0);
        v->apicv.tpr_threshold = 0;
    }
    if (v->vm->apicv != APICV_FULL)
        return;
    /* The VM's EPT maps the APIC-access page: in xAPIC mode at the default
     * base its accesses always exit, virtualised or (inhibited, no TPR
     * shadow) all as APIC-access exits to be emulated (SDM Vol. 3C 30.4). */
    enum apic_mode mode = vlapic_mode(apic);
    bool at_default = (apic->base_msr & ~0xfffull) == APIC_DEFAULT_BASE;
    bool full = now == APICV_FULL;
    uint32_t proc2 = v->lv.controls.proc2 & ~FULL_PROC2;
    if (full)
        proc2 |= PROC2_APIC_REGISTER_VIRT | PROC2_VIRTUAL_INTR_DELIVERY;
    if (full && mode == APIC_MODE_X2APIC)
        proc2 |= PROC2_VIRTUALIZE_X2APIC;
    else if (mode == APIC_MODE_XAPIC && at_default)
        proc2 |= PROC2_VIRTUALIZE_APIC_ACCESSES;
    loaded_vmcs_set_proc2(&v->lv, proc2);
    vmcs_write(APIC_ACCESS_ADDR, (uint64_t)v->vm->apic_access_page);
    vmcs_write(MSR_BITMAP, full && mode == APIC_MODE_X2APIC ? (uint64_t)v->vm->x2apic_msr_bitmap
                                                            : (uint64_t)v->vm->msr_bitmap);
    for (unsigned i = 0; full && i < 8; i += 2)
        write_eoi_exit_pair(v, i);
}

/* Level-triggered vectors exit on EOI, so that the I/O APIC sees the EOI
 * and may deliver again (SDM Vol. 3C 30.1.4; KVM computes it from the
 * I/O APIC's routes, here it is the TMR the vectors were accepted with).
 * Only TMR words in `words` (bit i: word i) are looked at: TMR changes only
 * with an acceptance into the same IRR word. */
static void sync_eoi_exit_bitmap(struct vcpu *v, uint32_t words)
{
    /* Bit i/2 of `pairs`: TMR words i and i+1, one 64-bit bitmap field. */
    uint32_t pairs = (words | words >> 1) & 0x55;
    for (; pairs; pairs &= pairs - 1) {
        unsigned i = (unsigned)__builtin_ctz(pairs);
        uint32_t lo = vlapic_tmr_word(v->apic, i), hi = vlapic_tmr_word(v->apic, i + 1);
        if (lo == v->apicv.eoi_exit[i] && hi == v->apicv.eoi_exit[i + 1])
            continue;
        v->apicv.eoi_exit[i] = lo;
        v->apicv.eoi_exit[i + 1] = hi;
        if (!v->apicv.eoi_guard)
            write_eoi_exit_pair(v, i);
    }
}

/* The EOI guard. Virtual-interrupt delivery recognizes a pending virtual
 * interrupt when an EOI lowers VPPR under RVI, also while the guest runs
 * with RFLAGS.IF clear (in its handler), and then only IF keeps it from
 * being delivered (SDM Vol. 3C 30.1.4, 30.2.1). Bochs 2.7 does not always
 * keep it: a host interrupt arriving meanwhile (a kick, a host timer) is
 * meant to cause an external-interrupt exit, but Bochs delivers the
 * recognized virtual interrupt instead, IF clear or not (cpu/event.cc,
 * InterruptAcknowledge, asks is_pending rather than is_unmasked). Linux
 * then takes a timer interrupt inside its scheduler with the runqueue lock
 * held and deadlocks on it. So while an EOI could release a waiting vector
 * (vlapic_eoi_may_release) every EOI exits, and the next entry decides
 * with the guest's IF in view (inject_pending_interrupt: a blocked guest
 * gets interrupt-window exiting, under which nothing is recognized). On
 * hardware this costs an exit per EOI that has another interrupt behind
 * it; interrupts mostly come one at a time. */
static void sync_eoi_guard(struct vcpu *v, bool guard)
{
    if (guard == v->apicv.eoi_guard)
        return;
    v->apicv.eoi_guard = guard;
    for (unsigned i = 0; i < 8; i += 2)
        write_eoi_exit_pair(v, i);
}

/* TPR shadow without virtual-interrupt delivery: the highest requested
 * vector held back by TPR sets the threshold, and the guest exits when it
 * lowers TPR under it (SDM Vol. 3C 30.1.2; KVM's update_cr8_intercept). */
static void sync_tpr_threshold(struct vcpu *v)
{
    int vector = vlapic_highest_requested(v->apic);
    uint32_t irr_class = vector < 0 ? 0 : (uint32_t)vector >> 4;
    uint32_t tpr_class = (uint32_t)vlapic_get_cr8(v->apic);
    uint8_t threshold = vector >= 0 && irr_class <= tpr_class ? (uint8_t)irr_class : 0;
    if (threshold != v->apicv.tpr_threshold) {
        v->apicv.tpr_threshold = threshold;
        vmcs_write(TPR_THRESHOLD, threshold);
    }
}

/* Whether `vector`'s priority class is above VPPR's, VPPR being the higher
 * of TPR's and SVI's class (SDM Vol. 3C 30.1.3, 30.2.1); `status` is the
 * guest interrupt status (RVI in bits 7:0, SVI in 15:8). */
static bool above_vppr(const struct vcpu *v, uint64_t status, uint32_t vector)
{
    uint32_t svi_class = (status >> 12) & 0xf;
    uint32_t tpr_class = (vlapic_get(v->apic, APIC_REG_TPR) >> 4) & 0xf;
    return vector >> 4 > (tpr_class > svi_class ? tpr_class : svi_class);
}

bool apicv_interrupt_recognizable(const struct vcpu *v)
{
    /* RVI's priority class above VPPR's: from the guest interrupt status,
     * not by scanning the page. */
    uint64_t status = vmcs_read(GUEST_INTR_STATUS);
    return above_vppr(v, status, status & 0xff);
}

bool apicv_request_deliverable(const struct vcpu *v)
{
    /* RVI and SVI are the highest vectors of the page's IRR and ISR: the
     * last sync wrote them, and the processor has kept them so since
     * (SDM Vol. 3C 30.1.4, 30.2.2). Requests since then are in the inbox.
     * So the highest request is RVI or the inbox's highest, and PPR's
     * class is VPPR's: vlapic_pending_vector's answer without its scans. */
    uint64_t status = vmcs_read(GUEST_INTR_STATUS);
    int newcomer = vlapic_highest_inbox(v->apic);
    uint32_t rvi = status & 0xff;
    return above_vppr(v, status, newcomer > (int)rvi ? (uint32_t)newcomer : rvi);
}

void apicv_sync_now(struct vcpu *v)
{
    struct vlapic *apic = v->apic;
    enum apicv_mode now = apicv_mode_now(v);
    if (v->apicv.controls_stale) {
        v->apicv.controls_stale = false;
        write_controls(v, now);
        apic->irr_isr_changed = true;
    }
    if (now == APICV_OFF)
        return;
    if (now == APICV_TPR_SHADOW) {
        sync_tpr_threshold(v);
        return;
    }
    /* What the processor did to the page it also did to RVI and SVI: they
     * are written only after the model's own changes. With the EOI guard
     * on, each entry looks again whether it is still needed. */
    uint32_t moved = vlapic_sync_irr(apic);
    if (apic->irr_isr_changed || (!moved && v->apicv.eoi_guard)) {
        apic->irr_isr_changed = false;
        int rvi = vlapic_highest_irr(apic), svi = vlapic_highest_isr(apic);
        rvi = rvi < 0 ? 0 : rvi;
        svi = svi < 0 ? 0 : svi;
        /* Guest interrupt status: RVI in bits 7:0, SVI in 15:8 (SDM Vol. 3C 25.4.2). */
        vmcs_write(GUEST_INTR_STATUS, (uint64_t)svi << 8 | (uint64_t)rvi);
        sync_eoi_exit_bitmap(v, 0xff);
        sync_eoi_guard(v, vlapic_eoi_may_release(apic, (unsigned)rvi, (unsigned)svi, 0xff));
        return;
    }
    if (!moved)
        return;
    /* Only new requests since the last sync: RVI is still the highest
     * vector of the rest of IRR, as the processor keeps it when it delivers
     * (SDM Vol. 3C 30.2.2) or virtualises a self-IPI (30.1.6), so the new
     * RVI is the higher of it and the newcomers' highest; SVI stays. */
    uint64_t status = vmcs_read(GUEST_INTR_STATUS);
    unsigned old_rvi = status & 0xff, svi = (status >> 8) & 0xff;
    int newcomer = vlapic_highest_irr_in(apic, moved);
    unsigned rvi = newcomer > (int)old_rvi ? (unsigned)newcomer : old_rvi;
    if (rvi != old_rvi)
        vmcs_write(GUEST_INTR_STATUS, (status & ~0xffull) | rvi);
    sync_eoi_exit_bitmap(v, moved);
    /* With nothing waiting before, IRR holds only the newcomers, in the
     * `moved` words: only those are looked at. */
    sync_eoi_guard(v, vlapic_eoi_may_release(apic, rvi, svi, old_rvi ? 0xff : moved));
}
