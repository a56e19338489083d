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
/* The machine reset itself (vm_reset_progress decides when): every vCPU
 * off its CPU and held there. Drops the VMCSs and guest memory and builds
 * them again as vm_create does: devices at power-on (the CMOS keeps its
 * clock and NVRAM, as a PC's battery does), the image and firmware tables
 * loaded, vCPU 0 runnable at the image's start, the others waiting for
 * SIPI. False, with the reason in `why`, if memory ran out. */
bool vm_reboot(struct vm *vm, char *why, size_t why_size);
/* A vCPU of the VM will never run again and holds nothing on any CPU; the
 * last one finishes the VM: prints the exit table and frees its memory. */
void vm_vcpu_released(struct vm *vm);
/* A vCPU of a held VM has left its CPU: the reset waiting for that, if
 * any, is carried out now (by the scheduler, not under its lock). */
void vm_reset_progress(struct vm *vm);
/* The monitor's `reset`: NULL once the reset is done, else why not. */
const char *vm_reset(struct vm *vm);
#endif
