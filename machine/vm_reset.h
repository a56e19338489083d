#ifndef MACHINE_VM_RESET_H
#define MACHINE_VM_RESET_H
/* Machine resets carried out: once every vCPU of the VM is off its CPU and
 * held there (virt/vm_lifecycle.h asked for it), whichever CPU sees that
 * rebuilds the VM (vm_reboot), then lets vCPU 0 run. */
struct vm;

/* A vCPU of a held VM has left its CPU: the reset waiting for that, if
 * any, is carried out now (by the scheduler, not under its lock). */
void vm_reset_progress(struct vm *vm);
#endif
