/* MSR access as a guest sees it: emulated MSRs answer, unknown ones and
 * writes to locked ones raise #GP (caught by an IDT of our own). */
#include "guests/runtime/guest.h"

#define MSR_TSC             0x10
#define MSR_FEATURE_CONTROL 0x3a
#define MSR_EFER            0xc0000080
#define MSR_LSTAR           0xc0000082
#define MSR_UNKNOWN         0x12345678
#define MSR_TSC_ADJUST      0x3b
#define MSR_MCG_CAP         0x179
#define MSR_MCG_CTL         0x17b
#define MSR_MISC_ENABLE     0x1a0
#define MSR_DEBUGCTL        0x1d9
#define DEBUGCTL_LBR        1ull
#define DEBUGCTL_BTF        2ull
#define MSR_MC0_CTL         0x400
#define MSR_MC0_STATUS      0x401
#define MSR_MC0_ADDR        0x402
#define MISC_FAST_STRINGS   1ull
#define MISC_NO_BTS_PEBS    (3ull << 11)

struct idt_gate { uint16_t off0, sel; uint8_t ist, attr; uint16_t off1; uint32_t off2, zero; };
static struct idt_gate idt[32] __attribute__((aligned(16)));
static volatile int gp_count;

/* #GP handler: count it and step over the 2-byte RDMSR/WRMSR. */
void gp_handler(void);
__asm__(".text\n"
        "gp_handler:\n"
        "  addq $8, %rsp\n"                 /* error code */
        "  addq $2, (%rsp)\n"               /* RIP past rdmsr/wrmsr */
        "  lock incl gp_count(%rip)\n"
        "  iretq\n");

static void install_idt(void)
{
    uint64_t h = (uint64_t)gp_handler;
    idt[13] = (struct idt_gate){ (uint16_t)h, 0x08, 0, 0x8e, (uint16_t)(h >> 16),
                                 (uint32_t)(h >> 32), 0 };
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } ptr = {
        sizeof(idt) - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" :: "m"(ptr));
}

static bool rdmsr_faults(uint32_t msr, uint64_t *value)
{
    int before = gp_count;
    uint32_t lo = 0, hi = 0;
    __asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
    *value = (uint64_t)hi << 32 | lo;
    return gp_count != before;
}

static bool wrmsr_faults(uint32_t msr, uint64_t value)
{
    int before = gp_count;
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
    return gp_count != before;
}

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    (void)vcpu;
    (void)vcpus;
    install_idt();
    int failures = 0;
    uint64_t v;
    failures += check(rdmsr_faults(MSR_UNKNOWN, &v), "RDMSR of an unknown MSR raises #GP");
    failures += check(wrmsr_faults(MSR_UNKNOWN, 1), "WRMSR of an unknown MSR raises #GP");
    failures += check(!rdmsr_faults(MSR_EFER, &v) && (v & (1 << 10)), "EFER reads with LMA set");
    /* Locked by "firmware", VMXON outside SMX allowed only with nested VMX
     * (on by default; "novmx" on the command line for `nested = off`). */
    if (cmdline_has(cmdline, "novmx"))
        failures += check(!rdmsr_faults(MSR_FEATURE_CONTROL, &v) && v == 1,
                          "IA32_FEATURE_CONTROL reads locked, VMX off (nested = off)");
    else
        failures += check(!rdmsr_faults(MSR_FEATURE_CONTROL, &v) && v == 5,
                          "IA32_FEATURE_CONTROL reads locked, VMX outside SMX on (nested VMX)");
    failures += check(wrmsr_faults(MSR_FEATURE_CONTROL, 5), "IA32_FEATURE_CONTROL write raises #GP");
    uint64_t before = rdtsc();
    failures += check(!rdmsr_faults(MSR_TSC, &v) && v >= before && v - before < 1000000,
                      "IA32_TSC matches RDTSC");
    failures += check(!wrmsr_faults(MSR_LSTAR, 0xffffffff81234560ull) &&
                          !rdmsr_faults(MSR_LSTAR, &v) && v == 0xffffffff81234560ull,
                      "LSTAR (pass-through) keeps its value");
    failures += check(wrmsr_faults(MSR_EFER, 1ull << 20), "EFER reserved bit raises #GP");

    /* IA32_MISC_ENABLE: the guest's bits kept, BTS/PEBS unavailable fixed,
     * reserved bits #GP. */
    failures += check(!rdmsr_faults(MSR_MISC_ENABLE, &v) && (v & MISC_FAST_STRINGS) &&
                          (v & MISC_NO_BTS_PEBS) == MISC_NO_BTS_PEBS,
                      "IA32_MISC_ENABLE: fast strings on, BTS and PEBS unavailable");
    failures += check(!wrmsr_faults(MSR_MISC_ENABLE, MISC_NO_BTS_PEBS) &&
                          !rdmsr_faults(MSR_MISC_ENABLE, &v) && v == MISC_NO_BTS_PEBS,
                      "IA32_MISC_ENABLE keeps fast strings cleared");
    failures += check(wrmsr_faults(MSR_MISC_ENABLE, MISC_NO_BTS_PEBS | 2),
                      "IA32_MISC_ENABLE reserved bit raises #GP");
    (void)wrmsr_faults(MSR_MISC_ENABLE, MISC_NO_BTS_PEBS | MISC_FAST_STRINGS);

    /* Machine check: CPUID says MCE and MCA, as the MSRs are there. */
    struct cpuid_regs l1 = cpuid(1, 0);
    failures += check((l1.edx >> 7 & 1) && (l1.edx >> 14 & 1), "CPUID shows MCE and MCA");
    uint64_t banks = 0;
    failures += check(!rdmsr_faults(MSR_MCG_CAP, &v) && (v & (1 << 8)) && (banks = v & 0xff) >= 1,
                      "IA32_MCG_CAP: MCG_CTL present, banks");
    failures += check(wrmsr_faults(MSR_MCG_CAP, 0), "IA32_MCG_CAP is read-only");
    failures += check(!wrmsr_faults(MSR_MCG_CTL, 0) && wrmsr_faults(MSR_MCG_CTL, 5) &&
                          !wrmsr_faults(MSR_MCG_CTL, ~0ull),
                      "IA32_MCG_CTL takes all zeros or all ones only");
    failures += check(!wrmsr_faults(MSR_MC0_CTL, 0) && !rdmsr_faults(MSR_MC0_CTL, &v) && v == 0 &&
                          wrmsr_faults(MSR_MC0_CTL, 0x10) && !wrmsr_faults(MSR_MC0_CTL, ~0ull),
                      "IA32_MC0_CTL takes all zeros or all ones only");
    failures += check(!wrmsr_faults(MSR_MC0_STATUS, 0) && wrmsr_faults(MSR_MC0_STATUS, 1),
                      "IA32_MC0_STATUS can only be cleared");
    failures += check(!wrmsr_faults(MSR_MC0_ADDR, 0x1234000) && !rdmsr_faults(MSR_MC0_ADDR, &v) &&
                          v == 0x1234000,
                      "IA32_MC0_ADDR keeps its value");
    failures += check(rdmsr_faults(MSR_MC0_CTL + 4 * (uint32_t)banks, &v),
                      "no bank beyond IA32_MCG_CAP's count");

    /* IA32_TSC_ADJUST (SDM Vol. 3B 18.17.3): offered, and tied to the TSC. */
    failures += check(cpuid(7, 0).ebx >> 1 & 1, "CPUID shows IA32_TSC_ADJUST");
    uint64_t adjust0 = 0, tsc0 = rdtsc();
    failures += check(!rdmsr_faults(MSR_TSC_ADJUST, &adjust0), "IA32_TSC_ADJUST reads");
    const uint64_t step = 1ull << 40;
    /* What may pass between two of this guest's instructions: it can be
     * descheduled, for a long time when it is a nested guest among many
     * (measured: 14 M cycles one level down in vm_exits.t); far below the
     * step, so a TSC_ADJUST that does not follow the TSC still fails. */
    const int64_t slack = 1ll << 32;
    (void)wrmsr_faults(MSR_TSC_ADJUST, adjust0 + step);
    uint64_t tsc1 = rdtsc();
    failures += check(tsc1 - tsc0 >= step && tsc1 - tsc0 < step + (uint64_t)slack,
                      "writing IA32_TSC_ADJUST moves the TSC by as much");
    (void)wrmsr_faults(MSR_TSC, tsc1 - step);
    uint64_t adjust2 = 0;
    int64_t moved_back;
    bool adjust_read = !rdmsr_faults(MSR_TSC_ADJUST, &adjust2);
    moved_back = (int64_t)(adjust2 - adjust0);
    failures += check(adjust_read && moved_back > -slack && moved_back <= 0,
                      "writing IA32_TSC moves IA32_TSC_ADJUST by as much");
    if (!adjust_read || moved_back <= -slack || moved_back > 0)
        printf("msr_probe: IA32_TSC_ADJUST moved by %ld (expected minus the cycles since the "
               "TSC was read)\n", (long)moved_back);
    /* IA32_DEBUGCTL (SDM Vol. 3B 18.4.1), which every CPU has: BTF is kept,
     * LBR accepted without last-branch records (reads back clear), other
     * bits #GP. Clear again afterwards: BTF would make TF step branches. */
    failures += check(!rdmsr_faults(MSR_DEBUGCTL, &v) && v == 0, "IA32_DEBUGCTL reads 0 at reset");
    failures += check(!wrmsr_faults(MSR_DEBUGCTL, DEBUGCTL_BTF | DEBUGCTL_LBR) &&
                      !rdmsr_faults(MSR_DEBUGCTL, &v) && v == DEBUGCTL_BTF,
                      "IA32_DEBUGCTL keeps BTF, drops LBR");
    failures += check(wrmsr_faults(MSR_DEBUGCTL, 1ull << 2), "IA32_DEBUGCTL reserved bit raises #GP");
    failures += check(!wrmsr_faults(MSR_DEBUGCTL, 0) && !rdmsr_faults(MSR_DEBUGCTL, &v) && v == 0,
                      "IA32_DEBUGCTL clears");
    printf("msr_probe: %d failure(s), %d #GP taken\n", failures, gp_count);
    return failures;
}
