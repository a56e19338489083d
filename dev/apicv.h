#ifndef DEV_APICV_H
#define DEV_APICV_H
/*
 * APIC virtualization (SDM Vol. 3C chapter 30) on a vCPU's vmcs01: the
 * virtual local APIC's register page (dev/vlapic.h) is the virtual-APIC
 * page, so the model stays the one place the APIC's state lives.
 *
 * - TPR shadow: MOV to/from CR8 reads and writes the page's TPR without an
 *   exit; without virtual-interrupt delivery a TPR-below-threshold exit
 *   says when a lowered TPR lets a held-back interrupt through.
 * - APIC-register virtualization and virtualize x2APIC mode: the guest's
 *   reads of the xAPIC page and of the x2APIC MSRs the SDM lists come from
 *   the page; writes that need the model arrive as trap-like APIC-write
 *   exits (exits/exit_apic.c) with the value already in the page.
 * - Virtual-interrupt delivery: before an entry the inbox (interrupts other
 *   CPUs accepted) moves into IRR and RVI/SVI are written from the page;
 *   the processor delivers when the guest can take them and completes
 *   EOIs itself, but for level-triggered vectors, whose EOI exits so the
 *   I/O APIC sees it. No posted interrupts: an interrupt for a vCPU running
 *   elsewhere kicks it out once (its CPU's IPI) to have it synced.
 *
 * Used for L1 only: while the vCPU runs L2, vmcs02 is L1's business and
 * L0 delivers L1's interrupts by injection or nested exit (nested/events.c),
 * as KVM does.
 */
#include <stdint.h>
#include <stdbool.h>
#include "virt/vm.h"
#include "dev/vlapic.h"

/* The VM's mode from its configuration and the CPU; the pages it needs.
 * False: out of memory. */
bool apicv_vm_init(struct vm *vm);
void apicv_vm_free(struct vm *vm);
/* After the VM's EPT is made (at creation and every machine reset): the
 * APIC-access page at the xAPIC page's default address. False: no memory. */
bool apicv_vm_boot(struct vm *vm);
const char *apicv_mode_name(const struct vm *vm);

/* The vCPU's mode now: the VM's, but off while the vCPU is in VMX
 * operation (an L1 hypervisor), as KVM inhibits APICv for reasons of its
 * own. Linux KVM as L1 runs with it (the interrupts it used to lose were
 * the Bochs erratum of dev/apicv.c), but the VMX probe's L2 taking L1's
 * pending interrupt without external-interrupt exiting, and its
 * preemption timer while L2 halts, do not yet (README "Limits"). Its xAPIC
 * page then still exits (virtualize APIC accesses alone), to be emulated,
 * as EPT maps the APIC-access page there. */
static inline enum apicv_mode apicv_mode_now(const struct vcpu *v)
{
    return v->nested ? APICV_OFF : v->vm->apicv;
}

/* The vCPU entered or left VMX operation: its controls change before its
 * next entry to L1. */
static inline void apicv_inhibit_changed(struct vcpu *v)
{
    if (v->vm->apicv != APICV_OFF) {
        v->apicv.controls_stale = true;
        vcpu_request(v, REQ_EVENT);
    }
}

/* Whether the processor delivers the vCPU's APIC interrupts now. */
static inline bool apicv_delivers(const struct vcpu *v)
{
    return apicv_mode_now(v) == APICV_FULL;
}
/* With virtual-interrupt delivery, after apicv_sync: whether the processor
 * would recognize a virtual interrupt at the next entry. */
bool apicv_interrupt_recognizable(const struct vcpu *v);
/* With virtual-interrupt delivery, on the vCPU's own CPU with its VMCS
 * current and RVI and SVI synced (the model has not changed IRR or ISR
 * since: !irr_isr_changed): whether a vector requested of the APIC, in
 * IRR or the inbox, has a priority class above PPR's (what
 * vlapic_pending_vector says, from the guest interrupt status). */
bool apicv_request_deliverable(const struct vcpu *v);
/* Before an entry to L1 with events to look at: the controls if stale,
 * then with virtual-interrupt delivery IRR, RVI, SVI and the EOI-exit
 * bitmap (and its guard, dev/apicv.c); with the TPR shadow alone the TPR
 * threshold. Inline, the
 * nothing-to-do case: every nested exit to L1 asks. */
void apicv_sync_now(struct vcpu *vcpu);
static inline void apicv_sync(struct vcpu *v)
{
    if (v->in_l2)
        return;
    enum apicv_mode mode = apicv_mode_now(v);
    if (!v->apicv.controls_stale &&
        (mode == APICV_OFF ||
         (mode == APICV_FULL && !v->apic->irr_isr_changed && !v->apicv.eoi_guard &&
          !__atomic_load_n(&v->apic->inbox_words, __ATOMIC_ACQUIRE))))
        return;
    apicv_sync_now(v);
}
#endif
