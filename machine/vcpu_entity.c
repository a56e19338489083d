/* The scheduler's callbacks for vCPUs (machine/vcpu_entity.h). */
#include "machine/vcpu_entity.h"
#include "virt/dirty_log.h"
#include "machine/vm_power.h"
#include "machine/vm_reset.h"
#include "machine/vcpu_run.h"
#include "virt/vcpu.h"
#include "virt/vcpu_state.h"
#include "virt/vm_lifecycle.h"
#include "dev/devices.h"
#include "dev/pit_access.h"
#include "exits/exit_pause.h"
#include "nested/nested.h"
#include "arch/bootinfo.h"
#include "arch/cpu.h"
#include "arch/platform.h"
#include "arch/tsc.h"
#include "lib/container_of.h"
#include "arch/serial.h"
#include "lib/printf.h"

static struct vcpu *vcpu_of(const struct sched_entity *e)
{
    return container_of(e, struct vcpu, se);
}

static bool load(struct sched_entity *e, bool switched_in)
{
    struct vcpu *v = vcpu_of(e);
    if (!vcpu_load(v))
        return false;
    /* KVM's sched-in hook runs when a CPU switches to another task, not
     * when the same vCPU continues. */
    if (switched_in)
        ple_sched_in(v);
    return true;
}

static void run(struct sched_entity *e, uint64_t slice, bool boosted)
{
    vcpu_run(vcpu_of(e), slice, boosted);
}

/* The VM's PIT interrupt is raised at its time by vCPU 0's run loop, or
 * by the CPU where vCPU 0 halts: its deadline if this is that vCPU, or 0. */
static uint64_t halted_pit_deadline(const struct vcpu *v)
{
    return v->id == 0 && v->se.state == VCPU_HALTED ? pit_deadline(v->vm) : 0;
}

/* Whether a blocked vCPU's own timer can still wake it: an interrupt it
 * could take (a timer it would not take only costs host wake-ups). */
static bool apic_timer_can_wake(const struct vcpu *v)
{
    return v->se.state == VCPU_HALTED && v->halt_interruptible && vlapic_timer_can_interrupt(v->apic);
}

/* L1's VMX-preemption timer while L2 halts: it counts in the HLT state and
 * its VM exit to L1 ends the halt (SDM Vol. 3C 26.5.1); its deadline, or 0. */
static uint64_t halted_l1_timer_deadline(const struct vcpu *v)
{
    return v->se.state == VCPU_HALTED && nested_in_l2(v) ? v->nested->timer_deadline : 0;
}

/* Its APIC timer, or for vCPU 0 the PIT, wherever its interrupt is routed;
 * or L1's preemption timer. */
static bool timer_can_wake(const struct vcpu *v)
{
    return apic_timer_can_wake(v) || (v->halt_interruptible && halted_pit_deadline(v)) ||
           halted_l1_timer_deadline(v);
}

static void keep_earliest(uint64_t *next, uint64_t deadline)
{
    if (deadline && (!*next || (int64_t)(deadline - *next) < 0))
        *next = deadline;
}

/* Every vCPU blocked with nothing that could wake it (no timer, and no
 * running vCPU to send an IPI), halted or waiting for a start-up IPI that
 * no one is left to send: the VM is over. A wake-up during the scan makes
 * the scan worthless: the wake-up count says whether one happened. */
static void end_vm_if_all_halted(struct vm *vm)
{
    uint64_t wakeups = __atomic_load_n(&vm->wakeups, __ATOMIC_SEQ_CST);
    bool waiting_for_sipi = false;
    for (uint32_t i = 0; i < vm->vcpu_count; i++) {
        const struct vcpu *v = &vm->vcpus[i];
        if ((v->se.state != VCPU_HALTED && v->se.state != VCPU_WAIT_SIPI && v->se.state != VCPU_STOPPED) ||
            timer_can_wake(v))
            return;
        waiting_for_sipi |= v->se.state == VCPU_WAIT_SIPI;
    }
    if (__atomic_load_n(&vm->wakeups, __ATOMIC_SEQ_CST) == wakeups)
        vm_end(vm, 0, waiting_for_sipi ? "all vCPUs halted or waiting for SIPI"
                                       : "all vCPUs halted");
}

static void put(struct sched_entity *e)
{
    struct vcpu *v = vcpu_of(e);
    vcpu_put(v);
    /* Still on the CPU: a reset waits for that, so it never meets an end. */
    if (v->se.state == VCPU_HALTED || v->se.state == VCPU_WAIT_SIPI)
        end_vm_if_all_halted(v->vm);
}

/* A reset waits for its VM's vCPUs to leave their CPUs. */
static void held_off_cpu(struct sched_entity *e)
{
    vm_reset_progress(vcpu_of(e)->vm);
}

static void request_resched(struct sched_entity *e)
{
    vcpu_request(vcpu_of(e), REQ_RESCHED);
}

static bool expire_timers(struct sched_entity *e, uint64_t now, uint64_t *next)
{
    struct vcpu *v = vcpu_of(e);
    if (v->vm->sched.hold & VM_HOLD_RESET)
        return false;   /* its vCPUs are being rebuilt (machine/vm_reset.c) */
    keep_earliest(next, halted_pit_deadline(v));
    uint64_t l1_timer = halted_l1_timer_deadline(v);
    if (l1_timer && (int64_t)(now - l1_timer) >= 0 && vcpu_unblock_halted(v))
        return true;    /* its run loop makes the exit to L1 */
    keep_earliest(next, halted_l1_timer_deadline(v));
    if (!apic_timer_can_wake(v))
        return false;
    /* Woken timer_advance early: its run loop waits for the deadline
     * (machine/vcpu_run.c), so the guest sees no wake-up cost. */
    uint64_t deadline = v->apic->timer_deadline, wake_at = deadline - v->timer_advance;
    if ((int64_t)(now - wake_at) >= 0 && (int64_t)(now - deadline) < 0 &&
        vcpu_unblock_halted(v)) {
        v->timer_wake_deadline = deadline;
        return true;
    }
    vlapic_timer_expire(v->apic, now);
    if (vcpu_unblock_for_timer(v)) {
        v->timer_wake_deadline = deadline;
        return true;
    }
    if (apic_timer_can_wake(v))
        keep_earliest(next, v->apic->timer_deadline - v->timer_advance);
    return false;
}

static bool boost_got_past(const struct sched_entity *e)
{
    return ple_boost_got_past(vcpu_of(e));
}

static void release(struct sched_entity *e)
{
    struct vcpu *v = vcpu_of(e);
    nested_vcpu_free(v);
    vcpu_release(v);
    vm_vcpu_released(v->vm);
}

static void describe(const struct sched_entity *e, char *buf, size_t size)
{
    const struct vcpu *v = vcpu_of(e);
    snprintf(buf, size, "%s/%u", v->vm->config.name, v->id);
}

static const struct sched_entity_ops vcpu_entity_ops = {
    .state_class = vcpu_state_class,
    .load = load,
    .run = run,
    .put = put,
    .held_off_cpu = held_off_cpu,
    .request_resched = request_resched,
    .expire_timers = expire_timers,
    .boost_got_past = boost_got_past,
    .release = release,
    .describe = describe,
};

void vcpu_place(struct vcpu *v)
{
    struct vm *vm = v->vm;
    if (sched_place(&v->se, &vcpu_entity_ops, &vm->sched,
                    vm->config.weight * WEIGHT_DEFAULT / 100))
        return;
    klog("vm %s: vcpu %u: no online CPU in its affinity; stopping the VM\n", vm->config.name,
         v->id);
    v->se.state = VCPU_STOPPED;
    vm_end(vm, -1, "no CPU to run on");
    vm_vcpu_released(vm);      /* never queued, so no CPU will reap it */
}

/* Kernel command line "stop_after=SECONDS": the TSC at which every VM still
 * running ends ("time limit"), so that a run that would go on for ever
 * (a guest looping with interrupts off) still ends with its tables; 0: none. */
static uint64_t stop_deadline;
static char stop_reason[48];

/* Raises the due PIT interrupts of the VMs whose vCPU 0 halts on this CPU
 * (not under the scheduler's lock: raising one may wake vCPUs). */
static void vm_cpu_work(uint32_t me)
{
    uint64_t now = rdtsc();
    if (me == 0 && stop_deadline && (int64_t)(now - stop_deadline) >= 0) {
        stop_deadline = 0;
        for (uint32_t i = 0; i < vm_count; i++)
            if (!vm_has_finished(&vms[i]))
                vm_end(&vms[i], -1, stop_reason);
    }
    for (uint32_t i = 0; i < vm_count; i++) {
        struct vcpu *v = vms[i].vcpus;
        /* A VM being reset has its devices and vCPUs rebuilt: nothing of
         * the old boot may reach the new one. */
        if (vm_has_finished(&vms[i]) || (vms[i].sched.hold & VM_HOLD_RESET) || !v)
            continue;
        if (v->se.cpu == me && halted_pit_deadline(v))
            pit_expire(&vms[i], now);
        if (me == 0)    /* a dirty-rate period of a VM whose vCPUs all halt ends here */
            dirty_log_check(&vms[i], now);
    }
}

void vcpu_entity_init(void)
{
    char seconds[16];
    if (bootinfo_cmdline_value("stop_after", seconds, sizeof(seconds))) {
        uint64_t s = 0;
        const char *c = seconds;
        for (; *c >= '0' && *c <= '9' && s < UINT32_MAX; c++)
            s = s * 10 + (uint64_t)(*c - '0');
        if (s && !*c) {
            stop_deadline = rdtsc() + s * tsc_khz() * 1000;
            snprintf(stop_reason, sizeof(stop_reason), "time limit (stop_after=%lu)", s);
        } else {
            klog("vmxvisor: stop_after=%s: not a number of seconds from 1 to 4294967295; "
                 "no time limit\n", seconds);
        }
    }
    sched_add_cpu_work(vm_cpu_work, NULL);
}
