#ifndef ARCH_PERCPU_H
#define ARCH_PERCPU_H
/* Per-physical-CPU data. Each CPU's GS base points at its own entry, so
 * this_cpu() is one load. Subsystems keep their own per-CPU arrays indexed
 * by this_cpu()->index; this struct holds only what arch/ needs. */
#include <stdint.h>
#include <stdbool.h>
#include "arch/gdt.h"

#define MAX_CPUS 64
#define CPU_STACK_SIZE (32 * 1024)

struct percpu {
    struct percpu *self;        /* must stay first: gs:0 */
    uint32_t index;
    uint32_t apic_id;
    volatile bool online;
    uint64_t stack_top;
    struct cpu_tables tables;
};

extern struct percpu percpu[MAX_CPUS];
extern uint32_t cpu_count;     /* CPUs found in the firmware tables */

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}

/* Makes `cpu` the current CPU's per-CPU area (sets GS base). */
void percpu_activate(struct percpu *cpu);
#endif
