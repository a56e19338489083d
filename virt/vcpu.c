#include "virt/vcpu.h"
#include "exits/exits.h"
#include "exits/exit_pause.h"
#include "dev/apic_access.h"
#include "virt/event_inject.h"
#include "dev/pit_access.h"
#include "sched/sched.h"
#include "virt/msr_bitmap.h"
#include "virt/vcpu_regs.h"
#include "vmx/exit_reasons.h"
#include "vmx/vmcs.h"
#include "vmx/loaded_vmcs.h"
#include "vmx/tlb.h"
#include "vmx/vmcs_setup.h"
#include "vmx/vmx_cpu.h"
#include "arch/cpu.h"
#include "arch/lapic.h"
#include "arch/percpu.h"
#include "arch/platform.h"
#include "lib/page_alloc.h"
#include "lib/printf.h"

#define XCR0_X87 1ull
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
    if (loaded_vmcs_load(&v->lv)) {
        if (first)
            vmcs_init(v);
        else
            vmcs_write_host_per_cpu_state();
        tlb_flush_vpid(v->vpid);
        tlb_flush_ept(ept_pointer(&v->vm->ept));
    }
    vcpu_msrs_load(v);
    fpu_state_load(v);
    return true;
}

void vcpu_put(struct vcpu *v)
{
    vcpu_msrs_save(v);
    fpu_state_save(v);
}

/* An entry that fails with VMfail leaves the guest untouched (SDM Vol. 3C
 * 27.1-27.2): report the VM-instruction error and stop the VM. */
static void entry_failed(struct vcpu *v, int failure)
{
    char why[120];
    if (failure == 1) {
        uint32_t error = (uint32_t)vmcs_read(VM_INSTRUCTION_ERROR);
        snprintf(why, sizeof(why), "%s failed: VM-instruction error %u (%s)",
                 v->lv.launched ? "VMRESUME" : "VMLAUNCH", error,
                 vmx_instruction_error_text(error));
    } else {
        snprintf(why, sizeof(why), "%s failed: VMfailInvalid (no current VMCS)",
                 v->lv.launched ? "VMRESUME" : "VMLAUNCH");
    }
    stop_vm_with_dump(v, why);
}

/* The VMX-preemption timer counts down at the TSC rate >> IA32_VMX_MISC[4:0],
 * in VMX non-root operation only (SDM Vol. 3C 26.5.1): vcpu_run loads it on
 * every entry with what is left until the stop time, so time spent handling
 * exits counts too. */
static bool have_preemption_timer(void)
{
    return vmcs_config.ctl[VMX_CTL_PIN] & PIN_PREEMPTION_TIMER;
}

enum entry_check { ENTER, LEAVE, WAIT_FOR_SIPI };

/* The rare work before an entry, done when there are requests or the stop
 * time has come: the VM's PIT, a stop or a kick, INIT and start-up IPIs,
 * the end of the slice, the guest's APIC timer, interrupt injection; and
 * the next stop. The PIT goes first: its interrupt may be for this vCPU. */
static enum entry_check before_entry(struct vcpu *v, uint64_t now, uint64_t *slice_end,
                                     uint64_t *stop)
{
    pit_expire(v->vm, now);
    uint32_t requests = __atomic_exchange_n(&v->requests, 0, __ATOMIC_SEQ_CST);
    if ((requests & REQ_RESCHED) || v->state != VCPU_RUNNING)
        return LEAVE;       /* what else was asked is asked again at the next slice */
    if ((requests & REQ_INIT_SIPI) && !apic_process_init_sipi(v))
        return WAIT_FOR_SIPI;
    if ((int64_t)(now - *slice_end) >= 0) {
        uint64_t more = ple_slice_end(v);
        if (!more)
            return LEAVE;
        *slice_end = now + more;
    }
    struct vlapic *apic = &v->apic;
    if (apic->timer_armed && (int64_t)(now - apic->timer_deadline) >= 0 &&
        vlapic_timer_expire(apic, now))
        requests |= REQ_EVENT;
    if (requests & REQ_EVENT)
        inject_pending_interrupt(v);
    *stop = *slice_end;
    if (apic->timer_armed && (int64_t)(apic->timer_deadline - *slice_end) < 0)
        *stop = apic->timer_deadline;
    /* vCPU 0 is out in time for the PIT; the others raise it when they
     * happen to see it due. */
    uint64_t pit = pit_deadline(v->vm);
    if (v->id == 0 && pit && (int64_t)(pit - *stop) < 0)
        *stop = pit;
    return ENTER;
}

void vcpu_run(struct vcpu *v, uint64_t slice, bool boosted)
{
    if (!vcpu_transition(v, VCPU_RUNNABLE, VCPU_RUNNING))
        return;
    ple_slice_start(v, boosted, &slice);
    uint64_t slice_end = rdtsc() + slice, stop = slice_end, lapic_stop = 0;
    /* The guest must be out by `stop` (slice end or its APIC timer): the
     * VMX-preemption timer, or the host LAPIC timer where there is none (its
     * interrupt makes the guest exit and this CPU reschedule). */
    bool preemption_timer = have_preemption_timer();
    unsigned timer_rate = vmcs_config.preemption_timer_rate;
    vcpu_request(v, REQ_EVENT | REQ_TIMER | (v->waiting_for_sipi ? REQ_INIT_SIPI : 0));
    for (;;) {
        irq_disable();
        uint64_t now = rdtsc();
        /* Checked with interrupts off: a kick arriving from here on stays
         * pending and makes the guest exit at once (KVM's exit-request check);
         * a stop or kick also leaves a request. */
        if (v->requests || (int64_t)(now - stop) >= 0) {
            enum entry_check check = before_entry(v, now, &slice_end, &stop);
            if (check == LEAVE) {
                irq_enable();
                break;
            }
            if (check == WAIT_FOR_SIPI) {
                irq_enable();
                if (vcpu_block(v, VCPU_WAIT_SIPI))
                    break;
                continue;
            }
        }
        if (preemption_timer) {
            /* stop - now < one slice: far below the field's 32 bits. */
            vmcs_write(VMX_PREEMPTION_TIMER_VALUE, (stop - now) >> timer_rate);
        } else if (stop != lapic_stop) {
            lapic_timer_arm(stop);
            lapic_stop = stop;
        }
        if (read_cr2() != v->cr2)
            write_cr2(v->cr2);
        int failure = vmx_enter(&v->regs, v->lv.launched);
        uint64_t exited = rdtsc();
        if (failure) {
            irq_enable();
            entry_failed(v, failure);
            break;
        }
        if (v->lv.launched)
            v->stats.resumes++;
        else
            v->stats.launches++;
        v->lv.launched = true;
        v->stats.guest_cycles += exited - now;
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
    ple_sched_out(v);
    vcpu_transition(v, VCPU_RUNNING, VCPU_RUNNABLE);
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
