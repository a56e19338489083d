/* A vCPU's state on the physical CPU that runs it: its VMCS made current
 * (KVM's vmx_vcpu_load), its FPU, debug registers and MSRs switched, its
 * general registers. */
#include "virt/vcpu.h"
#include "virt/event_inject.h"
#include "virt/vcpu_msrs.h"
#include "virt/vcpu_regs.h"
#include "virt/vmcs_setup.h"
#include "vmx/vmcs.h"
#include "vmx/loaded_vmcs.h"
#include "vmx/tlb.h"
#include "vmx/vmx_cpu.h"
#include "arch/cpu.h"
#include "arch/platform.h"
#include "lib/page_alloc.h"
#include <stddef.h>

#define XCR0_FIRST_EXTENDED 2           /* x87 and SSE live in the legacy area */

uint64_t guest_xcr0_supported(void)
{
    static uint64_t mask;   /* CPUID leaf 0xD: the same on every CPU of a machine */
    if (!mask) {
        struct cpuid_regs r = cpuid(0xd, 0);
        /* AMX tile data (8 KiB) would not fit the vCPU's one-page save area. */
        uint64_t m = (((uint64_t)r.edx << 32) | r.eax) & ~XCR0_AMX;
        /* SDM Vol. 1 13.2: each supported component reports its size in
         * sub-leaf n. One without (Bochs 2.7 lists PKRU so) is left out,
         * so that the guest sees consistent XSAVE sizes and offsets. */
        for (unsigned i = XCR0_FIRST_EXTENDED; i < 64; i++)
            if ((m >> i & 1) && cpuid(0xd, i).eax == 0)
                m &= ~(1ull << i);
        __atomic_store_n(&mask, m, __ATOMIC_RELEASE);
    }
    return mask;
}

#define FXSAVE_FCW_OFFSET   0
#define FXSAVE_MXCSR_OFFSET 24
#define FCW_INIT   0x037f       /* x87 state after FINIT */
#define MXCSR_INIT 0x1f80       /* all SIMD exceptions masked */

/* The guest's FPU/SSE/AVX state and the debug registers outside the VMCS
 * are the guest's own registers while it runs: they are switched with the
 * vCPU so no guest sees another's values. Eager switching at slice
 * boundaries only, never per VM exit. */
static bool fpu_state_init(struct vcpu *v)
{
    v->fpu = page_alloc(1);     /* 4 KiB, page aligned: XSAVE wants 64 */
    if (!v->fpu)
        return false;
    *(uint16_t *)((uint8_t *)v->fpu + FXSAVE_FCW_OFFSET) = FCW_INIT;
    *(uint32_t *)((uint8_t *)v->fpu + FXSAVE_MXCSR_OFFSET) = MXCSR_INIT;
    return true;        /* XSTATE_BV = 0: XRSTOR gives every component its init state */
}

static void write_xcr0(uint64_t value)
{
    __asm__ volatile("xsetbv" :: "c"(0), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

/* XSAVE/XRSTOR act on the components enabled in XCR0, and a guest may use
 * SSE with XCR0 = x87 alone: switch under every component a guest may have,
 * then leave the guest's own XCR0 in force. */
static void fpu_state_load(struct vcpu *v)
{
    if (cpu_has_xsave_enabled()) {
        write_xcr0(guest_xcr0_supported());
        __asm__ volatile("xrstor64 (%0)" :: "r"(v->fpu), "a"(~0u), "d"(~0u) : "memory");
        write_xcr0(v->xcr0);
    } else {
        __asm__ volatile("fxrstor64 (%0)" :: "r"(v->fpu) : "memory");
    }
    __asm__ volatile("mov %0, %%db0; mov %1, %%db1; mov %2, %%db2; mov %3, %%db3; mov %4, %%db6"
                     :: "r"(v->dr[0]), "r"(v->dr[1]), "r"(v->dr[2]), "r"(v->dr[3]), "r"(v->dr6));
}

static void fpu_state_save(struct vcpu *v)
{
    if (cpu_has_xsave_enabled()) {
        write_xcr0(guest_xcr0_supported());
        __asm__ volatile("xsave64 (%0)" :: "r"(v->fpu), "a"(~0u), "d"(~0u) : "memory");
    } else {
        __asm__ volatile("fxsave64 (%0)" :: "r"(v->fpu) : "memory");
    }
    __asm__ volatile("mov %%db0, %0; mov %%db1, %1; mov %%db2, %2; mov %%db3, %3; mov %%db6, %4"
                     : "=r"(v->dr[0]), "=r"(v->dr[1]), "=r"(v->dr[2]), "=r"(v->dr[3]),
                       "=r"(v->dr6));
}

/* KVM's vmx_vcpu_load: make the VMCS current here; if the vCPU arrived
 * from another CPU (or is new), rewrite the host fields that differ per CPU
 * and flush its TLB context here, which may hold stale translations from an
 * earlier stay or from a previous owner of its VPID or EPT pointer. */
bool vcpu_load(struct vcpu *v)
{
    bool first = !v->lv.vmcs;
    if (first) {
        uint32_t *vmcs = page_alloc(1);
        if (!vmcs) {
            vm_end(v->vm, -1, "out of memory for a VMCS");
            return false;
        }
        vmcs[0] = vmcs_config.revision_id;      /* SDM Vol. 3C 25.2 */
        if (vmclear((uint64_t)vmcs) != VMX_SUCCEED)     /* launch state "clear" */
            panic("VMCLEAR of a new VMCS failed");
        if (!fpu_state_init(v)) {
            page_free(vmcs, 1);
            vm_end(v->vm, -1, "out of memory for FPU state");
            return false;
        }
        /* its counters run on across machine resets, which make a new VMCS */
        v->lv.vmcs = (uint64_t)vmcs;
        v->lv.cpu = VMCS_NOT_LOADED;
        v->lv.launched = false;
        v->xcr0 = XCR0_X87;
    }
    if (loaded_vmcs_load(v->vmcs)) {
        if (first)
            vmcs_init(v);
        else
            vmcs_write_host_per_cpu_state();
        tlb_flush_vpid(v->vpid);
        tlb_flush_ept(ept_pointer(&v->vm->ept));
        if (v->vmcs != &v->lv) {
            /* Its L2's VMCS (nested/): L2's own VPID and EPT pointer. */
            tlb_flush_vpid(v->vpid02);
            tlb_flush_ept(vmcs_read(EPT_POINTER));
        }
    }
    vcpu_msrs_load(v);
    fpu_state_load(v);
    return true;
}

void vcpu_put(struct vcpu *v)
{
    loaded_vmcs_check_controls(v->vmcs);
    nmi_note_vmcs_leaving(v);
    vcpu_msrs_save(v);
    fpu_state_save(v);
}

void vcpu_release(struct vcpu *v)
{
    if (!v->lv.vmcs)
        return;
    /* VMCLEAR writes the VMCS back and makes it no CPU's (SDM Vol. 3C
     * 25.11.3); then its memory may be reused. */
    loaded_vmcs_clear(&v->lv);
    tlb_flush_vpid(v->vpid);    /* the VPID goes back to the pool */
    page_free((void *)v->lv.vmcs, 1);
    page_free(v->fpu, 1);
    v->lv.vmcs = 0;
    v->fpu = NULL;
    if (v->pml_buffer)      /* its VMCS logged there: the VMCS is gone */
        page_free(v->pml_buffer, 1);
    v->pml_buffer = NULL;
    v->pml_on = false;
}

/* Register `n` where it is kept: the guest_regs array, in the encoding's
 * order, but for RSP, which is in the VMCS. */
uint64_t *vcpu_gpr_slot(struct vcpu *v, unsigned n)
{
    return (n & 15) == 4 ? NULL : &guest_regs_array(&v->regs)[n & 15];
}

uint64_t vcpu_read_gpr(struct vcpu *v, unsigned n)
{
    uint64_t *slot = vcpu_gpr_slot(v, n);
    return slot ? *slot : vmcs_read(GUEST_RSP);
}

void vcpu_write_gpr(struct vcpu *v, unsigned n, uint64_t value)
{
    uint64_t *slot = vcpu_gpr_slot(v, n);
    if (slot)
        *slot = value;
    else
        vmcs_write(GUEST_RSP, value);
}
