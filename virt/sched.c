#include "virt/sched.h"
#include "virt/vcpu.h"
#include "arch/bootinfo.h"
#include "arch/cpu.h"
#include "arch/interrupts.h"
#include "arch/lapic.h"
#include "arch/percpu.h"
#include "arch/platform.h"
#include "lib/printf.h"
#include "mon/monitor.h"

#define MAX_VCPUS_PER_CPU 64

struct run_queue {
    spinlock_t lock;
    struct vcpu *vcpus[MAX_VCPUS_PER_CPU];
    uint32_t count;
};

static struct run_queue queues[MAX_CPUS];
static bool exit_when_vms_end;      /* kernel command line "batch" */

static void reschedule_interrupt(struct trap_frame *frame)
{
    (void)frame;    /* waking the CPU (or making its guest exit) is the point */
}

void sched_init(void)
{
    interrupt_register(VECTOR_RESCHEDULE, reschedule_interrupt);
    exit_when_vms_end = bootinfo_cmdline_flag("batch");
}

static void kick(uint32_t cpu)
{
    if (cpu != this_cpu()->index)
        lapic_send_ipi(percpu[cpu].apic_id, ICR_FIXED | VECTOR_RESCHEDULE);
}

void sched_place(struct vcpu *v)
{
    uint32_t best = MAX_CPUS;
    for (uint32_t cpu = 0; cpu < cpu_count; cpu++) {
        if (!percpu[cpu].online || !(v->vm->config.affinity >> cpu & 1) ||
            queues[cpu].count == MAX_VCPUS_PER_CPU)
            continue;
        if (best == MAX_CPUS || queues[cpu].count < queues[best].count)
            best = cpu;
    }
    if (best == MAX_CPUS) {
        klog("vm %s: vcpu %u: no online CPU in its affinity; stopping the VM\n",
                v->vm->config.name, v->id);
        vm_end(v->vm, -1, "no CPU to run on");
        return;
    }
    struct run_queue *q = &queues[best];
    spin_lock(&q->lock);
    v->cpu = best;
    q->vcpus[q->count++] = v;
    spin_unlock(&q->lock);
    kick(best);
}

void sched_stop_vcpu(struct vcpu *v)
{
    enum vcpu_state s = v->state;
    while (s != VCPU_STOPPED && !vcpu_transition(v, s, VCPU_STOPPED))
        s = v->state;
    kick(v->cpu);
}

/* Releases this CPU's stopped vCPUs; the last one of a VM finishes it. */
static void reap_stopped(struct run_queue *q)
{
    for (uint32_t i = 0; i < q->count;) {
        struct vcpu *v = q->vcpus[i];
        if (v->state != VCPU_STOPPED) {
            i++;
            continue;
        }
        spin_lock(&q->lock);
        q->vcpus[i] = q->vcpus[--q->count];
        spin_unlock(&q->lock);
        vcpu_release(v);
        struct vm *vm = v->vm;
        if (__atomic_add_fetch(&vm->vcpus_stopped, 1, __ATOMIC_ACQ_REL) == vm->vcpu_count) {
            vm_finish(vm);
            kick(0);    /* CPU 0 decides whether the hypervisor is done */
        }
    }
}

static struct vcpu *pick(struct run_queue *q)
{
    for (uint32_t i = 0; i < q->count; i++)
        if (q->vcpus[i]->state == VCPU_RUNNABLE)
            return q->vcpus[i];
    return NULL;
}

/* HLT with nothing that could wake the vCPU: once every vCPU of the VM is
 * halted, the VM is over. */
static void end_vm_if_all_halted(struct vm *vm)
{
    for (uint32_t i = 0; i < vm->vcpu_count; i++)
        if (vm->vcpus[i].state != VCPU_HALTED && vm->vcpus[i].state != VCPU_STOPPED)
            return;
    vm_end(vm, 0, "all vCPUs halted");
}

void cpu_loop(void)
{
    uint32_t me = this_cpu()->index;
    struct run_queue *q = &queues[me];
    for (;;) {
        reap_stopped(q);
        if (me == 0) {
            monitor_poll();
            if (exit_when_vms_end && all_vms_ended())
                platform_exit(EXIT_OK);
        }
        struct vcpu *v = pick(q);
        if (v) {
            vcpu_load(v);
            vcpu_run(v);
            vcpu_put(v);
            if (v->state == VCPU_HALTED)
                end_vm_if_all_halted(v->vm);
            continue;
        }
        irq_disable();
        if (!pick(q) && !(me == 0 && monitor_input_pending()))
            irq_enable_and_halt();
        irq_enable();
    }
}
