/*
 * chaos: an adversarial guest (issue: reliability). Seeded from its command
 * line ("SEED OPERATIONS"), each vCPU does random privileged things at CPL
 * 0, a fault of any kind resuming after the operation: port I/O over the
 * whole port space (but the ports that would end or reset the VM early and
 * the console's), RDMSR/WRMSR of random indices, CR0/CR4/XCR0 writes,
 * VMX instructions with random operands, MMIO to its local APIC and the I/O
 * APIC pages (IPIs to itself and its siblings among them: INIT, NMI, SIPI)
 * and to guest-physical addresses far outside its RAM, and with "bytes" on
 * its command line random bytes executed in a page of its own (which may
 * also end it, as random code can). It prints how many operations it
 * survived; the hypervisor must survive it, and so must its other VMs.
 */
#include "guests/runtime/guest.h"
#include "arch/interrupts.h"
#include "arch/msr.h"

#define PAGE 4096
#define LAPIC_BASE 0xfee00000ull
#define IOAPIC_BASE 0xfec00000ull
#define FAR_AWAY 0x4000000000ull           /* 256 GiB: outside any VM's RAM */

static volatile uint64_t resume_at;
static volatile uint64_t faults;
static uint8_t code_page[PAGE] __attribute__((aligned(PAGE)));
static uint8_t scratch[PAGE] __attribute__((aligned(PAGE)));

static void skip(struct trap_frame *frame)
{
    faults++;
    frame->rip = resume_at;
}

static volatile uint64_t interrupts;

/* NMIs and interrupts (its own IPIs, random vectors among them) are
 * counted and dismissed. */
static void count(struct trap_frame *frame)
{
    (void)frame;
    interrupts++;
}

static uint64_t state;

static uint64_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

/* Ports whose use ends the run rather than tests the hypervisor: the debug
 * exit, reset control, the keyboard controller's reset, fast A20/reset,
 * ACPI PM1 control (S5), and COM1, the console. */
static bool port_allowed(uint16_t port)
{
    return port != 0xf4 && port != 0xf5 && port != 0xf6 && port != 0xf7 && port != 0xcf9 &&
           port != 0x64 && port != 0x92 && (port < 0x600 || port > 0x60f) &&
           (port < 0x3f8 || port > 0x3ff) && port != 0x8900;
}

/* One operation; a fault goes to `resume` (label 9 in each asm). */
#define ARM "leaq 9f(%%rip), %%r11\n\tmovq %%r11, %[resume]\n\t"
#define RESUME_OUT [resume] "=m"(resume_at)

static void op_port(void)
{
    uint16_t port = (uint16_t)next();
    if (!port_allowed(port))
        return;
    uint32_t v = (uint32_t)next();
    switch (next() % 6) {
    case 0: __asm__ volatile(ARM "inb %%dx, %%al\n9:" : RESUME_OUT, "+a"(v) : "d"(port) : "r11"); break;
    case 1: __asm__ volatile(ARM "inw %%dx, %%ax\n9:" : RESUME_OUT, "+a"(v) : "d"(port) : "r11"); break;
    case 2: __asm__ volatile(ARM "inl %%dx, %%eax\n9:" : RESUME_OUT, "+a"(v) : "d"(port) : "r11"); break;
    case 3: __asm__ volatile(ARM "outb %%al, %%dx\n9:" : RESUME_OUT : "a"(v), "d"(port) : "r11"); break;
    case 4: __asm__ volatile(ARM "outw %%ax, %%dx\n9:" : RESUME_OUT : "a"(v), "d"(port) : "r11"); break;
    default: __asm__ volatile(ARM "outl %%eax, %%dx\n9:" : RESUME_OUT : "a"(v), "d"(port) : "r11"); break;
    }
}

/* MSR indices where the interesting ones are: architectural, the VMX and
 * machine-check ranges, x2APIC, the AMD64 ones. */
static uint32_t random_msr(void)
{
    static const uint32_t bases[] = { 0, 0x400, 0x480, 0x800, 0xc0000080u, 0xc0010000u };
    return bases[next() % 6] + (uint32_t)(next() % 0x200);
}

/* MSRs that would take the guest's own footing away (EFER, the APIC base,
 * FS/GS bases, SYSCALL): read, never written. */
static bool msr_writable(uint32_t msr)
{
    return msr != MSR_IA32_EFER && msr != 0x1b && (msr < 0xc0000080u || msr > 0xc0000103u);
}

static void op_msr(void)
{
    uint32_t msr = random_msr(), lo = (uint32_t)next(), hi = (uint32_t)next();
    if (next() & 1 || !msr_writable(msr))
        __asm__ volatile(ARM "rdmsr\n9:" : RESUME_OUT, "+a"(lo), "+d"(hi) : "c"(msr) : "r11");
    else
        __asm__ volatile(ARM "wrmsr\n9:" : RESUME_OUT : "a"(lo), "d"(hi), "c"(msr) : "r11");
}

/* CR0 and CR4 bits a kernel may flip and live; CR0.PG/PE, CR4.PAE stay. */
static void op_control(void)
{
    uint64_t v;
    switch (next() % 3) {
    case 0:
        v = read_cr0() ^ (1ull << (next() % 32));
        v |= 0x80000001ull;
        __asm__ volatile(ARM "mov %[v], %%cr0\n9:" : RESUME_OUT : [v] "r"(v) : "r11", "memory");
        write_cr0(read_cr0() & ~((1ull << 30) | (1ull << 29)));     /* caches back on */
        break;
    case 1:
        v = read_cr4() ^ (1ull << (next() % 24));
        v |= 1ull << 5;
        __asm__ volatile(ARM "mov %[v], %%cr4\n9:" : RESUME_OUT : [v] "r"(v) : "r11", "memory");
        break;
    default: {
        uint32_t lo = (uint32_t)next() | 1, hi = 0;
        __asm__ volatile(ARM "xsetbv\n9:" : RESUME_OUT : "a"(lo), "d"(hi), "c"(0) : "r11");
        break;
    }
    }
}

static void op_vmx(void)
{
    uint64_t a = next() & 1 ? (uint64_t)(uintptr_t)scratch : next(), b = next();
    switch (next() % 6) {
    case 0: __asm__ volatile(ARM "vmxon %[m]\n9:" : RESUME_OUT : [m] "m"(a) : "r11", "cc", "memory"); break;
    case 1: __asm__ volatile(ARM "vmptrld %[m]\n9:" : RESUME_OUT : [m] "m"(a) : "r11", "cc", "memory"); break;
    case 2: __asm__ volatile(ARM "vmread %[f], %[v]\n9:" : RESUME_OUT, [v] "=r"(b) : [f] "r"(a) : "r11", "cc"); break;
    case 3: __asm__ volatile(ARM "vmwrite %[v], %[f]\n9:" : RESUME_OUT : [f] "r"(a & 0xffff), [v] "r"(b) : "r11", "cc"); break;
    case 4: __asm__ volatile(ARM "vmlaunch\n9:" : RESUME_OUT :: "r11", "cc", "memory"); break;
    default: __asm__ volatile(ARM "vmxoff\n9:" : RESUME_OUT :: "r11", "cc", "memory"); break;
    }
}

/* MMIO: the local APIC (its ICR sends INIT, NMI, SIPI, fixed IPIs to
 * itself or others), the I/O APIC, and nothing at all far away. */
static void op_mmio(void)
{
    uint64_t base = next() % 3 == 0 ? IOAPIC_BASE : next() % 2 ? LAPIC_BASE
                                                              : FAR_AWAY + (next() % (1u << 20)) * 64;
    volatile uint32_t *reg = (volatile uint32_t *)(base + (next() % 64) * 16);
    uint32_t v = (uint32_t)next();
    if (next() & 1)
        __asm__ volatile(ARM "movl %[r], %[v]\n9:" : RESUME_OUT, [v] "=r"(v) : [r] "m"(*reg) : "r11");
    else
        __asm__ volatile(ARM "movl %[v], %[r]\n9:" : RESUME_OUT, [r] "=m"(*reg) : [v] "r"(v) : "r11");
}

/* 15 random bytes, then a RET: whatever they are, executed at CPL 0 with
 * the registers pointing into a scratch page; RSP comes back from memory. */
static uint64_t saved_rsp __attribute__((used));
static uint8_t *code_at __attribute__((used)) = code_page;
static uint8_t *scratch_at __attribute__((used)) = scratch + PAGE / 2;

static void op_bytes(void)
{
    for (unsigned i = 0; i < 15; i++)
        code_page[i] = (uint8_t)next();
    code_page[15] = 0xc3;
    __asm__ volatile("mov %%rsp, saved_rsp(%%rip)\n\t"
                     "leaq 9f(%%rip), %%rax\n\tmov %%rax, resume_at(%%rip)\n\t"
                     "mov scratch_at(%%rip), %%rbx\n\tmov %%rbx, %%rsi\n\tmov %%rbx, %%rdi\n\t"
                     "mov %%rbx, %%rcx\n\tmov %%rbx, %%rdx\n\tmov %%rbx, %%r8\n\t"
                     "call *code_at(%%rip)\n"
                     "9:\tmov saved_rsp(%%rip), %%rsp"
                     ::: "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
                         "r12", "r13", "r14", "r15", "cc", "memory");
}

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    (void)vcpus;
    uint64_t seed = cmdline_number(cmdline, 1), operations = cmdline_number(cmdline_word(cmdline, 1), 20000);
    state = seed * 0x9e3779b97f4a7c15ull + vcpu + 1;
    bool bytes = cmdline_has(cmdline, "bytes");
    for (unsigned v = 0; v < 256; v++)
        interrupt_register(v, v < 32 && v != VECTOR_NMI ? skip : count);
    uint64_t done = 0;
    for (; done < operations; done++) {
        switch (next() % (bytes ? 7 : 6)) {
        case 0: op_port(); break;
        case 1: op_msr(); break;
        case 2: op_control(); break;
        case 3: op_vmx(); break;
        case 4: case 5: op_mmio(); break;
        default: op_bytes(); break;
        }
        __asm__ volatile("sti; nop; cli");      /* let pending interrupts in */
        if (done % 1000 == 999)
            printf("chaos: vcpu %u at %lu operations\n", vcpu, (unsigned long)done + 1);
    }
    printf("chaos: vcpu %u survived %lu operations (%lu faults, %lu interrupts)\n", vcpu,
           (unsigned long)done, (unsigned long)faults, (unsigned long)interrupts);
    return 0;
}
