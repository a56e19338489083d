#ifndef MACHINE_MACHINE_H
#define MACHINE_MACHINE_H
/*
 * A VM as a whole machine: built from its configuration (devices, guest
 * memory with its image and firmware tables, vCPUs placed in the
 * scheduler), reset through the same path, torn down when its last vCPU
 * stops. The top of the VM layers: it puts the core (virt/), the devices
 * (dev/), the loaders (loader/) and the exit handlers (exits/) together.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct vm_config_set;

/* Wires the layers below together (before the APs start): the scheduler's
 * per-CPU work for the VMs, the devices' interrupt state for the core. */
void machine_init(void);
/* Builds every valid VM of the configuration; bad ones are reported and
 * skipped. Returns how many VMs were created. */
uint32_t vms_create_from_config(const struct vm_config_set *set);
/* The hypervisor's exit status once every VM has ended (kernel command line
 * `batch`), for scripts: 0 when every VM of the configuration was started
 * and ended with status 0. Otherwise EXIT_VM_NOT_STARTED if one was not
 * started or could not be created, else the status of the first VM (in
 * configuration order) that ended with one other than 0, or EXIT_VM_FAILED
 * when that VM ended without a status of its own (it crashed, was killed,
 * ran out of time). `vm_status=ignore` on the command line makes it 0
 * whatever the VMs did. */
int vms_batch_status(void);
/* The monitor's `reset`: NULL once the reset is done, else why not. */
const char *vm_reset(struct vm *vm);
#endif
