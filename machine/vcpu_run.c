/* The run loop of a vCPU on its CPU (KVM's vcpu_enter_guest): the work
 * before each entry, the entry, and the dispatch of each exit. */
#include "machine/vcpu_run.h"
#include "virt/dirty_log.h"
#include "virt/vcpu.h"
#include "virt/vcpu_state.h"
#include "dev/apic_access.h"
#include "dev/devices.h"
#include "dev/irq.h"
#include "dev/pit_access.h"
#include "exits/exits.h"
#include "exits/exit_pause.h"
#include "nested/events.h"
#include "nested/nested.h"
#include "nested/l2_exit.h"
#include "nested/switch.h"
#include "vmx/exit_reasons.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_cpu.h"
#include "arch/cpu.h"
#include "arch/lapic.h"
#include "arch/tsc.h"
#include "lib/printf.h"

/* An entry that fails with VMfail leaves the guest untouched (SDM Vol. 3C
 * 27.1-27.2): report the VM-instruction error and stop the VM. */
static void entry_failed(struct vcpu *v, int failure)
{
    char why[120];
    if (failure == 1) {
        uint32_t error = (uint32_t)vmcs_read(VM_INSTRUCTION_ERROR);
        snprintf(why, sizeof(why), "%s failed: VM-instruction error %u (%s)",
                 v->vmcs->launched ? "VMRESUME" : "VMLAUNCH", error,
                 vmx_instruction_error_text(error));
    } else {
        snprintf(why, sizeof(why), "%s failed: VMfailInvalid (no current VMCS)",
                 v->vmcs->launched ? "VMRESUME" : "VMLAUNCH");
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

/* The advance covers a wake-up's instructions, not waits for a CPU: at most
 * this many cycles, and a lateness beyond twice that (the vCPU waited its
 * turn) teaches nothing. */
#define TIMER_ADVANCE_MAX 5000u

/* The first entry after its APIC timer woke it from HLT, timer_advance
 * early (machine/vcpu_entity.c): waits out what is left until the
 * deadline, and adapts the advance so that the wake-up's cost ends just
 * there: lateness grows it by half, a wait shrinks it by an eighth (KVM's
 * adaptive lapic_timer_advance_ns does the same by other steps; it caps
 * the advance at 5 us, here a cycle count, as our wake-up is instructions). */
static uint64_t wait_for_timer_deadline(struct vcpu *v, uint64_t now)
{
    uint64_t deadline = v->timer_wake_deadline;
    v->timer_wake_deadline = 0;
    int64_t left = (int64_t)(deadline - now);
    if (left <= 0) {
        uint64_t late = (uint64_t)-left, grown = v->timer_advance + late / 2;
        if (late <= 2 * TIMER_ADVANCE_MAX)
            v->timer_advance = (uint32_t)(grown > TIMER_ADVANCE_MAX ? TIMER_ADVANCE_MAX : grown);
        return now;
    }
    v->timer_advance -= (uint32_t)left / 8 < v->timer_advance ? (uint32_t)left / 8 : v->timer_advance;
    while ((int64_t)(deadline - now) > 0) {
        cpu_relax();
        now = rdtsc();
    }
    return now;
}

/* The rare work before an entry, done when there are requests or the stop
 * time has come: the VM's PIT, a stop or a kick, INIT and start-up IPIs,
 * the end of the slice, the guest's APIC timer, interrupt injection; and
 * the next stop. The PIT goes first: its interrupt may be for this vCPU. */
static enum entry_check before_entry(struct vcpu *v, uint64_t now, uint64_t *slice_end)
{
    pit_expire(v->vm, now);
    uint32_t requests = __atomic_exchange_n(&v->requests, 0, __ATOMIC_SEQ_CST);
    /* The monitor's requests outlive a departure: off its CPU, the vCPU is
     * served where its VMCS is (machine/vcpu_inspect.c). */
    uint32_t inspect = requests & (REQ_SNAPSHOT | REQ_DUMP_VMCS);
    if ((requests & REQ_RESCHED) || v->se.state != VCPU_RUNNING) {
        vcpu_request(v, inspect);
        return LEAVE;       /* what else was asked is asked again at the next slice */
    }
    if (requests & REQ_INIT_SIPI) {
        if (!nested_init_signal(v) && !apic_process_init_sipi(v)) {
            vcpu_request(v, inspect);
            return WAIT_FOR_SIPI;
        }
        /* A start-up (or L1's INIT exit) asked for the event and timer
         * checks of this very entry: taken now. */
        uint32_t more = __atomic_exchange_n(&v->requests, 0, __ATOMIC_SEQ_CST);
        requests |= more & (REQ_EVENT | REQ_TIMER);
        vcpu_request(v, more & ~(REQ_EVENT | REQ_TIMER));
    }
    if (__builtin_expect(v->vm->dirty_log.state == DIRTY_LOG_MEASURING, 0))
        dirty_log_check(v->vm, now);
    if (requests & REQ_DIRTY_LOG)
        dirty_log_vcpu_sync(v);
    if (requests & REQ_DUMP_VMCS)
        report_with_dump(v, "info vmcs", "the VM runs on");
    if (requests & (REQ_SNAPSHOT | REQ_DUMP_VMCS)) {
        vcpu_snapshot_take(v, true);
        sched_poke(0);      /* the monitor waits for it there */
    }
    if ((int64_t)(now - *slice_end) >= 0) {
        uint64_t more = ple_slice_end(v);
        if (!more)
            return LEAVE;
        *slice_end = now + more;
    }
    struct vlapic *apic = v->apic;
    if (__builtin_expect(v->timer_wake_deadline != 0, 0))
        now = wait_for_timer_deadline(v, now);
    if (apic->timer_armed && (int64_t)(now - apic->timer_deadline) >= 0 &&
        vlapic_timer_expire(apic, now))
        requests |= REQ_EVENT;
    uint64_t l1_timer = nested_in_l2(v) ? nested_timer_check(v, now) : 0;
    if (requests & REQ_EVENT) {
        if (nested_in_l2(v))
            nested_deliver_events(v);
        else
            inject_pending_events(v);
    }
    v->run_stop = *slice_end;
    if (apic->timer_armed)
        vcpu_stop_by(v, apic->timer_deadline);
    /* L2 is out in time for L1's preemption timer too (an entry to L2
     * arming it brings the stop nearer itself: nested/switch.c). */
    if (l1_timer && nested_in_l2(v))
        vcpu_stop_by(v, l1_timer);
    /* vCPU 0 is out in time for the PIT; the others raise it when they
     * happen to see it due. */
    uint64_t pit = pit_deadline(v->vm);
    if (v->id == 0 && pit)
        vcpu_stop_by(v, pit);
    if (v->exit_after_entry) {
        v->exit_after_entry = false;
        vcpu_stop_by(v, now);
    }
    return ENTER;
}

/* An exit from L2: L1's if it asked for it (nested/reflect.h), else L0
 * handles it on L2's behalf; counted both ways. */
__attribute__((noinline)) static enum exit_action exit_from_l2(struct vcpu *v, uint32_t reason)
{
    v->nested->l2_halted = false;   /* L2 ran since any halt */
    bool to_l1 = nested_l1_wants_exit(v, reason);
    unsigned basic = reason & 0xffff;
    if (basic < EXIT_REASON_MAX) {
        v->stats.from_l2[basic]++;
        v->stats.to_l1[basic] += to_l1;
    }
    if (!to_l1) {
        v->nested->entry_state_stale = true;    /* L0's handler may change vmcs02's */
        return handle_vm_exit(v, reason);
    }
    nested_vm_exit(v, reason, NESTED_EXIT_INFO_VMCS02, 0, 0);
    return EXIT_RESUME;
}

/* The TSC now, the end of an exit's handling that began at `exited`. */
static inline uint64_t handling_done(uint64_t *handled_cycles, uint64_t exited)
{
    uint64_t now = rdtsc();
    *handled_cycles += now - exited;
    return now;
}

static void run_loop(struct vcpu *v, uint64_t slice)
{
    uint64_t start = rdtsc(), slice_end = start + slice, lapic_stop = 0;
    v->run_stop = slice_end;
    /* The guest must be out by run_stop (slice end or its APIC timer): the
     * VMX-preemption timer, or the host LAPIC timer where there is none (its
     * interrupt makes the guest exit and this CPU reschedule). */
    int timer_shift = have_preemption_timer() ? (int)vmcs_config.preemption_timer_rate : -1;
    vcpu_request(v, REQ_EVENT | REQ_TIMER | (v->waiting_for_sipi ? REQ_INIT_SIPI : 0));
    /* CR2 is the guest's while it runs here: set once, kept by the exits
     * (a handler that changes the guest's CR2 sets the register too), and
     * saved when the vCPU leaves the CPU: nothing in L0 faults meanwhile. */
    if (read_cr2() != v->cr2)
        write_cr2(v->cr2);
    /* Time is accounted in the run loop's stretches: in the guest (what is
     * left over, exit_stats_guest_cycles), handling an exit, and
     * `unattributed` (before the first entry, failed entries). An exit's
     * handling ends with the TSC read for the next entry, one RDTSC less
     * per exit. The fastpath's exits read none: they go in again with the
     * exit's TSC as the present (their handling then counts as the guest's,
     * and the next stop comes at most that late), as KVM's exit fastpath
     * skips the run loop's bookkeeping; they are counted apart (fast[]). */
    uint64_t *unattributed = &v->stats.unattributed_cycles, *handled_cycles = unattributed;
    uint64_t now = start, exited = start;
    irq_disable();
    for (;;) {
        /* Checked with interrupts off: a kick arriving from here on stays
         * pending and makes the guest exit at once (KVM's exit-request check);
         * a stop or kick also leaves a request. */
        if (v->requests || (int64_t)(now - v->run_stop) >= 0) {
            enum entry_check check = before_entry(v, now, &slice_end);
            if (check == LEAVE) {
                irq_enable();
                break;
            }
            if (check == WAIT_FOR_SIPI) {
                irq_enable();
                if (vcpu_block(v, VCPU_WAIT_SIPI))
                    break;
                irq_disable();
                now = handling_done(handled_cycles, exited);
                continue;
            }
        }
        if (timer_shift >= 0) {
            /* run_stop - now < one slice: far below the field's 32 bits. */
            vmcs_write(VMX_PREEMPTION_TIMER_VALUE, (v->run_stop - now) >> timer_shift);
        } else if (v->run_stop != lapic_stop) {
            lapic_timer_arm(v->run_stop);
            lapic_stop = v->run_stop;
        }
        /* Nested VMX switches the vCPU's VMCS between entries. */
        int failure = vmx_enter(&v->regs, v->vmcs->launched);
        exited = v->regs.exit_tsc;
        handled_cycles = unattributed;
        if (failure) {
            *unattributed += exited - now;
            irq_enable();
            if (nested_in_l2(v)) {
                nested_entry_failed_late(v);
                irq_disable();
                now = handling_done(handled_cycles, exited);
                continue;
            }
            entry_failed(v, failure);
            break;
        }
        uint32_t reason = (uint32_t)vmcs_read_base(VM_EXIT_REASON);
        /* A VMLAUNCH that failed with an exit (reason bit 31: the processor
         * refused the guest state) leaves the VMCS clear (SDM Vol. 3C 27.8);
         * for L1 that ends the VM, for L2 it is L1's failed entry. The VMCS
         * pointer is read again rather than kept across the entry, where it
         * would take a stack slot (vmx_enter keeps only RBX). */
        struct loaded_vmcs *lv = v->vmcs;
        if (__builtin_expect(!lv->launched, 0)) {
            v->stats.launches++;        /* the others are resumes (exit_stats_entries) */
            lv->launched = !(reason & EXIT_REASON_ENTRY_FAILURE);
        }
        /* The fastpath's exits go in again without the detour through an
         * interrupt window: an interrupt that comes meanwhile stays pending
         * and makes the entry exit at once. */
        enum exit_action action;
        if (__builtin_expect(nested_in_l2(v), 0)) {
            if (reason == EXIT_REASON_EXTERNAL_INTERRUPT)
                take_host_interrupt();
            irq_enable();
            action = exit_from_l2(v, reason);
        } else if (handle_vm_exit_fastpath(v, reason)) {
            v->stats.count[reason]++;
            v->stats.fast[reason]++;
            now = exited;
            continue;
        } else {
            irq_enable();   /* a pending host interrupt (external-interrupt exit) runs now */
            action = handle_vm_exit(v, reason);
        }
        unsigned basic = reason & 0xffff;
        if (basic < EXIT_REASON_MAX) {
            v->stats.count[basic]++;
            handled_cycles = &v->stats.cycles[basic];
        }
        if (action != EXIT_RESUME)
            break;
        irq_disable();
        now = handling_done(handled_cycles, exited);
    }
    uint64_t end = rdtsc();
    *handled_cycles += end - exited;
    v->stats.loop_cycles += end - start;
    v->cr2 = read_cr2();
}

void vcpu_run(struct vcpu *v, uint64_t slice, bool boosted)
{
    if (!vcpu_transition(v, VCPU_RUNNABLE, VCPU_RUNNING))
        return;
    ple_slice_start(v, boosted, &slice);
    halt_poll_adapt(v, rdtsc());
    run_loop(v, slice);
    ple_sched_out(v);
    vcpu_transition(v, VCPU_RUNNING, VCPU_RUNNABLE);
}

