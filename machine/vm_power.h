#ifndef MACHINE_VM_POWER_H
#define MACHINE_VM_POWER_H
/* A VM's power cycle: built from its configuration, built again at a
 * machine reset, torn down once its last vCPU has stopped. */
#include <stdbool.h>
#include <stddef.h>

struct vm;
struct vm_config;

/* The VPIDs VMs are given (once, at start-up). */
void vm_power_init(void);

/* Makes the VM in slot `vm` from `cfg` and boots it: devices at power-on,
 * guest memory with the image and the firmware's tables, vCPU 0 runnable
 * at the image's start, the others waiting for SIPI (not yet placed in
 * the scheduler). False, reported, if it cannot be made. */
bool vm_create(struct vm *vm, const struct vm_config *cfg);
/* The machine reset itself (machine/vm_reset.c decides when): every vCPU
 * off its CPU and held there. Drops the VMCSs and guest memory and builds
 * them again as vm_create does (the CMOS keeps its clock and NVRAM, as a
 * PC's battery does). False, with the reason in `why`, if memory ran out. */
bool vm_reboot(struct vm *vm, char *why, size_t why_size);
/* A vCPU of the VM will never run again and holds nothing on any CPU; the
 * last one finishes the VM: prints the exit table and frees its memory. */
void vm_vcpu_released(struct vm *vm);
#endif
