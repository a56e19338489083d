#include "arch/gdt.h"
#include "lib/string.h"

#define DESC_CODE64 0x00af9a000000ffffull
#define DESC_DATA   0x00cf92000000ffffull
#define TSS_TYPE_AVAILABLE_64 0x9
#define DESC_PRESENT (1ull << 47)

struct __attribute__((packed)) table_pointer {
    uint16_t limit;
    uint64_t base;
};

static void set_tss_descriptor(uint64_t *slot, const struct tss64 *tss)
{
    uint64_t base = (uint64_t)tss, limit = sizeof(*tss) - 1;
    slot[0] = (limit & 0xffff) | (base & 0xffffff) << 16 | (uint64_t)TSS_TYPE_AVAILABLE_64 << 40 |
              DESC_PRESENT | ((limit >> 16) & 0xf) << 48 | (base >> 24 & 0xff) << 56;
    slot[1] = base >> 32;
}

void gdt_load(struct cpu_tables *t)
{
    memset(&t->tss, 0, sizeof(t->tss));
    for (int i = 0; i < 3; i++)
        t->tss.ist[i] = (uint64_t)t->ist_stacks[i] + IST_STACK_SIZE;
    t->tss.iomap_base = sizeof(t->tss);     /* no I/O permission bitmap */
    t->gdt[0] = 0;
    t->gdt[1] = DESC_CODE64;
    t->gdt[2] = DESC_DATA;
    set_tss_descriptor(&t->gdt[3], &t->tss);

    struct table_pointer ptr = { sizeof(t->gdt) - 1, (uint64_t)t->gdt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq %1\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "mov %2, %%ds\n\t"
        "mov %2, %%es\n\t"
        "mov %2, %%ss\n\t"
        "ltr %w3"
        :: "m"(ptr), "i"(SEL_KERNEL_CODE), "r"(SEL_KERNEL_DATA), "r"(SEL_TSS) : "rax", "memory");
}
