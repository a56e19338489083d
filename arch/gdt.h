#ifndef ARCH_GDT_H
#define ARCH_GDT_H
/* Per-CPU GDT and 64-bit TSS (SDM Vol. 3A 8.7 "Task Management in 64-bit Mode"). */
#include <stdint.h>

#define SEL_KERNEL_CODE 0x08
#define SEL_KERNEL_DATA 0x10
#define SEL_TSS         0x18

/* Interrupt stack table slots, so these run on a known-good stack. */
#define IST_DOUBLE_FAULT 1
#define IST_NMI          2
#define IST_MACHINE_CHECK 3
#define IST_STACK_SIZE   8192

struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

struct cpu_tables {
    uint64_t gdt[5];            /* null, code, data, TSS (two slots) */
    struct tss64 tss;
    uint8_t ist_stacks[3][IST_STACK_SIZE] __attribute__((aligned(16)));
};

/* Builds and loads this CPU's GDT, reloads segments, loads TR. */
void gdt_load(struct cpu_tables *t);
#endif
