/* The host state a VM exit to L1 loads (nested/l1_host_image.h). */
#include "nested/l1_host_image.h"
#include "nested/vmcs12.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_controls.h"

#define AR_UNUSABLE (1u << 16)
/* Code: execute/read accessed, S, P, G; L or D by the address-space size.
 * Data: read/write accessed, S, P, D/B, G. TR: a busy 32-bit TSS, P. */
#define AR_HOST_CODE 0x809bu
#define AR_CODE_L    (1u << 13)
#define AR_CODE_D    (1u << 14)
#define AR_HOST_DATA 0xc093u
#define AR_HOST_TR   0x8bu
#define LIMIT_FLAT   0xffffffffu
#define LIMIT_TSS    0x67u

static void set_segment(struct l1_host_image *image, uint32_t selector_field, uint64_t selector,
                        uint64_t base, uint64_t limit, uint64_t access_rights)
{
    image->segment[(selector_field - GUEST_ES_SELECTOR) / 2] =
        (struct l1_host_segment){ selector, base, limit, access_rights };
}

/* A data segment: unusable when its selector is null (SDM Vol. 3C 28.5.2). */
static void set_data_segment(struct l1_host_image *image, uint32_t selector_field,
                             const struct vmcs12 *v12, uint32_t host_selector, uint64_t base)
{
    uint64_t selector = vmcs12_get(v12, host_selector);
    set_segment(image, selector_field, selector, base, LIMIT_FLAT,
                AR_HOST_DATA | (selector ? 0 : AR_UNUSABLE));
}

void l1_host_image_build(const struct vmcs12 *v12, struct l1_host_image *image)
{
    uint32_t exit12 = (uint32_t)vmcs12_get(v12, VM_EXIT_CONTROLS);
    bool long_mode = exit12 & EXIT_HOST_ADDR_SPACE_SIZE;
    image->cr0 = vmcs12_get(v12, HOST_CR0);
    image->cr4 = vmcs12_get(v12, HOST_CR4);
    image->cr3 = vmcs12_get(v12, HOST_CR3);
    image->load_efer = exit12 & EXIT_LOAD_EFER;
    image->efer = vmcs12_get(v12, HOST_IA32_EFER);
    image->load_pat = exit12 & EXIT_LOAD_PAT;
    image->pat = vmcs12_get(v12, HOST_IA32_PAT);
    /* L1's translations are VPID 0's to it: a VM exit invalidates them
     * unless L2 ran with a VPID (29.4.3.1). */
    uint32_t proc12 = (uint32_t)vmcs12_get(v12, CPU_BASED_VM_EXEC_CONTROL);
    image->flush_vpid = !(proc12 & PROC_ACTIVATE_SECONDARY) ||
                        !(vmcs12_get(v12, SECONDARY_VM_EXEC_CONTROL) & PROC2_ENABLE_VPID);
    image->sysenter_cs = vmcs12_get(v12, HOST_IA32_SYSENTER_CS);
    image->sysenter_esp = vmcs12_get(v12, HOST_IA32_SYSENTER_ESP);
    image->sysenter_eip = vmcs12_get(v12, HOST_IA32_SYSENTER_EIP);
    /* 28.5.2: CS, SS, DS, ES flat (FS and GS with their host bases), TR
     * with its host base and limit 67H, LDTR unusable. */
    set_segment(image, GUEST_CS_SELECTOR, vmcs12_get(v12, HOST_CS_SELECTOR), 0, LIMIT_FLAT,
                AR_HOST_CODE | (long_mode ? AR_CODE_L : AR_CODE_D));
    set_data_segment(image, GUEST_SS_SELECTOR, v12, HOST_SS_SELECTOR, 0);
    set_data_segment(image, GUEST_DS_SELECTOR, v12, HOST_DS_SELECTOR, 0);
    set_data_segment(image, GUEST_ES_SELECTOR, v12, HOST_ES_SELECTOR, 0);
    set_data_segment(image, GUEST_FS_SELECTOR, v12, HOST_FS_SELECTOR, vmcs12_get(v12, HOST_FS_BASE));
    set_data_segment(image, GUEST_GS_SELECTOR, v12, HOST_GS_SELECTOR, vmcs12_get(v12, HOST_GS_BASE));
    set_segment(image, GUEST_TR_SELECTOR, vmcs12_get(v12, HOST_TR_SELECTOR),
                vmcs12_get(v12, HOST_TR_BASE), LIMIT_TSS, AR_HOST_TR);
    set_segment(image, GUEST_LDTR_SELECTOR, 0, 0, 0, AR_UNUSABLE);
    image->gdtr_base = vmcs12_get(v12, HOST_GDTR_BASE);
    image->idtr_base = vmcs12_get(v12, HOST_IDTR_BASE);
    image->rip = vmcs12_get(v12, HOST_RIP);
    image->built = true;
}
