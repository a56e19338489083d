/* The exit-reason table and the handlers too small for a file of their own. */
#include "dev/vlapic.h"
#include "virt/vcpu_state.h"
#include "exits/exits.h"
#include "exits/exit_pause.h"
#include "nested/events.h"
#include "nested/nested.h"
#include "virt/dirty_log.h"
#include "virt/event_inject.h"
#include "virt/vm.h"
#include "sched/sched.h"
#include "virt/vm_lifecycle.h"
#include "arch/cpu.h"
#include "arch/interrupts.h"
#include "arch/percpu.h"
#include "vmx/exit_reasons.h"
#include "vmx/vmcs.h"
#include "arch/serial.h"
#include "lib/printf.h"


int take_host_interrupt(void)
{
    /* With "acknowledge interrupt on exit" (SDM Vol. 3C 25.7.1) the
     * processor acknowledged the interrupt and left its vector in the exit
     * interruption information (28.2.2): its handler runs now, as KVM's
     * handle_external_interrupt_irqoff does. Without the control it stays
     * pending and is taken through the IDT when the run loop enables
     * interrupts. */
    uint32_t info = (uint32_t)vmcs_read(VM_EXIT_INTR_INFO);
    if (!(info & INTR_INFO_VALID))
        return -1;
    interrupt_dispatch_acknowledged((uint8_t)info);
    return (uint8_t)info;
}

/* Whether the exit left no event half delivered (SDM Vol. 3C 28.2.4): one
 * that did goes to the full handler, which puts it back. */
static bool no_event_interrupted(void)
{
    return !(vmcs_read(IDT_VECTORING_INFO) & INTR_INFO_VALID);
}

/* Every external-interrupt exit of L1 comes here first: the interrupt is
 * taken, and the run loop looks at what it asked for before the next
 * entry; only work for the CPU's own loop (CPU 0 serves the monitor
 * console) calls it back there. A notification was for the vCPU alone
 * (sched_notify): the CPU's work is not looked for then, which spares a
 * kicked vCPU's round trip the look (a work request brings its own
 * interrupt). An interrupt not acknowledged on exit is still pending:
 * entering again would exit at once. */
static bool handle_external_interrupt_fastpath(struct vcpu *vcpu)
{
    (void)vcpu;
    int vector = take_host_interrupt();
    return vector >= 0 && no_event_interrupted() &&
           (vector == VECTOR_NOTIFY || !sched_cpu_work_pending(this_cpu()->index));
}

static enum exit_action handle_external_interrupt(struct vcpu *vcpu, struct vm_exit exit)
{
    (void)vcpu;
    (void)exit;
    return sched_cpu_work_pending(this_cpu()->index) ? EXIT_RESCHEDULE : EXIT_RESUME;
}

/* The slice is over, or the vCPU's APIC timer is due: the run loop tells
 * which; nothing to do here. */
static bool handle_preemption_timer_fastpath(struct vcpu *vcpu)
{
    (void)vcpu;
    return no_event_interrupted();
}

/* CPUID always completes in its fastpath: this is the way of the CPUIDs
 * of L2 that L0 answers. */
static enum exit_action handle_cpuid_exit(struct vcpu *vcpu, struct vm_exit exit)
{
    (void)exit;
    handle_cpuid(vcpu);
    return EXIT_RESUME;
}

static enum exit_action handle_preemption_timer(struct vcpu *vcpu, struct vm_exit exit)
{
    (void)vcpu;
    (void)exit;
    return EXIT_RESUME;
}

/* The interrupt or NMI window opened: the guest can take the pending event. */
static enum exit_action handle_event_window(struct vcpu *vcpu, struct vm_exit exit)
{
    (void)exit;
    vcpu_request(vcpu, REQ_EVENT);
    return EXIT_RESUME;
}

/* A shutdown: on a PC the chipset turns it into a reset, so the VM follows
 * on_reboot as for the guest's other resets; with on_reboot = stop it ends
 * as a failure (status -1), which it most often is. */
static enum exit_action handle_triple_fault(struct vcpu *vcpu, struct vm_exit exit)
{
    (void)exit;
    if (vcpu->vm->config.on_reboot == ON_REBOOT_STOP)
        return stop_vm_with_dump(vcpu, "triple fault");
    if (vm_next_reset_shown(vcpu->vm))
        report_with_dump(vcpu, "triple fault", "resetting the VM");
    vm_request_reset(vcpu->vm, "triple fault");
    return EXIT_STOP_VCPU;
}

/* The vCPU's page-modification log is full (SDM Vol. 3C 30.3.6): into the
 * VM's dirty set, and logging goes on (virt/dirty_log.h). */
static enum exit_action handle_pml_full(struct vcpu *vcpu, struct vm_exit exit)
{
    restore_nmi_blocking(vcpu, exit.qualification);
    dirty_log_pml_full(vcpu);
    return EXIT_RESUME;
}

static enum exit_action handle_skip(struct vcpu *vcpu, struct vm_exit exit)
{
    /* INVD and WBINVD: caches are coherent for us; nothing to do. */
    (void)exit;
    skip_instruction(vcpu);
    return EXIT_RESUME;
}

/* RDPMC: the performance counters are hidden (CPUID leaf 0xA is empty), so
 * every counter number is invalid: #GP(0), as KVM gives without a PMU. */
static enum exit_action handle_rdpmc(struct vcpu *vcpu, struct vm_exit exit)
{
    (void)exit;
    inject_exception(vcpu, VECTOR_GP, true, 0);
    return EXIT_RESUME;
}

static enum exit_action handle_undefined(struct vcpu *vcpu, struct vm_exit exit)
{
    /* MONITOR/MWAIT (not in our CPUID): #UD, as on a CPU without them. */
    (void)exit;
    inject_exception(vcpu, VECTOR_UD, false, 0);
    return EXIT_RESUME;
}

static enum exit_action handle_exception_nmi(struct vcpu *vcpu, struct vm_exit exit)
{
    (void)exit;
    uint32_t info = (uint32_t)vmcs_read(VM_EXIT_INTR_INFO);
    if ((info >> 8 & 7) == 2) {             /* an NMI meant for the host */
        __asm__ volatile("int $2");
        return EXIT_RESUME;
    }
    return stop_vm_with_dump(vcpu, "unexpected exception exit");
}

/* The exits with a fastpath (exits/exits.h). */
const exit_fastpath_fn exit_fastpaths[EXIT_REASON_MAX] = {
    [EXIT_REASON_EXTERNAL_INTERRUPT] = handle_external_interrupt_fastpath,
    [EXIT_REASON_PREEMPTION_TIMER] = handle_preemption_timer_fastpath,
    [EXIT_REASON_CPUID] = handle_cpuid,
    [EXIT_REASON_WRMSR] = handle_wrmsr_fastpath,
};

/* Per exit reason: its handler, whether it needs the exit qualification, and
 * whether the exit can interrupt the delivery of an event, which is then put
 * back (SDM Vol. 3C 28.2.4: exits caused by instructions cannot). */
static const struct {
    exit_handler_fn handle;
    bool needs_qualification;
    bool during_delivery;
} exit_handlers[EXIT_REASON_MAX] = {
    [EXIT_REASON_EXCEPTION_NMI] = { handle_exception_nmi, false, true },
    [EXIT_REASON_EXTERNAL_INTERRUPT] = { handle_external_interrupt, false, true },
    [EXIT_REASON_INTERRUPT_WINDOW] = { handle_event_window, false },
    [EXIT_REASON_NMI_WINDOW] = { handle_event_window, false },
    [EXIT_REASON_PREEMPTION_TIMER] = { handle_preemption_timer, false, true },
    [EXIT_REASON_TRIPLE_FAULT] = { handle_triple_fault, false, true },
    [EXIT_REASON_CPUID] = { handle_cpuid_exit, false },
    [EXIT_REASON_HLT] = { handle_hlt, false },
    [EXIT_REASON_INVD] = { handle_skip, false },
    [EXIT_REASON_VMCALL] = { handle_vmcall, false },
    [EXIT_REASON_VMCLEAR] = { handle_vmx_instruction, false },
    [EXIT_REASON_VMLAUNCH] = { handle_vm_entry_instruction, false },
    [EXIT_REASON_VMPTRLD] = { handle_vmx_instruction, false },
    [EXIT_REASON_VMPTRST] = { handle_vmx_instruction, false },
    [EXIT_REASON_VMREAD] = { handle_vmx_instruction, false },
    [EXIT_REASON_VMRESUME] = { handle_vm_entry_instruction, false },
    [EXIT_REASON_VMWRITE] = { handle_vmx_instruction, false },
    [EXIT_REASON_VMXOFF] = { handle_vmx_instruction, false },
    [EXIT_REASON_VMXON] = { handle_vmx_instruction, false },
    [EXIT_REASON_INVEPT] = { handle_vmx_instruction, false },
    [EXIT_REASON_INVVPID] = { handle_vmx_instruction, false },
    [EXIT_REASON_CR_ACCESS] = { handle_cr_access, true },
    [EXIT_REASON_IO_INSTRUCTION] = { handle_io, true },
    [EXIT_REASON_RDMSR] = { handle_rdmsr, false },
    [EXIT_REASON_WRMSR] = { handle_wrmsr, false },
    [EXIT_REASON_MWAIT] = { handle_undefined, false },
    [EXIT_REASON_RDPMC] = { handle_rdpmc, false },
    [EXIT_REASON_MONITOR] = { handle_undefined, false },
    [EXIT_REASON_EPT_VIOLATION] = { handle_ept_violation, true, true },
    [EXIT_REASON_EPT_MISCONFIG] = { handle_ept_misconfig, false, true },
    [EXIT_REASON_WBINVD] = { handle_skip, false },
    [EXIT_REASON_XSETBV] = { handle_xsetbv, false },
    [EXIT_REASON_PAUSE] = { handle_pause, false },
    [EXIT_REASON_PML_FULL] = { handle_pml_full, true, true },
    [EXIT_REASON_APIC_ACCESS] = { handle_apic_access, true, true },
    [EXIT_REASON_APIC_WRITE] = { handle_apic_write, true },
    [EXIT_REASON_VIRTUALIZED_EOI] = { handle_eoi_induced, true },
    [EXIT_REASON_TPR_BELOW_THRESHOLD] = { handle_tpr_below_threshold, false },
};

/* An exit no handler takes: a failed entry (invalid guest state, MSR
 * loading, machine check during entry: SDM Vol. 3C 27.8) or a reason
 * nothing handles. The VM cannot run on. Out of line: the dispatch stays
 * free of its stack and saved registers. */
__attribute__((noinline, cold)) static enum exit_action unhandled_exit(struct vcpu *vcpu,
                                                                      uint32_t full_reason)
{
    uint32_t reason = full_reason & 0xffff;
    const char *name = vmx_exit_reason_name(reason);
    char why[96];
    if (full_reason & EXIT_REASON_ENTRY_FAILURE)
        snprintf(why, sizeof(why), "VM entry failed: %s (exit reason %u, qualification %lu)",
                 name ? name : "unknown", reason, vmcs_read(EXIT_QUALIFICATION));
    else
        snprintf(why, sizeof(why), "unhandled exit reason %u (%s)", reason,
                 name ? name : "unknown");
    return stop_vm_with_dump(vcpu, why);
}

/* The handler of `reason`, with the exit qualification if it wants it. The
 * exit goes by value, in two registers: the handler is a tail call. */
static inline enum exit_action call_handler(struct vcpu *vcpu, uint32_t reason)
{
    uint64_t qualification =
        exit_handlers[reason].needs_qualification ? vmcs_read(EXIT_QUALIFICATION) : 0;
    return exit_handlers[reason].handle(vcpu, (struct vm_exit){ reason, qualification });
}

/* An exit that may have interrupted an event's delivery: the event is put
 * back first. Out of line, so that the other exits' dispatch saves no
 * registers for the call. */
__attribute__((noinline)) static enum exit_action handle_delivery_exit(struct vcpu *vcpu,
                                                                       uint32_t reason)
{
    reinject_interrupted_event(vcpu);
    return call_handler(vcpu, reason);
}

enum exit_action handle_vm_exit(struct vcpu *vcpu, uint32_t full_reason)
{
    uint32_t reason = full_reason & 0xffff;
    if (__builtin_expect((full_reason & EXIT_REASON_ENTRY_FAILURE) || reason >= EXIT_REASON_MAX ||
                             !exit_handlers[reason].handle, 0))
        return unhandled_exit(vcpu, full_reason);
    if (exit_handlers[reason].during_delivery)
        return handle_delivery_exit(vcpu, reason);
    return call_handler(vcpu, reason);
}
