/* What a VM with nested VMX sees of VMX outside its VMX instructions: the
 * capability MSRs, IA32_FEATURE_CONTROL, CR4.VMXE (nested/nested.h). */
#include "nested/nested.h"
#include "nested/ept02.h"
#include "nested/shadow_vmcs.h"
#include "nested/shadow_vmcs02.h"
#include "nested/vmcs12_cache.h"
#include "virt/vm.h"
#include "vmx/vmx_cpu.h"
#include "arch/cpu.h"
#include "arch/msr.h"
#include "lib/page_alloc.h"

struct nested_vmx_caps nested_caps;

void nested_init(void)
{
    struct vmx_capability_msrs hw;
    vmx_read_capability_msrs(&hw);
    nested_vmx_caps_init(&nested_caps, &vmcs_config, &hw);
    vmcs12_spans_init();
    shadow_vmcs_init();
    vmcs02_as_shadow_init();
    shadow02_init();
}

bool nested_read_msr(const struct vcpu *v, uint32_t msr, uint64_t *value, bool *handled)
{
    *handled = false;
    if (!nested_offered(v))
        return false;
    if (msr == MSR_IA32_FEATURE_CONTROL) {
        /* As firmware leaves it for an OS that uses VMX: locked, VMXON
         * allowed outside SMX (SDM Vol. 3C 24.7); writes then #GP. */
        *handled = true;
        *value = FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMXON_OUTSIDE_SMX;
        return true;
    }
    if (msr < NESTED_VMX_MSR_FIRST || msr >= NESTED_VMX_MSR_FIRST + NESTED_VMX_MSR_COUNT)
        return false;
    *handled = true;
    if (!nested_vmx_msr_offered(&nested_caps, msr))
        return false;
    *value = nested_caps.msr[msr - NESTED_VMX_MSR_FIRST];
    return true;
}

static bool in_vmx_operation(const struct vcpu *v)
{
    return v->nested != NULL;
}

bool nested_cr0_allowed(const struct vcpu *v, uint64_t cr0)
{
    if (!in_vmx_operation(v))
        return true;
    uint64_t fixed0 = nested_caps.msr[NESTED_VMX_CR0_FIXED0];
    uint64_t fixed1 = nested_caps.msr[NESTED_VMX_CR0_FIXED1];
    return (cr0 & fixed0) == fixed0 && !(cr0 & ~fixed1);
}

bool nested_cr4_allowed(const struct vcpu *v, uint64_t cr4)
{
    if (cr4 & CR4_VMXE)
        return nested_offered(v);
    return !in_vmx_operation(v);
}

void nested_vcpu_free(struct vcpu *v)
{
    struct nested_vmx *n = v->nested;
    if (!n)
        return;
    v->vmcs = &v->lv;
    v->in_l2 = false;
    if (n->ept02) {
        /* Its shadow EPT root (nested/nested_ept.h) may go with it. */
        spin_lock(&v->vm->ept02_lock);
        ept02_put(v->vm->ept02, n->ept02);
        spin_unlock(&v->vm->ept02_lock);
    }
    shadow_vmcs_free(v);
    shadow02_free(v);
    if (n->vmcs02.vmcs) {
        /* VMCLEAR before its memory is reused (SDM Vol. 3C 25.11.1). */
        loaded_vmcs_clear(&n->vmcs02);
        page_free((void *)n->vmcs02.vmcs, 1);
        page_free(n->msr_bitmap02, 1);
    }
    vmcs12_cache_free(v);
    page_free(n->vmcs12, 1);
    page_free(n, NESTED_VMX_PAGES);
    v->nested = NULL;
}
