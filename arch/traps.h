#ifndef ARCH_TRAPS_H
#define ARCH_TRAPS_H
#include "arch/interrupts.h"

/* An unhandled exception in the hypervisor: print vector, error code,
 * registers and a backtrace, stop every CPU and end with a failure status. */
__attribute__((noreturn)) void trap_fatal(struct trap_frame *frame);
#endif
