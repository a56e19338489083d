#ifndef VIRT_VM_LIFECYCLE_H
#define VIRT_VM_LIFECYCLE_H
/*
 * A VM as a whole: stopped, continued and reset, like QEMU's `stop`, `cont`
 * and `system_reset` (the guest's own resets come through vm_guest_reset).
 * Each begins by holding every vCPU of the VM off the CPUs (sched_hold): a
 * running one leaves at its next entry check, an IPI away, and none is
 * picked again until the hold is dropped. A stopped VM keeps all of its
 * state: halted vCPUs stay halted, timers and interrupts that come due stay
 * pending until `cont`. A reset waits until no vCPU is on a CPU; whichever
 * CPU sees the last one leave carries it out (vm_reboot), then vCPU 0 runs
 * from the image's start again. A reset of a stopped VM leaves it stopped.
 */
#include <stdbool.h>

struct vm;

/* The monitor's commands: NULL on success, else why not ("has ended", ...).
 * They return once the VM's vCPUs are off their CPUs (stop) or the reset is
 * done (reset). */
const char *vm_stop(struct vm *vm);
const char *vm_cont(struct vm *vm);

/* Asks for a machine reset for `why` (kept: a string that lives on) and
 * returns at once; a reset already on its way absorbs this one. False if
 * the VM has ended. Any CPU, from an exit handler too: the vCPUs, held,
 * leave their CPUs, and the last one to leave carries the reset out
 * (machine/vm_reset.c). */
bool vm_request_reset(struct vm *vm, const char *why);
/* Whether the VM's next reset gets a console line (the first few, then
 * every power of two), so that a guest resetting for ever does not flood
 * the console; a triple fault's dump follows the same rule. */
bool vm_next_reset_shown(const struct vm *vm);
/* Resets after these are shown at powers of two only (`info vms` has the
 * count). */
#define RESETS_ALWAYS_SHOWN 8
#endif
