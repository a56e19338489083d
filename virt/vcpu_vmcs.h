#ifndef VIRT_VCPU_VMCS_H
#define VIRT_VCPU_VMCS_H
/*
 * Which of its VMCSs a vCPU runs on: vmcs01, or with nested VMX vmcs02
 * (nested/switch.c, and nested/vmcs02_as_shadow.c, whose take at L1's
 * VMLAUNCH or VMRESUME leaves vmcs02 current for the entry). The VMCS
 * current on this CPU is always vcpu->vmcs: code that makes another one
 * current for a moment makes vcpu->vmcs current again after.
 */
#include "virt/event_inject.h"
#include "virt/vcpu.h"
#include "virt/vmcs_setup.h"
#include "vmx/loaded_vmcs.h"

/* `lv` becomes the vCPU's VMCS; its caller makes it current. The entry
 * stub writes HOST_RSP only when it differs from the last value written
 * (vmx/vmenter.S): each VMCS keeps its own, so the stub compares with that
 * of the VMCS it enters (a nested round trip then writes HOST_RSP in
 * neither). */
static inline void vcpu_vmcs_becomes(struct vcpu *v, struct loaded_vmcs *lv)
{
    nmi_note_vmcs_leaving(v);
    v->vmcs->host_rsp = v->regs.host_rsp;
    v->vmcs = lv;
    v->regs.host_rsp = lv->host_rsp;
}

/* Makes `lv` the vCPU's VMCS on this CPU, current. */
static inline void vcpu_run_on(struct vcpu *v, struct loaded_vmcs *lv)
{
    vcpu_vmcs_becomes(v, lv);
    if (loaded_vmcs_load(lv))
        vmcs_write_host_per_cpu_state();
}
#endif
