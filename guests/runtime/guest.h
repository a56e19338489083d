#ifndef GUESTS_RUNTIME_GUEST_H
#define GUESTS_RUNTIME_GUEST_H
/* The test guests' runtime: console output on COM1, the hypercall ABI,
 * QEMU's isa-debug-exit, timing helpers. Guests share lib/printf.c and
 * arch/cpu.h with the hypervisor. A guest runs as a VM of vmxvisor (start.S,
 * vm.c); one built as NAME_bare.elf also runs on bare metal, booted by GRUB
 * (bare_start.S, bare.c). */
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "arch/cpu.h"
#include "lib/printf.h"
#include "lib/string.h"

#define printf kprintf

/* Each guest defines its main; the return value becomes the VM's status. */
int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline);

enum { HC_PRINT = 1, HC_EXIT = 2, HC_YIELD = 3 };

/* Busy-waits `cycles` TSC cycles. */
static inline void spin_cycles(uint64_t cycles)
{
    for (uint64_t start = rdtsc(); rdtsc() - start < cycles;)
        cpu_relax();
}

static inline uint64_t hypercall(uint64_t nr, uint64_t a0, uint64_t a1)
{
    uint64_t ret;
    __asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1) : "memory");
    return ret;
}

/* Writes to COM1, polling: kprintf's output (guest_start sets it). */
void com1_write(const char *s, size_t n);
/* Waits until COM1 has sent everything written (before the machine stops). */
void com1_flush(void);
/* Ends the guest with `status`: as a VM by the EXIT hypercall (vm.c), on bare
 * metal with the launcher's exit-status line and Bochs' shutdown (bare.c). */
__attribute__((noreturn)) void guest_exit(int status);
/* QEMU isa-debug-exit: the VM ends with status (code << 1) | 1. */
__attribute__((noreturn)) void debug_exit(uint8_t code);
/* Whether `word` appears in the command line. */
bool cmdline_has(const char *cmdline, const char *word);
/* The decimal number the command line starts with, or `fallback`. */
uint64_t cmdline_number(const char *cmdline, uint64_t fallback);
/* Loads the IDT (arch/interrupts.c, shared with the hypervisor) and sets up
 * this vCPU's local APIC (arch/lapic.c), in x2APIC mode if asked and
 * offered; the other vCPUs get the same mode. A multi-vCPU guest has it done
 * at start, in x2APIC mode if its command line says "x2apic". Handlers:
 * interrupt_register(). */
void guest_interrupts_init(bool x2apic);
/* vCPU 0 starts vCPUs 1..vcpus-1 with INIT-SIPI-SIPI through the AP
 * trampoline (arch/ap_trampoline.S, shared with the hypervisor); each then
 * runs guest_main. Returns how many vCPUs run. */
uint32_t guest_start_aps(uint32_t vcpus, const char *cmdline);

/* Prints "ok: WHAT" or "FAIL: WHAT"; 1 if it failed. */
int check(bool ok, const char *what);
/* Prints "GUEST: NAME: ok|FAIL[ DETAIL]"; 1 if it failed. */
int check_detail(const char *guest, const char *name, bool ok, const char *detail);
/* The command line from its word `n` on (0 is the whole line; "" if there
 * are fewer words). */
const char *cmdline_word(const char *cmdline, unsigned n);

/* Median of n samples (sorts them). */
uint64_t median(uint64_t *samples, size_t n);
/* Reports a figure the way benchmarks expect: "BENCH <name> <value> <unit>". */
void bench_report(const char *name, uint64_t value, const char *unit);
#endif
