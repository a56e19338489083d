/* The exits the other guests do not reach: XSETBV, CR4 and CR8 writes,
 * CLTS, LMSW-free CR0 writes, WBINVD/INVD, a VMX instruction (#UD without
 * nested VMX), and finally HLT with interrupts off, which ends the VM. */
#include "guests/runtime/guest.h"

#define CR4_PKE (1ull << 22)

struct idt_gate { uint16_t off0, sel; uint8_t ist, attr; uint16_t off1; uint32_t off2, zero; };
static struct idt_gate idt[32] __attribute__((aligned(16)));
static volatile int ud_count, gp_count;

/* #UD: count and skip the 4-byte VMXOFF/VMCALL-class instruction probed here
 * (vmxoff is 0f 01 c4: 3 bytes). #GP: count and skip a 3-byte XSETBV. */
void ud_handler(void);
void gp_handler(void);
__asm__(".text\n"
        "ud_handler:\n"
        "  addq $3, (%rsp)\n"
        "  lock incl ud_count(%rip)\n"
        "  iretq\n"
        "gp_handler:\n"
        "  addq $8, %rsp\n"
        "  addq $3, (%rsp)\n"
        "  lock incl gp_count(%rip)\n"
        "  iretq\n");

static void set_gate(int vector, void (*handler)(void))
{
    uint64_t h = (uint64_t)handler;
    idt[vector] = (struct idt_gate){ (uint16_t)h, 0x08, 0, 0x8e, (uint16_t)(h >> 16),
                                     (uint32_t)(h >> 32), 0 };
}

static void xsetbv(uint32_t xcr, uint64_t v)
{
    __asm__ volatile("xsetbv" :: "c"(xcr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static uint64_t xgetbv(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}

/* The instruction forms a compiler emits against a device register, on
 * the xAPIC's TPR (bits 7:0 kept, SDM Vol. 3A 11.8.3.1) and version
 * register: each exits as an EPT violation the hypervisor emulates. */
#define APIC_TPR ((volatile uint32_t *)0xfee00080ull)
#define APIC_VERSION ((volatile uint32_t *)0xfee00030ull)

static void tpr_set(uint32_t v)
{
    __asm__ volatile("movl %1, %0" : "=m"(*APIC_TPR) : "r"(v) : "memory");
}

static uint32_t tpr(void)
{
    return *APIC_TPR;
}

static int mmio_checks(void)
{
    int failures = 0;
    uint32_t eax, ecx;
    uint8_t flag;
    tpr_set(0x20);
    __asm__ volatile("addl $0x10, %0" : "+m"(*APIC_TPR) :: "cc");
    failures += check(tpr() == 0x30, "MMIO ADD to the TPR");
    __asm__ volatile("orl $1, %0\n\tandl $0xf1, %0\n\txorl $0xff, %0" : "+m"(*APIC_TPR) :: "cc");
    failures += check(tpr() == 0xce, "MMIO OR, AND, XOR on the TPR");
    tpr_set(0x10);
    __asm__ volatile("stc\n\tadcl $1, %0\n\tstc\n\tsbbl $4, %0" : "+m"(*APIC_TPR) :: "cc");
    failures += check(tpr() == 0x0d, "MMIO ADC and SBB take the carry");
    __asm__ volatile("incl %0\n\tincl %0\n\tdecl %0\n\tnegl %0\n\tnotl %0" : "+m"(*APIC_TPR) :: "cc");
    failures += check(tpr() == 0x0d, "MMIO INC, DEC, NEG, NOT");
    tpr_set(0x03);
    __asm__ volatile("shll $2, %0\n\tshrl %0\n\troll $4, %0" : "+m"(*APIC_TPR) :: "cc");
    failures += check(tpr() == 0x60, "MMIO shifts and rotates");
    __asm__ volatile("cmpl $0x60, %1\n\tsete %0" : "=r"(flag) : "m"(*APIC_TPR) : "cc");
    failures += check(flag == 1, "MMIO CMP sets ZF");
    __asm__ volatile("testl $0x10, %1\n\tsetz %0" : "=r"(flag) : "m"(*APIC_TPR) : "cc");
    failures += check(flag == 1, "MMIO TEST sets ZF");
    eax = 0x50;
    __asm__ volatile("xchgl %0, %1" : "+r"(eax), "+m"(*APIC_TPR) :: "memory");
    failures += check(eax == 0x60 && tpr() == 0x50, "MMIO XCHG swaps");
    eax = 0x50, ecx = 0x70;
    __asm__ volatile("lock cmpxchgl %2, %1\n\tsete %0"
                     : "=r"(flag), "+m"(*APIC_TPR), "+r"(ecx), "+a"(eax) :: "cc", "memory");
    failures += check(flag == 1 && tpr() == 0x70, "MMIO LOCK CMPXCHG when equal writes");
    eax = 0x11;
    __asm__ volatile("lock cmpxchgl %2, %1\n\tsete %0"
                     : "=r"(flag), "+m"(*APIC_TPR), "+r"(ecx), "+a"(eax) :: "cc", "memory");
    failures += check(flag == 0 && eax == 0x70 && tpr() == 0x70,
                      "MMIO LOCK CMPXCHG when not equal loads RAX");
    uint8_t cf_bts, cf_btr, cf_bt;
    __asm__ volatile("btsl $0, %3\n\tsetc %0\n\tbtrl $4, %3\n\tsetc %1\n\t"
                     "btcl $7, %3\n\tbtl $6, %3\n\tsetc %2"
                     : "=r"(cf_bts), "=r"(cf_btr), "=r"(cf_bt), "+m"(*APIC_TPR) :: "cc");
    failures += check(!cf_bts && cf_btr && cf_bt && tpr() == 0xe1, "MMIO BT, BTS, BTR, BTC");
    uint32_t zx, sx;
    __asm__ volatile("movzbl %2, %0\n\tmovsbl %2, %1" : "=r"(zx), "=r"(sx)
                     : "m"(*(volatile uint8_t *)APIC_TPR));
    failures += check(zx == 0xe1 && sx == 0xffffffe1, "MMIO MOVZX and MOVSX");
    uint32_t copy = 0;
    void *dst = &copy;
    const volatile void *src = APIC_VERSION;
    uint64_t count = 1;
    __asm__ volatile("rep movsl" : "+D"(dst), "+S"(src), "+c"(count) :: "memory");
    failures += check(copy == *APIC_VERSION && count == 0, "MMIO REP MOVSD from the version register");
    dst = (void *)APIC_TPR;
    __asm__ volatile("stosl" : "+D"(dst) : "a"(0x22) : "memory");
    failures += check(tpr() == 0x22, "MMIO STOSD to the TPR");
    tpr_set(0);
    return failures;
}

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    (void)vcpu;
    (void)vcpus;
    (void)cmdline;
    int failures = 0;
    set_gate(6, ud_handler);
    set_gate(13, gp_handler);
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } ptr = {
        sizeof(idt) - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" :: "m"(ptr));

    /* CR4.OSXSAVE write (exits: CR4 is partly host-owned), then XSETBV. */
    bool has_xsave = cpuid(1, 0).ecx >> 26 & 1;
    if (has_xsave) {
        write_cr4(read_cr4() | CR4_OSXSAVE);
        failures += check(read_cr4() & CR4_OSXSAVE, "CR4.OSXSAVE set and read back");
        failures += check(cpuid(1, 0).ecx >> 27 & 1, "CPUID shows OSXSAVE after the CR4 write");
        xsetbv(0, 3);                               /* x87 | SSE */
        failures += check(xgetbv() == 3, "XSETBV x87|SSE takes effect");
        xsetbv(0, 0);                               /* x87 off: #GP */
        failures += check(gp_count == 1, "XSETBV without x87 raises #GP");
    }
    /* CR4.VMXE cannot be set: VMX is not offered to this guest. */
    uint64_t cr4 = read_cr4();
    int before = gp_count;
    __asm__ volatile("mov %0, %%cr4; nop" :: "r"(cr4 | CR4_VMXE));  /* 3-byte mov + skip */
    failures += check(gp_count == before + 1 && !(read_cr4() & CR4_VMXE),
                      "setting CR4.VMXE raises #GP");
    /* A CR4 bit exists only with its feature in CPUID: PKE with PKU, CET
     * with CET (hidden: its MSRs are not provided). */
    bool pku = cpuid(7, 0).ecx >> 3 & 1;
    before = gp_count;
    __asm__ volatile("mov %%rax, %%cr4; nop" :: "a"(cr4 | CR4_PKE));   /* 0f 22 e0 */
    bool pke_set = read_cr4() & CR4_PKE;
    failures += check(pku ? gp_count == before && pke_set : gp_count == before + 1 && !pke_set,
                      "CR4.PKE settable exactly when CPUID shows PKU");
    if (pke_set)
        write_cr4(cr4);
    before = gp_count;
    __asm__ volatile("mov %%rax, %%cr4; nop" :: "a"(cr4 | CR4_CET));
    failures += check(!(cpuid(7, 0).ecx >> 7 & 1) && gp_count == before + 1 &&
                          !(read_cr4() & CR4_CET),
                      "CET hidden, and setting CR4.CET raises #GP");
    /* String I/O: REP OUTSB of a line to COM1, REP INSB from its scratch
     * register, REP OUTSD backwards (DF = 1) to the POST port. */
    static const char line[] = "insn_probe: rep outsb to COM1\n";
    const char *src = line;
    uint64_t rcx = sizeof(line) - 1;
    __asm__ volatile("rep outsb" : "+S"(src), "+c"(rcx) : "d"(0x3f8) : "memory");
    failures += check(src == line + sizeof(line) - 1 && rcx == 0, "REP OUTSB advances RSI, ends RCX");
    static uint8_t in_buf[4];
    uint8_t *dst = in_buf;
    rcx = sizeof(in_buf);
    __asm__ volatile("outb %%al, %%dx" :: "a"(0x5a), "d"(0x3ff));
    __asm__ volatile("rep insb" : "+D"(dst), "+c"(rcx) : "d"(0x3ff) : "memory");
    failures += check(dst == in_buf + 4 && rcx == 0 && in_buf[0] == 0x5a && in_buf[3] == 0x5a,
                      "REP INSB fills the buffer from the port");
    static const uint32_t words[3] = { 1, 2, 3 };
    const uint32_t *from = &words[2];
    rcx = 3;
    __asm__ volatile("std\n\trep outsl\n\tcld" : "+S"(from), "+c"(rcx) : "d"(0x80) : "memory");
    failures += check((uintptr_t)from == (uintptr_t)&words[2] - 12 && rcx == 0,
                      "REP OUTSD with DF = 1 goes down");
    failures += mmio_checks();
    /* CR8 (the task priority) while there is no virtual APIC. */
    __asm__ volatile("mov %0, %%cr8" :: "r"(9ull));
    uint64_t cr8;
    __asm__ volatile("mov %%cr8, %0" : "=r"(cr8));
    failures += check(cr8 == 9, "CR8 keeps the task priority");
    __asm__ volatile("mov %0, %%cr8" :: "r"(0ull));
    /* CR0.TS via a CR0 write, cleared by CLTS. */
    write_cr0(read_cr0() | (1ull << 3));
    failures += check(read_cr0() >> 3 & 1, "CR0.TS set");
    __asm__ volatile("clts");
    failures += check(!(read_cr0() >> 3 & 1), "CLTS clears CR0.TS");
    __asm__ volatile("wbinvd; invd" ::: "memory");
    failures += check(true, "WBINVD and INVD return");
    __asm__ volatile("vmxoff" ::: "memory");
    failures += check(ud_count == 1, "VMXOFF raises #UD (no nested VMX)");
    printf("insn_probe: %d failure(s)\n", failures);
    if (failures)
        return failures;
    printf("insn_probe: halting with interrupts off\n");
    cpu_halt_forever();
}
