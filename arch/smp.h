#ifndef ARCH_SMP_H
#define ARCH_SMP_H
#include <stdint.h>
#include <stdbool.h>
#include "arch/acpi.h"

/* Numbers the CPUs of the MADT (the BSP becomes CPU 0) and sets up CPU 0. */
void smp_init_bsp(const struct host_topology *topo);
/* Starts every application processor with INIT-SIPI-SIPI; each one sets up
 * its tables and then runs `ap_main`, serving cross-CPU calls by interrupt.
 * Returns how many came online (including the BSP). */
uint32_t smp_boot_aps(void (*ap_main)(void));

typedef void (*cpu_call_fn)(void *arg);
/* Runs fn(arg) on CPU `cpu` and waits for it to finish. Safe to call with
 * interrupts disabled: the caller serves calls aimed at itself while it waits. */
void smp_call_on(uint32_t cpu, cpu_call_fn fn, void *arg);
/* Parks every other CPU for good (used on the way out). */
void smp_stop_other_cpus(void);
#endif
