#include "virt/vcpu.h"
#include "virt/exits.h"
#include "virt/msr_bitmap.h"
#include "virt/vcpu_regs.h"
#include "vmx/exit_reasons.h"
#include "vmx/vmcs.h"
#include "vmx/vmcs_setup.h"
#include "vmx/vmx_cpu.h"
#include "arch/cpu.h"
#include "arch/percpu.h"
#include "arch/platform.h"
#include "lib/page_alloc.h"
#include "lib/printf.h"

#define XCR0_X87 1ull

/* The VMCS current on each CPU, so VMPTRLD runs only when it changes. */
static uint64_t current_vmcs[MAX_CPUS];

static void make_current(uint64_t vmcs)
{
    uint32_t cpu = this_cpu()->index;
    if (current_vmcs[cpu] == vmcs)
        return;
    if (vmptrld(vmcs) != VMX_SUCCEED)
        panic("VMPTRLD of VMCS 0x%lx failed", vmcs);
    current_vmcs[cpu] = vmcs;
}

void vcpu_load(struct vcpu *v)
{
    if (!v->vmcs) {
        uint32_t *vmcs = page_alloc(1);
        if (!vmcs) {
            vm_end(v->vm, -1, "out of memory for a VMCS");
            return;
        }
        vmcs[0] = vmcs_config.revision_id;      /* SDM Vol. 3C 25.2 */
        v->vmcs = (uint64_t)vmcs;
        v->cpu = this_cpu()->index;
        v->xcr0 = XCR0_X87;
        if (vmclear(v->vmcs) != VMX_SUCCEED)    /* launch state "clear" */
            panic("VMCLEAR of a new VMCS failed");
        make_current(v->vmcs);
        vmcs_init(v);
    }
    make_current(v->vmcs);
    vcpu_msrs_load(v);
    if (cpu_has_xsave_enabled())
        __asm__ volatile("xsetbv" :: "c"(0), "a"((uint32_t)v->xcr0),
                         "d"((uint32_t)(v->xcr0 >> 32)));
}

void vcpu_put(struct vcpu *v)
{
    vcpu_msrs_save(v);
}

/* An entry that fails with VMfail leaves the guest untouched (SDM Vol. 3C
 * 27.1-27.2): report the VM-instruction error and stop the VM. */
static void entry_failed(struct vcpu *v, int failure)
{
    char why[120];
    if (failure == 1) {
        uint32_t error = (uint32_t)vmcs_read(VM_INSTRUCTION_ERROR);
        snprintf(why, sizeof(why), "%s failed: VM-instruction error %u (%s)",
                 v->launched ? "VMRESUME" : "VMLAUNCH", error, vmx_instruction_error_text(error));
    } else {
        snprintf(why, sizeof(why), "%s failed: VMfailInvalid (no current VMCS)",
                 v->launched ? "VMRESUME" : "VMLAUNCH");
    }
    stop_vm_with_dump(v, why);
}

void vcpu_run(struct vcpu *v)
{
    if (!vcpu_transition(v, VCPU_RUNNABLE, VCPU_RUNNING))
        return;
    while (v->state == VCPU_RUNNING) {
        irq_disable();
        if (read_cr2() != v->cr2)
            write_cr2(v->cr2);
        uint64_t entered = rdtsc();
        int failure = vmx_enter(&v->regs, v->launched);
        uint64_t exited = rdtsc();
        if (failure) {
            irq_enable();
            entry_failed(v, failure);
            break;
        }
        if (v->launched)
            v->stats.resumes++;
        else
            v->stats.launches++;
        v->launched = true;
        v->stats.guest_cycles += exited - entered;
        v->cr2 = read_cr2();
        uint32_t reason = (uint32_t)vmcs_read(VM_EXIT_REASON);
        irq_enable();   /* a pending host interrupt (external-interrupt exit) runs now */
        enum exit_action action = handle_vm_exit(v, reason);
        unsigned basic = reason & 0xffff;
        if (basic < EXIT_REASON_MAX) {
            v->stats.count[basic]++;
            v->stats.cycles[basic] += rdtsc() - exited;
        }
        if (action != EXIT_RESUME)
            break;
    }
    vcpu_transition(v, VCPU_RUNNING, VCPU_RUNNABLE);
}

void vcpu_release(struct vcpu *v)
{
    if (!v->vmcs)
        return;
    /* VMCLEAR writes the VMCS back and makes it not current anywhere
     * (SDM Vol. 3C 25.11.3); then its memory may be reused. */
    vmclear(v->vmcs);
    uint32_t cpu = this_cpu()->index;
    if (current_vmcs[cpu] == v->vmcs)
        current_vmcs[cpu] = 0;
    if (v->vpid)
        invvpid(INVVPID_SINGLE_CONTEXT, v->vpid, 0);
    invept(INVEPT_SINGLE_CONTEXT, ept_pointer(&v->vm->ept));
    page_free((void *)v->vmcs, 1);
    v->vmcs = 0;
}

static uint64_t *gpr_slot(struct vcpu *v, unsigned n)
{
    struct guest_regs *r = &v->regs;
    uint64_t *const slots[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, NULL, &r->rbp,
                                  &r->rsi, &r->rdi, &r->r8, &r->r9, &r->r10, &r->r11,
                                  &r->r12, &r->r13, &r->r14, &r->r15 };
    return slots[n & 15];
}

uint64_t vcpu_read_gpr(struct vcpu *v, unsigned n)
{
    uint64_t *slot = gpr_slot(v, n);
    return slot ? *slot : vmcs_read(GUEST_RSP);
}

void vcpu_write_gpr(struct vcpu *v, unsigned n, uint64_t value)
{
    uint64_t *slot = gpr_slot(v, n);
    if (slot)
        *slot = value;
    else
        vmcs_write(GUEST_RSP, value);
}
