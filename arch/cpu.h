#ifndef ARCH_CPU_H
#define ARCH_CPU_H
/* Thin wrappers around privileged instructions; no logic lives here. */
#include <stdint.h>
#include <stdbool.h>

/* Control-register bits (SDM Vol. 3A 2.5). */
#define CR0_PE    (1ull << 0)
#define CR0_TS    (1ull << 3)
#define CR0_NE    (1ull << 5)
#define CR0_WP    (1ull << 16)
#define CR0_NW    (1ull << 29)
#define CR0_CD    (1ull << 30)
#define CR0_PG    (1ull << 31)
#define CR4_TSD   (1ull << 2)
#define CR4_DE    (1ull << 3)
#define CR4_PAE   (1ull << 5)
#define CR4_PGE   (1ull << 7)
#define CR4_PCE   (1ull << 8)
#define CR4_LA57  (1ull << 12)
#define CR4_VMXE  (1ull << 13)
#define CR4_FSGSBASE (1ull << 16)
#define CR4_PCIDE (1ull << 17)
#define CR4_CET   (1ull << 23)
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_RF (1ull << 16)

struct cpuid_regs { uint32_t eax, ebx, ecx, edx; };

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(subleaf));
    return r;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t val)
{
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
                     : "memory");
}

#define DEFINE_CR_ACCESSORS(n)                                                   \
    static inline uint64_t read_cr##n(void)                                      \
    {                                                                            \
        uint64_t v;                                                              \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                        \
        return v;                                                                \
    }                                                                            \
    static inline void write_cr##n(uint64_t v)                                   \
    {                                                                            \
        __asm__ volatile("mov %0, %%cr" #n :: "r"(v) : "memory");                \
    }
DEFINE_CR_ACCESSORS(0)
DEFINE_CR_ACCESSORS(2)
DEFINE_CR_ACCESSORS(3)
DEFINE_CR_ACCESSORS(4)
#undef DEFINE_CR_ACCESSORS

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint64_t rdtsc(void)
{
#ifdef __x86_64__
    /* RDTSC clears the upper halves of RAX and RDX: said so, the compiler
     * adds no zero-extension (one instruction less on every exit path). */
    uint64_t lo, hi;
#else
    uint32_t lo, hi;
#endif
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t read_rflags(void)
{
    uint64_t f;
    __asm__ volatile("pushfq; popq %0" : "=r"(f));
    return f;
}

static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
/* sti takes effect after the next instruction, so no wake-up is lost between them. */
static inline void irq_enable_and_halt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void halt(void) { __asm__ volatile("hlt" ::: "memory"); }

static inline uint64_t irq_save(void)
{
    uint64_t f = read_rflags();
    irq_disable();
    return f;
}
static inline void irq_restore(uint64_t flags)
{
    if (flags & RFLAGS_IF)
        irq_enable();
}

#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_OSXSAVE    (1ull << 18)
#define CPUID_1_ECX_X2APIC (1u << 21)
#define CPUID_1_ECX_XSAVE (1u << 26)

/* The host itself uses no FPU/SSE state, but it saves and restores the
 * guests': FXSAVE/FXRSTOR need OSFXSR to include the SSE registers, and
 * XSAVE/XRSTOR and XSETBV need OSXSAVE. */
static inline void cpu_enable_xsave(void)
{
    uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
    if (cpuid(1, 0).ecx & CPUID_1_ECX_XSAVE)
        cr4 |= CR4_OSXSAVE;
    write_cr4(cr4);
}

static inline bool cpu_has_xsave_enabled(void)
{
    return read_cr4() & CR4_OSXSAVE;
}

static inline __attribute__((noreturn)) void cpu_halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

#endif
