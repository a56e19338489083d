#ifndef MACHINE_VCPU_INSPECT_H
#define MACHINE_VCPU_INSPECT_H
/* The monitor's requests for a vCPU's state (REQ_SNAPSHOT, REQ_DUMP_VMCS:
 * virt/vcpu_snapshot.h) for a vCPU that is off its CPU: served by the CPU
 * where its VMCS is active, between the entities that CPU runs. A running
 * vCPU serves them itself before its next entry (machine/vcpu_run.c). */
#include <stdint.h>

struct vcpu;

/* Registers the service with every CPU's loop. */
void vcpu_inspect_init(void);
/* Asks `v` for REQ_SNAPSHOT or REQ_DUMP_VMCS and wakes the CPU that will
 * serve it (where it runs, else where its VMCS is active). The CPUs look for
 * requests only between vcpu_inspect_ask and vcpu_inspect_done: their
 * loops stay as short as before otherwise. */
void vcpu_inspect_ask(struct vcpu *v, uint32_t request);
void vcpu_inspect_done(void);
#endif
