#ifndef SCHED_SCHED_H
#define SCHED_SCHED_H
/* Placing vCPUs on physical CPUs and the loop each CPU runs: per-CPU run
 * queues ordered by the policy (sched/sched_policy.h), time slices ended by
 * the VMX-preemption timer (or the host LAPIC timer), idle CPUs taking
 * waiting vCPUs from busy ones, halted vCPUs woken by interrupts. */
#include "virt/vm.h"

/* Chooses the least-loaded online CPU the vCPU's affinity allows. */
void sched_place(struct vcpu *vcpu);
/* Marks the vCPU stopped and makes its CPU notice (IPI if elsewhere). */
void sched_stop_vcpu(struct vcpu *vcpu);
/* Keeps the VM's vCPUs off the CPUs for `why` (enum vm_hold bits): none is
 * picked from now on and those on a CPU are made to leave (they keep their
 * state: a halted one stays halted). Any CPU may call. */
void sched_hold(struct vm *vm, uint32_t why);
/* Drops `why`; with no reason left, the vCPUs that want a CPU get one. */
void sched_unhold(struct vm *vm, uint32_t why);
/* Runs `power_on` on the vCPU under the scheduler's lock, so that a reset
 * rebuilding it never races with other CPUs' scheduling of it. */
void sched_power_on_vcpu(struct vcpu *v, void (*power_on)(struct vcpu *v));
/* Whether none of the VM's vCPUs is on a CPU (held, none will be again). */
bool sched_vm_off_cpus(struct vm *vm);
/* Every CPU ends up here after bring-up: run vCPUs, else halt. CPU 0 also
 * serves the monitor console. */
__attribute__((noreturn)) void cpu_loop(void);
void sched_init(void);
/* Changes which CPUs a VM's vCPUs may run on (the monitor's `affinity`);
 * vCPUs on a CPU no longer allowed move at their next scheduling point.
 * False if no online CPU is in `affinity`. */
bool sched_set_affinity(struct vm *vm, uint64_t affinity);
/* Something is pending for the vCPU (interrupt, INIT, SIPI; set before
 * calling): a blocked vCPU that it wakes becomes runnable, a running one
 * is made to exit so it looks before entering again. Any CPU may call. */
void sched_wake(struct vcpu *vcpu);
/* A timer the vCPU stops or wakes for (the VM's PIT, for vCPU 0) moved
 * earlier, from another vCPU maybe: the CPU that runs it, or waits on it
 * while it halts, computes its stop time again. Any CPU may call. */
void sched_timer_changed(struct vcpu *vcpu);
/* The running vCPU blocks (HLT, or waiting for SIPI) unless an event that
 * wakes it is already there; true if it blocked. */
bool vcpu_block(struct vcpu *vcpu, enum vcpu_state blocked_in);
/* Directed yield: `target` (of the same VM, preempted) runs next, for a
 * short slice, on a CPU where it pushes off no vCPU of its VM if there is
 * one, else on `me`'s; `me` pays for the head start. 1 if boosted, 0 if it
 * was not waiting for a CPU after all, -1 if it could not be moved. */
int sched_yield_to(struct vcpu *me, struct vcpu *target);
/* `info sched`: each CPU's queue. */
void sched_print_queues(void);
#endif
