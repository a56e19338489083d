#ifndef VIRT_SCHED_H
#define VIRT_SCHED_H
/* Placing vCPUs on physical CPUs and the loop each CPU runs. For now a
 * vCPU stays on the CPU it was placed on and runs until it halts, yields
 * or stops; time slicing, migration and balancing come with the scheduler. */
#include "virt/vm.h"

/* Chooses the least-loaded online CPU the vCPU's affinity allows. */
void sched_place(struct vcpu *vcpu);
/* Marks the vCPU stopped and makes its CPU notice (IPI if elsewhere). */
void sched_stop_vcpu(struct vcpu *vcpu);
/* Every CPU ends up here after bring-up: run vCPUs, else halt. CPU 0 also
 * serves the monitor console. */
__attribute__((noreturn)) void cpu_loop(void);
void sched_init(void);
#endif
