#ifndef VIRT_SCHED_H
#define VIRT_SCHED_H
/* Placing vCPUs on physical CPUs and the loop each CPU runs: per-CPU run
 * queues ordered by the policy (virt/sched_policy.h), time slices ended by
 * the VMX-preemption timer, idle CPUs taking waiting vCPUs from busy ones. */
#include "virt/vm.h"

/* Chooses the least-loaded online CPU the vCPU's affinity allows. */
void sched_place(struct vcpu *vcpu);
/* Marks the vCPU stopped and makes its CPU notice (IPI if elsewhere). */
void sched_stop_vcpu(struct vcpu *vcpu);
/* Every CPU ends up here after bring-up: run vCPUs, else halt. CPU 0 also
 * serves the monitor console. */
__attribute__((noreturn)) void cpu_loop(void);
void sched_init(void);
/* `info sched`: each CPU's queue. */
void sched_print_queues(void);
#endif
