#ifndef VMX_LOADED_VMCS_H
#define VMX_LOADED_VMCS_H
/*
 * Where a VMCS lives (KVM's struct loaded_vmcs): a VMCS may be active on one
 * CPU at a time; moving it to another CPU needs VMCLEAR on the old one first,
 * which also resets its launch state, so the next entry is VMLAUNCH (SDM Vol.
 * 3C 25.1 and 25.11.3). Each CPU keeps a list of the VMCSs active on it and
 * its current one, so VMPTRLD runs only when the current VMCS changes.
 */
#include <stdint.h>
#include <stdbool.h>

#define VMCS_NOT_LOADED UINT32_MAX

struct loaded_vmcs {
    uint64_t vmcs;          /* physical address */
    uint32_t cpu;           /* where it is active, or VMCS_NOT_LOADED */
    bool launched;
    /* Its guest may have virtual-NMI blocking: an NMI was injected into it
     * and no exit has shown the blocking gone since (KVM's
     * nmi_known_unmasked, the other way round; virt/event_inject.c). */
    bool nmi_blocking_possible;
    /* A shadow VMCS its link pointer names (nested/shadow_vmcs.h), or 0:
     * the processor may keep it active where this one is used, so it is
     * cleared with it (KVM's loaded_vmcs->shadow_vmcs). */
    uint64_t shadow;
    uint64_t vmptrlds, vmclears, migrations;
};

/* Makes the VMCS current on this CPU. If it was active on another CPU it is
 * cleared there first (by a cross-CPU call); returns true when it arrived
 * from elsewhere (or for the first time), so the caller rewrites the per-CPU
 * host state and flushes the vCPU's TLB context. */
bool loaded_vmcs_load(struct loaded_vmcs *lv);
/* VMCLEARs it wherever it is active; it is then no CPU's. */
void loaded_vmcs_clear(struct loaded_vmcs *lv);
/* VMCLEARs its shadow VMCS where it may be active and forgets it (the
 * link pointer is the caller's to change or drop). */
void loaded_vmcs_drop_shadow(struct loaded_vmcs *lv);
#endif
