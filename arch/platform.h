#ifndef ARCH_PLATFORM_H
#define ARCH_PLATFORM_H
/* How the hypervisor ends: it prints "vmxvisor: exit status N" and then
 * leaves the machine the way the kernel command line's exit= says:
 *   exit=bochs  write "Shutdown" to port 0x8900 (Bochs quits)
 *   exit=qemu   write N to QEMU's isa-debug-exit port 0xf4 (QEMU exits (N<<1)|1)
 *   exit=halt   (default) stop every CPU; for real hardware */

/* 2 and 124-130 are left to the launcher (bad options, timeout, signals). */
enum exit_status {
    EXIT_OK = 0,
    EXIT_HYPERVISOR_FAULT = 1,  /* an exception or internal error in the hypervisor */
    EXIT_UNSUPPORTED_CPU = 3,   /* no VMX, a required VMX control missing, CPUs differ */
    EXIT_BAD_BOOT = 4,          /* not started by Multiboot2, no memory map, ... */
    /* Batch mode (machine/machine.h vms_batch_status); a VM's own status
     * passes through as it is. */
    EXIT_VM_NOT_STARTED = 5,    /* a configured VM was not started or not created */
    EXIT_VM_FAILED = 6,         /* a VM ended without a status (crash, kill, time limit) */
};

void platform_init(void);
__attribute__((noreturn)) void platform_exit(int status);
/* After a fatal exception: stop and exit with EXIT_HYPERVISOR_FAULT. */
__attribute__((noreturn)) void platform_fatal_stop(void);
/* Prints "vmxvisor: fatal: <message>" and exits with `status`. */
__attribute__((noreturn, format(printf, 2, 3))) void panic_status(int status, const char *fmt, ...);
#define panic(...) panic_status(EXIT_HYPERVISOR_FAULT, __VA_ARGS__)
#endif
