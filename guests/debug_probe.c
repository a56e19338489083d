/* Faults and single steps as the CPU delivers them, whether the CPU or the
 * hypervisor completes the instruction:
 *   a fault's frame has RFLAGS.RF set (SDM Vol. 3A 18.3.1.1): a #GP the CPU
 *   raises (a non-canonical load) and the ones the hypervisor injects (an
 *   unknown MSR, MONITOR), a #UD it injects (MONITOR, absent from CPUID);
 *   with RFLAGS.TF set, one #DB with DR6.BS after each instruction (SDM Vol.
 *   3A 18.3.1.4), right after it, for one the CPU runs (NOP) and for the
 *   ones the hypervisor emulates: CPUID, OUT, RDMSR, a load from the xAPIC
 *   page.
 * One "debug_probe: CHECK: ok|FAIL ..." line per check; the status is the
 * number of failures. */
#include "guests/runtime/guest.h"
#include "arch/interrupts.h"
#include "arch/msr.h"

#define VECTOR_DB 1
#define VECTOR_UD 6
#define VECTOR_GP 13
#define DR6_BS (1ull << 14)
#define MSR_UNKNOWN 0x12345678u
#define NON_CANONICAL 0x8000000000000000ull
#define XAPIC_ID 0xfee00020ull
#define POST_PORT 0x80

static int failures;
static volatile unsigned faults, steps;
static volatile uint64_t fault_rflags, fault_rip, fault_vector, step_dr6, step_rip;
static volatile unsigned skip_length;       /* what the fault handler steps over */

static void report(const char *name, bool ok, const char *detail)
{
    failures += check_detail("debug_probe", name, ok, detail);
}

/* #GP and #UD: note the frame, step over the faulting instruction. */
static void fault_handler(struct trap_frame *frame)
{
    faults++;
    fault_vector = frame->vector;
    fault_rflags = frame->rflags;
    fault_rip = frame->rip;
    frame->rip += skip_length;
}

/* #DB: note DR6 and the return RIP, stop stepping. */
static void debug_handler(struct trap_frame *frame)
{
    uint64_t dr6;
    __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
    __asm__ volatile("mov %0, %%dr6" :: "r"(0xffff0ff0ull));
    steps++;
    step_dr6 = dr6;
    step_rip = frame->rip;
    frame->rflags &= ~RFLAGS_TF;
}

/* The instructions under test, each followed by a label where its single
 * step or its fault handler returns to. */
extern const char nop_start[], nop_end[], cpuid_start[], cpuid_end[], out_start[], out_end[];
extern const char rdmsr_start[], rdmsr_end[], load_start[], load_end[];
extern const char gp_load_start[], wrmsr_start[], monitor_start[], rdpmc_start[];

static void check_fault(const char *name, unsigned vector, const char *start, unsigned length,
                        void (*run)(void))
{
    char detail[112];
    unsigned before = faults;
    skip_length = length;
    run();
    bool rf = fault_rflags & RFLAGS_RF;
    snprintf(detail, sizeof(detail), "(%u fault(s), vector %lu, at +%ld, RF %u)",
             faults - before, fault_vector, (long)(fault_rip - (uint64_t)start), rf);
    report(name, faults - before == 1 && fault_vector == vector && fault_rip == (uint64_t)start && rf,
           detail);
}

static __attribute__((noinline)) void gp_load(void)
{
    __asm__ volatile("mov %0, %%rax\n"
                     "gp_load_start: movl (%%rax), %%eax\n"
                     :: "i"(NON_CANONICAL) : "rax", "memory");
}

static __attribute__((noinline)) void wrmsr_unknown(void)
{
    __asm__ volatile("wrmsr_start: wrmsr" :: "c"(MSR_UNKNOWN), "a"(0), "d"(0) : "memory");
}

static __attribute__((noinline)) void monitor(void)
{
    __asm__ volatile("monitor_start: monitor" :: "a"(&steps), "c"(0), "d"(0) : "memory");
}

static __attribute__((noinline)) void rdpmc_counter_0(void)
{
    __asm__ volatile("rdpmc_start: rdpmc" :: "c"(0) : "rax", "rdx", "memory");
}

static void check_step(const char *name, const char *start, const char *end, void (*run)(void))
{
    char detail[96];
    unsigned before = steps;
    step_dr6 = 0;
    run();
    snprintf(detail, sizeof(detail), "(%u #DB, at +%ld of %ld, DR6 0x%lx)", steps - before,
             (long)(step_rip - (uint64_t)start), (long)(end - start), step_dr6);
    report(name, steps - before == 1 && step_rip == (uint64_t)end && (step_dr6 & DR6_BS),
           detail);
}

/* Each sets TF with POPF; the #DB after POPF's successor is the one
 * checked (POPF setting TF traps only after the next instruction). */
#define STEPPED(name, insn, ...)                                                      \
    static __attribute__((noinline)) void step_##name(void)                           \
    {                                                                                 \
        __asm__ volatile("pushfq\n orq $0x100, (%%rsp)\n popfq\n"                     \
                         #name "_start: " insn "\n" #name "_end:\n" ::__VA_ARGS__);  \
    }
STEPPED(nop, "nop", : "memory")
STEPPED(cpuid, "cpuid", "a"(0), "c"(0) : "rbx", "rdx", "memory")
STEPPED(out, "outb %%al, %%dx", "a"(0), "d"(POST_PORT) : "memory")
STEPPED(rdmsr, "rdmsr", "c"(MSR_IA32_APIC_BASE) : "rax", "rdx", "memory")
STEPPED(load, "movl (%%rbx), %%eax", "b"(XAPIC_ID) : "rax", "memory")

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    (void)vcpu;
    (void)vcpus;
    (void)cmdline;
    guest_interrupts_init(false);
    interrupt_register(VECTOR_GP, fault_handler);
    interrupt_register(VECTOR_UD, fault_handler);
    interrupt_register(VECTOR_DB, debug_handler);
    check_fault("#GP the CPU raises (non-canonical load) has RF set", VECTOR_GP, gp_load_start, 2, gp_load);
    check_fault("#GP the hypervisor injects (WRMSR of an unknown MSR) has RF set", VECTOR_GP,
                wrmsr_start,
                2, wrmsr_unknown);
    check_fault("#UD the hypervisor injects (MONITOR) has RF set", VECTOR_UD, monitor_start, 3,
                monitor);
    check_fault("RDPMC without performance counters raises #GP, RF set", VECTOR_GP, rdpmc_start, 2,
                rdpmc_counter_0);
    check_step("single step over NOP, which the CPU runs", nop_start, nop_end, step_nop);
    check_step("single step over CPUID, which the hypervisor emulates", cpuid_start, cpuid_end,
               step_cpuid);
    check_step("single step over OUT, which the hypervisor emulates", out_start, out_end, step_out);
    check_step("single step over RDMSR, which the hypervisor emulates", rdmsr_start, rdmsr_end,
               step_rdmsr);
    check_step("single step over a load from the xAPIC page, which the hypervisor emulates",
               load_start, load_end, step_load);
    printf("debug_probe: %d failure(s)\n", failures);
    return failures;
}
