#ifndef MACHINE_VCPU_ENTITY_H
#define MACHINE_VCPU_ENTITY_H
/* A vCPU as the scheduler's entity (sched/sched.h): how it is run, what its
 * state is, which of its timers may wake it while it halts, and its VM's
 * PIT, raised by whichever CPU holds its halted vCPU 0. */
struct vcpu;

/* Puts the vCPU on a CPU's run queue in its VM's scheduling group; a vCPU
 * no online CPU may run stops its VM. */
void vcpu_place(struct vcpu *vcpu);
/* Registers the VMs' work in every CPU's loop (before the APs start). */
void vcpu_entity_init(void);
#endif
