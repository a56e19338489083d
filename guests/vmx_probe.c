/*
 * vmx_probe: a tiny L1 hypervisor that exercises the VMX instructions and
 * prints one verdict line per check:
 *
 *     vmx_probe: WHAT: OUTCOME: PASS
 *     vmx_probe: WHAT: OUTCOME: FAIL (expected OUTCOME)
 *
 * OUTCOME is the architectural result: "ok" (VMsucceed, with the value read
 * or stored where there is one), "#UD", "#GP", "VMfailInvalid" or
 * "VMfailValid N" with N the VM-instruction error (SDM Vol. 3C 31.2
 * "Conventions", 31.4 "VM Instruction Error Numbers"); the expected outcome
 * is what SDM Vol. 3C 31.3 (each instruction's "Operation") requires. The
 * last line is "vmx_probe: N checks, M failed"; the status is M.
 *
 * Check names contain no ": ", so that the lines split unambiguously
 * (tests/system/lib/VmxRun.pm vmx_probe_verdicts).
 *
 * The same source runs as a VM of vmxvisor (build/guests/vmx_probe.elf; it
 * needs nested VMX) and bare on Bochs, whose VMX is the oracle
 * (build/guests/vmx_probe_bare.elf, `tools/vmxrun --bare-multiboot`). The
 * verdict lines of the two runs are compared line for line, so they show no
 * address, revision identifier or other value the two may legitimately
 * differ in; where an outcome depends on a capability, the line names the
 * capability instead ("as IA32_VMX_MISC[29] says").
 *
 * Part 1 uses the instructions without running an L2: every VM entry it
 * attempts must fail before it loads guest state. Part 2 runs an L2 (the
 * programs of guests/vmx_probe_l2.S, in L1's own 64-bit state) and checks
 * its VM exits: the exit reason, qualification, instruction length and
 * interruption information, L2's RIP relative to the start of its program,
 * and the register or field values the SDM determines; VM entry and exit go
 * through the hypervisor's own vmx/vmenter.S. Each group of part 2's checks
 * starts from a fresh VMCS.
 */
#include <stdarg.h>
#include "guests/runtime/guest.h"
#include "arch/gdt.h"
#include "arch/interrupts.h"
#include "arch/lapic.h"
#include "arch/msr.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_controls.h"
#include "vmx/exit_reasons.h"
#include "vmx/guest_regs.h"
#include "nested/vmx_caps.h"

#define PAGE_SIZE 4096
#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_MAX_EXTENDED_LEAF 0x80000000u
#define CPUID_ADDRESS_SIZES     0x80000008u
/* Without CPUID leaf 0x80000008 the physical-address width is 36 bits
 * (SDM Vol. 3A 4.1.4). */
#define DEFAULT_MAXPHYADDR 36
#define VECTOR_UD 6
#define VECTOR_GP 13

/* The RFLAGS bits VMX instructions report through (SDM Vol. 3C 31.2):
 * VMsucceed clears all six, VMfailInvalid sets CF alone, VMfailValid ZF. */
#define RFLAGS_CF (1u << 0)
#define RFLAGS_PF (1u << 2)
#define RFLAGS_AF (1u << 4)
#define RFLAGS_ZF (1u << 6)
#define RFLAGS_SF (1u << 7)
#define RFLAGS_OF (1u << 11)
#define RFLAGS_VMX_STATUS (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

/* IA32_VMX_BASIC (SDM Vol. 3D A.1). */
#define BASIC_REVISION_MASK  0x7fffffffu
#define BASIC_REGION_SIZE(b) ((uint32_t)((b) >> 32) & 0x1fff)
#define BASIC_32BIT_ADDRESSES (1ull << 48)
#define BASIC_MEMORY_TYPE(b) ((unsigned)((b) >> 50) & 0xf)
#define BASIC_TRUE_CONTROLS  (1ull << 55)
#define MEMORY_TYPE_UC 0
#define MEMORY_TYPE_WB 6
/* IA32_VMX_MISC (SDM Vol. 3D A.6). */
#define MISC_CR3_TARGETS(m)          ((unsigned)((m) >> 16) & 0x1ff)
#define MISC_VMWRITE_ANY_FIELD       (1ull << 29)
/* Bit 31 of a VMCS region's first word: the shadow-VMCS indicator (SDM
 * Vol. 3C 25.2, 25.10). */
#define SHADOW_VMCS_INDICATOR (1u << 31)
/* Bit 0 of an encoding selects the high half of a 64-bit field (SDM Vol. 3C
 * 25.11.2); it must be 0 for the other widths. */
#define VMCS_HIGH(field) ((uint64_t)(field) | 1)
/* An encoding with reserved bit 12 set: no VMCS field (SDM Vol. 3C 25.11.2). */
#define NO_SUCH_FIELD 0x7fffu
/* Written to fields of every width: each keeps the low bits that fit. */
#define WRITE_PATTERN 0x123456789abcdef0ull
#define NO_FAULT -1

/* The VM-instruction errors the checks expect (SDM Vol. 3C 31.4). */
enum vm_instruction_error {
    VMXERR_VMCLEAR_INVALID_ADDRESS = 2,
    VMXERR_VMCLEAR_VMXON_POINTER = 3,
    VMXERR_VMLAUNCH_NON_CLEAR = 4,
    VMXERR_VMRESUME_NON_LAUNCHED = 5,
    VMXERR_ENTRY_INVALID_CONTROLS = 7,
    VMXERR_ENTRY_INVALID_HOST_STATE = 8,
    VMXERR_VMPTRLD_INVALID_ADDRESS = 9,
    VMXERR_VMPTRLD_VMXON_POINTER = 10,
    VMXERR_VMPTRLD_WRONG_REVISION = 11,
    VMXERR_UNSUPPORTED_COMPONENT = 12,
    VMXERR_VMWRITE_READ_ONLY = 13,
    VMXERR_VMXON_IN_ROOT = 15,
    VMXERR_ENTRY_MOV_SS_BLOCKING = 26,
    VMXERR_INVALID_INVEPT_INVVPID = 28,
};

enum outcome_kind { OUT_OK, OUT_FAULT, OUT_FAIL_INVALID, OUT_FAIL_VALID, OUT_BAD_RFLAGS };

struct outcome {
    enum outcome_kind kind;
    uint64_t code;      /* the fault's vector, the VM-instruction error, the RFLAGS status bits */
    bool has_value;     /* VMREAD's or VMPTRST's result */
    uint64_t value;
};

static struct outcome ok(void) { return (struct outcome){ .kind = OUT_OK }; }
static struct outcome ok_value(uint64_t v)
{
    return (struct outcome){ .kind = OUT_OK, .has_value = true, .value = v };
}
static struct outcome fault(unsigned vector)
{
    return (struct outcome){ .kind = OUT_FAULT, .code = vector };
}
static struct outcome fail_invalid(void) { return (struct outcome){ .kind = OUT_FAIL_INVALID }; }
static struct outcome fail_valid(enum vm_instruction_error error)
{
    return (struct outcome){ .kind = OUT_FAIL_VALID, .code = error };
}

/* What the checks learn from CPUID and the capability MSRs. */
static struct {
    uint32_t revision;      /* IA32_VMX_BASIC[30:0]: used, never printed */
    unsigned maxphyaddr;
    uint32_t must_be_1[VMX_CTL_CLASSES];
    uint32_t may_be_1[VMX_CTL_CLASSES];
    uint64_t misc;
} caps;

/* The VMX regions; the probe runs identity-mapped, so their addresses are
 * physical addresses. probe_page is what the failing pointer checks point
 * into, stamped for each. */
static uint8_t vmxon_region[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t vmcs[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t shadow_vmcs[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t probe_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t vmread_bitmap[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t vmwrite_bitmap[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
#define UNALIGNED_OFFSET 0x80
/* This L1's own GDT and TSS, for a valid host state (as vmxvisor's,
 * virt/vmcs_setup.c write_host_state). */
static struct cpu_tables tables;

static unsigned checks, failures;
/* The modes (fuzz, bench, soak) use the probe's steps without its verdict
 * lines: a passing step then prints nothing, a failing one still does. */
static bool quiet;

static uint64_t pa(const void *p) { return (uint64_t)(uintptr_t)p; }

/* ---------------------------------------------------------------------- */
/* Running an instruction that may fault, and reading its outcome.         */

/* A #UD or #GP during a try resumes after the instruction (the address the
 * try's asm stores in fault_resume) with the vector recorded. */
static volatile uint64_t fault_resume;
static volatile int fault_vector = NO_FAULT;

static void catch_fault(struct trap_frame *frame)
{
    fault_vector = (int)frame->vector;
    frame->rip = fault_resume;
}

/* Outside a try, a #UD or #GP is the runtime's fatal exception. */
static void try_begin(void)
{
    fault_vector = NO_FAULT;
    interrupt_register(VECTOR_UD, catch_fault);
    interrupt_register(VECTOR_GP, catch_fault);
}

/* What a try saw: the fault, if any, else the RFLAGS it left. */
struct raw { int vector; uint64_t rflags; };

static struct raw try_end(uint64_t rflags)
{
    interrupt_register(VECTOR_UD, NULL);
    interrupt_register(VECTOR_GP, NULL);
    return (struct raw){ fault_vector, rflags };
}

/* The asm of a try: stores where a fault resumes (label 1, in %rax), sets
 * the six status flags so that the RFLAGS after INSN show which it cleared,
 * runs INSN and captures RFLAGS. TRY_ARM and TRY_RUN are apart for the VM
 * entries, which write their host RIP and RSP in between. */
#define TRY_ARM "leaq 1f(%%rip), %%rax\n\tmovq %%rax, %[resume]\n\t"
#define TRY_RUN(insn) "pushfq\n\torq %[status], (%%rsp)\n\tpopfq\n\t" insn "\n1:\tpushfq\n\tpopq %[rflags]"
#define TRY_OUTPUTS [rflags] "=r"(rflags), [resume] "=m"(fault_resume)
#define TRY_STATUS [status] "i"(RFLAGS_VMX_STATUS)

static struct raw raw_vmread(uint64_t encoding, uint64_t *value)
{
    uint64_t rflags;
    try_begin();
    __asm__ volatile(TRY_ARM TRY_RUN("vmread %[encoding], %[value]")
                     : TRY_OUTPUTS, [value] "=r"(*value) : [encoding] "r"(encoding), TRY_STATUS
                     : "rax", "cc", "memory");
    return try_end(rflags);
}

/* A VMX instruction's outcome from the RFLAGS it left (SDM Vol. 3C 31.2);
 * VMfailValid's error number is in the current VMCS (0 if it cannot be
 * read there). */
static struct outcome vmx_outcome(struct raw r)
{
    if (r.vector != NO_FAULT)
        return fault((unsigned)r.vector);
    uint64_t error = 0;
    switch (r.rflags & RFLAGS_VMX_STATUS) {
    case 0:
        return ok();
    case RFLAGS_CF:
        return fail_invalid();
    case RFLAGS_ZF: {
        struct raw e = raw_vmread(VM_INSTRUCTION_ERROR, &error);
        bool read = e.vector == NO_FAULT && !(e.rflags & RFLAGS_VMX_STATUS);
        return fail_valid(read ? (enum vm_instruction_error)error : 0);
    }
    default:
        return (struct outcome){ .kind = OUT_BAD_RFLAGS, .code = r.rflags & RFLAGS_VMX_STATUS };
    }
}

#define TRY_POINTER_INSN(name, mnemonic)                                          \
    static struct outcome name(uint64_t pointer)                                  \
    {                                                                             \
        uint64_t rflags;                                                          \
        try_begin();                                                              \
        __asm__ volatile(TRY_ARM TRY_RUN(mnemonic " %[pointer]")                  \
                         : TRY_OUTPUTS : [pointer] "m"(pointer), TRY_STATUS       \
                         : "rax", "cc", "memory");                                \
        return vmx_outcome(try_end(rflags));                                      \
    }
TRY_POINTER_INSN(try_vmxon, "vmxon")
TRY_POINTER_INSN(try_vmclear, "vmclear")
TRY_POINTER_INSN(try_vmptrld, "vmptrld")

/* VMPTRST and VMREAD as the checks see them: the value stored or read
 * belongs to the outcome. */
static struct outcome with_value(struct outcome o, uint64_t value)
{
    return o.kind == OUT_OK ? ok_value(value) : o;
}

static struct outcome try_vmptrst(void)
{
    uint64_t rflags, pointer = 0;
    try_begin();
    __asm__ volatile(TRY_ARM TRY_RUN("vmptrst %[pointer]")
                     : TRY_OUTPUTS, [pointer] "=m"(pointer) : TRY_STATUS
                     : "rax", "cc", "memory");
    return with_value(vmx_outcome(try_end(rflags)), pointer);
}

static struct outcome try_vmread(uint64_t encoding)
{
    uint64_t value = 0;
    struct outcome o = vmx_outcome(raw_vmread(encoding, &value));
    return with_value(o, value);
}

static struct outcome try_vmwrite(uint64_t encoding, uint64_t value)
{
    uint64_t rflags;
    try_begin();
    __asm__ volatile(TRY_ARM TRY_RUN("vmwrite %[value], %[encoding]")
                     : TRY_OUTPUTS : [encoding] "r"(encoding), [value] "r"(value), TRY_STATUS
                     : "rax", "cc", "memory");
    return vmx_outcome(try_end(rflags));
}

static struct outcome try_vmxoff(void)
{
    uint64_t rflags;
    try_begin();
    __asm__ volatile(TRY_ARM TRY_RUN("vmxoff") : TRY_OUTPUTS : TRY_STATUS
                     : "rax", "cc", "memory");
    return vmx_outcome(try_end(rflags));
}

/* A VM entry that the probe expects to fail. Should it not, the entry's
 * guest-state checks or the guest itself end in a VM exit, which the host
 * RIP and RSP written here turn into a return to label 1 with RFLAGS = 2:
 * "ok", a failed check, and the probe goes on. */
#define TRY_VM_ENTRY(name, insn)                                                   \
    static struct outcome name(void)                                               \
    {                                                                              \
        uint64_t rflags;                                                           \
        try_begin();                                                               \
        __asm__ volatile(TRY_ARM                                                   \
                         "movq %[host_rip], %%rdx\n\tvmwrite %%rax, %%rdx\n\t"     \
                         "movq %[host_rsp], %%rdx\n\tvmwrite %%rsp, %%rdx\n\t"     \
                         TRY_RUN(insn)                                             \
                         : TRY_OUTPUTS                                             \
                         : TRY_STATUS, [host_rip] "i"(HOST_RIP), [host_rsp] "i"(HOST_RSP) \
                         : "rax", "rdx", "cc", "memory");                          \
        return vmx_outcome(try_end(rflags));                                       \
    }
TRY_VM_ENTRY(try_vmlaunch, "vmlaunch")
TRY_VM_ENTRY(try_vmresume, "vmresume")
/* MOV to SS blocks events for the next instruction (SDM Vol. 3A 7.8.3). */
TRY_VM_ENTRY(try_vmlaunch_after_mov_ss, "mov %%ss, %%eax\n\tmov %%eax, %%ss\n\tvmlaunch")

/* MOV to a control register: it faults or not; its flags mean nothing. */
#define TRY_WRITE_CR(name, cr)                                                     \
    static struct outcome name(uint64_t value)                                     \
    {                                                                              \
        uint64_t rflags;                                                           \
        try_begin();                                                               \
        __asm__ volatile(TRY_ARM TRY_RUN("mov %[value], %%" cr)                     \
                         : TRY_OUTPUTS : [value] "r"(value), TRY_STATUS            \
                         : "rax", "cc", "memory");                                 \
        struct raw r = try_end(rflags);                                            \
        return r.vector == NO_FAULT ? ok() : fault((unsigned)r.vector);            \
    }
TRY_WRITE_CR(try_write_cr0, "cr0")
TRY_WRITE_CR(try_write_cr4, "cr4")

/* ---------------------------------------------------------------------- */
/* Verdicts.                                                               */

static const char *region_name(uint64_t p)
{
    if (p == pa(vmxon_region))
        return "the VMXON region";
    if (p == pa(vmcs))
        return "the VMCS";
    if (p == pa(shadow_vmcs))
        return "the shadow VMCS";
    if (p == pa(probe_page))
        return "the probe page";
    return NULL;
}

static void format_outcome(char *buf, size_t size, struct outcome o)
{
    switch (o.kind) {
    case OUT_OK:
        if (!o.has_value)
            snprintf(buf, size, "ok");
        else if (region_name(o.value))
            snprintf(buf, size, "ok, %s", region_name(o.value));
        else
            snprintf(buf, size, "ok, 0x%lx", o.value);
        return;
    case OUT_FAULT:     /* the tries catch these two only */
        snprintf(buf, size, "%s", o.code == VECTOR_UD ? "#UD" : "#GP");
        return;
    case OUT_FAIL_INVALID:
        snprintf(buf, size, "VMfailInvalid");
        return;
    case OUT_FAIL_VALID:
        snprintf(buf, size, "VMfailValid %lu", o.code);
        return;
    case OUT_BAD_RFLAGS:
        snprintf(buf, size, "RFLAGS status bits 0x%lx, none of the SDM's outcomes", o.code);
        return;
    }
}

static bool same_outcome(struct outcome a, struct outcome b)
{
    return a.kind == b.kind && a.code == b.code && a.has_value == b.has_value &&
           (!a.has_value || a.value == b.value);
}

/* One verdict line. `basis`, if any, names the capability the expected
 * outcome depends on; a passing line then shows it instead of the outcome. */
static bool verdict(const char *what, const char *got, bool pass, const char *want,
                    const char *basis)
{
    checks++;
    if (pass && quiet)
        return true;
    if (pass && basis)
        printf("vmx_probe: %s: as %s says: PASS\n", what, basis);
    else if (pass)
        printf("vmx_probe: %s: %s: PASS\n", what, got);
    else if (basis)
        printf("vmx_probe: %s: %s: FAIL (expected %s, as %s says)\n", what, got, want, basis);
    else
        printf("vmx_probe: %s: %s: FAIL (expected %s)\n", what, got, want);
    failures += !pass;
    return pass;
}

static bool expect_per(const char *what, struct outcome got, struct outcome want,
                       const char *basis)
{
    char got_text[80], want_text[80];
    format_outcome(got_text, sizeof(got_text), got);
    format_outcome(want_text, sizeof(want_text), want);
    return verdict(what, got_text, same_outcome(got, want), want_text, basis);
}

static bool expect(const char *what, struct outcome got, struct outcome want)
{
    return expect_per(what, got, want, NULL);
}

/* ---------------------------------------------------------------------- */
/* The checks.                                                             */

static unsigned physical_address_width(void)
{
    if (cpuid(CPUID_MAX_EXTENDED_LEAF, 0).eax < CPUID_ADDRESS_SIZES)
        return DEFAULT_MAXPHYADDR;
    return cpuid(CPUID_ADDRESS_SIZES, 0).eax & 0xff;
}

/* A VMCS or VMXON region: the revision identifier (with the shadow-VMCS
 * indicator, if asked), the rest zero (SDM Vol. 3C 25.2). */
static uint64_t stamp(uint8_t *region, uint32_t revision)
{
    memset(region, 0, PAGE_SIZE);
    memcpy(region, &revision, sizeof(revision));
    return pa(region);
}

/* A pointer that only its alignment makes wrong: a good revision
 * identifier lies where it points and at the start of its page, so neither
 * taking it as it is nor rounding it down makes it fail. */
static uint64_t unaligned_pointer(void)
{
    stamp(probe_page, caps.revision);
    memcpy(probe_page + UNALIGNED_OFFSET, &caps.revision, sizeof(caps.revision));
    return pa(probe_page) + UNALIGNED_OFFSET;
}

static uint64_t beyond_physical_width(void)
{
    return 1ull << caps.maxphyaddr;
}

/* The allowed settings of a control word (SDM Vol. 3D A.3-A.5): bits
 * 31:0 of its capability MSR are the bits that must be 1, bits 63:32 those
 * that may be 1. */
static void read_controls(enum vmx_control_class cls, uint32_t msr)
{
    uint64_t v = rdmsr(msr);
    caps.must_be_1[cls] = (uint32_t)v;
    caps.may_be_1[cls] = (uint32_t)(v >> 32);
}

/* CPUID and the capability MSRs (SDM Vol. 3C 24.6 "Discovering Support
 * for VMX", 24.7). Stops at what makes VMXON impossible. */
static bool discover(void)
{
    bool vmx = cpuid(1, 0).ecx & CPUID_1_ECX_VMX;
    if (!verdict("CPUID.1:ECX.VMX", vmx ? "1" : "0", vmx, "1", NULL))
        return false;
    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
    bool locked = fc & FEATURE_CONTROL_LOCKED, on = fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX;
    char text[64];
    snprintf(text, sizeof(text), "%s, VMX outside SMX %s", locked ? "locked" : "unlocked",
             on ? "on" : "off");
    if (!verdict("IA32_FEATURE_CONTROL", text, locked && on, "locked, VMX outside SMX on", NULL))
        return false;

    uint64_t basic = rdmsr(MSR_IA32_VMX_BASIC);
    caps.revision = (uint32_t)basic & BASIC_REVISION_MASK;
    caps.maxphyaddr = physical_address_width();
    /* The regions here are a page each. */
    uint32_t size = BASIC_REGION_SIZE(basic);
    snprintf(text, sizeof(text), "%u bytes", size);
    if (!verdict("IA32_VMX_BASIC VMCS region size", text, size > 0 && size <= PAGE_SIZE,
                 "1 to 4096 bytes", NULL))
        return false;
    verdict("IA32_VMX_BASIC[48] (32-bit physical addresses only)",
            basic & BASIC_32BIT_ADDRESSES ? "1" : "0", !(basic & BASIC_32BIT_ADDRESSES), "0", NULL);
    unsigned type = BASIC_MEMORY_TYPE(basic);
    if (type == MEMORY_TYPE_WB || type == MEMORY_TYPE_UC)
        snprintf(text, sizeof(text), "%s", type == MEMORY_TYPE_WB ? "WB" : "UC");
    else
        snprintf(text, sizeof(text), "reserved %u", type);
    verdict("IA32_VMX_BASIC VMCS memory type", text,
            type == MEMORY_TYPE_WB || type == MEMORY_TYPE_UC, "WB or UC", NULL);

    /* The TRUE MSRs, where offered, say which default1 controls may be 0. */
    bool true_ctls = basic & BASIC_TRUE_CONTROLS;
    read_controls(VMX_CTL_PIN, true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS
                                         : MSR_IA32_VMX_PINBASED_CTLS);
    read_controls(VMX_CTL_PROC, true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
                                          : MSR_IA32_VMX_PROCBASED_CTLS);
    read_controls(VMX_CTL_EXIT, true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS
                                          : MSR_IA32_VMX_EXIT_CTLS);
    read_controls(VMX_CTL_ENTRY, true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS
                                           : MSR_IA32_VMX_ENTRY_CTLS);
    if (caps.may_be_1[VMX_CTL_PROC] & PROC_ACTIVATE_SECONDARY)
        read_controls(VMX_CTL_PROC2, MSR_IA32_VMX_PROCBASED_CTLS2);
    caps.misc = rdmsr(MSR_IA32_VMX_MISC);
    return true;
}

/* VMXON that must fail without entering VMX operation; should it enter,
 * it leaves again so that the next checks start from the same state. */
static void expect_vmxon_fails(const char *what, uint64_t pointer, struct outcome want)
{
    struct outcome got = try_vmxon(pointer);
    expect(what, got, want);
    if (got.kind == OUT_OK)
        try_vmxoff();
}

/* Outside VMX operation every VMX instruction but VMXON is #UD, and VMXON
 * too while CR4.VMXE = 0 (SDM Vol. 3C 31.3, each "Operation"). */
static bool outside_vmx_operation(void)
{
    expect_vmxon_fails("VMXON with CR4.VMXE=0", stamp(vmxon_region, caps.revision),
                       fault(VECTOR_UD));
    expect("VMPTRST outside VMX operation", try_vmptrst(), fault(VECTOR_UD));
    expect("VMXOFF outside VMX operation", try_vmxoff(), fault(VECTOR_UD));
    /* SDM Vol. 3C 24.7: software enables VMX with CR4.VMXE. */
    return expect("MOV to CR4 setting VMXE", try_write_cr4(read_cr4() | CR4_VMXE), ok());
}

/* VMXON's checks in the order of its "Operation" (SDM Vol. 3C 31.3): CR0
 * and CR4 against IA32_VMX_CR0_FIXED0/1 and CR4_FIXED0/1 (#GP, 24.8), the
 * pointer's alignment and width, the region's revision identifier and
 * shadow-VMCS indicator (VMfailInvalid: there is no current VMCS yet). */
static bool vmxon_checks(void)
{
    uint64_t cr0 = read_cr0();
    /* CR0.NE is in IA32_VMX_CR0_FIXED0 and, unlike PE and PG, can be clear
     * in 64-bit mode. */
    if (expect("MOV to CR0 clearing NE outside VMX operation", try_write_cr0(cr0 & ~CR0_NE),
               ok())) {
        expect_vmxon_fails("VMXON with CR0.NE=0", stamp(vmxon_region, caps.revision),
                           fault(VECTOR_GP));
        write_cr0(cr0);
    }
    expect_vmxon_fails("VMXON region with a wrong revision identifier",
                       stamp(probe_page, caps.revision ^ 1), fail_invalid());
    expect_vmxon_fails("VMXON region with the shadow-VMCS indicator set",
                       stamp(probe_page, caps.revision | SHADOW_VMCS_INDICATOR), fail_invalid());
    expect_vmxon_fails("VMXON with an unaligned pointer", unaligned_pointer(), fail_invalid());
    expect_vmxon_fails("VMXON with a pointer beyond the physical-address width",
                       beyond_physical_width(), fail_invalid());
    return expect("VMXON", try_vmxon(stamp(vmxon_region, caps.revision)), ok());
}

/* In VMX root operation without a current VMCS, VMfail is VMfailInvalid:
 * there is no VMCS to hold an error number (SDM Vol. 3C 31.2). */
static void without_current_vmcs(void)
{
    expect("VMPTRST with no current VMCS", try_vmptrst(), ok_value(~0ull));
    expect("VMXON in VMX root operation, no current VMCS", try_vmxon(pa(vmxon_region)),
           fail_invalid());
    /* SDM Vol. 3C 24.8: CR0 and CR4 keep their fixed bits in VMX operation. */
    uint64_t cr0 = read_cr0(), cr4 = read_cr4();
    if (!expect("MOV to CR0 clearing NE in VMX operation", try_write_cr0(cr0 & ~CR0_NE),
                fault(VECTOR_GP)))
        write_cr0(cr0);
    if (!expect("MOV to CR4 clearing VMXE in VMX operation", try_write_cr4(cr4 & ~CR4_VMXE),
                fault(VECTOR_GP)))
        write_cr4(cr4);
    expect("VMREAD with no current VMCS", try_vmread(GUEST_RIP), fail_invalid());
    expect("VMWRITE with no current VMCS", try_vmwrite(GUEST_RIP, 0), fail_invalid());
    expect("VMLAUNCH with no current VMCS", try_vmlaunch(), fail_invalid());
    expect("VMCLEAR with an unaligned address, no current VMCS",
           try_vmclear(unaligned_pointer()), fail_invalid());
    expect("VMCLEAR of the VMXON region, no current VMCS", try_vmclear(pa(vmxon_region)),
           fail_invalid());
    expect("VMPTRLD with an unaligned address, no current VMCS",
           try_vmptrld(unaligned_pointer()), fail_invalid());
}

/* VMCLEAR and VMPTRLD check the pointer, then that it is not the VMXON
 * pointer, then (VMPTRLD) the revision identifier; with a current VMCS each
 * failure is VMfailValid with its own number (SDM Vol. 3C 31.3). */
static bool vmcs_pointer_checks(void)
{
    uint64_t region = stamp(vmcs, caps.revision);
    expect("VMCLEAR of a VMCS", try_vmclear(region), ok());
    if (!expect("VMPTRLD of a VMCS", try_vmptrld(region), ok()))
        return false;
    expect("VMPTRST after VMPTRLD", try_vmptrst(), ok_value(region));
    expect("VMXON in VMX root operation", try_vmxon(pa(vmxon_region)),
           fail_valid(VMXERR_VMXON_IN_ROOT));
    expect("VMCLEAR with an unaligned address", try_vmclear(unaligned_pointer()),
           fail_valid(VMXERR_VMCLEAR_INVALID_ADDRESS));
    expect("VMCLEAR with an address beyond the physical-address width",
           try_vmclear(beyond_physical_width()), fail_valid(VMXERR_VMCLEAR_INVALID_ADDRESS));
    expect("VMCLEAR of the VMXON region", try_vmclear(pa(vmxon_region)),
           fail_valid(VMXERR_VMCLEAR_VMXON_POINTER));
    expect("VMPTRLD with an unaligned address", try_vmptrld(unaligned_pointer()),
           fail_valid(VMXERR_VMPTRLD_INVALID_ADDRESS));
    expect("VMPTRLD with an address beyond the physical-address width",
           try_vmptrld(beyond_physical_width()), fail_valid(VMXERR_VMPTRLD_INVALID_ADDRESS));
    expect("VMPTRLD of the VMXON region", try_vmptrld(pa(vmxon_region)),
           fail_valid(VMXERR_VMPTRLD_VMXON_POINTER));
    expect("VMPTRLD of a VMCS with a wrong revision identifier",
           try_vmptrld(stamp(probe_page, caps.revision ^ 1)),
           fail_valid(VMXERR_VMPTRLD_WRONG_REVISION));
    /* A failed VMPTRLD leaves the current VMCS as it was. */
    return expect("VMPTRST after the failed VMPTRLDs", try_vmptrst(), ok_value(region));
}

/* Fields of every width and type that every model with VMX has (SDM Vol.
 * 3C 25.11.2 and Appendix B). VMWRITE stores them unchecked: only VM entry
 * looks at their values. */
#define FIELD(id) { id, #id }
static const struct { uint32_t encoding; const char *name; } rw_fields[] = {
    FIELD(GUEST_ES_SELECTOR),           /* 16-bit guest state */
    FIELD(HOST_TR_SELECTOR),            /* 16-bit host state */
    FIELD(IO_BITMAP_A),                 /* 64-bit control */
    FIELD(TSC_OFFSET),
    FIELD(VMCS_LINK_POINTER),           /* 64-bit guest state */
    FIELD(GUEST_IA32_DEBUGCTL),
    FIELD(CPU_BASED_VM_EXEC_CONTROL),   /* 32-bit control */
    FIELD(EXCEPTION_BITMAP),
    FIELD(GUEST_ES_LIMIT),              /* 32-bit guest state */
    FIELD(GUEST_INTERRUPTIBILITY_INFO),
    FIELD(HOST_IA32_SYSENTER_CS),       /* 32-bit host state */
    FIELD(CR0_GUEST_HOST_MASK),         /* natural-width control */
    FIELD(GUEST_CR0),                   /* natural-width guest state */
    FIELD(GUEST_RIP),
    FIELD(HOST_RIP),                    /* natural-width host state */
};

/* VMWRITE ignores the bits of its operand above the field's width, VMREAD
 * returns them as 0 (SDM Vol. 3C 31.3); natural width is 64 bits here. */
static uint64_t field_value(uint32_t encoding, uint64_t written)
{
    switch (vmcs_field_width(encoding)) {
    case VMCS_WIDTH_16:
        return (uint16_t)written;
    case VMCS_WIDTH_32:
        return (uint32_t)written;
    case VMCS_WIDTH_64:
    case VMCS_WIDTH_NATURAL:
        break;
    }
    return written;
}

static void vmread_vmwrite_checks(void)
{
    static const char *const widths[] = {
        [VMCS_WIDTH_16] = "16-bit", [VMCS_WIDTH_64] = "64-bit",
        [VMCS_WIDTH_32] = "32-bit", [VMCS_WIDTH_NATURAL] = "natural-width",
    };
    char what[96];
    for (size_t i = 0; i < sizeof(rw_fields) / sizeof(rw_fields[0]); i++) {
        uint32_t f = rw_fields[i].encoding;
        snprintf(what, sizeof(what), "VMWRITE and VMREAD of %s (%s)", rw_fields[i].name,
                 widths[vmcs_field_width(f)]);
        struct outcome got = try_vmwrite(f, WRITE_PATTERN);
        if (got.kind == OUT_OK)
            got = try_vmread(f);
        expect(what, got, ok_value(field_value(f, WRITE_PATTERN)));
    }
    /* The high half of a 64-bit field is a 32-bit field of its own. */
    try_vmwrite(IO_BITMAP_A, WRITE_PATTERN);
    expect("VMREAD of IO_BITMAP_A's high half", try_vmread(VMCS_HIGH(IO_BITMAP_A)),
           ok_value(WRITE_PATTERN >> 32));
    struct outcome got = try_vmwrite(VMCS_HIGH(IO_BITMAP_A), ~WRITE_PATTERN);
    if (got.kind == OUT_OK)
        got = try_vmread(IO_BITMAP_A);
    expect("VMWRITE of IO_BITMAP_A's high half, then VMREAD of IO_BITMAP_A", got,
           ok_value((~WRITE_PATTERN << 32) | (uint32_t)WRITE_PATTERN));

    struct outcome unsupported = fail_valid(VMXERR_UNSUPPORTED_COMPONENT);
    expect("VMREAD of an encoding with reserved bits set", try_vmread(NO_SUCH_FIELD),
           unsupported);
    expect("VMWRITE of an encoding with reserved bits set", try_vmwrite(NO_SUCH_FIELD, 0),
           unsupported);
    expect("VMREAD of a 32-bit field's high half", try_vmread(VMCS_HIGH(EXCEPTION_BITMAP)),
           unsupported);
    expect("VMWRITE of a 32-bit field's high half", try_vmwrite(VMCS_HIGH(EXCEPTION_BITMAP), 0),
           unsupported);
    /* In 64-bit mode the encoding is a 64-bit register; bits 63:32 set
     * name no field (SDM Vol. 3C 31.3 VMREAD, VMWRITE). */
    expect("VMREAD with bits 63:32 of the encoding set",
           try_vmread(1ull << 32 | GUEST_ES_SELECTOR), unsupported);
    expect("VMWRITE with bits 63:32 of the encoding set",
           try_vmwrite(1ull << 32 | GUEST_ES_SELECTOR, 0), unsupported);
    /* VM-exit information fields are read-only unless IA32_VMX_MISC[29]
     * (SDM Vol. 3D A.6). */
    expect_per("VMWRITE of a read-only field (VM_EXIT_REASON)", try_vmwrite(VM_EXIT_REASON, 0),
               caps.misc & MISC_VMWRITE_ANY_FIELD ? ok() : fail_valid(VMXERR_VMWRITE_READ_ONLY),
               "IA32_VMX_MISC[29]");
}

/* A region whose shadow-VMCS indicator is set loads only with VMCS
 * shadowing (SDM Vol. 3C 25.2), and VM entry with it as the current VMCS is
 * VMfailInvalid (25.10, 27.1). The VMCS is current again afterwards. */
static bool shadow_vmcs_checks(void)
{
    bool shadowing = (caps.may_be_1[VMX_CTL_PROC] & PROC_ACTIVATE_SECONDARY) &&
                     (caps.may_be_1[VMX_CTL_PROC2] & PROC2_VMCS_SHADOWING);
    uint64_t region = stamp(shadow_vmcs, caps.revision | SHADOW_VMCS_INDICATOR);
    try_vmclear(region);
    struct outcome loaded = try_vmptrld(region);
    expect_per("VMPTRLD of a shadow VMCS", loaded,
               shadowing ? ok() : fail_valid(VMXERR_VMPTRLD_WRONG_REVISION),
               "IA32_VMX_PROCBASED_CTLS2[46] (VMCS shadowing)");
    if (loaded.kind == OUT_OK)
        expect("VMLAUNCH of a shadow VMCS", try_vmlaunch(), fail_invalid());
    else
        printf("vmx_probe: VMLAUNCH of a shadow VMCS: skipped, none loaded\n");
    /* Inactive again before a later check stamps the region anew: software
     * must not write an active VMCS's region (SDM Vol. 3C 25.11.1). */
    try_vmclear(region);
    return expect("VMPTRLD of the VMCS again", try_vmptrld(pa(vmcs)), ok());
}

/* A VMCS field and the value to write to it. */
struct field_value { uint32_t encoding; const char *name; uint64_t value; };
#define VALUE(id, v) { id, #id, v }

/* VMWRITEs the fields in order; the first that fails is a failed check
 * ("VMWRITE of FIELD for PURPOSE") and ends the writing. */
static bool write_fields(const struct field_value *fields, size_t n, const char *purpose)
{
    for (size_t i = 0; i < n; i++) {
        struct outcome got = try_vmwrite(fields[i].encoding, fields[i].value);
        if (got.kind != OUT_OK) {
            char what[128];
            snprintf(what, sizeof(what), "VMWRITE of %s for %s", fields[i].name, purpose);
            return expect(what, got, ok());
        }
    }
    return true;
}

/* A clear VMCS is data in its region (SDM Vol. 3C 25.11.1: software may
 * write a region that no processor has active): a region saved while
 * clear and put back later is the VMCS as it was saved, whatever was
 * written into the VMCS in between (a hypervisor restoring a snapshot of
 * its guest). Fields of each width, shadowed under vmxvisor or not. The
 * VMCS is current again afterwards. */
static bool restored_vmcs_checks(void)
{
    static uint8_t saved[PAGE_SIZE];
    const struct field_value before[] = {
        VALUE(GUEST_RIP, 0x1000), VALUE(EXCEPTION_BITMAP, 0x4000),
        VALUE(GUEST_ES_SELECTOR, 0x10), VALUE(TSC_OFFSET, 0x123456789),
    };
    const struct field_value after[] = {
        VALUE(GUEST_RIP, 0x2000), VALUE(EXCEPTION_BITMAP, 0x8),
        VALUE(GUEST_ES_SELECTOR, 0x18), VALUE(TSC_OFFSET, 0x987654321),
    };
    size_t count = sizeof(before) / sizeof(before[0]);
    uint64_t region = stamp(probe_page, caps.revision);
    try_vmclear(region);
    bool ready = expect("VMPTRLD of a VMCS to save", try_vmptrld(region), ok()) &&
                 write_fields(before, count, "a VMCS to save") &&
                 expect("VMCLEAR of the VMCS to save", try_vmclear(region), ok());
    if (ready) {
        memcpy(saved, probe_page, PAGE_SIZE);
        ready = expect("VMPTRLD of the saved VMCS", try_vmptrld(region), ok()) &&
                write_fields(after, count, "the VMCS after its save") &&
                expect("VMCLEAR of the VMCS after its save", try_vmclear(region), ok());
    }
    if (ready) {
        memcpy(probe_page, saved, PAGE_SIZE);
        if (expect("VMPTRLD of the VMCS put back", try_vmptrld(region), ok())) {
            for (size_t i = 0; i < count; i++) {
                char what[96];
                snprintf(what, sizeof(what), "VMREAD of %s in the VMCS put back", before[i].name);
                expect(what, try_vmread(before[i].encoding), ok_value(before[i].value));
            }
        }
        try_vmclear(region);
    }
    return expect("VMPTRLD of the VMCS after the one put back", try_vmptrld(pa(vmcs)), ok());
}

/* The control words `ctl` and the host state of this CPU as vmxvisor
 * writes its own (SDM Vol. 3C 27.2.2, 27.2.3); a VM exit returns to
 * vmx_exit_entry (vmx/vmenter.S), whose VM entries write HOST_RSP. */
static bool write_controls_and_host_state(const uint32_t ctl[VMX_CTL_CLASSES], const char *purpose)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    const struct field_value fields[] = {
        VALUE(PIN_BASED_VM_EXEC_CONTROL, ctl[VMX_CTL_PIN]),
        VALUE(CPU_BASED_VM_EXEC_CONTROL, ctl[VMX_CTL_PROC]),
        VALUE(VM_EXIT_CONTROLS, ctl[VMX_CTL_EXIT]),
        VALUE(VM_ENTRY_CONTROLS, ctl[VMX_CTL_ENTRY]),
        VALUE(CR3_TARGET_COUNT, 0),
        VALUE(VM_EXIT_MSR_STORE_COUNT, 0),
        VALUE(VM_EXIT_MSR_LOAD_COUNT, 0),
        VALUE(VM_ENTRY_MSR_LOAD_COUNT, 0),
        VALUE(VM_ENTRY_INTR_INFO, 0),
        VALUE(HOST_CR0, read_cr0()),
        VALUE(HOST_CR3, read_cr3()),
        VALUE(HOST_CR4, read_cr4()),
        VALUE(HOST_CS_SELECTOR, SEL_KERNEL_CODE),
        VALUE(HOST_SS_SELECTOR, SEL_KERNEL_DATA),
        VALUE(HOST_DS_SELECTOR, SEL_KERNEL_DATA),
        VALUE(HOST_ES_SELECTOR, SEL_KERNEL_DATA),
        VALUE(HOST_FS_SELECTOR, 0),
        VALUE(HOST_GS_SELECTOR, 0),
        VALUE(HOST_TR_SELECTOR, SEL_TSS),
        VALUE(HOST_FS_BASE, 0),
        VALUE(HOST_GS_BASE, 0),
        VALUE(HOST_TR_BASE, pa(&tables.tss)),
        VALUE(HOST_GDTR_BASE, pa(tables.gdt)),
        VALUE(HOST_IDTR_BASE, idtr.base),
        VALUE(HOST_IA32_SYSENTER_CS, 0),
        VALUE(HOST_IA32_SYSENTER_ESP, 0),
        VALUE(HOST_IA32_SYSENTER_EIP, 0),
        VALUE(HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_entry),
    };
    /* The secondary controls exist only where the CPU has them. */
    const struct field_value secondary[] = {
        VALUE(SECONDARY_VM_EXEC_CONTROL, ctl[VMX_CTL_PROC2]),
    };
    return write_fields(fields, sizeof(fields) / sizeof(fields[0]), purpose) &&
           (!(ctl[VMX_CTL_PROC] & PROC_ACTIVATE_SECONDARY) || write_fields(secondary, 1, purpose));
}

/* Controls that pass VM entry's checks (SDM Vol. 3C 27.2.1): the bits that
 * must be 1, plus the 64-bit host this probe is (27.2.4). */
static bool write_valid_vmcs(void)
{
    uint32_t ctl[VMX_CTL_CLASSES];
    memcpy(ctl, caps.must_be_1, sizeof(ctl));
    ctl[VMX_CTL_EXIT] |= EXIT_HOST_ADDR_SPACE_SIZE;
    return write_controls_and_host_state(ctl, "the VM-entry checks") &&
           expect("VMWRITE of valid controls and host state for the VM-entry checks", ok(), ok());
}

/* Writes `bad` to a field of the valid VMCS, expects the VM entry `entry`
 * to fail with `error`, and restores the field. */
static void expect_entry_fails(const char *what, struct outcome (*entry)(void), uint32_t field,
                               uint64_t bad, enum vm_instruction_error error)
{
    struct outcome good = try_vmread(field);
    try_vmwrite(field, bad);
    expect(what, entry(), fail_valid(error));
    try_vmwrite(field, good.value);
}

/* VM entry checks, in the SDM's order: the basic checks first (MOV-SS
 * blocking, then the launch state: SDM Vol. 3C 27.1), then the controls
 * and the host state (27.2; these "may be performed in any order", so each
 * check breaks one field of an otherwise valid VMCS). */
static bool vm_entry_checks(void)
{
    if (!write_valid_vmcs())
        return false;
    /* Pin-based bits 1, 2 and 4 are must-be-1 (SDM Vol. 3D A.3.1): 0 clears them. */
    expect_entry_fails("VMLAUNCH after MOV SS, with invalid controls too",
                       try_vmlaunch_after_mov_ss, PIN_BASED_VM_EXEC_CONTROL, 0,
                       VMXERR_ENTRY_MOV_SS_BLOCKING);
    expect_entry_fails("VMRESUME of a clear VMCS, with invalid controls too", try_vmresume,
                       PIN_BASED_VM_EXEC_CONTROL, 0, VMXERR_VMRESUME_NON_LAUNCHED);
    expect_entry_fails("VMLAUNCH with the pin-based controls' must-be-1 bits clear",
                       try_vmlaunch, PIN_BASED_VM_EXEC_CONTROL, 0,
                       VMXERR_ENTRY_INVALID_CONTROLS);
    expect_entry_fails("VMLAUNCH with more CR3-target values than IA32_VMX_MISC[24:16]",
                       try_vmlaunch, CR3_TARGET_COUNT, MISC_CR3_TARGETS(caps.misc) + 1,
                       VMXERR_ENTRY_INVALID_CONTROLS);
    expect_entry_fails("VMLAUNCH with host CR0.PE=0", try_vmlaunch, HOST_CR0,
                       read_cr0() & ~CR0_PE, VMXERR_ENTRY_INVALID_HOST_STATE);
    expect_entry_fails("VMLAUNCH with host TR selector 0", try_vmlaunch, HOST_TR_SELECTOR, 0,
                       VMXERR_ENTRY_INVALID_HOST_STATE);
    expect_entry_fails("VMLAUNCH from IA-32e mode with host address-space size 0", try_vmlaunch,
                       VM_EXIT_CONTROLS, caps.must_be_1[VMX_CTL_EXIT] & ~EXIT_HOST_ADDR_SPACE_SIZE,
                       VMXERR_ENTRY_INVALID_HOST_STATE);
    return true;
}

/* VMCLEAR of the current VMCS makes none current; VMXOFF leaves VMX
 * operation, after which CR4.VMXE may be cleared (SDM Vol. 3C 31.3). */
static void leave_vmx_operation(void)
{
    expect("VMCLEAR of the current VMCS", try_vmclear(pa(vmcs)), ok());
    expect("VMPTRST after VMCLEAR of the current VMCS", try_vmptrst(), ok_value(~0ull));
    if (!expect("VMXOFF", try_vmxoff(), ok()))
        return;
    expect("VMPTRST after VMXOFF", try_vmptrst(), fault(VECTOR_UD));
    expect("MOV to CR4 clearing VMXE after VMXOFF", try_write_cr4(read_cr4() & ~CR4_VMXE), ok());
}

/* ---------------------------------------------------------------------- */
/* Part 2: an L2 runs, and the checks look at its VM exits.               */

/* L2's programs and IDT handlers (guests/vmx_probe_l2.S). */
extern const char l2_cpuid[], l2_vmcall[], l2_count_down[], l2_out_byte[], l2_out_word[];
extern const char l2_rdmsr[], l2_wrmsr[], l2_read_cr0[], l2_write_cr0[], l2_read_cr4[];
extern const char l2_write_cr4[], l2_write_cr3[], l2_read_cr8[], l2_write_cr8[], l2_ud2[];
extern const char l2_halt[], l2_load[], l2_bench[], l2_soak[], l2_soak_end[], l2_send_ipi[];
extern const char l2_vmread[], l2_vmwrite[];
extern const uint64_t l2_handlers[256];

/* Lengths of the instructions L2 executes, as guests/vmx_probe_l2.S
 * encodes them: the VM-exit instruction length the SDM requires for exits
 * they cause (Vol. 3C 28.2.4). */
enum {
    LEN_CPUID = 2,          /* 0f a2 */
    LEN_VMCALL = 3,         /* 0f 01 c1 */
    LEN_HLT = 1,            /* f4 */
    LEN_OUT_DX_AL = 1,      /* ee */
    LEN_OUT_DX_AX = 2,      /* 66 ef */
    LEN_RDMSR = 2,          /* 0f 32 */
    LEN_WRMSR = 2,          /* 0f 30 */
    LEN_MOV_CR = 3,         /* 0f 20/22 modrm */
    LEN_MOV_CR8 = 4,        /* 44 0f 20/22 modrm: REX.R selects CR8 */
    LEN_MOV_LOAD = 3,       /* 48 8b 03 */
    LEN_INT_N = 2,          /* cd ib: what an injected software interrupt stands for */
    LEN_SEND_IPI = 12,      /* 89 93 10 03 00 00, 89 83 00 03 00 00: the two stores */
    LEN_VMREAD = 3,         /* 0f 78 c8 */
    LEN_VMWRITE = 3,        /* 0f 79 c8 */
};

#define CR0_TS  (1ull << 3)
#define CR4_TSD (1ull << 2)
#define RFLAGS_FIXED 0x2ull             /* bit 1 is always 1 */
#define DR7_INIT 0x400ull               /* DR7 at reset (SDM Vol. 3B 18.2.4) */
#define MSR_STAR           0xc0000081u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define X2APIC_MSR_TPR         0x808u
/* An MSR index between the two ranges the MSR bitmap covers, 0-1fffH and
 * c0000000H-c0001fffH (SDM Vol. 3C 25.6.9). */
#define MSR_OUTSIDE_BITMAPS     0x2000u
/* COM1's scratch register: both worlds emulate it and nothing depends on
 * what it holds. */
#define PORT_COM1_SCRATCH 0x3ff
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
/* Vectors L1 uses: above the exceptions, unused by the runtime. */
#define VECTOR_INJECTED_SOFT  0x41
#define VECTOR_INJECTED_EXT   0x42
#define VECTOR_IPI            0x50
#define VECTOR_PF 14
#define INJECTED_GP_ERROR_CODE 0x18
#define PREEMPTION_TIMER_SPIN 1000
/* How long L2 counts down in l2_count_down waiting for an event: far
 * longer than the event needs, short enough to end a run where it does not
 * come. */
#define L2_COUNT_DOWN 10000000
/* When L1's LAPIC timer interrupts a halted L2, in timer ticks (divide by
 * 1): well after L2 reached its HLT, in either world. */
#define L2_HALT_WAKE 1000000
/* L1's LAPIC timer count that ends a halt nothing else ends. */
#define L2_HALT_BACKSTOP (8 * L2_HALT_WAKE)
#define LVT_MASKED  (1u << 16)
#define DIVIDE_BY_1 0xb
/* The guest activity states (SDM Vol. 3C 25.4.2). */
#define ACTIVITY_ACTIVE 0
#define ACTIVITY_HLT 1
/* PFEC bit 0: the fault was a protection violation, not a not-present page
 * (SDM Vol. 3A 4.7). */
#define PFEC_P 1u

/* VM-entry and VM-exit interruption information (SDM Vol. 3C 25.8.3,
 * 25.9.2): vector, type, error-code bit, valid bit. */
#define INTR_INFO_VALID (1u << 31)
#define INTR_INFO_DELIVER_ERROR_CODE (1u << 11)
#define INTR_TYPE_RESERVED (1u << 8)     /* SDM Vol. 3C 25.8.3 */
#define INTR_TYPE_EXTERNAL (0u << 8)
#define INTR_TYPE_HARD_EXCEPTION (3u << 8)
#define INTR_TYPE_SOFT_INTERRUPT (4u << 8)
#define INTR_TYPE_NMI_EVENT (2u << 8)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define INTERRUPTIBILITY_BLOCKED_BY_NMI 8u

/* Exit qualifications (SDM Vol. 3C 28.2.1). For control-register accesses
 * (Table 28-3): the register, the access type (0 MOV to CR, 1 MOV from CR),
 * the general register. For I/O (Table 28-5): the size minus 1, the
 * direction (0 OUT), the port. */
#define CR_QUAL(cr, type, reg) ((uint64_t)(cr) | (uint64_t)(type) << 4 | (uint64_t)(reg) << 8)
#define CR_MOV_TO 0
#define CR_MOV_FROM 1
#define REG_RAX 0
#define REG_RBX 3
#define IO_QUAL_OUT(size, port) ((uint64_t)((size) - 1) | (uint64_t)(port) << 16)

/* Where L2 finds a page that is there and one that is not: a region of
 * linear addresses only L2's page tables map (PML4 entry 1), so that the
 * exit qualification of its #PF is the same in both worlds. */
#define L2_MAPPED_PAGE   0x8000000000ull
#define L2_UNMAPPED_PAGE (L2_MAPPED_PAGE + PAGE_SIZE)
#define L2_MAPPED_MARKER 0x6c32706167650a00ull
#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_ADDRESS 0x000ffffffffff000ull

/* The VM-entry and VM-exit MSR areas' entries (SDM Vol. 3C 25.7.2, 25.8.2). */
struct msr_entry { uint32_t index, reserved; uint64_t value; };

static uint8_t io_bitmap_a[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t io_bitmap_b[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t msr_bitmap[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static struct msr_entry entry_msr_load[2] __attribute__((aligned(16)));
static struct msr_entry exit_msr_store[1] __attribute__((aligned(16)));
static struct msr_entry exit_msr_load[1] __attribute__((aligned(16)));
static struct idt_entry l2_idt[256] __attribute__((aligned(16)));
static uint8_t l2_stack[PAGE_SIZE] __attribute__((aligned(16)));
static uint64_t l2_pml4[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t l2_pdpt[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t l2_pd[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t l2_pt[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t l2_page[512] __attribute__((aligned(PAGE_SIZE)));

/* The L2 of the current VMCS: the program it was started at (exit RIPs are
 * shown relative to it), its general registers, and whether its VMCS is
 * launched, which decides between VMLAUNCH and VMRESUME. */
static struct {
    const char *program;
    struct guest_regs regs;
    bool launched;
} l2;

static uint64_t vmcs_read(uint32_t field) { return try_vmread(field).value; }
static void vmcs_write(uint32_t field, uint64_t value) { try_vmwrite(field, value); }

/* L2's IDT: every vector to its handler in guests/vmx_probe_l2.S, which
 * reports the event with VMCALL. */
static void build_l2_idt(void)
{
    for (unsigned v = 0; v < 256; v++)
        l2_idt[v] = idt_interrupt_gate(l2_handlers[v], 0);
}

/* L2's page tables for the #PF checks: L1's PML4 (so that L2 runs where L1
 * does), plus PML4 entry 1 mapping L2_MAPPED_PAGE to l2_page and leaving
 * L2_UNMAPPED_PAGE not present (SDM Vol. 3A 4.5). */
static uint64_t build_l2_page_tables(void)
{
    memcpy(l2_pml4, (const void *)(uintptr_t)(read_cr3() & PTE_ADDRESS), PAGE_SIZE);
    l2_pml4[1] = pa(l2_pdpt) | PTE_P | PTE_W;
    l2_pdpt[0] = pa(l2_pd) | PTE_P | PTE_W;
    l2_pd[0] = pa(l2_pt) | PTE_P | PTE_W;
    l2_pt[0] = pa(l2_page) | PTE_P | PTE_W;
    l2_page[0] = L2_MAPPED_MARKER;
    return pa(l2_pml4);
}

/* L1 on page tables of its own for a moment: its PML4 copied, with entry
 * 1 mapping REMAP_LINEAR to either of two pages through a page table. */
#define REMAP_LINEAR (1ull << 39)
static uint64_t remap_pml4[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t remap_pdpt[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t remap_pd[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t remap_pt[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t remap_pages[2][512] __attribute__((aligned(PAGE_SIZE)));

static struct outcome try_vmptrld_at(const uint64_t *operand)
{
    uint64_t rflags;
    try_begin();
    __asm__ volatile(TRY_ARM TRY_RUN("vmptrld %[pointer]")
                     : TRY_OUTPUTS : [pointer] "m"(*operand), TRY_STATUS
                     : "rax", "cc", "memory");
    return vmx_outcome(try_end(rflags));
}

/* A VMPTRLD operand's linear address mapped to another page (the
 * page-table entry changed, INVLPG) is read there: the second VMPTRLD
 * loads the VMCS the new page names (SDM Vol. 3A 4.10.4.1). vmxvisor keeps
 * the translations of L1's operands while the entries stay the same
 * (virt/guest_linear.h). The VMCS is current again afterwards. */
static bool remapped_operand_checks(void)
{
    uint64_t cr3 = read_cr3();
    uint64_t other = stamp(probe_page, caps.revision);
    try_vmclear(other);
    memcpy(remap_pml4, (const void *)(uintptr_t)(cr3 & PTE_ADDRESS), PAGE_SIZE);
    remap_pml4[1] = pa(remap_pdpt) | PTE_P | PTE_W;
    remap_pdpt[0] = pa(remap_pd) | PTE_P | PTE_W;
    remap_pd[0] = pa(remap_pt) | PTE_P | PTE_W;
    remap_pt[0] = pa(remap_pages[0]) | PTE_P | PTE_W;
    remap_pages[0][0] = other;
    remap_pages[1][0] = pa(vmcs);
    const uint64_t *operand = (const uint64_t *)(uintptr_t)REMAP_LINEAR;
    write_cr3(pa(remap_pml4));
    expect("VMPTRLD through a page the operand's address maps to", try_vmptrld_at(operand), ok());
    expect("VMPTRST after the VMPTRLD through the first page", try_vmptrst(), ok_value(other));
    remap_pt[0] = pa(remap_pages[1]) | PTE_P | PTE_W;
    __asm__ volatile("invlpg %0" : : "m"(*operand) : "memory");
    expect("VMPTRLD of the same address mapped to another page", try_vmptrld_at(operand), ok());
    expect("VMPTRST after the VMPTRLD through the other page", try_vmptrst(), ok_value(pa(vmcs)));
    write_cr3(cr3);
    try_vmclear(other);
    return expect("VMPTRLD of the VMCS after the remapped operand", try_vmptrld(pa(vmcs)), ok());
}

static const char *const control_class_names[VMX_CTL_CLASSES] = {
    [VMX_CTL_PIN] = "pin-based", [VMX_CTL_PROC] = "primary processor-based",
    [VMX_CTL_PROC2] = "secondary processor-based", [VMX_CTL_EXIT] = "VM-exit",
    [VMX_CTL_ENTRY] = "VM-entry",
};

/* The control words of an L2 with the `extra` controls: the must-be-1 bits,
 * a 64-bit host (SDM Vol. 3C 27.2.4), a 64-bit guest with L1's PAT and EFER
 * (26.3.1.1), and `extra`. False, with a line that says so, if the
 * capability MSRs do not allow them all (SDM Vol. 3D A.3-A.5). */
static bool l2_control_words(const char *group, const uint32_t extra[VMX_CTL_CLASSES],
                             uint32_t ctl[VMX_CTL_CLASSES])
{
    for (int cls = 0; cls < VMX_CTL_CLASSES; cls++)
        ctl[cls] = caps.must_be_1[cls] | extra[cls];
    ctl[VMX_CTL_EXIT] |= EXIT_HOST_ADDR_SPACE_SIZE;
    ctl[VMX_CTL_ENTRY] |= ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER;
    for (int cls = 0; cls < VMX_CTL_CLASSES; cls++) {
        if (ctl[cls] & ~caps.may_be_1[cls]) {
            printf("vmx_probe: %s: skipped, the %s controls 0x%x are not all allowed\n", group,
                   control_class_names[cls], ctl[cls] & ~caps.may_be_1[cls]);
            return false;
        }
    }
    return true;
}

/* Changes the current VMCS's controls to the `extra` ones. */
static bool l2_set_controls(const char *group, const uint32_t extra[VMX_CTL_CLASSES])
{
    uint32_t ctl[VMX_CTL_CLASSES];
    if (!l2_control_words(group, extra, ctl))
        return false;
    vmcs_write(PIN_BASED_VM_EXEC_CONTROL, ctl[VMX_CTL_PIN]);
    vmcs_write(CPU_BASED_VM_EXEC_CONTROL, ctl[VMX_CTL_PROC]);
    vmcs_write(VM_EXIT_CONTROLS, ctl[VMX_CTL_EXIT]);
    vmcs_write(VM_ENTRY_CONTROLS, ctl[VMX_CTL_ENTRY]);
    return true;
}
#define CONTROLS(...) ((const uint32_t[VMX_CTL_CLASSES]){ __VA_ARGS__ })
#define NO_EXTRA_CONTROLS CONTROLS(0)

/* L2 starts (again) at `program`, on an empty stack. */
static void l2_goto(const char *program)
{
    l2.program = program;
    vmcs_write(GUEST_RIP, pa(program));
    vmcs_write(GUEST_RSP, pa(l2_stack + sizeof(l2_stack)));
}

/* A fresh VMCS (VMCLEAR, a new region, VMPTRLD) for an L2 at `program` with
 * the `extra` controls, each group of checks its own, so that a failure
 * does not carry over. L2's state is L1's own (SDM Vol. 3C 26.3.1): its
 * control registers, EFER (LMA and LME: IA-32e mode), PAT, flat segments
 * from L1's GDT with the access rights in the VMCS format (25.4.1), the TSS
 * that gdt_load's LTR marked busy as TR, RFLAGS with only its fixed bit,
 * DR7 as at reset, no VMCS link pointer; its IDT and stack are its own.
 * Bitmaps and MSR areas are empty; the checks fill in what they need. */
static bool l2_setup(const char *group, const char *program,
                     const uint32_t extra[VMX_CTL_CLASSES])
{
    uint32_t ctl[VMX_CTL_CLASSES];
    if (!l2_control_words(group, extra, ctl))
        return false;
    try_vmclear(pa(vmcs));
    uint64_t region = stamp(vmcs, caps.revision);
    char what[96];
    snprintf(what, sizeof(what), "VMPTRLD of a fresh VMCS for %s", group);
    struct outcome loaded = try_vmptrld(region);
    if (loaded.kind != OUT_OK)
        return expect(what, loaded, ok());
    memset(io_bitmap_a, 0, sizeof(io_bitmap_a));
    memset(io_bitmap_b, 0, sizeof(io_bitmap_b));
    memset(msr_bitmap, 0, sizeof(msr_bitmap));
    memset(&l2, 0, sizeof(l2));
    l2.program = program;

    uint64_t cr0 = read_cr0(), cr4 = read_cr4();
    const uint64_t data_ar = 0xc093;    /* read/write accessed, S, P, D/B, G */
    const uint64_t code_ar = 0xa09b;    /* execute/read accessed, S, P, L, G */
    const uint64_t busy_tss_ar = 0x8b;  /* busy 64-bit TSS, P */
    const uint64_t unusable_ar = 1u << 16;
    const struct field_value fields[] = {
        VALUE(EXCEPTION_BITMAP, 0),
        VALUE(PAGE_FAULT_ERROR_CODE_MASK, 0),
        VALUE(PAGE_FAULT_ERROR_CODE_MATCH, 0),
        VALUE(IO_BITMAP_A, pa(io_bitmap_a)),
        VALUE(IO_BITMAP_B, pa(io_bitmap_b)),
        VALUE(MSR_BITMAP, pa(msr_bitmap)),
        VALUE(VM_EXIT_MSR_STORE_ADDR, pa(exit_msr_store)),
        VALUE(VM_EXIT_MSR_LOAD_ADDR, pa(exit_msr_load)),
        VALUE(VM_ENTRY_MSR_LOAD_ADDR, pa(entry_msr_load)),
        VALUE(TSC_OFFSET, 0),
        VALUE(CR0_GUEST_HOST_MASK, 0),
        VALUE(CR4_GUEST_HOST_MASK, 0),
        VALUE(CR0_READ_SHADOW, cr0),
        VALUE(CR4_READ_SHADOW, cr4),
        VALUE(VM_ENTRY_EXCEPTION_ERROR_CODE, 0),
        VALUE(VM_ENTRY_INSTRUCTION_LEN, 0),
        VALUE(GUEST_CR0, cr0),
        VALUE(GUEST_CR3, read_cr3()),
        VALUE(GUEST_CR4, cr4),
        VALUE(GUEST_DR7, DR7_INIT),
        VALUE(GUEST_IA32_DEBUGCTL, 0),
        VALUE(GUEST_IA32_PAT, rdmsr(MSR_IA32_PAT)),
        VALUE(GUEST_IA32_EFER, rdmsr(MSR_IA32_EFER)),
        VALUE(GUEST_CS_SELECTOR, SEL_KERNEL_CODE),
        VALUE(GUEST_CS_BASE, 0),
        VALUE(GUEST_CS_LIMIT, 0xffffffff),
        VALUE(GUEST_CS_AR_BYTES, code_ar),
#define DATA_SEGMENT(seg) VALUE(GUEST_##seg##_SELECTOR, SEL_KERNEL_DATA), VALUE(GUEST_##seg##_BASE, 0), \
                          VALUE(GUEST_##seg##_LIMIT, 0xffffffff), VALUE(GUEST_##seg##_AR_BYTES, data_ar)
        DATA_SEGMENT(SS), DATA_SEGMENT(DS), DATA_SEGMENT(ES), DATA_SEGMENT(FS), DATA_SEGMENT(GS),
#undef DATA_SEGMENT
        VALUE(GUEST_LDTR_SELECTOR, 0),
        VALUE(GUEST_LDTR_BASE, 0),
        VALUE(GUEST_LDTR_LIMIT, 0),
        VALUE(GUEST_LDTR_AR_BYTES, unusable_ar),
        VALUE(GUEST_TR_SELECTOR, SEL_TSS),
        VALUE(GUEST_TR_BASE, pa(&tables.tss)),
        VALUE(GUEST_TR_LIMIT, sizeof(tables.tss) - 1),
        VALUE(GUEST_TR_AR_BYTES, busy_tss_ar),
        VALUE(GUEST_GDTR_BASE, pa(tables.gdt)),
        VALUE(GUEST_GDTR_LIMIT, sizeof(tables.gdt) - 1),
        VALUE(GUEST_IDTR_BASE, pa(l2_idt)),
        VALUE(GUEST_IDTR_LIMIT, sizeof(l2_idt) - 1),
        VALUE(GUEST_RFLAGS, RFLAGS_FIXED),
        VALUE(GUEST_SYSENTER_CS, 0),
        VALUE(GUEST_SYSENTER_ESP, 0),
        VALUE(GUEST_SYSENTER_EIP, 0),
        VALUE(GUEST_INTERRUPTIBILITY_INFO, 0),
        VALUE(GUEST_ACTIVITY_STATE, 0),
        VALUE(GUEST_PENDING_DBG_EXCEPTIONS, 0),
        VALUE(VMCS_LINK_POINTER, ~0ull),
    };
    snprintf(what, sizeof(what), "an L2 (%s)", group);
    if (!write_controls_and_host_state(ctl, what) ||
        !write_fields(fields, sizeof(fields) / sizeof(fields[0]), what))
        return false;
    l2_goto(program);
    return true;
}

/* What a VM entry came to: the entry's VMfail, or the VM exit. RIPs are
 * relative to L2's program; `handler` is what L2's IDT handler reported. */
struct vm_exit {
    struct outcome entry;
    uint32_t reason, length, info, error_code;
    uint64_t qualification, rip;
    struct { uint64_t vector, error_code, rip; } handler;
    uint64_t value;             /* a further value a check shows */
    uint64_t gpa, linear;       /* the guest-physical and guest-linear address fields */
};

/* VMLAUNCH (launch false) or VMRESUME of the current VMCS through
 * vmx/vmenter.S, with L2's registers. A VM entry that fails after its
 * checks of the controls and host state is a VM exit with bit 31 of the
 * reason set, after which the VMCS is still clear (SDM Vol. 3C 27.7). */
static struct vm_exit l2_enter(bool launch)
{
    int failed = vmx_enter(&l2.regs, !launch);
    struct vm_exit e = { .entry = ok() };
    if (failed) {
        e.entry = vmx_outcome((struct raw){ NO_FAULT, failed == 1 ? RFLAGS_ZF : RFLAGS_CF });
        return e;
    }
    e.reason = (uint32_t)vmcs_read(VM_EXIT_REASON);
    e.qualification = vmcs_read(EXIT_QUALIFICATION);
    e.length = (uint32_t)vmcs_read(VM_EXIT_INSTRUCTION_LEN);
    e.info = (uint32_t)vmcs_read(VM_EXIT_INTR_INFO);
    e.error_code = (uint32_t)vmcs_read(VM_EXIT_INTR_ERROR_CODE);
    e.rip = vmcs_read(GUEST_RIP) - pa(l2.program);
    e.gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
    e.linear = vmcs_read(GUEST_LINEAR_ADDRESS);
    e.handler.vector = l2.regs.rbx;
    e.handler.error_code = l2.regs.rdx;
    e.handler.rip = l2.regs.rcx - pa(l2.program);
    if (!(e.reason & EXIT_REASON_ENTRY_FAILURE))
        l2.launched = true;
    return e;
}

static struct vm_exit l2_run(void) { return l2_enter(!l2.launched); }

/* L2 goes on after the instruction that exited. */
static void l2_skip_instruction(const struct vm_exit *e)
{
    vmcs_write(GUEST_RIP, vmcs_read(GUEST_RIP) + e->length);
}

/* What of a VM exit a check shows. */
enum {
    SHOW_QUALIFICATION = 1 << 0,
    SHOW_LENGTH = 1 << 1,
    SHOW_INFO = 1 << 2,
    SHOW_ERROR_CODE = 1 << 3,
    SHOW_RIP = 1 << 4,
    SHOW_HANDLER = 1 << 5,      /* the vector, error code and return RIP L2's handler saw */
    SHOW_ADDRESSES = 1 << 6,    /* the guest-physical and guest-linear addresses */
};

static void add_text(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(__printf__, 3, 4)));
static void add_text(char *buf, size_t size, const char *fmt, ...)
{
    size_t n = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, size - n, fmt, ap);
    va_end(ap);
}

static void format_exit(char *buf, size_t size, const struct vm_exit *e, unsigned show,
                        const char *value_name)
{
    if (e->entry.kind != OUT_OK) {
        format_outcome(buf, size, e->entry);
        return;
    }
    buf[0] = '\0';
    if (e->reason & EXIT_REASON_ENTRY_FAILURE)
        add_text(buf, size, "VM-entry failure, exit reason %u", e->reason & ~EXIT_REASON_ENTRY_FAILURE);
    else
        add_text(buf, size, "exit reason %u", e->reason);
    if (show & SHOW_QUALIFICATION)
        add_text(buf, size, ", qualification 0x%lx", e->qualification);
    if (show & SHOW_LENGTH)
        add_text(buf, size, ", length %u", e->length);
    if (show & SHOW_INFO)
        add_text(buf, size, ", interruption info 0x%x", e->info);
    if (show & SHOW_ERROR_CODE)
        add_text(buf, size, ", error code 0x%x", e->error_code);
    if (show & SHOW_RIP)
        add_text(buf, size, ", RIP +%lu", e->rip);
    if (show & SHOW_HANDLER)
        add_text(buf, size, ", L2's handler: vector 0x%lx, error code 0x%lx, return RIP +%lu",
                 e->handler.vector, e->handler.error_code, e->handler.rip);
    if (show & SHOW_ADDRESSES)
        add_text(buf, size, ", guest-physical 0x%lx, guest-linear 0x%lx", e->gpa, e->linear);
    if (value_name)
        add_text(buf, size, ", %s 0x%lx", value_name, e->value);
}

/* A verdict on a VM exit: the parts `show` names, and the value
 * `value_name` names, if any. */
static bool expect_exit(const char *what, struct vm_exit got, struct vm_exit want, unsigned show,
                        const char *value_name)
{
    char got_text[256], want_text[256];
    format_exit(got_text, sizeof(got_text), &got, show, value_name);
    format_exit(want_text, sizeof(want_text), &want, show, value_name);
    return verdict(what, got_text, !strcmp(got_text, want_text), want_text, NULL);
}

#define EXIT(r, ...) ((struct vm_exit){ .entry = { .kind = OUT_OK }, .reason = (r), __VA_ARGS__ })
/* L2 reached its VMCALL `offset` bytes into its program: what came before
 * ran without a VM exit. */
#define VMCALL_AT(offset, ...) EXIT(EXIT_REASON_VMCALL, .length = LEN_VMCALL, .rip = (offset), __VA_ARGS__)
#define FAILED_ENTRY(r, ...) EXIT(EXIT_REASON_ENTRY_FAILURE | (r), __VA_ARGS__)
/* An event L2's IDT delivered, with the return RIP it pushed. */
#define HANDLED(v, err, ret, ...) EXIT(EXIT_REASON_VMCALL, .handler = { (v), (err), (ret) }, __VA_ARGS__)

/* VMLAUNCH, VMRESUME and the launch state (SDM Vol. 3C 27.1, 31.3): CPUID
 * and VMCALL exit unconditionally, HLT with "HLT exiting" (26.1.2,
 * 26.1.3); the exit leaves L2's registers to the VMM and RIP at the
 * instruction (28.3.3). */
static void l2_basic_checks(void)
{
    const char *group = "VMLAUNCH and VMRESUME";
    if (!l2_setup(group, l2_cpuid, CONTROLS([VMX_CTL_PROC] = PROC_HLT_EXITING)))
        return;
    l2.regs.rax = 1;
    l2.regs.rcx = 0;
    struct vm_exit e = l2_run();
    e.value = l2.regs.rax;
    expect_exit("VMLAUNCH, L2 executes CPUID", e,
                EXIT(EXIT_REASON_CPUID, .length = LEN_CPUID, .rip = 0, .value = 1),
                SHOW_LENGTH | SHOW_RIP, "L2's RAX");
    l2_skip_instruction(&e);
    e = l2_run();
    expect_exit("VMRESUME after advancing RIP, L2 executes VMCALL", e, VMCALL_AT(LEN_CPUID),
                SHOW_LENGTH | SHOW_RIP, NULL);
    expect_exit("VMLAUNCH of the launched VMCS", l2_enter(true),
                (struct vm_exit){ .entry = fail_valid(VMXERR_VMLAUNCH_NON_CLEAR) }, 0, NULL);
    e = l2_enter(false);
    expect_exit("VMRESUME after the failed VMLAUNCH", e, VMCALL_AT(LEN_CPUID),
                SHOW_LENGTH | SHOW_RIP, NULL);
    l2_skip_instruction(&e);
    expect_exit("VMRESUME, L2 executes HLT with HLT exiting", l2_run(),
                EXIT(EXIT_REASON_HLT, .length = LEN_HLT, .rip = LEN_CPUID + LEN_VMCALL),
                SHOW_LENGTH | SHOW_RIP, NULL);
    /* VMCLEAR makes the VMCS clear: VMRESUME fails, VMLAUNCH works. */
    try_vmclear(pa(vmcs));
    try_vmptrld(pa(vmcs));
    l2.launched = false;
    l2_goto(l2_cpuid);
    expect_exit("VMRESUME after VMCLEAR", l2_enter(false),
                (struct vm_exit){ .entry = fail_valid(VMXERR_VMRESUME_NON_LAUNCHED) }, 0, NULL);
    expect_exit("VMLAUNCH after VMCLEAR", l2_run(),
                EXIT(EXIT_REASON_CPUID, .length = LEN_CPUID, .rip = 0), SHOW_LENGTH | SHOW_RIP,
                NULL);
}

static void set_bit(uint8_t *bitmap, unsigned bit) { bitmap[bit / 8] |= (uint8_t)(1u << bit % 8); }
static void clear_bit(uint8_t *bitmap, unsigned bit)
{
    bitmap[bit / 8] &= (uint8_t)~(1u << bit % 8);
}

/* I/O instructions: with "use I/O bitmaps", an access exits iff the bit of
 * any port it touches is set (bitmap A: ports 0-7fffH); without it,
 * "unconditional I/O exiting" decides (SDM Vol. 3C 26.1.3, 25.6.4). */
static void l2_io_checks(void)
{
    const char *group = "I/O exiting";
    if (!l2_setup(group, l2_out_byte, CONTROLS([VMX_CTL_PROC] = PROC_USE_IO_BITMAPS)))
        return;
    const struct vm_exit out_exit = EXIT(EXIT_REASON_IO_INSTRUCTION,
                                         .qualification = IO_QUAL_OUT(1, PORT_COM1_SCRATCH),
                                         .length = LEN_OUT_DX_AL, .rip = 0);
    const unsigned show = SHOW_QUALIFICATION | SHOW_LENGTH | SHOW_RIP;
    /* VMCALL's exit qualification is undefined (SDM Vol. 3C 28.2.1). */
    const unsigned show_vmcall = SHOW_LENGTH | SHOW_RIP;
    l2.regs.rdx = PORT_COM1_SCRATCH;
    l2.regs.rax = 0x5a;
    set_bit(io_bitmap_a, PORT_COM1_SCRATCH);
    expect_exit("OUT to a port whose I/O-bitmap bit is set", l2_run(), out_exit, show, NULL);
    clear_bit(io_bitmap_a, PORT_COM1_SCRATCH);
    expect_exit("OUT to a port whose I/O-bitmap bit is clear", l2_run(), VMCALL_AT(LEN_OUT_DX_AL),
                show_vmcall, NULL);
    set_bit(io_bitmap_a, PORT_COM1_SCRATCH);
    l2_goto(l2_out_word);
    l2.regs.rdx = PORT_COM1_SCRATCH - 1;
    expect_exit("2-byte OUT whose second port's I/O-bitmap bit alone is set", l2_run(),
                EXIT(EXIT_REASON_IO_INSTRUCTION,
                     .qualification = IO_QUAL_OUT(2, PORT_COM1_SCRATCH - 1),
                     .length = LEN_OUT_DX_AX, .rip = 0),
                show, NULL);
    if (!l2_set_controls(group, CONTROLS([VMX_CTL_PROC] = PROC_UNCONDITIONAL_IO_EXITING)))
        return;
    l2_goto(l2_out_byte);
    l2.regs.rdx = PORT_COM1_SCRATCH;
    expect_exit("OUT with unconditional I/O exiting, no I/O bitmaps", l2_run(), out_exit, show,
                NULL);
    if (!l2_set_controls(group, CONTROLS([VMX_CTL_PROC] = PROC_UNCONDITIONAL_IO_EXITING |
                                                          PROC_USE_IO_BITMAPS)))
        return;
    clear_bit(io_bitmap_a, PORT_COM1_SCRATCH);
    expect_exit("OUT with unconditional I/O exiting and a clear I/O-bitmap bit", l2_run(),
                VMCALL_AT(LEN_OUT_DX_AL), show_vmcall, NULL);
}

/* `count` VMCALL exits of L2 in a row, for what a hypervisor under test
 * does only after many entries of one VMCS; false (reported as `what`) if
 * another exit came. */
static bool l2_vmcalls(unsigned count, const char *what)
{
    for (unsigned i = 0; i < count; i++) {
        l2_goto(l2_vmcall);
        struct vm_exit e = l2_run();
        if (e.entry.kind != OUT_OK || e.reason != EXIT_REASON_VMCALL) {
            expect_exit(what, e, VMCALL_AT(0), SHOW_RIP, NULL);
            return false;
        }
    }
    return true;
}

/* The MSR bitmap's four 1-KiB parts (SDM Vol. 3C 25.6.9): reads of MSRs
 * 0-1fffH, reads of c0000000H-c0001fffH, then the writes of each. */
static void set_msr_bit(uint32_t msr, bool write)
{
    unsigned part = (msr >= 0xc0000000u ? 1024 : 0) + (write ? 2048 : 0);
    set_bit(msr_bitmap + part, msr & 0x1fff);
}

/* RDMSR and WRMSR exit iff "use MSR bitmaps" is 0, the MSR is outside the
 * bitmap's ranges, or its bit is set (SDM Vol. 3C 26.1.3). Without an exit
 * L2 reads and writes the MSR: SYSENTER_CS as VM entry loaded it from the
 * guest-state area, which the VM exit saves back (27.3.2.1, 28.3.1);
 * KERNEL_GS_BASE, which VM entries and exits leave alone, as L1 has it. */
static void l2_msr_bitmap_checks(void)
{
    const char *group = "MSR bitmaps";
    /* Many entries first: L1 changes its bitmap between the entries of a
     * VMCS it has long used. */
    if (!l2_setup(group, l2_rdmsr, CONTROLS([VMX_CTL_PROC] = PROC_USE_MSR_BITMAPS)) ||
        !l2_vmcalls(100, "VMCALL exits before L1 changes its MSR bitmap"))
        return;
    const unsigned show = SHOW_LENGTH | SHOW_RIP;
    const uint64_t sysenter_cs = 0x1234, new_sysenter_cs = 0x5678;
    const uint64_t kernel_gs_base = 0x12345000;
    vmcs_write(GUEST_SYSENTER_CS, sysenter_cs);
    l2_goto(l2_rdmsr);
    l2.regs.rcx = MSR_IA32_SYSENTER_CS;
    set_msr_bit(MSR_IA32_SYSENTER_CS, false);
    expect_exit("RDMSR of an MSR whose read bit is set", l2_run(),
                EXIT(EXIT_REASON_RDMSR, .length = LEN_RDMSR, .rip = 0), show, NULL);
    memset(msr_bitmap, 0, sizeof(msr_bitmap));
    struct vm_exit e = l2_run();
    e.value = l2.regs.rdx << 32 | (uint32_t)l2.regs.rax;
    expect_exit("RDMSR of an MSR whose read bit is clear", e,
                VMCALL_AT(LEN_RDMSR, .value = sysenter_cs), show, "EDX:EAX");

    l2_goto(l2_wrmsr);
    l2.regs.rax = new_sysenter_cs;
    l2.regs.rdx = 0;
    set_msr_bit(MSR_IA32_SYSENTER_CS, true);
    expect_exit("WRMSR of an MSR whose write bit is set", l2_run(),
                EXIT(EXIT_REASON_WRMSR, .length = LEN_WRMSR, .rip = 0), show, NULL);
    memset(msr_bitmap, 0, sizeof(msr_bitmap));
    e = l2_run();
    e.value = vmcs_read(GUEST_SYSENTER_CS);
    expect_exit("WRMSR of an MSR whose write bit is clear", e,
                VMCALL_AT(LEN_WRMSR, .value = new_sysenter_cs), show, "GUEST_SYSENTER_CS");

    wrmsr(MSR_KERNEL_GS_BASE, kernel_gs_base);
    l2_goto(l2_rdmsr);
    l2.regs.rcx = MSR_KERNEL_GS_BASE;
    set_msr_bit(MSR_KERNEL_GS_BASE, false);
    expect_exit("RDMSR of a high MSR whose read bit is set", l2_run(),
                EXIT(EXIT_REASON_RDMSR, .length = LEN_RDMSR, .rip = 0), show, NULL);
    memset(msr_bitmap, 0, sizeof(msr_bitmap));
    e = l2_run();
    e.value = l2.regs.rdx << 32 | (uint32_t)l2.regs.rax;
    expect_exit("RDMSR of a high MSR whose read bit is clear", e,
                VMCALL_AT(LEN_RDMSR, .value = kernel_gs_base), show, "EDX:EAX");

    l2_goto(l2_rdmsr);
    l2.regs.rcx = MSR_OUTSIDE_BITMAPS;
    expect_exit("RDMSR of an MSR outside the bitmap's ranges", l2_run(),
                EXIT(EXIT_REASON_RDMSR, .length = LEN_RDMSR, .rip = 0), show, NULL);
    if (!l2_set_controls(group, NO_EXTRA_CONTROLS))
        return;
    l2.regs.rcx = MSR_IA32_SYSENTER_CS;
    expect_exit("RDMSR without MSR bitmaps", l2_run(),
                EXIT(EXIT_REASON_RDMSR, .length = LEN_RDMSR, .rip = 0), show, NULL);
}

/* The MSR bitmap is memory that the next entry reads as it is then (SDM
 * Vol. 3C 25.6.9, 25.11.4), whoever wrote it: here the VM exit itself,
 * whose MSR-store list L1 put inside its bitmap (28.4). The exit stores
 * KERNEL_GS_BASE (L1's, which L2 shares) over the read-low word of MSRs
 * 140H-17FH, setting the read bits of 16FH-17FH: SYSENTER_CS's (174H) among
 * them, whose RDMSR by L2 then exits. (An MSR a hypervisor under test
 * passes through to its own guest, so that L1's bitmap decides alone.) */
#define MSR_BITMAP_WORD_STORED (MSR_IA32_SYSENTER_CS / 64)
#define MSR_BITMAP_STORED_VALUE 0xffff800000000000ull     /* canonical: bits 63-47 */
static void l2_msr_bitmap_stored_check(void)
{
    const char *group = "an MSR bitmap the exit's MSR-store list writes";
    if (!l2_setup(group, l2_vmcall, CONTROLS([VMX_CTL_PROC] = PROC_USE_MSR_BITMAPS)))
        return;
    memset(msr_bitmap, 0, sizeof(msr_bitmap));
    /* The entry's value lands on the word of SYSENTER_CS's read bit. */
    uint64_t *words = (uint64_t *)msr_bitmap;
    struct msr_entry *store = (struct msr_entry *)&words[MSR_BITMAP_WORD_STORED - 1];
    *store = (struct msr_entry){ .index = MSR_KERNEL_GS_BASE };
    if (!l2_vmcalls(100, "VMCALL exits before the MSR-store list writes the MSR bitmap"))
        return;
    uint64_t kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
    vmcs_write(VM_EXIT_MSR_STORE_ADDR, pa(store));
    vmcs_write(VM_EXIT_MSR_STORE_COUNT, 1);
    wrmsr(MSR_KERNEL_GS_BASE, MSR_BITMAP_STORED_VALUE);
    l2_goto(l2_vmcall);
    struct vm_exit e = l2_run();
    e.value = words[MSR_BITMAP_WORD_STORED];
    expect_exit("an exit that stores into the MSR bitmap", e,
                VMCALL_AT(0, .value = MSR_BITMAP_STORED_VALUE), SHOW_RIP, "the bitmap's word");
    vmcs_write(VM_EXIT_MSR_STORE_COUNT, 0);
    wrmsr(MSR_KERNEL_GS_BASE, kernel_gs_base);
    l2_goto(l2_rdmsr);
    l2.regs.rcx = MSR_IA32_SYSENTER_CS;
    expect_exit("RDMSR of the MSR whose read bit the exit stored", l2_run(),
                EXIT(EXIT_REASON_RDMSR, .length = LEN_RDMSR, .rip = 0), SHOW_LENGTH | SHOW_RIP, NULL);
    memset(msr_bitmap, 0, sizeof(msr_bitmap));
}

/* MOV to CR0 or CR4 exits iff it would give a bit the guest/host mask sets
 * a value other than the read shadow's; MOV from them reads the shadow in
 * those bits, and a MOV to that does not exit leaves them as they are
 * (SDM Vol. 3C 25.6.6, 26.1.3, 26.3). `cr` is 0
 * or 4, `owned` the bit L1 owns. */
static void l2_cr_shadow_checks(unsigned cr, uint64_t owned, const char *read, const char *write)
{
    uint32_t mask = cr == 0 ? CR0_GUEST_HOST_MASK : CR4_GUEST_HOST_MASK;
    uint32_t shadow = cr == 0 ? CR0_READ_SHADOW : CR4_READ_SHADOW;
    uint32_t guest = cr == 0 ? GUEST_CR0 : GUEST_CR4;
    uint64_t value = vmcs_read(guest) & ~owned;
    char what[96], name[32];
    vmcs_write(mask, owned);
    vmcs_write(shadow, value | owned);
    l2_goto(read);
    struct vm_exit e = l2_run();
    e.value = l2.regs.rax & owned;
    snprintf(what, sizeof(what), "MOV from CR%u with a bit owned by L1", cr);
    expect_exit(what, e, VMCALL_AT(LEN_MOV_CR, .value = owned), SHOW_RIP, "the bit in RAX");

    l2_goto(write);
    l2.regs.rbx = value;
    snprintf(what, sizeof(what), "MOV to CR%u changing an owned bit from the shadow's value", cr);
    expect_exit(what, l2_run(),
                EXIT(EXIT_REASON_CR_ACCESS, .qualification = CR_QUAL(cr, CR_MOV_TO, REG_RBX),
                     .length = LEN_MOV_CR, .rip = 0),
                SHOW_QUALIFICATION | SHOW_LENGTH | SHOW_RIP, NULL);
    l2.regs.rbx = value | owned;
    e = l2_run();
    e.value = vmcs_read(guest) & owned;
    snprintf(what, sizeof(what), "MOV to CR%u writing the shadow's value in an owned bit", cr);
    snprintf(name, sizeof(name), "the bit in GUEST_CR%u", cr);
    expect_exit(what, e, VMCALL_AT(LEN_MOV_CR, .value = 0), SHOW_RIP, name);

    /* Owned by nobody, the bit is L2's to change without an exit, and the
     * next VM exit saves it in the guest-state area (SDM Vol. 3C 28.3.1):
     * set, then clear again. */
    vmcs_write(mask, 0);
    for (int set = 1; set >= 0; set--) {
        l2_goto(write);
        l2.regs.rbx = value | (set ? owned : 0);
        e = l2_run();
        e.value = vmcs_read(guest) & owned;
        snprintf(what, sizeof(what), "MOV to CR%u %s a bit no mask sets", cr,
                 set ? "setting" : "clearing");
        expect_exit(what, e, VMCALL_AT(LEN_MOV_CR, .value = set ? owned : 0), SHOW_RIP, name);
    }
}

/* Control-register accesses (SDM Vol. 3C 26.1.3): the guest/host masks and
 * read shadows of CR0 and CR4, CR3-load exiting, CR8-load and CR8-store
 * exiting (64-bit mode only); the qualification as Table 28-3. */
static void l2_cr_checks(void)
{
    const char *group = "control-register accesses";
    if (!l2_setup(group, l2_read_cr0, NO_EXTRA_CONTROLS))
        return;
    l2_cr_shadow_checks(0, CR0_TS, l2_read_cr0, l2_write_cr0);
    l2_cr_shadow_checks(4, CR4_TSD, l2_read_cr4, l2_write_cr4);

    const unsigned show = SHOW_QUALIFICATION | SHOW_LENGTH | SHOW_RIP;
    l2_goto(l2_write_cr3);
    l2.regs.rax = vmcs_read(GUEST_CR3);
    expect_exit("MOV to CR3 without CR3-load exiting", l2_run(), VMCALL_AT(LEN_MOV_CR), SHOW_RIP,
                NULL);
    if (!l2_set_controls(group, CONTROLS([VMX_CTL_PROC] = PROC_CR3_LOAD_EXITING |
                                                          PROC_CR8_LOAD_EXITING |
                                                          PROC_CR8_STORE_EXITING)))
        return;
    l2_goto(l2_write_cr3);
    expect_exit("MOV to CR3 with CR3-load exiting", l2_run(),
                EXIT(EXIT_REASON_CR_ACCESS, .qualification = CR_QUAL(3, CR_MOV_TO, REG_RAX),
                     .length = LEN_MOV_CR, .rip = 0),
                show, NULL);
    l2_goto(l2_write_cr8);
    l2.regs.rax = 0;
    expect_exit("MOV to CR8 with CR8-load exiting", l2_run(),
                EXIT(EXIT_REASON_CR_ACCESS, .qualification = CR_QUAL(8, CR_MOV_TO, REG_RAX),
                     .length = LEN_MOV_CR8, .rip = 0),
                show, NULL);
    l2_goto(l2_read_cr8);
    expect_exit("MOV from CR8 with CR8-store exiting", l2_run(),
                EXIT(EXIT_REASON_CR_ACCESS, .qualification = CR_QUAL(8, CR_MOV_FROM, REG_RAX),
                     .length = LEN_MOV_CR8, .rip = 0),
                show, NULL);
}

/* A #PF of L2 reading L2_UNMAPPED_PAGE (error code 0: not present, read,
 * supervisor) with the exception bitmap's bit 14 and the PFEC mask and
 * match: it exits iff (PFEC & mask) == match equals bit 14 (SDM Vol. 3C
 * 25.6.3); an exit's qualification is the address (28.2.1), otherwise L2's
 * handler gets the #PF and CR2 the address. */
static void expect_page_fault(const char *what, bool bit14, uint32_t mask, uint32_t match,
                              bool exits)
{
    vmcs_write(EXCEPTION_BITMAP, bit14 ? 1u << VECTOR_PF : 0);
    vmcs_write(PAGE_FAULT_ERROR_CODE_MASK, mask);
    vmcs_write(PAGE_FAULT_ERROR_CODE_MATCH, match);
    l2_goto(l2_load);
    l2.regs.rbx = L2_UNMAPPED_PAGE;
    write_cr2(0);
    struct vm_exit e = l2_run();
    if (exits) {
        expect_exit(what, e,
                    EXIT(EXIT_REASON_EXCEPTION_NMI, .qualification = L2_UNMAPPED_PAGE,
                         .info = INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION |
                                 INTR_INFO_DELIVER_ERROR_CODE | VECTOR_PF,
                         .error_code = 0, .rip = 0),
                    SHOW_QUALIFICATION | SHOW_INFO | SHOW_ERROR_CODE | SHOW_RIP, NULL);
        return;
    }
    /* VM exits leave CR2 alone: L1 sees what L2's #PF put there. */
    e.value = read_cr2();
    expect_exit(what, e, HANDLED(VECTOR_PF, 0, 0, .value = L2_UNMAPPED_PAGE), SHOW_HANDLER, "CR2");
}

/* Exceptions: a bit of the exception bitmap makes its exception exit with
 * the interruption information (SDM Vol. 3C 25.6.3, 28.2.2); RIP stays at
 * the faulting instruction. The instruction length is not shown: it is
 * undefined for a hardware exception (28.2.4). */
static void l2_exception_checks(void)
{
    if (!l2_setup("exceptions", l2_ud2, NO_EXTRA_CONTROLS))
        return;
    vmcs_write(EXCEPTION_BITMAP, 1u << VECTOR_UD);
    expect_exit("UD2 with the exception bitmap's #UD bit set", l2_run(),
                EXIT(EXIT_REASON_EXCEPTION_NMI,
                     .info = INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | VECTOR_UD, .rip = 0),
                SHOW_INFO | SHOW_RIP, NULL);
    vmcs_write(EXCEPTION_BITMAP, 0);
    l2_goto(l2_ud2);
    expect_exit("UD2 with the #UD bit clear", l2_run(), HANDLED(VECTOR_UD, 0, 0), SHOW_HANDLER,
                NULL);

    vmcs_write(GUEST_CR3, build_l2_page_tables());
    l2_goto(l2_load);
    l2.regs.rbx = L2_MAPPED_PAGE;
    struct vm_exit e = l2_run();
    e.value = l2.regs.rax;
    expect_exit("L2 reads a page only its page tables map", e,
                VMCALL_AT(LEN_MOV_LOAD, .value = L2_MAPPED_MARKER), SHOW_RIP, "RAX");
    expect_page_fault("#PF with bit 14 set, PFEC matching", true, 0, 0, true);
    expect_page_fault("#PF with bit 14 set, PFEC not matching", true, PFEC_P, PFEC_P, false);
    expect_page_fault("#PF with bit 14 clear, PFEC not matching", false, PFEC_P, PFEC_P, true);
    expect_page_fault("#PF with bit 14 clear, PFEC matching", false, 0, 0, false);
}

/* Event injection (SDM Vol. 3C 27.5): the event goes through L2's IDT as
 * if it happened at the first instruction; a software interrupt pushes
 * RIP plus the VM-entry instruction length; a VM exit clears the valid
 * bit of the VM-entry interruption information (28.2). An external
 * interrupt needs RFLAGS.IF = 1, or the guest-state checks fail
 * (27.3.1.4). */
static void l2_injection_checks(void)
{
    if (!l2_setup("event injection", l2_vmcall, NO_EXTRA_CONTROLS))
        return;
    const uint32_t soft = INTR_TYPE_SOFT_INTERRUPT | VECTOR_INJECTED_SOFT;
    vmcs_write(VM_ENTRY_INTR_INFO, INTR_INFO_VALID | soft);
    vmcs_write(VM_ENTRY_INSTRUCTION_LEN, LEN_INT_N);
    struct vm_exit e = l2_run();
    e.value = vmcs_read(VM_ENTRY_INTR_INFO);
    expect_exit("injected software interrupt", e,
                HANDLED(VECTOR_INJECTED_SOFT, 0, LEN_INT_N, .value = soft), SHOW_HANDLER,
                "VM_ENTRY_INTR_INFO");

    /* VMRESUME of the launched VMCS checks the event it injects (type 1
     * is reserved, 27.2.1.3), whatever passed before. */
    l2_goto(l2_vmcall);
    vmcs_write(VM_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_RESERVED | VECTOR_INJECTED_EXT);
    expect_exit("VMRESUME injecting an event of the reserved type", l2_run(),
                (struct vm_exit){ .entry = fail_valid(VMXERR_ENTRY_INVALID_CONTROLS) }, 0, NULL);

    vmcs_write(VM_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION |
                                   INTR_INFO_DELIVER_ERROR_CODE | VECTOR_GP);
    vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, INJECTED_GP_ERROR_CODE);
    expect_exit("injected #GP with an error code", l2_run(),
                HANDLED(VECTOR_GP, INJECTED_GP_ERROR_CODE, 0), SHOW_HANDLER, NULL);

    const uint32_t ext = INTR_INFO_VALID | INTR_TYPE_EXTERNAL | VECTOR_INJECTED_EXT;
    l2_goto(l2_vmcall);
    vmcs_write(VM_ENTRY_INTR_INFO, ext);
    expect_exit("injected external interrupt with L2's RFLAGS.IF=0", l2_run(),
                FAILED_ENTRY(EXIT_REASON_INVALID_GUEST_STATE, .qualification = 0),
                SHOW_QUALIFICATION, NULL);
    vmcs_write(VM_ENTRY_INTR_INFO, ext);
    vmcs_write(GUEST_RFLAGS, RFLAGS_FIXED | RFLAGS_IF);
    expect_exit("injected external interrupt with L2's RFLAGS.IF=1", l2_run(),
                HANDLED(VECTOR_INJECTED_EXT, 0, 0), SHOW_HANDLER, NULL);
}

/* An event to inject is the VMCS's own (SDM Vol. 3C 25.8.3): one L1
 * writes into a VMCS after a VM exit and then clears that VMCS instead of
 * entering it reaches no other VMCS's guest. Under a hypervisor that runs
 * L2 on one VMCS of its own for every VMCS of L1's, and lets L1 write the
 * event straight into it (vmxvisor's vmcs02 as L1's shadow VMCS), the
 * event must not stay there for the next VMCS. Enough VMCALL exits first
 * for such a hypervisor to be in that way of running L2 (vmxvisor's pauses
 * it for up to 1024 exits after a switch of VMCSs). */
static void l2_injection_left_check(void)
{
    if (!l2_setup("an event left to inject", l2_vmcall, NO_EXTRA_CONTROLS) ||
        !l2_vmcalls(1100, "VMCALL exits before an event is left to inject"))
        return;
    vmcs_write(VM_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | VECTOR_UD);
    if (!l2_setup("an event left to inject", l2_vmcall, NO_EXTRA_CONTROLS))
        return;
    struct vm_exit e = l2_run();
    e.value = l2.regs.rbx;      /* the vector L2's IDT handler reports, 0 if none ran */
    expect_exit("a fresh VMCS after a VMCLEAR of one with an event to inject", e,
                VMCALL_AT(0, .value = 0), SHOW_RIP, "the vector L2's IDT delivered");
}

/* L2 runs to its VMCALL again; the exit's value: L1's FS base and DS
 * selector after it (bits 63:48), as the exit loaded them. */
static struct vm_exit l2_run_showing_fs_ds(void)
{
    l2_goto(l2_vmcall);
    struct vm_exit e = l2_run();
    uint16_t ds;
    __asm__ volatile("mov %%ds, %0" : "=r"(ds));
    e.value = rdmsr(MSR_FS_BASE) | (uint64_t)ds << 48;
    return e;
}

/* Host state L1 writes between two exits of one VMCS: the second exit
 * loads the new values (SDM Vol. 3C 28.5.2), the FS base and a null data
 * selector here, and the old ones again after L1 writes them back. */
static void host_state_rewritten_check(void)
{
    if (!l2_setup("host state written between exits", l2_vmcall, NO_EXTRA_CONTROLS))
        return;
    struct vm_exit e = l2_run();
    if (e.entry.kind != OUT_OK || e.reason != EXIT_REASON_VMCALL) {
        expect_exit("VMCALL exits before the host state is written", e, VMCALL_AT(0), SHOW_RIP, NULL);
        return;
    }
    uint64_t host_ds = vmcs_read(HOST_DS_SELECTOR);
    vmcs_write(HOST_FS_BASE, 0x12345000);
    vmcs_write(HOST_DS_SELECTOR, 0);
    expect_exit("the exit after L1 wrote HOST_FS_BASE and a null HOST_DS_SELECTOR",
                l2_run_showing_fs_ds(), VMCALL_AT(0, .value = 0x12345000), SHOW_RIP,
                "FS base | DS selector << 48");
    vmcs_write(HOST_FS_BASE, 0);
    vmcs_write(HOST_DS_SELECTOR, host_ds);
    expect_exit("the exit after L1 wrote them back", l2_run_showing_fs_ds(),
                VMCALL_AT(0, .value = host_ds << 48), SHOW_RIP, "FS base | DS selector << 48");
}

/* L1's handler of the self-IPI, for when the VM exit leaves it pending. */
static volatile unsigned l1_ipis;
static void count_ipi(struct trap_frame *frame)
{
    (void)frame;
    l1_ipis++;
}

/* L2 counts down with RFLAGS `rflags` and a self-IPI pending: L1 runs with
 * interrupts off, so the interrupt waits for the VM entry. */
static struct vm_exit l2_run_interrupted(uint64_t rflags)
{
    l2_goto(l2_count_down);
    l2.regs.rcx = L2_COUNT_DOWN;
    vmcs_write(GUEST_RFLAGS, rflags);
    lapic_send_ipi(lapic_id(), ICR_FIXED | VECTOR_IPI);
    return l2_run();
}

/* External interrupts (SDM Vol. 3C 25.6.1, 26.2, 28.2.2): with
 * "external-interrupt exiting" one exits whatever L2's RFLAGS.IF (26.4.1);
 * with "acknowledge interrupt on exit" the exit acknowledges it and reports
 * the vector (L1 then owes the EOI), without it the interruption
 * information is invalid and the interrupt stays pending for L1. Without
 * the control it goes through L2's IDT. */
static void l2_interrupt_checks(void)
{
    const char *group = "external interrupts";
    if (!l2_setup(group, l2_count_down, CONTROLS([VMX_CTL_PIN] = PIN_EXTERNAL_INTERRUPT_EXITING,
                                                 [VMX_CTL_EXIT] = EXIT_ACK_INTERRUPT_ON_EXIT)))
        return;
    const struct vm_exit acknowledged = EXIT(EXIT_REASON_EXTERNAL_INTERRUPT,
                                             .info = INTR_INFO_VALID | INTR_TYPE_EXTERNAL |
                                                     VECTOR_IPI,
                                             .rip = 0);
    expect_exit("interrupt with external-interrupt exiting and acknowledge on exit, L2 IF=1",
                l2_run_interrupted(RFLAGS_FIXED | RFLAGS_IF), acknowledged,
                SHOW_INFO | SHOW_RIP, NULL);
    lapic_eoi();
    /* L2 halts and L1 does not exit on HLT: the interrupt that comes later
     * exits from the HLT state, which the exit saves (28.3.4), RIP past the
     * HLT. L1's one-shot LAPIC timer brings it while L2 halts. (With L2's
     * IF=0 too, 26.4.1, but Bochs 2.7 then never wakes: see the IF=0 case
     * below.) */
    l2_goto(l2_halt);
    vmcs_write(GUEST_RFLAGS, RFLAGS_FIXED | RFLAGS_IF);
    lapic_write(APIC_REG_TIMER_DIVIDE, DIVIDE_BY_1);
    lapic_write(APIC_REG_LVT_TIMER, VECTOR_IPI);
    lapic_write(APIC_REG_TIMER_INITIAL, L2_HALT_WAKE);
    struct vm_exit halted = l2_run();
    halted.value = vmcs_read(GUEST_ACTIVITY_STATE);
    expect_exit("interrupt while L2 halts, external-interrupt exiting and acknowledge on exit", halted,
                EXIT(EXIT_REASON_EXTERNAL_INTERRUPT,
                     .info = INTR_INFO_VALID | INTR_TYPE_EXTERNAL | VECTOR_IPI, .rip = LEN_HLT,
                     .value = ACTIVITY_HLT),
                SHOW_INFO | SHOW_RIP, "GUEST_ACTIVITY_STATE");
    lapic_eoi();
    lapic_write(APIC_REG_LVT_TIMER, LVT_MASKED);
    vmcs_write(GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
    expect_exit("interrupt with external-interrupt exiting and acknowledge on exit, L2 IF=0",
                l2_run_interrupted(RFLAGS_FIXED), acknowledged, SHOW_INFO | SHOW_RIP, NULL);
    lapic_eoi();

    if (!l2_set_controls(group, CONTROLS([VMX_CTL_PIN] = PIN_EXTERNAL_INTERRUPT_EXITING)))
        return;
    interrupt_register(VECTOR_IPI, count_ipi);
    l1_ipis = 0;
    struct vm_exit e = l2_run_interrupted(RFLAGS_FIXED | RFLAGS_IF);
    e.info &= INTR_INFO_VALID;      /* the rest is undefined (SDM Vol. 3C 28.2.2) */
    /* STI's blocking covers the NOP: the interrupt comes after it. */
    __asm__ volatile("sti\n\tnop\n\tcli" ::: "memory");
    e.value = l1_ipis;
    expect_exit("interrupt with external-interrupt exiting, no acknowledge on exit", e,
                EXIT(EXIT_REASON_EXTERNAL_INTERRUPT, .info = 0, .rip = 0, .value = 1),
                SHOW_INFO | SHOW_RIP, "interrupts L1 takes after the exit");
    interrupt_register(VECTOR_IPI, NULL);

    if (!l2_set_controls(group, NO_EXTRA_CONTROLS))
        return;
    expect_exit("interrupt without external-interrupt exiting, L2 IF=1",
                l2_run_interrupted(RFLAGS_FIXED | RFLAGS_IF), HANDLED(VECTOR_IPI, 0, 0),
                SHOW_HANDLER, NULL);
    lapic_eoi();
}

/* An interrupt that became pending before VMXON: L1 sends itself an IPI
 * with interrupts off outside VMX operation, then enters VMX operation and
 * launches L2 with external-interrupt exiting, which exits at once
 * (SDM Vol. 3C 26.4.1; L2's RFLAGS.IF=1, see the IF=0 case above). Under a
 * hypervisor with virtual-interrupt delivery the x2APIC self-IPI is
 * virtualized without an exit, the processor setting the vector in the
 * virtual IRR itself (30.5); the hypervisor must still find it once VMXON
 * took that delivery away. Last of the checks: it leaves the APIC in x2APIC
 * mode. */
static void l2_interrupt_before_vmxon_check(void)
{
    const char *group = "an interrupt pending since before VMXON";
    if (!(cpuid(1, 0).ecx & CPUID_1_ECX_X2APIC)) {
        printf("vmx_probe: %s: skipped, no x2APIC\n", group);
        return;
    }
    if (!l2_setup(group, l2_count_down, CONTROLS([VMX_CTL_PIN] = PIN_EXTERNAL_INTERRUPT_EXITING,
                                                 [VMX_CTL_EXIT] = EXIT_ACK_INTERRUPT_ON_EXIT)))
        return;
    l2.regs.rcx = L2_COUNT_DOWN;
    vmcs_write(GUEST_RFLAGS, RFLAGS_FIXED | RFLAGS_IF);
    try_vmclear(pa(vmcs));
    try_vmxoff();
    uint64_t apic_base = rdmsr(MSR_IA32_APIC_BASE);
    if (!(apic_base & APIC_BASE_X2APIC)) {
        wrmsr(MSR_IA32_APIC_BASE, apic_base | APIC_BASE_X2APIC);
        lapic_init_cpu();
    }
    wrmsr(X2APIC_MSR_SELF_IPI, VECTOR_IPI);
    if (!expect("VMXON with an interrupt pending", try_vmxon(stamp(vmxon_region, caps.revision)),
                ok()) ||
        !expect("VMPTRLD of the cleared VMCS", try_vmptrld(pa(vmcs)), ok()))
        return;
    l2.launched = false;        /* VMCLEAR made its launch state "clear" (SDM Vol. 3C 25.1) */
    expect_exit("interrupt pending since before VMXON, external-interrupt exiting and "
                "acknowledge on exit",
                l2_run(), EXIT(EXIT_REASON_EXTERNAL_INTERRUPT,
                               .info = INTR_INFO_VALID | INTR_TYPE_EXTERNAL | VECTOR_IPI, .rip = 0),
                SHOW_INFO | SHOW_RIP, NULL);
    lapic_eoi();
}

/* L1 executes an IRET (through a software interrupt's handler), which ends
 * any blocking of NMIs (SDM Vol. 3A 7.7.1). */
#define VECTOR_IRET 0x51
static void l1_iret_handler(struct trap_frame *frame)
{
    (void)frame;
}

static void l1_iret(void)
{
    interrupt_register(VECTOR_IRET, l1_iret_handler);
    __asm__ volatile("int %0" :: "i"(VECTOR_IRET) : "memory");
    interrupt_register(VECTOR_IRET, NULL);
}

/* L2 sends itself an IPI (ICR low `icr`) through L1's xAPIC page (L2 runs
 * in L1's physical space). */
static struct vm_exit l2_run_self_ipi(uint32_t icr)
{
    l2_goto(l2_send_ipi);
    l2.regs.rbx = rdmsr(MSR_IA32_APIC_BASE) & ~0xfffull;
    l2.regs.rdx = lapic_id() << 24;
    l2.regs.rax = icr;
    return l2_run();
}

/* NMIs and INIT (SDM Vol. 3C 25.3, 26.2, 28.2.2): with "NMI exiting" an NMI exits
 * with reason 0 and the NMI in the interruption information, RIP after the
 * ICR write that sent it; the exit leaves NMIs blocked in L1 until its next
 * IRET. Without the control L2's IDT takes it, and the next exit saves
 * blocking by NMI in L2's interruptibility state (25.4.2). xAPIC mode
 * only: the L2 program writes the APIC page. */
static void l2_nmi_checks(void)
{
    const char *group = "NMIs";
    if (rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_X2APIC)
        return;
    if (!l2_setup(group, l2_send_ipi, CONTROLS([VMX_CTL_PIN] = PIN_NMI_EXITING)))
        return;
    expect_exit("NMI from L2 to itself with NMI exiting", l2_run_self_ipi(ICR_NMI),
                EXIT(EXIT_REASON_EXCEPTION_NMI, .info = INTR_INFO_VALID | INTR_TYPE_NMI_EVENT |
                                                        VECTOR_NMI,
                     .rip = LEN_SEND_IPI),
                SHOW_INFO | SHOW_RIP, NULL);
    l1_iret();
    if (!l2_set_controls(group, NO_EXTRA_CONTROLS))
        return;
    /* What the NMI exit saved there is left out of the comparison (Bochs
     * 2.7 saves blocking by NMI, vmxvisor saves L2's own state, none). */
    vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
    struct vm_exit e = l2_run_self_ipi(ICR_NMI);
    e.value = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
    expect_exit("NMI from L2 to itself without NMI exiting", e,
                HANDLED(VECTOR_NMI, 0, LEN_SEND_IPI, .value = INTERRUPTIBILITY_BLOCKED_BY_NMI),
                SHOW_HANDLER, "GUEST_INTERRUPTIBILITY_INFO");
    /* L2 took a real NMI on bare metal: the processor's NMIs stay blocked
     * across the VM exit until L1's IRET. */
    l1_iret();

    /* INIT exits unconditionally from VMX non-root operation (26.2), RIP
     * after the ICR write, and the exit consumes it (as KVM does). Under a
     * hypervisor only: Bochs 2.7 keeps it pending in root operation, so
     * every later VM entry exits with it again and VMXOFF takes it (a
     * reset), which would end the probe. */
    if (!(cpuid(1, 0).ecx & CPUID_1_ECX_HYPERVISOR))
        return;
    vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
    expect_exit("INIT from L2 to itself (under a hypervisor)",
                l2_run_self_ipi(ICR_INIT | ICR_LEVEL_ASSERT),
                EXIT(EXIT_REASON_INIT_SIGNAL, .rip = LEN_SEND_IPI), SHOW_RIP, NULL);
}

/* The VMX-preemption timer (SDM Vol. 3C 26.5.1): it counts down from the
 * value VM entry loads and exits when it reaches 0, at once for 0, before
 * L2's first instruction (27.6.4); "save VMX-preemption-timer value" stores
 * the value at the exit, 0 (28.3.4). */
static void l2_preemption_timer_checks(void)
{
    if (!l2_setup("the VMX-preemption timer", l2_vmcall,
                  CONTROLS([VMX_CTL_PIN] = PIN_PREEMPTION_TIMER,
                           [VMX_CTL_EXIT] = EXIT_SAVE_PREEMPTION_TIMER)))
        return;
    vmcs_write(VMX_PREEMPTION_TIMER_VALUE, 0);
    struct vm_exit e = l2_run();
    e.value = vmcs_read(VMX_PREEMPTION_TIMER_VALUE);
    expect_exit("VM entry with VMX-preemption timer value 0", e,
                EXIT(EXIT_REASON_PREEMPTION_TIMER, .rip = 0, .value = 0), SHOW_RIP,
                "VMX_PREEMPTION_TIMER_VALUE");
    l2_goto(l2_count_down);
    l2.regs.rcx = L2_COUNT_DOWN;
    vmcs_write(VMX_PREEMPTION_TIMER_VALUE, PREEMPTION_TIMER_SPIN);
    e = l2_run();
    e.value = vmcs_read(VMX_PREEMPTION_TIMER_VALUE);
    expect_exit("VMX-preemption timer with L2 spinning", e,
                EXIT(EXIT_REASON_PREEMPTION_TIMER, .rip = 0, .value = 0), SHOW_RIP,
                "VMX_PREEMPTION_TIMER_VALUE");

    /* L2 halts (no HLT exiting): the timer counts in the HLT state too, and
     * its exit ends the halt, which the exit saves (26.5.1, 28.3.4). L1's
     * LAPIC timer, far later, with external-interrupt exiting, keeps a
     * processor that would not wake from hanging the probe. */
    if (!l2_set_controls("the VMX-preemption timer",
                         CONTROLS([VMX_CTL_PIN] = PIN_PREEMPTION_TIMER |
                                                  PIN_EXTERNAL_INTERRUPT_EXITING,
                                  [VMX_CTL_EXIT] = EXIT_ACK_INTERRUPT_ON_EXIT)))
        return;
    l2_goto(l2_halt);
    vmcs_write(VMX_PREEMPTION_TIMER_VALUE, PREEMPTION_TIMER_SPIN);
    lapic_write(APIC_REG_TIMER_DIVIDE, DIVIDE_BY_1);
    lapic_write(APIC_REG_LVT_TIMER, VECTOR_IPI);
    lapic_write(APIC_REG_TIMER_INITIAL, L2_HALT_BACKSTOP);
    e = l2_run();
    e.value = vmcs_read(GUEST_ACTIVITY_STATE);
    bool backstop_pending = lapic_read(APIC_REG_TIMER_CURRENT) != 0;
    lapic_write(APIC_REG_LVT_TIMER, LVT_MASKED);
    if (e.reason == EXIT_REASON_EXTERNAL_INTERRUPT)
        lapic_eoi();
    expect_exit("VMX-preemption timer while L2 halts", e,
                EXIT(EXIT_REASON_PREEMPTION_TIMER, .rip = LEN_HLT, .value = ACTIVITY_HLT),
                SHOW_RIP, "GUEST_ACTIVITY_STATE");
    verdict("VMX-preemption timer while L2 halts, before L1's LAPIC timer",
            backstop_pending ? "the LAPIC timer still counts" : "the LAPIC timer had expired",
            backstop_pending, "the LAPIC timer still counts", NULL);
}

/* The MSR areas (SDM Vol. 3C 27.4, 28.4, 28.6): VM entry loads MSRs for
 * L2, the VM exit stores L2's and loads L1's. An entry naming IA32_FS_BASE
 * or an x2APIC MSR may not be loaded: the VM entry fails with reason 34,
 * the qualification the entry's index from 1 (27.7), and L1 goes on at its
 * host RIP. L2's RDMSR and WRMSR do not exit: MSR bitmaps, all clear. */
static void l2_msr_area_checks(void)
{
    if (!l2_setup("MSR-load and MSR-store areas", l2_rdmsr,
                  CONTROLS([VMX_CTL_PROC] = PROC_USE_MSR_BITMAPS)))
        return;
    const uint64_t l2_kernel_gs_base = 0x123456789000ull;
    const uint64_t l1_star = 0x0013000800000000ull, l2_star = 0x0023001000000000ull;
    wrmsr(MSR_KERNEL_GS_BASE, 0);
    entry_msr_load[0] = (struct msr_entry){ .index = MSR_KERNEL_GS_BASE,
                                            .value = l2_kernel_gs_base };
    vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 1);
    l2.regs.rcx = MSR_KERNEL_GS_BASE;
    struct vm_exit e = l2_run();
    e.value = l2.regs.rdx << 32 | (uint32_t)l2.regs.rax;
    expect_exit("VM-entry MSR-load area, L2 reads the MSR", e,
                VMCALL_AT(LEN_RDMSR, .value = l2_kernel_gs_base), SHOW_RIP, "EDX:EAX");

    vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
    exit_msr_store[0] = (struct msr_entry){ .index = MSR_STAR };
    exit_msr_load[0] = (struct msr_entry){ .index = MSR_STAR, .value = l1_star };
    vmcs_write(VM_EXIT_MSR_STORE_COUNT, 1);
    vmcs_write(VM_EXIT_MSR_LOAD_COUNT, 1);
    l2_goto(l2_wrmsr);
    l2.regs.rcx = MSR_STAR;
    l2.regs.rax = (uint32_t)l2_star;
    l2.regs.rdx = l2_star >> 32;
    e = l2_run();
    e.value = exit_msr_store[0].value;
    expect_exit("VM-exit MSR-store area, after L2 writes the MSR", e,
                VMCALL_AT(LEN_WRMSR, .value = l2_star), SHOW_RIP, "the stored value");
    e.value = rdmsr(MSR_STAR);
    expect_exit("VM-exit MSR-load area, L1's value after the exit", e,
                VMCALL_AT(LEN_WRMSR, .value = l1_star), SHOW_RIP, "L1's MSR");
    vmcs_write(VM_EXIT_MSR_STORE_COUNT, 0);
    vmcs_write(VM_EXIT_MSR_LOAD_COUNT, 0);

    l2_goto(l2_vmcall);
    entry_msr_load[0] = (struct msr_entry){ .index = MSR_IA32_SYSENTER_ESP };
    entry_msr_load[1] = (struct msr_entry){ .index = MSR_FS_BASE };
    vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 2);
    expect_exit("VM-entry MSR-load area naming IA32_FS_BASE second", l2_run(),
                FAILED_ENTRY(EXIT_REASON_MSR_LOADING, .qualification = 2), SHOW_QUALIFICATION,
                NULL);
    entry_msr_load[0] = (struct msr_entry){ .index = X2APIC_MSR_TPR };
    expect_exit("VM-entry MSR-load area naming an x2APIC MSR first", l2_run(),
                FAILED_ENTRY(EXIT_REASON_MSR_LOADING, .qualification = 1), SHOW_QUALIFICATION,
                NULL);
    /* The same with an event to inject: the entry fails after it loaded
     * the guest state, the event undelivered (27.8). An entry after it
     * that injects nothing delivers nothing: L2 reaches its VMCALL. */
    vmcs_write(VM_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | VECTOR_UD);
    expect_exit("VM-entry MSR-load area naming an x2APIC MSR, injecting #UD", l2_run(),
                FAILED_ENTRY(EXIT_REASON_MSR_LOADING, .qualification = 1), SHOW_QUALIFICATION,
                NULL);
    vmcs_write(VM_ENTRY_INTR_INFO, 0);
    vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
    expect_exit("the entry after it, injecting nothing", l2_run(), VMCALL_AT(0), SHOW_RIP, NULL);
}

/* VM entries that fail on the guest state (SDM Vol. 3C 27.3.1.1 CR0,
 * 27.3.1.4 RFLAGS, 27.3.1.5 the VMCS link pointer): a VM exit with reason
 * 33 and bit 31 set, qualification 0 but for the VMCS link pointer's
 * checks, 4 (27.7); the VMCS stays clear, so VMRESUME fails (31.3). */
/* An L2 with PAE paging outside IA-32e mode (32-bit code, EFER.LMA and LME
 * clear), CR3 at four PDPTEs the first of which sets a reserved bit:
 * without EPT, VM entry loads them from CR3 and fails with qualification 2
 * (SDM Vol. 3C 27.3.1.6, 27.8). L2's state is put back after. */
static uint64_t pae_pdpt[4] __attribute__((aligned(32)));
static void pae_pdpte_check(void)
{
    const uint64_t code32_ar = 0xc09b;  /* execute/read accessed, S, P, D, G */
    const uint64_t pdpte_present_with_reserved_bit = 0x3;
    uint64_t cr3 = vmcs_read(GUEST_CR3), efer = vmcs_read(GUEST_IA32_EFER);
    uint64_t entry = vmcs_read(VM_ENTRY_CONTROLS), cs_ar = vmcs_read(GUEST_CS_AR_BYTES);
    memset(pae_pdpt, 0, sizeof(pae_pdpt));
    pae_pdpt[0] = pdpte_present_with_reserved_bit;
    vmcs_write(GUEST_CR3, pa(pae_pdpt));
    vmcs_write(GUEST_IA32_EFER, efer & ~(EFER_LMA | EFER_LME));
    vmcs_write(VM_ENTRY_CONTROLS, entry & ~(uint64_t)ENTRY_IA32E_MODE_GUEST);
    vmcs_write(GUEST_CS_AR_BYTES, code32_ar);
    expect_exit("VMLAUNCH of a PAE L2 whose first PDPTE sets a reserved bit", l2_run(),
                FAILED_ENTRY(EXIT_REASON_INVALID_GUEST_STATE, .qualification = 2),
                SHOW_QUALIFICATION, NULL);
    vmcs_write(GUEST_CR3, cr3);
    vmcs_write(GUEST_IA32_EFER, efer);
    vmcs_write(VM_ENTRY_CONTROLS, entry);
    vmcs_write(GUEST_CS_AR_BYTES, cs_ar);
}

static void l2_guest_state_checks(void)
{
    if (!l2_setup("guest-state checks", l2_vmcall, NO_EXTRA_CONTROLS))
        return;
    const unsigned show = SHOW_QUALIFICATION;
    uint64_t cr0 = vmcs_read(GUEST_CR0);
    vmcs_write(GUEST_CR0, cr0 & ~CR0_PE);
    expect_exit("VMLAUNCH with guest CR0.PG=1 and PE=0", l2_run(),
                FAILED_ENTRY(EXIT_REASON_INVALID_GUEST_STATE, .qualification = 0), show, NULL);
    expect_exit("VMRESUME after the VM-entry failure", l2_enter(false),
                (struct vm_exit){ .entry = fail_valid(VMXERR_VMRESUME_NON_LAUNCHED) }, 0, NULL);
    vmcs_write(GUEST_CR0, cr0);
    vmcs_write(GUEST_RFLAGS, 0);
    expect_exit("VMLAUNCH with guest RFLAGS bit 1 clear", l2_run(),
                FAILED_ENTRY(EXIT_REASON_INVALID_GUEST_STATE, .qualification = 0), show, NULL);
    vmcs_write(GUEST_RFLAGS, RFLAGS_FIXED);
    vmcs_write(VMCS_LINK_POINTER, pa(probe_page) + UNALIGNED_OFFSET);
    expect_exit("VMLAUNCH with an unaligned VMCS link pointer", l2_run(),
                FAILED_ENTRY(EXIT_REASON_INVALID_GUEST_STATE, .qualification = 4), show, NULL);
    vmcs_write(VMCS_LINK_POINTER, ~0ull);
    pae_pdpte_check();
    expect_exit("VMLAUNCH with the guest state repaired", l2_run(), VMCALL_AT(0), SHOW_RIP,
                NULL);
}

/* A triple fault in L2 exits with reason 2 (SDM Vol. 3C 26.2); here #UD
 * with an IDT limit of 0: #GP, #DF, shutdown (Vol. 3A 7.15, "Interrupt
 * 8"). L1 goes on. */
static void l2_triple_fault_checks(void)
{
    if (!l2_setup("triple fault", l2_ud2, NO_EXTRA_CONTROLS))
        return;
    vmcs_write(GUEST_IDTR_LIMIT, 0);
    expect_exit("triple fault in L2", l2_run(), EXIT(EXIT_REASON_TRIPLE_FAULT), 0, NULL);
    if (l2_setup("triple fault", l2_vmcall, NO_EXTRA_CONTROLS))
        expect_exit("VMLAUNCH of a fresh VMCS after the triple fault", l2_run(), VMCALL_AT(0),
                    SHOW_RIP, NULL);
}

/* The 8259 PICs masked: only the probe's own interrupts come. */
/* ---------------------------------------------------------------------- */
/* EPT, VPID and unrestricted guest for L2 (SDM Vol. 3C 30.3, 28.2.1,     */
/* 31.3 INVEPT/INVVPID, 27.3.1.1).                                        */
/* ---------------------------------------------------------------------- */

#define EPT_R 1ull
#define EPT_W 2ull
#define EPT_X 4ull
#define EPT_RWX 7ull
#define EPT_WB (6ull << 3)
#define EPT_UNCACHEABLE_TYPE_2 (2ull << 3)     /* a reserved memory type */
#define EPT_LEAF (1ull << 7)
#define EPTP_WB_4_LEVELS (6ull | 3ull << 3)
#define EPTP_RESERVED_TYPE_1 (1ull | 3ull << 3)
#define EPT_CAP_EXECUTE_ONLY (1ull << 0)
#define EPT_CAP_1G (1ull << 17)
#define EPT_CAP_ADVANCED_INFO (1ull << 22)
#define SIZE_2M 0x200000ull
#define SIZE_1G 0x40000000ull
/* EPT-violation qualification bits (Table 28-7): the access, what the
 * walk allowed, a linear address translated for the access itself. */
#define QUAL_READ 0x1ull
#define QUAL_WRITE 0x2ull
#define QUAL_FETCH 0x4ull
#define QUAL_ALLOWED(perms) ((uint64_t)(perms) << 3)
#define QUAL_LINEAR_TRANSLATED 0x180ull
#define QUAL_ADVANCED_INFO 0xe00ull            /* bits 11:9 */
#define LEN_MOV_STORE 3                        /* 48 89 03 */
#define CR4_PCIDE (1ull << 17)

/* L2-physical addresses of the test pages: EPT12's PDPT entry 1, whose
 * first 2 MiB are a page table of 4 KiB pages, the next 2 MiB one leaf;
 * PDPT entry 2 is a 1 GiB leaf. The low GiB is L1's memory, identity-
 * mapped with 2 MiB leaves; nothing else is mapped. */
#define L2_EPT_PAGES_GPA 0x40000000ull
#define L2_EPT_2M_GPA (L2_EPT_PAGES_GPA + SIZE_2M)
#define L2_EPT_1G_GPA 0x80000000ull
/* Where L2's page tables map them: l2_pt entries 16 on. */
#define L2_EPT_LINEAR_BASE (L2_MAPPED_PAGE + 16 * PAGE_SIZE)

enum ept_test_page {
    EPT_PAGE_RWX, EPT_PAGE_ABSENT, EPT_PAGE_READ_ONLY, EPT_PAGE_EXECUTE_ONLY,
    EPT_PAGE_CODE_NO_X, EPT_PAGE_CODE, EPT_PAGE_WRITE_ONLY, EPT_PAGE_BAD_TYPE,
    EPT_PAGE_DECREASED, EPT_PAGE_INCREASED, EPT_TEST_PAGES,
    EPT_LINEAR_2M = EPT_TEST_PAGES, EPT_LINEAR_1G,
};
static const uint64_t ept_page_entry_bits[EPT_TEST_PAGES] = {
    [EPT_PAGE_RWX] = EPT_RWX | EPT_WB,
    [EPT_PAGE_ABSENT] = 0,
    [EPT_PAGE_READ_ONLY] = EPT_R | EPT_WB,
    [EPT_PAGE_EXECUTE_ONLY] = EPT_X | EPT_WB,
    [EPT_PAGE_CODE_NO_X] = EPT_R | EPT_W | EPT_WB,
    [EPT_PAGE_CODE] = EPT_R | EPT_X | EPT_WB,
    [EPT_PAGE_WRITE_ONLY] = EPT_W | EPT_WB,
    [EPT_PAGE_BAD_TYPE] = EPT_RWX | EPT_UNCACHEABLE_TYPE_2,
    [EPT_PAGE_DECREASED] = EPT_R | EPT_W | EPT_WB,
    [EPT_PAGE_INCREASED] = 0,
};

static uint64_t ept_pml4[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t ept_pdpt[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t ept_pd_low[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t ept_pd_test[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t ept_pt_test[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t ept_pages[EPT_TEST_PAGES][512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t ept_vpid_cap;
extern const char l2_store[], l2_vmcall[];

static uint64_t ept_marker(unsigned page) { return 0x6570747061676500ull | page; }
static uint64_t ept_page_gpa(unsigned page) { return L2_EPT_PAGES_GPA + page * PAGE_SIZE; }
static uint64_t ept_linear(unsigned page) { return L2_EPT_LINEAR_BASE + page * PAGE_SIZE; }
static uint64_t vmcall_bytes(void) { return 0xc1010full; }     /* 0f 01 c1 */

/* The offset of test page 0 in an aligned region of `size` bytes, where
 * the large leaves map L1's memory. */
static uint64_t ept_pages_offset(uint64_t size) { return pa(ept_pages) & (size - 1); }

/* EPT12 as described above, the test pages filled afresh; its EPTP. */
static uint64_t build_ept12(void)
{
    memset(ept_pml4, 0, PAGE_SIZE);
    memset(ept_pdpt, 0, PAGE_SIZE);
    memset(ept_pd_test, 0, PAGE_SIZE);
    memset(ept_pt_test, 0, PAGE_SIZE);
    ept_pml4[0] = pa(ept_pdpt) | EPT_RWX;
    ept_pdpt[0] = pa(ept_pd_low) | EPT_RWX;
    for (unsigned i = 0; i < 512; i++)
        ept_pd_low[i] = i * SIZE_2M | EPT_RWX | EPT_WB | EPT_LEAF;
    ept_pdpt[1] = pa(ept_pd_test) | EPT_RWX;
    ept_pd_test[0] = pa(ept_pt_test) | EPT_RWX;
    for (unsigned i = 0; i < EPT_TEST_PAGES; i++) {
        ept_pages[i][0] = ept_marker(i);
        ept_pt_test[i] = pa(ept_pages[i]) | ept_page_entry_bits[i];
    }
    ept_pages[EPT_PAGE_CODE_NO_X][0] = vmcall_bytes();
    ept_pages[EPT_PAGE_CODE][0] = vmcall_bytes();
    /* Read-only large leaves over the region holding test page 0. */
    ept_pd_test[1] = (pa(ept_pages) & ~(SIZE_2M - 1)) | EPT_R | EPT_WB | EPT_LEAF;
    if (ept_vpid_cap & EPT_CAP_1G)
        ept_pdpt[2] = (pa(ept_pages) & ~(SIZE_1G - 1)) | EPT_R | EPT_WB | EPT_LEAF;
    return pa(ept_pml4) | EPTP_WB_4_LEVELS;
}

/* L2's page tables (build_l2_page_tables) plus the test pages, and the
 * first page of each large leaf's test region. */
static uint64_t build_l2_ept_page_tables(void)
{
    uint64_t cr3 = build_l2_page_tables();
    for (unsigned i = 0; i < EPT_TEST_PAGES; i++)
        l2_pt[16 + i] = ept_page_gpa(i) | PTE_P | PTE_W;
    l2_pt[16 + EPT_LINEAR_2M] = (L2_EPT_2M_GPA + ept_pages_offset(SIZE_2M)) | PTE_P | PTE_W;
    l2_pt[16 + EPT_LINEAR_1G] = (L2_EPT_1G_GPA + ept_pages_offset(SIZE_1G)) | PTE_P | PTE_W;
    return cr3;
}

/* INVEPT or INVVPID with a descriptor of two quadwords. */
static struct outcome try_invalidation(bool ept, uint64_t type, uint64_t low, uint64_t high)
{
    struct { uint64_t low, high; } desc __attribute__((aligned(16))) = { low, high };
    uint64_t rflags;
    try_begin();
    if (ept)
        __asm__ volatile(TRY_ARM TRY_RUN("invept %[desc], %[type]")
                         : TRY_OUTPUTS : [desc] "m"(desc), [type] "r"(type), TRY_STATUS
                         : "rax", "cc", "memory");
    else
        __asm__ volatile(TRY_ARM TRY_RUN("invvpid %[desc], %[type]")
                         : TRY_OUTPUTS : [desc] "m"(desc), [type] "r"(type), TRY_STATUS
                         : "rax", "cc", "memory");
    return vmx_outcome(try_end(rflags));
}

/* L2 loads from, stores to or jumps to the linear address of `page`. */
static struct vm_exit ept_access(const char *program, unsigned page)
{
    if (program) {
        l2_goto(program);
    } else {
        l2_goto((const char *)(uintptr_t)ept_linear(page));
    }
    l2.regs.rbx = ept_linear(page);
    l2.regs.rax = 0;
    struct vm_exit e = l2_run();
    e.value = l2.regs.rax;
    if (!(ept_vpid_cap & EPT_CAP_ADVANCED_INFO))
        e.qualification &= ~QUAL_ADVANCED_INFO;     /* defined only with it */
    /* Through a large leaf, relative to the test region's page 0, whose
     * address differs between the bare and the VM build. */
    if (e.reason == EXIT_REASON_EPT_VIOLATION && page >= EPT_TEST_PAGES)
        e.gpa -= ept_pages_offset(page == EPT_LINEAR_2M ? SIZE_2M : SIZE_1G);
    return e;
}

#define EPT_VIOLATION(q, page, ...) \
    EXIT(EXIT_REASON_EPT_VIOLATION, .qualification = (q), .gpa = ept_page_gpa(page), \
         .linear = ept_linear(page), .rip = 0, __VA_ARGS__)
#define VIOLATION_SHOWN (SHOW_QUALIFICATION | SHOW_ADDRESSES | SHOW_RIP)

/* L2 on EPT12: what EPT12 permits runs, the rest is L1's EPT violation
 * with the access, the permissions the walk found and both addresses;
 * misconfigured entries give EPT-misconfiguration exits; INVEPT makes a
 * decreased permission count; a permission L1 adds needs no INVEPT (no
 * translation is cached from a violation, 30.4.1). */
static void l2_ept_checks(void)
{
    const char *group = "EPT";
    if (!(caps.may_be_1[VMX_CTL_PROC2] & PROC2_ENABLE_EPT)) {
        printf("vmx_probe: %s: skipped, EPT is not offered\n", group);
        return;
    }
    ept_vpid_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
    if (!l2_setup(group, l2_load, CONTROLS([VMX_CTL_PROC] = PROC_ACTIVATE_SECONDARY,
                                           [VMX_CTL_PROC2] = PROC2_ENABLE_EPT)))
        return;
    vmcs_write(EPT_POINTER, build_ept12());
    vmcs_write(GUEST_CR3, build_l2_ept_page_tables());

    expect_exit("EPT12 case, L2 reads a page EPT12 maps RWX", ept_access(l2_load, EPT_PAGE_RWX),
                VMCALL_AT(LEN_MOV_LOAD, .value = ept_marker(EPT_PAGE_RWX)), SHOW_RIP, "RAX");
    expect_exit("EPT12 case, L2 reads a page EPT12 does not map", ept_access(l2_load, EPT_PAGE_ABSENT),
                EPT_VIOLATION(QUAL_READ | QUAL_LINEAR_TRANSLATED, EPT_PAGE_ABSENT),
                VIOLATION_SHOWN, NULL);
    expect_exit("EPT12 case, L2 reads a read-only page", ept_access(l2_load, EPT_PAGE_READ_ONLY),
                VMCALL_AT(LEN_MOV_LOAD, .value = ept_marker(EPT_PAGE_READ_ONLY)), SHOW_RIP, "RAX");
    expect_exit("EPT12 case, L2 writes a read-only page", ept_access(l2_store, EPT_PAGE_READ_ONLY),
                EPT_VIOLATION(QUAL_WRITE | QUAL_ALLOWED(EPT_R) | QUAL_LINEAR_TRANSLATED,
                              EPT_PAGE_READ_ONLY),
                VIOLATION_SHOWN, NULL);
    if (ept_vpid_cap & EPT_CAP_EXECUTE_ONLY)
        expect_exit("EPT12 case, L2 reads an execute-only page", ept_access(l2_load, EPT_PAGE_EXECUTE_ONLY),
                    EPT_VIOLATION(QUAL_READ | QUAL_ALLOWED(EPT_X) | QUAL_LINEAR_TRANSLATED,
                                  EPT_PAGE_EXECUTE_ONLY),
                    VIOLATION_SHOWN, NULL);
    expect_exit("EPT12 case, L2 executes in a page without X", ept_access(NULL, EPT_PAGE_CODE_NO_X),
                EPT_VIOLATION(QUAL_FETCH | QUAL_ALLOWED(EPT_R | EPT_W) | QUAL_LINEAR_TRANSLATED,
                              EPT_PAGE_CODE_NO_X),
                VIOLATION_SHOWN, NULL);
    expect_exit("EPT12 case, L2 executes in a page with X", ept_access(NULL, EPT_PAGE_CODE), VMCALL_AT(0),
                SHOW_RIP | SHOW_LENGTH, NULL);
    /* No guest-linear address for a misconfiguration (SDM Vol. 3C 28.2.1). */
    struct vm_exit e = ept_access(l2_load, EPT_PAGE_WRITE_ONLY);
    e.value = e.gpa;
    expect_exit("EPT12 case, an entry with write but not read permission is a misconfiguration", e,
                EXIT(EXIT_REASON_EPT_MISCONFIG, .value = ept_page_gpa(EPT_PAGE_WRITE_ONLY),
                     .rip = 0),
                SHOW_QUALIFICATION | SHOW_RIP, "guest-physical address");
    e = ept_access(l2_load, EPT_PAGE_BAD_TYPE);
    e.value = e.gpa;
    expect_exit("EPT12 case, a leaf with memory type 2 is a misconfiguration", e,
                EXIT(EXIT_REASON_EPT_MISCONFIG, .value = ept_page_gpa(EPT_PAGE_BAD_TYPE), .rip = 0),
                SHOW_QUALIFICATION | SHOW_RIP, "guest-physical address");

    expect_exit("EPT12 case, L2 writes a read/write page", ept_access(l2_store, EPT_PAGE_DECREASED),
                VMCALL_AT(LEN_MOV_STORE), SHOW_RIP, NULL);
    ept_pt_test[EPT_PAGE_DECREASED] &= ~EPT_W;
    expect("EPT12 case, INVEPT single-context after taking write permission away",
           try_invalidation(true, 1, vmcs_read(EPT_POINTER), 0), ok());
    expect_exit("EPT12 case, L2 writes the page after INVEPT", ept_access(l2_store, EPT_PAGE_DECREASED),
                EPT_VIOLATION(QUAL_WRITE | QUAL_ALLOWED(EPT_R) | QUAL_LINEAR_TRANSLATED,
                              EPT_PAGE_DECREASED),
                VIOLATION_SHOWN, NULL);
    expect_exit("EPT12 case, L2 reads a page before L1 maps it", ept_access(l2_load, EPT_PAGE_INCREASED),
                EPT_VIOLATION(QUAL_READ | QUAL_LINEAR_TRANSLATED, EPT_PAGE_INCREASED),
                VIOLATION_SHOWN, NULL);
    ept_pt_test[EPT_PAGE_INCREASED] = pa(ept_pages[EPT_PAGE_INCREASED]) | EPT_RWX | EPT_WB;
    expect_exit("EPT12 case, L2 reads it once L1 mapped it, without INVEPT",
                ept_access(l2_load, EPT_PAGE_INCREASED),
                VMCALL_AT(LEN_MOV_LOAD, .value = ept_marker(EPT_PAGE_INCREASED)), SHOW_RIP, "RAX");

    expect_exit("EPT12 case, L2 reads through a read-only 2 MiB leaf", ept_access(l2_load, EPT_LINEAR_2M),
                VMCALL_AT(LEN_MOV_LOAD, .value = ept_marker(0)), SHOW_RIP, "RAX");
    expect_exit("EPT12 case, L2 writes through a read-only 2 MiB leaf", ept_access(l2_store, EPT_LINEAR_2M),
                EXIT(EXIT_REASON_EPT_VIOLATION,
                     .qualification = QUAL_WRITE | QUAL_ALLOWED(EPT_R) | QUAL_LINEAR_TRANSLATED,
                     .gpa = L2_EPT_2M_GPA,
                     .linear = ept_linear(EPT_LINEAR_2M), .rip = 0),
                VIOLATION_SHOWN, NULL);
    if (ept_vpid_cap & EPT_CAP_1G) {
        expect_exit("EPT12 case, L2 reads through a read-only 1 GiB leaf",
                    ept_access(l2_load, EPT_LINEAR_1G),
                    VMCALL_AT(LEN_MOV_LOAD, .value = ept_marker(0)), SHOW_RIP, "RAX");
        expect_exit("EPT12 case, L2 writes through a read-only 1 GiB leaf",
                    ept_access(l2_store, EPT_LINEAR_1G),
                    EXIT(EXIT_REASON_EPT_VIOLATION,
                         .qualification = QUAL_WRITE | QUAL_ALLOWED(EPT_R) | QUAL_LINEAR_TRANSLATED,
                         .gpa = L2_EPT_1G_GPA,
                         .linear = ept_linear(EPT_LINEAR_1G), .rip = 0),
                    VIOLATION_SHOWN, NULL);
    }
}

#define EPTP_ACCESSED_DIRTY (1ull << 6)
#define EPT_ACCESSED (1ull << 8)
#define EPT_DIRTY (1ull << 9)
#define EPT_CAP_ACCESSED_DIRTY (1ull << 21)
static uint64_t pml_log[512] __attribute__((aligned(PAGE_SIZE)));

/* The accessed and dirty flags of the four EPT12 entries the walk to test
 * page `page` uses, two bits each from the PML4E up: 1 accessed, 2 dirty. */
static uint64_t ept_walk_flags(unsigned page)
{
    const uint64_t entries[] = { ept_pt_test[page], ept_pd_test[0], ept_pdpt[1], ept_pml4[0] };
    uint64_t flags = 0;
    for (unsigned i = 0; i < 4; i++)
        flags = flags << 2 | (entries[i] >> 8 & 3);
    return flags;
}

/* EPT12 afresh, all its flags clear, and no translation of the old one
 * left (INVEPT all-context). */
static void fresh_ept12_with_flags(void)
{
    vmcs_write(EPT_POINTER, build_ept12() | EPTP_ACCESSED_DIRTY);
    try_invalidation(true, 2, 0, 0);
}

/* EPT accessed and dirty flags with EPTP bit 6 (SDM Vol. 3C 30.3.5): the
 * processor sets accessed in every entry a translation uses and dirty in
 * the leaf of a write; page-modification logging (30.3.6): a write that
 * sets a dirty flag puts its page's guest-physical address in the log at
 * the PML index, which counts down; with the index outside 0-511 the
 * access that needs a flag set is a PML-full exit instead. */
/* The same with L2 as the writer: L1's MSR bitmap is a page EPT12 lets L2
 * write, and L2 sets SYSENTER_CS's read bit in it; L2's RDMSR of that MSR
 * after the next entry exits. */
static void l2_msr_bitmap_written_by_l2_check(void)
{
    const char *group = "an MSR bitmap L2 writes";
    if (!(caps.may_be_1[VMX_CTL_PROC2] & PROC2_ENABLE_EPT)) {
        printf("vmx_probe: %s: skipped, EPT is not offered\n", group);
        return;
    }
    if (!l2_setup(group, l2_store,
                  CONTROLS([VMX_CTL_PROC] = PROC_ACTIVATE_SECONDARY | PROC_USE_MSR_BITMAPS,
                           [VMX_CTL_PROC2] = PROC2_ENABLE_EPT)))
        return;
    vmcs_write(EPT_POINTER, build_ept12());
    vmcs_write(GUEST_CR3, build_l2_ept_page_tables());
    uint64_t *bitmap = ept_pages[EPT_PAGE_RWX];
    memset(bitmap, 0, PAGE_SIZE);
    vmcs_write(MSR_BITMAP, pa(bitmap));
    if (!l2_vmcalls(100, "VMCALL exits before L2 writes L1's MSR bitmap"))
        return;
    l2_goto(l2_store);
    uint64_t word = 1ull << (MSR_IA32_SYSENTER_CS % 64);
    l2.regs.rbx = ept_linear(EPT_PAGE_RWX) + MSR_BITMAP_WORD_STORED * 8;
    l2.regs.rax = word;
    struct vm_exit e = l2_run();
    e.value = bitmap[MSR_BITMAP_WORD_STORED];
    expect_exit("L2 sets a read bit in L1's MSR bitmap", e, VMCALL_AT(LEN_MOV_STORE, .value = word),
                SHOW_RIP, "the bitmap's word");
    l2_goto(l2_rdmsr);
    l2.regs.rcx = MSR_IA32_SYSENTER_CS;
    expect_exit("RDMSR of the MSR whose read bit L2 set", l2_run(),
                EXIT(EXIT_REASON_RDMSR, .length = LEN_RDMSR, .rip = 0), SHOW_LENGTH | SHOW_RIP, NULL);
    vmcs_write(MSR_BITMAP, pa(msr_bitmap));
}

static void l2_ept_ad_checks(void)
{
    const char *group = "EPT accessed/dirty flags and PML";
    ept_vpid_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
    if (!(caps.may_be_1[VMX_CTL_PROC2] & PROC2_ENABLE_EPT) || !(ept_vpid_cap & EPT_CAP_ACCESSED_DIRTY)) {
        printf("vmx_probe: %s: skipped, not offered\n", group);
        return;
    }
    if (!l2_setup(group, l2_load, CONTROLS([VMX_CTL_PROC] = PROC_ACTIVATE_SECONDARY,
                                           [VMX_CTL_PROC2] = PROC2_ENABLE_EPT)))
        return;
    vmcs_write(EPT_POINTER, build_ept12() | EPTP_ACCESSED_DIRTY);
    vmcs_write(GUEST_CR3, build_l2_ept_page_tables());
    const uint64_t accessed = 0x55, accessed_and_dirty_leaf = 0xd5;
    expect_exit("EPT A/D, L2 reads a page", ept_access(l2_load, EPT_PAGE_RWX),
                VMCALL_AT(LEN_MOV_LOAD, .value = ept_marker(EPT_PAGE_RWX)), SHOW_RIP, "RAX");
    expect("EPT A/D, a read sets the accessed flags of its walk", ok_value(ept_walk_flags(EPT_PAGE_RWX)),
           ok_value(accessed));
    expect_exit("EPT A/D, L2 writes the page", ept_access(l2_store, EPT_PAGE_RWX),
                VMCALL_AT(LEN_MOV_STORE), SHOW_RIP, NULL);
    expect("EPT A/D, a write sets the dirty flag of its leaf", ok_value(ept_walk_flags(EPT_PAGE_RWX)),
           ok_value(accessed_and_dirty_leaf));

    if (!(caps.may_be_1[VMX_CTL_PROC2] & PROC2_ENABLE_PML)) {
        printf("vmx_probe: %s: PML skipped, not offered\n", group);
        return;
    }
    vmcs_write(SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_EPT | PROC2_ENABLE_PML);
    memset(pml_log, 0, sizeof(pml_log));
    vmcs_write(PML_ADDRESS, pa(pml_log));
    vmcs_write(GUEST_PML_INDEX, 511);
    fresh_ept12_with_flags();
    expect_exit("PML, L2 writes a page", ept_access(l2_store, EPT_PAGE_RWX), VMCALL_AT(LEN_MOV_STORE),
                SHOW_RIP, NULL);
    uint64_t index = vmcs_read(GUEST_PML_INDEX);
    bool logged = false;
    for (uint64_t i = index + 1; i < 512; i++)
        logged |= pml_log[i] == ept_page_gpa(EPT_PAGE_RWX);
    expect("PML, the page's address is in the log below index 511", ok_value(logged && index < 511),
           ok_value(1));
    expect("PML, nothing is logged above the index", ok_value(index < 511 ? pml_log[index] : 0),
           ok_value(0));
    vmcs_write(GUEST_PML_INDEX, 0xffff);
    fresh_ept12_with_flags();
    expect_exit("PML, an access that sets a flag with the index at FFFFH",
                ept_access(l2_store, EPT_PAGE_RWX),
                EXIT(EXIT_REASON_PML_FULL, .qualification = 0, .rip = 0),
                SHOW_QUALIFICATION | SHOW_RIP, NULL);
    expect("PML, the full log leaves the test page's flags clear",
           ok_value(ept_walk_flags(EPT_PAGE_RWX) & 0xc0), ok_value(0));
}

/* INVEPT and INVVPID operands (SDM Vol. 3C 31.3): a type the capability
 * MSR does not offer, an invalid EPTP for single-context, descriptor bits
 * 63:16, VPID 0 but for all-context, a non-canonical address for
 * individual-address: VMfailValid 28. */
static void invalidation_checks(void)
{
    const struct outcome invalid = fail_valid(VMXERR_INVALID_INVEPT_INVVPID);
    uint64_t eptp = build_ept12();
    if (caps.may_be_1[VMX_CTL_PROC2] & PROC2_ENABLE_EPT) {
        expect("INVEPT type 0", try_invalidation(true, 0, eptp, 0), invalid);
        expect("INVEPT type 3", try_invalidation(true, 3, eptp, 0), invalid);
        expect("INVEPT single-context", try_invalidation(true, 1, eptp, 0), ok());
        expect("INVEPT single-context with a reserved EPTP memory type",
               try_invalidation(true, 1, pa(ept_pml4) | EPTP_RESERVED_TYPE_1, 0), invalid);
        expect("INVEPT single-context with EPTP bits 11:7 set",
               try_invalidation(true, 1, eptp | 0xf80, 0), invalid);
        expect("INVEPT all-context with any descriptor", try_invalidation(true, 2, ~0ull, ~0ull),
               ok());
    }
    if (!(caps.may_be_1[VMX_CTL_PROC2] & PROC2_ENABLE_VPID))
        return;
    expect("INVVPID type 4", try_invalidation(false, 4, 1, 0), invalid);
    expect("INVVPID individual-address", try_invalidation(false, 0, 1, 0x1000), ok());
    expect("INVVPID individual-address with a non-canonical address",
           try_invalidation(false, 0, 1, 0x0000800000000000ull), invalid);
    expect("INVVPID individual-address with VPID 0", try_invalidation(false, 0, 0, 0x1000),
           invalid);
    expect("INVVPID single-context", try_invalidation(false, 1, 1, 0), ok());
    expect("INVVPID single-context with VPID 0", try_invalidation(false, 1, 0, 0), invalid);
    expect("INVVPID all-context with VPID 0", try_invalidation(false, 2, 0, 0), ok());
    expect("INVVPID single-context retaining globals", try_invalidation(false, 3, 1, 0), ok());
    expect("INVVPID single-context retaining globals with VPID 0",
           try_invalidation(false, 3, 0, 0), invalid);
    expect("INVVPID with descriptor bits 63:16 set", try_invalidation(false, 2, 0x10000, 0),
           invalid);
}

/* An L2 with VPID runs (vmcs12's VPID must not be 0, 27.2.1.1); and in
 * real mode with unrestricted guest, which needs EPT (27.2.1.1), its CS
 * base anywhere (27.3.1.2). */
static void l2_vpid_and_unrestricted_checks(void)
{
    if ((caps.may_be_1[VMX_CTL_PROC2] & PROC2_ENABLE_VPID) &&
        l2_setup("VPID", l2_vmcall, CONTROLS([VMX_CTL_PROC] = PROC_ACTIVATE_SECONDARY,
                                             [VMX_CTL_PROC2] = PROC2_ENABLE_VPID))) {
        vmcs_write(VIRTUAL_PROCESSOR_ID, 0);
        expect_exit("VMLAUNCH with VPID enabled and VPID 0", l2_run(),
                    (struct vm_exit){ .entry = fail_valid(VMXERR_ENTRY_INVALID_CONTROLS) }, 0,
                    NULL);
        vmcs_write(VIRTUAL_PROCESSOR_ID, 1);
        expect_exit("L2 with VPID 1 runs to its VMCALL", l2_run(), VMCALL_AT(0), SHOW_RIP, NULL);
        expect("INVVPID single-context of L2's VPID", try_invalidation(false, 1, 1, 0), ok());
        l2_goto(l2_vmcall);
        expect_exit("L2 runs again after INVVPID", l2_run(), VMCALL_AT(0), SHOW_RIP, NULL);
    }
    const uint32_t ug = PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST;
    if ((caps.may_be_1[VMX_CTL_PROC2] & ug) != ug)
        return;
    if (!l2_setup("unrestricted guest", l2_vmcall,
                  CONTROLS([VMX_CTL_PROC] = PROC_ACTIVATE_SECONDARY, [VMX_CTL_PROC2] = ug)))
        return;
    vmcs_write(EPT_POINTER, build_ept12());
    const uint64_t real_code_ar = 0x9b, real_data_ar = 0x93;
    vmcs_write(VM_ENTRY_CONTROLS, vmcs_read(VM_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_IA32E_MODE_GUEST);
    vmcs_write(GUEST_IA32_EFER, vmcs_read(GUEST_IA32_EFER) & ~(EFER_LMA | EFER_LME));
    vmcs_write(GUEST_CR0, vmcs_read(GUEST_CR0) & ~(CR0_PE | CR0_PG));
    vmcs_write(GUEST_CR4, vmcs_read(GUEST_CR4) & ~CR4_PCIDE);
    vmcs_write(GUEST_CS_SELECTOR, 0);
    vmcs_write(GUEST_CS_BASE, pa(l2_vmcall));
    vmcs_write(GUEST_CS_LIMIT, 0xffff);
    vmcs_write(GUEST_CS_AR_BYTES, real_code_ar);
    static const uint32_t data_selectors[] = { GUEST_SS_SELECTOR, GUEST_DS_SELECTOR,
                                               GUEST_ES_SELECTOR, GUEST_FS_SELECTOR,
                                               GUEST_GS_SELECTOR };
    for (unsigned i = 0; i < sizeof(data_selectors) / sizeof(data_selectors[0]); i++) {
        unsigned index = (data_selectors[i] - GUEST_ES_SELECTOR) / 2;
        vmcs_write(data_selectors[i], 0);
        vmcs_write(GUEST_ES_BASE + 2 * index, 0);
        vmcs_write(GUEST_ES_LIMIT + 2 * index, 0xffff);
        vmcs_write(GUEST_ES_AR_BYTES + 2 * index, real_data_ar);
    }
    l2.program = (const char *)0;     /* RIP is relative to CS.base */
    vmcs_write(GUEST_RIP, 0);
    vmcs_write(GUEST_RSP, 0x1000);
    expect_exit("L2 in real mode with unrestricted guest runs to its VMCALL", l2_run(),
                VMCALL_AT(0), SHOW_RIP | SHOW_LENGTH, NULL);
}

static void mask_legacy_pic(void)
{
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
}

/* What L2's VMREAD or VMWRITE did, from the flags it left (SDM Vol. 3C
 * 31.2): VMfailInvalid, VMfailValid with the error in the current VMCS
 * (L1's, in VMX non-root operation: 31.3), or success with `value`. */
static struct outcome l2_vmx_outcome(uint64_t value)
{
    uint64_t rflags = vmcs_read(GUEST_RFLAGS);
    if (rflags & RFLAGS_CF)
        return fail_invalid();
    if (rflags & RFLAGS_ZF)
        return fail_valid((enum vm_instruction_error)vmcs_read(VM_INSTRUCTION_ERROR));
    return ok_value(value);
}

/* VMCS shadowing for L1's own guest (SDM Vol. 3C 25.10, 26.1.3, 31.3):
 * L2's VMREAD and VMWRITE of a field whose bitmap bit is clear act on the
 * shadow VMCS the link pointer names, without a VM exit; a set bit, or an
 * encoding beyond bits 14:0, exits; with no shadow VMCS they fail; an
 * unsupported field fails with its error in L1's current VMCS; VM entry
 * wants the link pointer to name a shadow VMCS. */
static void l2_shadowing_checks(void)
{
    const char *group = "VMCS shadowing";
    if (!(caps.may_be_1[VMX_CTL_PROC] & PROC_ACTIVATE_SECONDARY) ||
        !(caps.may_be_1[VMX_CTL_PROC2] & PROC2_VMCS_SHADOWING)) {
        printf("vmx_probe: %s: skipped, not offered\n", group);
        return;
    }
    const uint64_t exceptions = 0x5a5a, rip = 0x12345678, written = 0xfeed;
    const uint32_t unsupported = 0x7ffe;     /* no field has this encoding */
    uint64_t region = stamp(shadow_vmcs, caps.revision | SHADOW_VMCS_INDICATOR);
    try_vmclear(region);
    if (!expect("VMPTRLD of a shadow VMCS to fill it", try_vmptrld(region), ok()))
        return;
    vmcs_write(EXCEPTION_BITMAP, exceptions);
    vmcs_write(GUEST_RIP, rip);
    try_vmclear(region);
    if (!l2_setup(group, l2_vmread, CONTROLS([VMX_CTL_PROC] = PROC_ACTIVATE_SECONDARY,
                                             [VMX_CTL_PROC2] = PROC2_VMCS_SHADOWING)))
        return;
    memset(vmread_bitmap, 0xff, sizeof(vmread_bitmap));
    memset(vmwrite_bitmap, 0xff, sizeof(vmwrite_bitmap));
    clear_bit(vmread_bitmap, EXCEPTION_BITMAP);
    clear_bit(vmread_bitmap, GUEST_RIP);
    clear_bit(vmread_bitmap, unsupported);
    clear_bit(vmwrite_bitmap, GUEST_RIP);
    vmcs_write(VMREAD_BITMAP, pa(vmread_bitmap));
    vmcs_write(VMWRITE_BITMAP, pa(vmwrite_bitmap));
    vmcs_write(VMCS_LINK_POINTER, region);
    const unsigned show = SHOW_LENGTH | SHOW_RIP;

    l2.regs.rcx = EXCEPTION_BITMAP;
    struct vm_exit e = l2_run();
    expect_exit("L2's VMREAD of a field whose VMREAD bit is clear", e, VMCALL_AT(LEN_VMREAD), show,
                NULL);
    expect("L2's VMREAD reads the shadow VMCS", l2_vmx_outcome(l2.regs.rax), ok_value(exceptions));
    l2_goto(l2_vmread);
    l2.regs.rcx = GUEST_RSP;
    expect_exit("L2's VMREAD of a field whose VMREAD bit is set", l2_run(),
                EXIT(EXIT_REASON_VMREAD, .length = LEN_VMREAD, .rip = 0), show, NULL);
    l2_goto(l2_vmread);
    l2.regs.rcx = 1ull << 32 | EXCEPTION_BITMAP;
    expect_exit("L2's VMREAD of an encoding beyond bits 14:0", l2_run(),
                EXIT(EXIT_REASON_VMREAD, .length = LEN_VMREAD, .rip = 0), show, NULL);
    l2_goto(l2_vmread);
    l2.regs.rcx = unsupported;
    expect_exit("L2's VMREAD of an unsupported field, bit clear", l2_run(), VMCALL_AT(LEN_VMREAD),
                show, NULL);
    expect("L2's VMREAD of an unsupported field fails", l2_vmx_outcome(l2.regs.rax),
           fail_valid(VMXERR_UNSUPPORTED_COMPONENT));

    l2_goto(l2_vmwrite);
    l2.regs.rcx = GUEST_RIP;
    l2.regs.rax = written;
    expect_exit("L2's VMWRITE of a field whose VMWRITE bit is clear", l2_run(),
                VMCALL_AT(LEN_VMWRITE), show, NULL);
    expect("L2's VMWRITE succeeds", l2_vmx_outcome(0), ok_value(0));
    if (expect("VMPTRLD of the shadow VMCS after L2's VMWRITE", try_vmptrld(region), ok())) {
        expect("L2's VMWRITE is in the shadow VMCS", try_vmread(GUEST_RIP), ok_value(written));
        try_vmclear(region);
        if (!expect("VMPTRLD of L2's VMCS again", try_vmptrld(pa(vmcs)), ok()))
            return;
    }
    l2_goto(l2_vmwrite);
    l2.regs.rcx = EXCEPTION_BITMAP;
    expect_exit("L2's VMWRITE of a field whose VMWRITE bit is set", l2_run(),
                EXIT(EXIT_REASON_VMWRITE, .length = LEN_VMWRITE, .rip = 0), show, NULL);

    vmcs_write(VMCS_LINK_POINTER, ~0ull);
    l2_goto(l2_vmread);
    l2.regs.rcx = EXCEPTION_BITMAP;
    expect_exit("L2's VMREAD with no shadow VMCS, bit clear", l2_run(), VMCALL_AT(LEN_VMREAD), show,
                NULL);
    expect("L2's VMREAD with no shadow VMCS fails", l2_vmx_outcome(l2.regs.rax), fail_invalid());

    /* VM entry: with VMCS shadowing the link pointer names a shadow VMCS
     * (27.3.1.5); a fresh VMCS, since this one was launched. */
    if (!l2_setup(group, l2_vmread, CONTROLS([VMX_CTL_PROC] = PROC_ACTIVATE_SECONDARY,
                                             [VMX_CTL_PROC2] = PROC2_VMCS_SHADOWING)))
        return;
    vmcs_write(VMREAD_BITMAP, pa(vmread_bitmap));
    vmcs_write(VMWRITE_BITMAP, pa(vmwrite_bitmap));
    vmcs_write(VMCS_LINK_POINTER, stamp(probe_page, caps.revision));
    expect_exit("VMLAUNCH with shadowing and a link pointer to an ordinary VMCS", l2_run(),
                FAILED_ENTRY(EXIT_REASON_INVALID_GUEST_STATE, .qualification = 4),
                SHOW_QUALIFICATION, NULL);
}

static void l2_checks(void)
{
    build_l2_idt();
    mask_legacy_pic();
    l2_basic_checks();
    l2_io_checks();
    l2_msr_bitmap_checks();
    l2_msr_bitmap_stored_check();
    l2_cr_checks();
    l2_exception_checks();
    l2_injection_checks();
    l2_injection_left_check();
    host_state_rewritten_check();
    l2_interrupt_checks();
    l2_nmi_checks();
    l2_preemption_timer_checks();
    l2_msr_area_checks();
    l2_guest_state_checks();
    l2_triple_fault_checks();
    l2_ept_checks();
    l2_ept_ad_checks();
    l2_msr_bitmap_written_by_l2_check();
    invalidation_checks();
    l2_vpid_and_unrestricted_checks();
    l2_shadowing_checks();
    l2_interrupt_before_vmxon_check();
}

/* ====================================================================== */
/* The probe's modes, chosen by its command line (empty: the checks       */
/* above). Each runs as an L1 hypervisor on the same VMCS setup (l2_setup) */
/* and L2 runner (l2_enter) as part 2.                                     */
/*                                                                        */
/*   fuzz SEED COUNT   a differential vmcs12 fuzzer: one verdict per case   */
/*   bench ITERATIONS  L2's CPUID round trip through L1's exit handler     */
/*   soak SECONDS      L2 loops on CPUID and I/O, L1 checks every exit     */
/* ====================================================================== */

/* VMX operation for a mode: the capability MSRs (discover), CR4.VMXE,
 * VMXON; L2's IDT and the legacy PICs masked, as for part 2. Passing steps
 * print nothing. */
static bool mode_enter_vmx(const char *mode)
{
    quiet = true;
    bool entered = discover() &&
                   expect("MOV to CR4 setting VMXE", try_write_cr4(read_cr4() | CR4_VMXE), ok()) &&
                   expect("VMXON", try_vmxon(stamp(vmxon_region, caps.revision)), ok());
    if (!entered) {
        printf("vmx_probe: %s: cannot run without VMX operation\n", mode);
        return false;
    }
    build_l2_idt();
    mask_legacy_pic();
    return true;
}

static void mode_leave_vmx(void)
{
    try_vmclear(pa(vmcs));
    try_vmxoff();
    try_write_cr4(read_cr4() & ~CR4_VMXE);
}

/* L1's answer to L2's CPUID, as a hypervisor gives it: L2's RAX-RDX from
 * `r`, RIP past the instruction (the exit's instruction length). */
static void l1_emulate_cpuid(struct cpuid_regs r)
{
    l2.regs.rax = r.eax;
    l2.regs.rbx = r.ebx;
    l2.regs.rcx = r.ecx;
    l2.regs.rdx = r.edx;
    vmcs_write(GUEST_RIP, vmcs_read(GUEST_RIP) + vmcs_read(VM_EXIT_INSTRUCTION_LEN));
}

/* ---------------------------------------------------------------------- */
/* bench ITERATIONS: L2 (l2_bench) times ITERATIONS CPUIDs with RDTSC into
 * bench_samples; L1 handles each CPUID exit with what a hypervisor needs
 * (VMREAD of the reason and the instruction length, VMREAD and VMWRITE of
 * RIP, L2's registers from a table read once) and VMRESUMEs. Bare on Bochs
 * that is Bochs' own exit and entry through this L1; under vmxvisor the
 * nested round trip (L2 -> L0 -> L1, its VMREADs and VMWRITEs, L1's
 * VMRESUME -> L0 -> L2). */
#define BENCH_MAX_ITERATIONS 20000
static uint64_t bench_samples[BENCH_MAX_ITERATIONS];

static int bench_mode(uint64_t iterations)
{
    if (iterations == 0 || iterations > BENCH_MAX_ITERATIONS) {
        printf("vmx_probe: bench: ITERATIONS must be 1 to %u\n", BENCH_MAX_ITERATIONS);
        return 1;
    }
    if (!mode_enter_vmx("bench") || !l2_setup("bench", l2_bench, NO_EXTRA_CONTROLS))
        return 1;
    const struct cpuid_regs leaf0 = cpuid(0, 0);
    l2.regs.rdi = pa(bench_samples);
    l2.regs.rsi = iterations;
    uint64_t exits = 0;
    uint32_t reason = 0;
    int status = 0;
    for (bool launched = false;; launched = true) {
        int failed = vmx_enter(&l2.regs, launched);
        if (failed) {
            printf("vmx_probe: bench: VM entry failed (%s)\n",
                   failed == 1 ? "VMfailValid" : "VMfailInvalid");
            status = 1;
            break;
        }
        reason = (uint32_t)vmcs_read(VM_EXIT_REASON);
        if (reason != EXIT_REASON_CPUID)
            break;
        exits++;
        l1_emulate_cpuid(leaf0);
    }
    mode_leave_vmx();
    if (status)
        return status;
    if (reason != EXIT_REASON_VMCALL || exits != iterations) {
        printf("vmx_probe: bench: L2 ended with exit reason %u after %lu CPUID exits\n", reason,
               exits);
        return 1;
    }
    bench_report("nested_cpuid_exit", median(bench_samples, iterations), "ticks");
    printf("vmx_probe: bench: %lu L2 CPUID exits\n", exits);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* soak SECONDS: L2 (l2_soak) loops for ever: R12 += 1, CPUID, a busy wait,
 * every 64th round an OUT and IN of COM1's scratch register that L1 does
 * not intercept (under vmxvisor L0 emulates it for L2). L1 handles each
 * CPUID exit and checks L2's state: R12 one more than at the last exit, RIP
 * at l2_soak's CPUID and RSP at the top of L2's stack (l2_soak pushes
 * nothing); it answers with RAX = R12's low half, which L2 checks. With
 * VMCS shadowing offered, L2 also VMWRITEs R12 into its shadow VMCS's
 * GUEST_RIP before each CPUID (the VMWRITE bitmap lets that field
 * through), and L1 reads it back there (VMPTRLD, VMREAD, VMCLEAR, VMPTRLD
 * of L2's VMCS again): under vmxvisor the write lands in L0's shadow VMCS
 * for L2, to be written back into L1's region wherever L1 runs then. Any
 * other exit (L2's VMCALL when its own check failed) is an error. Every
 * emulated second (the TSC rate of CPUID leaf 0x15, else vmxrun's 50 M
 * instructions per second) a progress line. For tests that move the L1 VM
 * between CPUs while L2 runs. */
#define SOAK_SPIN 20000             /* L2's busy wait between CPUIDs */
#define SOAK_DEFAULT_TSC_HZ 50000000ull

static uint64_t soak_tsc_hz(void)
{
    struct cpuid_regs r = cpuid(0x15, 0);
    return r.eax && r.ebx && r.ecx ? (uint64_t)r.ecx * r.ebx / r.eax : SOAK_DEFAULT_TSC_HZ;
}

/* L2's VMWRITE of R12 in the shadow VMCS, as L1 reads it back there. */
static bool soak_shadow_agrees(uint64_t region)
{
    bool loaded = try_vmptrld(region).kind == OUT_OK;
    struct outcome read = try_vmread(GUEST_RIP);
    try_vmclear(region);
    if (try_vmptrld(pa(vmcs)).kind != OUT_OK || !loaded || read.kind != OUT_OK ||
        read.value != l2.regs.r12) {
        printf("vmx_probe: soak: shadow VMCS: GUEST_RIP %lu (expected %lu): error\n", read.value,
               l2.regs.r12);
        return false;
    }
    return true;
}

static int soak_mode(uint64_t seconds)
{
    if (!mode_enter_vmx("soak"))
        return 1;
    bool shadowing = (caps.may_be_1[VMX_CTL_PROC] & PROC_ACTIVATE_SECONDARY) &&
                     (caps.may_be_1[VMX_CTL_PROC2] & PROC2_VMCS_SHADOWING);
    uint64_t region = stamp(shadow_vmcs, caps.revision | SHADOW_VMCS_INDICATOR);
    if (shadowing)
        try_vmclear(region);
    if (!l2_setup("soak", l2_soak, shadowing ? CONTROLS([VMX_CTL_PROC] = PROC_ACTIVATE_SECONDARY,
                                                       [VMX_CTL_PROC2] = PROC2_VMCS_SHADOWING)
                                             : NO_EXTRA_CONTROLS))
        return 1;
    if (shadowing) {
        memset(vmread_bitmap, 0xff, sizeof(vmread_bitmap));
        memset(vmwrite_bitmap, 0xff, sizeof(vmwrite_bitmap));
        clear_bit(vmwrite_bitmap, GUEST_RIP);
        vmcs_write(VMREAD_BITMAP, pa(vmread_bitmap));
        vmcs_write(VMWRITE_BITMAP, pa(vmwrite_bitmap));
        vmcs_write(VMCS_LINK_POINTER, region);
    }
    printf("vmx_probe: soak: L2 %s VMCS shadowing\n", shadowing ? "with" : "without");
    const uint64_t hz = soak_tsc_hz(), stack_top = pa(l2_stack + sizeof(l2_stack));
    uint64_t exits = 0, errors = 0, counter = 0, elapsed = 0;
    l2.regs.r12 = 0;
    l2.regs.r13 = SOAK_SPIN;
    l2.regs.r15 = shadowing;
    uint64_t next = rdtsc() + hz;
    for (bool launched = false; elapsed < seconds && !errors; launched = true) {
        int failed = vmx_enter(&l2.regs, launched);
        if (failed) {
            printf("vmx_probe: soak: VM entry failed (%s)\n",
                   failed == 1 ? "VMfailValid" : "VMfailInvalid");
            errors++;
            break;
        }
        exits++;
        uint32_t reason = (uint32_t)vmcs_read(VM_EXIT_REASON);
        uint64_t rip = vmcs_read(GUEST_RIP), rsp = vmcs_read(GUEST_RSP);
        if (reason != EXIT_REASON_CPUID) {
            printf("vmx_probe: soak: exit reason %u at L2 RIP +%lu (R12 %lu): error\n", reason,
                   rip - pa(l2_soak), l2.regs.r12);
            errors++;
            break;
        }
        if (l2.regs.r12 != counter + 1 || rip < pa(l2_soak) || rip >= pa(l2_soak_end) ||
            rsp != stack_top) {
            printf("vmx_probe: soak: L2 state: R12 %lu (expected %lu), RIP +%lu, RSP 0x%lx "
                   "(expected 0x%lx): error\n",
                   l2.regs.r12, counter + 1, rip - pa(l2_soak), rsp, stack_top);
            errors++;
            break;
        }
        if (shadowing && !soak_shadow_agrees(region)) {
            errors++;
            break;
        }
        counter = l2.regs.r12;
        l1_emulate_cpuid((struct cpuid_regs){ .eax = (uint32_t)counter });
        if (rdtsc() >= next) {
            next += hz;
            elapsed++;
            printf("vmx_probe: soak: %lu L2 exits, ok\n", exits);
        }
    }
    mode_leave_vmx();
    printf("vmx_probe: soak: done, %lu L2 exits, %lu errors\n", exits, errors);
    return errors ? 1 : 0;
}

/* ---------------------------------------------------------------------- */
/* fuzz SEED COUNT: a differential vmcs12 fuzzer (after NecoFuzz). Each
 * case starts from the VMCS that enters (l2_setup: a fresh region, VMCLEAR,
 * VMPTRLD, the full valid state; L2 at l2_vmcall, an IDT whose every vector
 * reports with VMCALL, the exception bitmap all ones), applies 1-3 seeded
 * mutations near the validity boundary, VMLAUNCHes and prints one verdict:
 *
 *     vmx_fuzz: case N: VMfailInvalid | VMfailValid E |
 *                       entry failure R Q | L2 ran: exit R
 *
 * (R with bit 31 for an entry failure, Q its qualification; a fault of
 * VMLAUNCH itself would end the run: nothing here mutates what it faults
 * on, CPL and mode, SDM Vol. 3C 31.3). The same SEED
 * must give the same lines bare on Bochs and under vmxvisor
 * (tests/nested_fuzz_compare). The cases stay where the SDM determines the
 * outcome and the two sides offer the same capabilities; left out, and why:
 *
 *  - Controls outside a fixed set (fuzz_must1/flex/reserved): the set is
 *    what vmxvisor emulates for L1 (nested/vmx_caps.h) and Bochs'
 *    tigerlake offers; a CPU whose capability MSRs differ on it does not
 *    fuzz (one line says so), so the two sides never fuzz different spaces.
 *    The VMX-preemption timer is left out: its rate (IA32_VMX_MISC[4:0],
 *    SDM Vol. 3D A.6) differs, so a non-zero value races L2's VMCALL.
 *  - Control-field and host-state errors in one case: SDM Vol. 3C 27.2 lets
 *    the checks run in any order, so VMfailValid 7 or 8 would be either.
 *    A case mutates controls or host state, never both.
 *  - The VMCS link pointer with another guest-state error: the
 *    qualification (4 or 0, SDM Vol. 3C 27.8) would depend on the order of
 *    the guest-state checks, which the SDM does not fix. (So an injected
 *    external interrupt beside it gets RFLAGS.IF, 27.3.1.4.)
 *  - Activity states shutdown and wait-for-SIPI: offered per IA32_VMX_MISC
 *    [8:7] (Bochs has them, vmxvisor not), and L2 would wait there for an
 *    event that never comes. HLT only with an injected event, which wakes
 *    it (SDM Vol. 3C 27.7.2); HLT with nothing to wake it would hang.
 *  - CR3-target counts 1-4 (IA32_VMX_MISC[24:16] differs: 4 and 0), a
 *    zero instruction length for software events (IA32_VMX_MISC[30]),
 *    an error code for an exception without one (IA32_VMX_BASIC[56], SDM
 *    Vol. 3C 27.2.1.3), event type 7 (needs the monitor trap flag, which
 *    vmxvisor does not offer), vector 21 (#CP: its error-code rule depends
 *    on CET), error codes with bits 31:15 set (older SDMs made 31:16 a
 *    check), an injected NMI with blocking by NMI (the rule without
 *    virtual NMIs changed between SDM revisions).
 *  - Interruptibility bit 4 (enclave; a check only with SGX), IA32_DEBUGCTL
 *    bits whose reservedness is model-specific (27.3.1.1: only 2-5 and 63
 *    are used as reserved), guest CR0.NW without CD and CR4.LA57 (L2's
 *    paging would change under it), pending debug exceptions other than a
 *    reserved bit (their delivery at entry, 27.7.3, is out of scope here).
 *  - VM-exit MSR-store and -load lists that fail (a VMX abort, SDM Vol. 3C
 *    28.7) and lists longer than 512 entries (IA32_VMX_MISC[27:25]: more
 *    may cause a machine check). Only MSRs both sides have are named, and
 *    as entries that must fail only FS_BASE, GS_BASE and x2APIC MSRs
 *    (27.4), whatever the model.
 *  - Host-state values that enter but would leave L1 unable to go on (a
 *    valid other host RIP, GDTR, IDTR or TR base); other valid changes of
 *    L1's state by the VM exit (CR0, CR3, CR4, EFER, PAT, segments, MSRs)
 *    are undone after each case.
 *  - Address widths: every "beyond the physical-address width" value sets
 *    bit 62 and every non-canonical one bit 56, so neither MAXPHYADDR nor
 *    4- or 5-level paging changes the outcome.
 */
#define FUZZ_BEYOND_WIDTH (1ull << 62)
#define FUZZ_NONCANONICAL (1ull << 56)
#define FUZZ_MSR_LIST_ENTRIES 4
#define FUZZ_MAX_MUTATIONS 3
#define CR0_WP_BIT (1ull << 16)
#define CR0_NW_BIT (1ull << 29)
#define CR0_CD_BIT (1ull << 30)
#define CR4_PCIDE_BIT (1ull << 17)
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_DF (1ull << 10)
#define RFLAGS_VM (1ull << 17)
#define RFLAGS_AC (1ull << 18)
#define INTR_TYPE(t) ((uint32_t)(t) << 8)
#define INTR_TYPE_NMI 2u
#define MSR_LSTAR 0xc0000082u
#define MISC_ACTIVITY_HLT (1ull << 6)
#define PAT_ALL_WB 0x0606060606060606ull

/* The fixed control space: the default1 bits that must be 1 (all but
 * those the TRUE MSRs free: CR3-load and -store exiting, save and load
 * debug controls, SDM Vol. 3D A.2), the controls that may flip (vmxvisor's
 * NESTED_*_EMULATED but the preemption timer), and bits no model offers. */
static const uint32_t fuzz_must1[VMX_CTL_CLASSES] = {
    [VMX_CTL_PIN] = VMX_PIN_DEFAULT1,
    [VMX_CTL_PROC] = VMX_PROC_DEFAULT1 & ~(PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING),
    [VMX_CTL_EXIT] = VMX_EXIT_DEFAULT1 & ~EXIT_SAVE_DEBUG_CONTROLS,
    [VMX_CTL_ENTRY] = VMX_ENTRY_DEFAULT1 & ~ENTRY_LOAD_DEBUG_CONTROLS,
};
static const uint32_t fuzz_flex[VMX_CTL_CLASSES] = {
    [VMX_CTL_PIN] = NESTED_PIN_EMULATED & ~PIN_PREEMPTION_TIMER,
    [VMX_CTL_PROC] = NESTED_PROC_EMULATED,
    [VMX_CTL_PROC2] = NESTED_PROC2_EMULATED,
    [VMX_CTL_EXIT] = NESTED_EXIT_EMULATED,
    [VMX_CTL_ENTRY] = NESTED_ENTRY_EMULATED,
};
static const uint32_t fuzz_reserved[VMX_CTL_CLASSES] = {
    [VMX_CTL_PIN] = 1u << 7 | 1u << 31,
    [VMX_CTL_PROC] = 1u << 0 | 1u << 17 | 1u << 18,
    [VMX_CTL_PROC2] = 1u << 31,
    [VMX_CTL_EXIT] = 1u << 24 | 1u << 31,
    [VMX_CTL_ENTRY] = 1u << 16 | 1u << 31,
};
/* The exit controls that decide host-state checks (SDM Vol. 3C 27.2.2,
 * 27.2.4) and the entry controls that decide guest-state checks (27.3.1):
 * their flips belong to the host and guest mutations. */
#define FUZZ_EXIT_HOST (EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_PAT | EXIT_LOAD_EFER)
static const uint32_t control_fields[VMX_CTL_CLASSES] = {
    [VMX_CTL_PIN] = PIN_BASED_VM_EXEC_CONTROL, [VMX_CTL_PROC] = CPU_BASED_VM_EXEC_CONTROL,
    [VMX_CTL_PROC2] = SECONDARY_VM_EXEC_CONTROL, [VMX_CTL_EXIT] = VM_EXIT_CONTROLS,
    [VMX_CTL_ENTRY] = VM_ENTRY_CONTROLS,
};

/* Whether this CPU's capability MSRs give exactly the fixed space; if
 * not, one line says where they differ. */
static bool fuzz_space_offered(void)
{
    for (int cls = 0; cls < VMX_CTL_CLASSES; cls++) {
        uint32_t must = caps.must_be_1[cls], may = caps.may_be_1[cls];
        if (cls == VMX_CTL_PROC2 && !(caps.may_be_1[VMX_CTL_PROC] & PROC_ACTIVATE_SECONDARY))
            must = may = 0;
        const char *problem = must != fuzz_must1[cls] ? "must-be-1 bits"
                              : (fuzz_flex[cls] & ~may) ? "missing controls"
                              : (fuzz_reserved[cls] & may) ? "offered reserved bits" : NULL;
        if (problem) {
            printf("vmx_fuzz: cannot run: the %s controls (must be 1 0x%x, may be 1 0x%x) are "
                   "not the fixed space (must be 1 0x%x, flipped 0x%x, reserved 0x%x): %s\n",
                   control_class_names[cls], must, may, fuzz_must1[cls], fuzz_flex[cls],
                   fuzz_reserved[cls], problem);
            return false;
        }
    }
    if (!(caps.misc & MISC_ACTIVITY_HLT)) {
        printf("vmx_fuzz: cannot run: IA32_VMX_MISC does not offer the HLT activity state\n");
        return false;
    }
    return true;
}

/* xorshift64, each case seeded from SEED and its number (splitmix64), so
 * that one case can be run again alone. */
static uint64_t fuzz_state;
static uint64_t fuzz_random(void)
{
    fuzz_state ^= fuzz_state << 13;
    fuzz_state ^= fuzz_state >> 7;
    fuzz_state ^= fuzz_state << 17;
    return fuzz_state;
}
static void fuzz_seed(uint64_t seed, uint64_t n)
{
    uint64_t z = seed * 0x9e3779b97f4a7c15ull + n + 1;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    fuzz_state = (z ^ (z >> 31)) | 1;
}
static unsigned fuzz_pick(unsigned n) { return (unsigned)(fuzz_random() % n); }
static uint64_t fuzz_one_of(const uint64_t *values, unsigned n) { return values[fuzz_pick(n)]; }
#define ONE_OF(...) fuzz_one_of((const uint64_t[]){ __VA_ARGS__ }, \
                                sizeof((const uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t))
/* One set bit of `set` (not 0). */
static uint32_t fuzz_bit(uint32_t set)
{
    unsigned k = fuzz_pick((unsigned)__builtin_popcount(set));
    for (; k; k--)
        set &= set - 1;
    return set & -set;
}

/* With "verbose" on the command line each mutation's VMWRITE is shown
 * before its case's verdict, to look into a case that differs. */
static bool fuzz_verbose;
static void fuzz_write(uint32_t field, uint64_t value)
{
    if (fuzz_verbose)
        printf("vmx_fuzz:   field 0x%x = 0x%lx\n", field, value);
    vmcs_write(field, value);
}
static void vmcs_or(uint32_t field, uint64_t bits) { fuzz_write(field, vmcs_read(field) | bits); }
static void vmcs_xor(uint32_t field, uint64_t bits) { fuzz_write(field, vmcs_read(field) ^ bits); }

/* A field and a value for it: the mutations that set one of a list. */
struct fuzz_write { uint32_t field; uint64_t value; };
#define WRITE_ONE_OF(...) do { const struct fuzz_write w_[] = { __VA_ARGS__ };      \
                               const struct fuzz_write *p_ = &w_[fuzz_pick(sizeof(w_) / sizeof(w_[0]))]; \
                               fuzz_write(p_->field, p_->value); } while (0)

/* L1's values, for the valid state and for undoing what a VM exit loads. */
static struct {
    uint64_t cr0, cr3, cr4, efer, pat;
    uint64_t msr[8];
} l1_state;
static const uint32_t l1_msrs[8] = {
    MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP, MSR_STAR, MSR_LSTAR,
    MSR_KERNEL_GS_BASE, MSR_FS_BASE, MSR_GS_BASE,
};

static void l1_state_save(void)
{
    l1_state.cr0 = read_cr0();
    l1_state.cr3 = read_cr3();
    l1_state.cr4 = read_cr4();
    l1_state.efer = rdmsr(MSR_IA32_EFER);
    l1_state.pat = rdmsr(MSR_IA32_PAT);
    for (unsigned i = 0; i < 8; i++)
        l1_state.msr[i] = rdmsr(l1_msrs[i]);
}

static void l1_state_restore(void)
{
    write_cr0(l1_state.cr0);
    write_cr4(l1_state.cr4);
    write_cr3(l1_state.cr3);
    wrmsr(MSR_IA32_EFER, l1_state.efer);
    wrmsr(MSR_IA32_PAT, l1_state.pat);
    __asm__ volatile("mov %0, %%ds\n\tmov %0, %%es\n\tmov %0, %%ss\n\tmov %1, %%fs\n\tmov %1, %%gs"
                     :: "r"(SEL_KERNEL_DATA), "r"(0) : "memory");
    for (unsigned i = 0; i < 8; i++)
        wrmsr(l1_msrs[i], l1_state.msr[i]);
}

/* The MSR lists (SDM Vol. 3C 25.7.2, 25.8.2): in this probe's memory,
 * empty in the valid state; mutations fill entries and counts. */
static struct msr_entry fuzz_entry_load[FUZZ_MSR_LIST_ENTRIES] __attribute__((aligned(16)));
static struct msr_entry fuzz_exit_store[FUZZ_MSR_LIST_ENTRIES] __attribute__((aligned(16)));
static struct msr_entry fuzz_exit_load[FUZZ_MSR_LIST_ENTRIES] __attribute__((aligned(16)));
static uint8_t link_region[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static const struct { uint32_t count, address; struct msr_entry *list; } fuzz_lists[3] = {
    { VM_ENTRY_MSR_LOAD_COUNT, VM_ENTRY_MSR_LOAD_ADDR, fuzz_entry_load },
    { VM_EXIT_MSR_STORE_COUNT, VM_EXIT_MSR_STORE_ADDR, fuzz_exit_store },
    { VM_EXIT_MSR_LOAD_COUNT, VM_EXIT_MSR_LOAD_ADDR, fuzz_exit_load },
};

/* The valid state: l2_setup's, with the debug controls, PAT and EFER
 * loaded both ways, L1's host PAT and EFER, every exception exiting, no
 * secondary controls, the MSR lists empty. */
static bool fuzz_valid_vmcs(void)
{
    const uint32_t *extra = CONTROLS([VMX_CTL_EXIT] = EXIT_LOAD_PAT | EXIT_LOAD_EFER,
                                     [VMX_CTL_ENTRY] = ENTRY_LOAD_DEBUG_CONTROLS);
    if (!l2_setup("the fuzzer's valid VMCS", l2_vmcall, extra))
        return false;
    /* Entries that load, store and load again without fault, for counts
     * and addresses that take them in; the mutations replace some. */
    for (unsigned i = 0; i < FUZZ_MSR_LIST_ENTRIES; i++) {
        fuzz_entry_load[i] = (struct msr_entry){ MSR_IA32_SYSENTER_CS, 0, 0x10 + i };
        fuzz_exit_store[i] = (struct msr_entry){ MSR_IA32_SYSENTER_ESP, 0, 0 };
        fuzz_exit_load[i] = (struct msr_entry){ MSR_IA32_SYSENTER_CS, 0, l1_state.msr[0] };
    }
    const struct field_value fields[] = {
        VALUE(EXCEPTION_BITMAP, 0xffffffff),
        VALUE(SECONDARY_VM_EXEC_CONTROL, 0),
        VALUE(VMX_PREEMPTION_TIMER_VALUE, 0),
        VALUE(HOST_IA32_PAT, l1_state.pat),
        VALUE(HOST_IA32_EFER, l1_state.efer),
        VALUE(VM_ENTRY_MSR_LOAD_ADDR, pa(fuzz_entry_load)),
        VALUE(VM_EXIT_MSR_STORE_ADDR, pa(fuzz_exit_store)),
        VALUE(VM_EXIT_MSR_LOAD_ADDR, pa(fuzz_exit_load)),
    };
    return write_fields(fields, sizeof(fields) / sizeof(fields[0]), "the fuzzer's valid VMCS");
}

/* ---- Control fields (SDM Vol. 3C 27.2.1: VMfailValid 7) ---- */

static void mutate_flip_control(void)
{
    int cls = (int)ONE_OF(VMX_CTL_PIN, VMX_CTL_PROC, VMX_CTL_PROC2, VMX_CTL_EXIT);
    uint32_t set = fuzz_flex[cls] & (cls == VMX_CTL_EXIT ? ~(uint32_t)FUZZ_EXIT_HOST : ~0u);
    vmcs_xor(control_fields[cls], fuzz_bit(set));
}

static void mutate_clear_must1(void)
{
    int cls = (int)ONE_OF(VMX_CTL_PIN, VMX_CTL_PROC, VMX_CTL_EXIT, VMX_CTL_ENTRY);
    vmcs_xor(control_fields[cls], fuzz_bit(fuzz_must1[cls]));
}

static void mutate_set_reserved_control(void)
{
    int cls = (int)fuzz_pick(VMX_CTL_CLASSES);
    vmcs_or(control_fields[cls], fuzz_bit(fuzz_reserved[cls]));
    if (cls == VMX_CTL_PROC2)
        vmcs_or(CPU_BASED_VM_EXEC_CONTROL, PROC_ACTIVATE_SECONDARY);
}

/* 27.2.1.1: the bitmaps' addresses, with the control that uses them. */
static void mutate_bitmap_address(void)
{
    unsigned which = fuzz_pick(3);
    uint32_t field = which == 0 ? IO_BITMAP_A : which == 1 ? IO_BITMAP_B : MSR_BITMAP;
    vmcs_or(CPU_BASED_VM_EXEC_CONTROL, which < 2 ? PROC_USE_IO_BITMAPS : PROC_USE_MSR_BITMAPS);
    fuzz_write(field, vmcs_read(field) + ONE_OF(0x800, 8, FUZZ_BEYOND_WIDTH));
}

static void mutate_cr3_target_count(void)
{
    fuzz_write(CR3_TARGET_COUNT, ONE_OF(5, 0x100));
}

/* 27.2.1.2, 27.2.1.3: a list's address (its count at least 1) or count. */
static void mutate_msr_list(void)
{
    unsigned i = fuzz_pick(3);
    uint64_t count = vmcs_read(fuzz_lists[i].count);
    if (fuzz_pick(2)) {
        fuzz_write(fuzz_lists[i].address, pa(fuzz_lists[i].list) + ONE_OF(8, 16, 4, FUZZ_BEYOND_WIDTH));
        if (count == 0 || count > 2)
            fuzz_write(fuzz_lists[i].count, 1 + fuzz_pick(2));
    } else {
        fuzz_write(fuzz_lists[i].count, fuzz_pick(i == 0 ? FUZZ_MSR_LIST_ENTRIES + 1 : 3));
    }
}

/* 27.2.1.3: the VM-entry interruption information, error code and
 * instruction length, mostly valid events of each type; RFLAGS.IF on for
 * most external interrupts (27.3.1.4). */
static const uint32_t error_code_vectors = 1u << 8 | 1u << 10 | 1u << 11 | 1u << 12 |
                                           1u << 13 | 1u << 14 | 1u << 17;

static void mutate_injection(void)
{
    unsigned type = (unsigned)ONE_OF(0, 0, 1, 2, 3, 3, 3, 4, 5, 6);
    uint32_t vector = (uint32_t)fuzz_pick(256), error = 0;
    switch (type) {
    case INTR_TYPE_NMI:
        vector = fuzz_pick(4) ? 2 : vector;
        break;
    case 3:     /* hardware exception: 0-31 but #CP, sometimes beyond */
        vector = fuzz_pick(8) ? fuzz_pick(31) : 32 + fuzz_pick(224);
        if (vector == 21)
            vector = 22;
        if (vector < 32 && (error_code_vectors >> vector & 1))
            error = fuzz_pick(6) ? INTR_INFO_DELIVER_ERROR_CODE : 0;
        break;
    case 6:     /* software exception: INT3 or INTO, mostly */
        vector = fuzz_pick(4) ? (uint32_t)ONE_OF(3, 4) : vector;
        break;
    default:
        break;
    }
    if (type != 3 && !fuzz_pick(8))
        error = INTR_INFO_DELIVER_ERROR_CODE;   /* only hardware exceptions have one */
    uint32_t info = INTR_INFO_VALID | INTR_TYPE(type) | error | vector;
    if (!fuzz_pick(12))
        info |= 1u << (12 + fuzz_pick(19));     /* reserved bits 30:12 */
    fuzz_write(VM_ENTRY_INTR_INFO, info);
    fuzz_write(VM_ENTRY_EXCEPTION_ERROR_CODE, fuzz_pick(0x8000));
    if (type >= 4)
        fuzz_write(VM_ENTRY_INSTRUCTION_LEN, ONE_OF(1, 2, 3, 15, 16));
    if (type == 0 && fuzz_pick(4))
        vmcs_or(GUEST_RFLAGS, RFLAGS_IF);
}

/* ---- Host state (27.2.2-27.2.4: VMfailValid 8) ---- */

static void mutate_host_control_register(void)
{
    switch (fuzz_pick(3)) {
    case 0:
        fuzz_write(HOST_CR0, l1_state.cr0 ^ ONE_OF(CR0_PE, CR0_PG, CR0_NE, 1ull << 63, CR0_WP_BIT));
        break;
    case 1:
        fuzz_write(HOST_CR4, l1_state.cr4 ^ ONE_OF(CR4_VMXE, CR4_PAE, 1ull << 15, 1ull << 24, CR4_TSD));
        break;
    default:
        fuzz_write(HOST_CR3, ONE_OF(l1_state.cr3 | FUZZ_BEYOND_WIDTH, pa(l2_pml4)));
        break;
    }
}

static void mutate_host_selector(void)
{
    WRITE_ONE_OF({ HOST_CS_SELECTOR, SEL_KERNEL_CODE | 1 }, { HOST_CS_SELECTOR, 0 },
                 { HOST_TR_SELECTOR, 0 }, { HOST_TR_SELECTOR, SEL_TSS | 4 },
                 { HOST_SS_SELECTOR, SEL_KERNEL_DATA | 3 }, { HOST_SS_SELECTOR, 0 },
                 { HOST_DS_SELECTOR, 0 }, { HOST_DS_SELECTOR, SEL_KERNEL_DATA | 2 },
                 { HOST_ES_SELECTOR, SEL_KERNEL_DATA | 4 }, { HOST_FS_SELECTOR, SEL_KERNEL_DATA },
                 { HOST_GS_SELECTOR, 1 });
}

static void mutate_host_address(void)
{
    WRITE_ONE_OF({ HOST_FS_BASE, FUZZ_NONCANONICAL }, { HOST_FS_BASE, 0x12345000 },
                 { HOST_GS_BASE, FUZZ_NONCANONICAL }, { HOST_GS_BASE, 0xffff800000000000ull },
                 { HOST_TR_BASE, FUZZ_NONCANONICAL }, { HOST_GDTR_BASE, FUZZ_NONCANONICAL },
                 { HOST_IDTR_BASE, FUZZ_NONCANONICAL }, { HOST_IA32_SYSENTER_ESP, FUZZ_NONCANONICAL },
                 { HOST_IA32_SYSENTER_EIP, FUZZ_NONCANONICAL }, { HOST_IA32_SYSENTER_ESP, 0x5000 },
                 { HOST_IA32_SYSENTER_CS, 0x1234 }, { HOST_RIP, pa(vmx_exit_entry) | FUZZ_NONCANONICAL });
}

static void mutate_host_msr(void)
{
    if (fuzz_pick(2))
        fuzz_write(HOST_IA32_EFER, l1_state.efer ^ ONE_OF(EFER_LMA, EFER_LME, 1ull << 2, 1ull << 63, EFER_SCE));
    else
        fuzz_write(HOST_IA32_PAT, ONE_OF((l1_state.pat & ~0xffull) | 2, (l1_state.pat & ~(0xffull << 56)) | 8ull << 56,
                                         PAT_ALL_WB, 0x0007040600070406ull));
}

static void mutate_host_exit_control(void)
{
    vmcs_xor(VM_EXIT_CONTROLS, fuzz_bit(FUZZ_EXIT_HOST));
}

/* ---- Guest state: software checks (27.3.1.1-27.3.1.5) and the
 * processor's (segments, descriptor tables, RIP: 27.3.1.2, 27.3.1.3);
 * failures are entry failures, reason 33 ---- */

static void mutate_entry_control(void)
{
    vmcs_xor(VM_ENTRY_CONTROLS, fuzz_bit(fuzz_flex[VMX_CTL_ENTRY]));
}

static void mutate_guest_control_register(void)
{
    switch (fuzz_pick(3)) {
    case 0:
        vmcs_xor(GUEST_CR0, ONE_OF(CR0_PE, CR0_PG, CR0_NE, 1ull << 63, CR0_WP_BIT, CR0_TS,
                                   CR0_CD_BIT, CR0_CD_BIT | CR0_NW_BIT));
        break;
    case 1:
        vmcs_xor(GUEST_CR4, ONE_OF(CR4_VMXE, CR4_PAE, 1ull << 15, 1ull << 24, CR4_TSD, CR4_PCIDE_BIT));
        break;
    default:
        fuzz_write(GUEST_CR3, ONE_OF(l1_state.cr3 | FUZZ_BEYOND_WIDTH, pa(l2_pml4)));
        break;
    }
}

static void mutate_guest_msr(void)
{
    switch (fuzz_pick(4)) {
    case 0:
        vmcs_xor(GUEST_IA32_EFER, ONE_OF(EFER_LMA, EFER_LME, 1ull << 2, 1ull << 63, EFER_SCE, EFER_NXE));
        break;
    case 1:
        fuzz_write(GUEST_IA32_PAT, ONE_OF((l1_state.pat & ~0xffull) | 3, (l1_state.pat & ~(0xffull << 56)) | 8ull << 56,
                                          PAT_ALL_WB));
        break;
    case 2:
        fuzz_write(GUEST_IA32_DEBUGCTL, ONE_OF(0, 1, 2, 4, 1ull << 63));
        break;
    default:
        fuzz_write(GUEST_DR7, ONE_OF(DR7_INIT | 1, DR7_INIT | 1ull << 32, DR7_INIT | 1ull << 13));
        break;
    }
}

static void mutate_guest_rflags(void)
{
    vmcs_xor(GUEST_RFLAGS, ONE_OF(RFLAGS_FIXED, 1ull << 3, 1ull << 15, 1ull << 22, RFLAGS_IF,
                                  RFLAGS_TF, RFLAGS_VM, RFLAGS_AC, RFLAGS_DF));
}

static void mutate_guest_non_register_state(void)
{
    switch (fuzz_pick(3)) {
    case 0:
        fuzz_write(GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
        break;
    case 1:
        fuzz_write(GUEST_INTERRUPTIBILITY_INFO, ONE_OF(1, 2, 3, 4, 8, 0x20));
        break;
    default:
        fuzz_write(GUEST_PENDING_DBG_EXCEPTIONS, 1ull << 13);     /* reserved */
        break;
    }
}

static void mutate_guest_segment(void)
{
    WRITE_ONE_OF({ GUEST_CS_AR_BYTES, 0xc093 }, { GUEST_CS_AR_BYTES, 0xa19b },
                 { GUEST_CS_AR_BYTES, 0xe09b }, { GUEST_CS_AR_BYTES, 0xa01b },
                 { GUEST_CS_AR_BYTES, 0xa0fb }, { GUEST_CS_AR_BYTES, 0xa09f },
                 { GUEST_CS_AR_BYTES, 0x809b }, { GUEST_CS_AR_BYTES, 0x1a09b },
                 { GUEST_CS_AR_BYTES, 0xa08b },
                 { GUEST_SS_AR_BYTES, 0x1c093 }, { GUEST_SS_AR_BYTES, 0xc0f3 },
                 { GUEST_SS_AR_BYTES, 0xc091 }, { GUEST_SS_AR_BYTES, 0xc097 },
                 { GUEST_DS_AR_BYTES, 0x1c093 }, { GUEST_DS_AR_BYTES, 0xc09b },
                 { GUEST_ES_AR_BYTES, 0xc099 }, { GUEST_FS_AR_BYTES, 0xc013 },
                 { GUEST_GS_AR_BYTES, 0xc193 }, { GUEST_DS_AR_BYTES, 0xc083 },
                 { GUEST_TR_AR_BYTES, 0x83 }, { GUEST_TR_AR_BYTES, 0x89 },
                 { GUEST_TR_AR_BYTES, 0x1008b }, { GUEST_LDTR_AR_BYTES, 0x82 },
                 { GUEST_LDTR_AR_BYTES, 0x83 },
                 { GUEST_CS_LIMIT, 0xfffff }, { GUEST_DS_LIMIT, 0xffff }, { GUEST_SS_LIMIT, 0xfff },
                 { GUEST_TR_LIMIT, 0x67 }, { GUEST_TR_LIMIT, 0x100000 },
                 { GUEST_CS_SELECTOR, SEL_KERNEL_CODE | 3 }, { GUEST_TR_SELECTOR, SEL_TSS | 4 },
                 { GUEST_SS_SELECTOR, SEL_KERNEL_DATA | 1 }, { GUEST_LDTR_SELECTOR, 4 });
}

static void mutate_guest_address(void)
{
    WRITE_ONE_OF({ GUEST_RIP, FUZZ_NONCANONICAL | 0x100000 }, { GUEST_RIP, pa(l2_cpuid) },
                 { GUEST_RIP, pa(l2_ud2) }, { GUEST_GDTR_BASE, FUZZ_NONCANONICAL },
                 { GUEST_IDTR_BASE, FUZZ_NONCANONICAL }, { GUEST_GDTR_LIMIT, 0x10000 | 0xff },
                 { GUEST_IDTR_LIMIT, 0x10000 | 0xfff }, { GUEST_IDTR_LIMIT, 0xff },
                 { GUEST_FS_BASE, FUZZ_NONCANONICAL }, { GUEST_GS_BASE, FUZZ_NONCANONICAL },
                 { GUEST_TR_BASE, FUZZ_NONCANONICAL },
                 { GUEST_SYSENTER_ESP, FUZZ_NONCANONICAL }, { GUEST_SYSENTER_EIP, FUZZ_NONCANONICAL });
}

/* 27.3.1.5: all ones, or a page whose revision identifier must be the
 * VMCS's and whose bit 31 must be "VMCS shadowing" (0 here). */
static void mutate_link_pointer(void)
{
    uint32_t revision = caps.revision;
    switch (fuzz_pick(4)) {
    case 0:
        fuzz_write(VMCS_LINK_POINTER, pa(link_region) + UNALIGNED_OFFSET);
        break;
    case 1:
        fuzz_write(VMCS_LINK_POINTER, pa(link_region) | FUZZ_BEYOND_WIDTH);
        break;
    default:
        revision = (uint32_t)ONE_OF(revision, revision, revision ^ 1, revision | SHADOW_VMCS_INDICATOR);
        stamp(link_region, revision);
        if (fuzz_verbose)
            printf("vmx_fuzz:   link region: %s\n", revision == caps.revision ? "the VMCS revision"
                                                    : revision & SHADOW_VMCS_INDICATOR
                                                        ? "the shadow-VMCS indicator set"
                                                        : "another revision");
        fuzz_write(VMCS_LINK_POINTER, pa(link_region));
        break;
    }
}

/* ---- MSR-list entries (27.4: loading fails with reason 34, the
 * qualification the entry's number; 28.4, 28.6: the exit's lists only
 * valid) ---- */

static uint64_t fuzz_canonical_or_not(void)
{
    return fuzz_pick(3) ? 0xffff800000001000ull + (fuzz_random() & 0xffff000) : FUZZ_NONCANONICAL;
}

static void mutate_msr_entry(void)
{
    unsigned list = fuzz_pick(3);
    unsigned i = fuzz_pick(list == 0 ? FUZZ_MSR_LIST_ENTRIES : 2);
    struct msr_entry *e = &fuzz_lists[list].list[i];
    if (list == 0) {
        switch (fuzz_pick(8)) {
        case 0: *e = (struct msr_entry){ MSR_IA32_SYSENTER_CS, 0, (uint32_t)fuzz_random() }; break;
        case 1: *e = (struct msr_entry){ MSR_IA32_SYSENTER_ESP, 0, fuzz_canonical_or_not() }; break;
        case 2: *e = (struct msr_entry){ MSR_STAR, 0, fuzz_random() }; break;
        case 3: *e = (struct msr_entry){ MSR_LSTAR, 0, fuzz_canonical_or_not() }; break;
        case 4: *e = (struct msr_entry){ MSR_KERNEL_GS_BASE, 0, fuzz_canonical_or_not() }; break;
        case 5: *e = (struct msr_entry){ (uint32_t)ONE_OF(MSR_FS_BASE, MSR_GS_BASE), 0, 0x1000 }; break;
        case 6: *e = (struct msr_entry){ (uint32_t)ONE_OF(0x800, 0x808, 0x8ff), 0, 0 }; break;
        default: *e = (struct msr_entry){ MSR_IA32_SYSENTER_EIP, 1, 0x1000 }; break;   /* reserved */
        }
    } else if (list == 1) {
        *e = (struct msr_entry){ (uint32_t)ONE_OF(MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_STAR,
                                                  MSR_LSTAR, MSR_KERNEL_GS_BASE), 0, 0 };
    } else {
        *e = fuzz_pick(2) ? (struct msr_entry){ MSR_IA32_SYSENTER_CS, 0, 0x4321 }
                          : (struct msr_entry){ MSR_STAR, 0, 0x0013000800000000ull };
    }
    if (fuzz_verbose)
        printf("vmx_fuzz:   MSR list %u entry %u: index 0x%x reserved 0x%x value 0x%lx\n", list, i,
               e->index, e->reserved, e->value);
    if (vmcs_read(fuzz_lists[list].count) <= i)
        fuzz_write(fuzz_lists[list].count, i + 1);
}

enum fuzz_scope { FUZZ_CONTROLS = 1, FUZZ_HOST = 2, FUZZ_GUEST = 4, FUZZ_LINK = 8, FUZZ_ANY = 16 };

static const struct { enum fuzz_scope scope; void (*mutate)(void); } mutations[] = {
    { FUZZ_CONTROLS, mutate_flip_control }, { FUZZ_CONTROLS, mutate_flip_control },
    { FUZZ_CONTROLS, mutate_clear_must1 }, { FUZZ_CONTROLS, mutate_set_reserved_control },
    { FUZZ_CONTROLS, mutate_bitmap_address }, { FUZZ_CONTROLS, mutate_cr3_target_count },
    { FUZZ_CONTROLS, mutate_msr_list }, { FUZZ_CONTROLS, mutate_injection },
    { FUZZ_CONTROLS, mutate_injection },
    { FUZZ_HOST, mutate_host_control_register }, { FUZZ_HOST, mutate_host_selector },
    { FUZZ_HOST, mutate_host_address }, { FUZZ_HOST, mutate_host_msr },
    { FUZZ_HOST, mutate_host_exit_control },
    { FUZZ_GUEST, mutate_entry_control }, { FUZZ_GUEST, mutate_guest_control_register },
    { FUZZ_GUEST, mutate_guest_msr }, { FUZZ_GUEST, mutate_guest_rflags },
    { FUZZ_GUEST, mutate_guest_non_register_state }, { FUZZ_GUEST, mutate_guest_non_register_state },
    { FUZZ_GUEST, mutate_guest_segment }, { FUZZ_GUEST, mutate_guest_segment },
    { FUZZ_GUEST, mutate_guest_address },
    { FUZZ_LINK, mutate_link_pointer },
    { FUZZ_ANY, mutate_msr_entry }, { FUZZ_ANY, mutate_msr_entry },
};

/* 1-3 mutations: of the controls or of the host state (never both), of
 * the guest state or else of the link pointer, of the MSR-list entries. */
static void fuzz_mutate(void)
{
    enum fuzz_scope side = fuzz_pick(2) ? FUZZ_CONTROLS : FUZZ_HOST;
    unsigned allowed = side | FUZZ_GUEST | FUZZ_LINK | FUZZ_ANY;
    for (unsigned n = 1 + fuzz_pick(FUZZ_MAX_MUTATIONS); n; n--) {
        unsigned m;
        do
            m = fuzz_pick(sizeof(mutations) / sizeof(mutations[0]));
        while (!(mutations[m].scope & allowed));
        mutations[m].mutate();
        if (mutations[m].scope & (FUZZ_GUEST | FUZZ_LINK))
            allowed &= ~(mutations[m].scope == FUZZ_GUEST ? FUZZ_LINK : FUZZ_GUEST | FUZZ_LINK);
    }
    /* What would hang or is not the SDM's to decide (above). */
    uint32_t info = (uint32_t)vmcs_read(VM_ENTRY_INTR_INFO);
    bool injecting = info & INTR_INFO_VALID;
    /* An injected external interrupt needs RFLAGS.IF (27.3.1.4): beside a
     * link-pointer mutation that would be a second guest-state error. */
    if (!(allowed & FUZZ_GUEST) && injecting && (info >> 8 & 7) == 0)
        vmcs_write(GUEST_RFLAGS, vmcs_read(GUEST_RFLAGS) | RFLAGS_IF);
    if (vmcs_read(GUEST_ACTIVITY_STATE) == ACTIVITY_HLT && !injecting)
        fuzz_write(GUEST_ACTIVITY_STATE, 0);
    if (injecting && (info >> 8 & 7) == INTR_TYPE_NMI)
        fuzz_write(GUEST_INTERRUPTIBILITY_INFO,
                   vmcs_read(GUEST_INTERRUPTIBILITY_INFO) & ~(uint64_t)INTERRUPTIBILITY_BLOCKED_BY_NMI);
}

/* With "isolated" on the command line each case also leaves and
 * re-enters VMX operation (VMXOFF, VMXON), so that nothing a hypervisor
 * keeps per VMX operation (vmxvisor's vmcs02) carries over from one case
 * to the next. */
static bool fuzz_isolated;

static void fuzz_case(uint64_t seed, unsigned n)
{
    fuzz_seed(seed, n);
    if (fuzz_isolated) {
        try_vmclear(pa(vmcs));
        try_vmxoff();
        struct outcome on = try_vmxon(stamp(vmxon_region, caps.revision));
        if (on.kind != OUT_OK) {
            printf("vmx_fuzz: case %u: VMXON failed\n", n);
            return;
        }
    }
    if (!fuzz_valid_vmcs()) {
        printf("vmx_fuzz: case %u: the valid VMCS could not be written\n", n);
        return;
    }
    fuzz_mutate();
    struct vm_exit e = l2_enter(true);
    l1_state_restore();
    char text[64];
    if (e.entry.kind != OUT_OK)
        format_outcome(text, sizeof(text), e.entry);
    else if (e.reason & EXIT_REASON_ENTRY_FAILURE)
        snprintf(text, sizeof(text), "entry failure 0x%x 0x%lx", e.reason, e.qualification);
    else
        snprintf(text, sizeof(text), "L2 ran: exit %u", e.reason);
    printf("vmx_fuzz: case %u: %s\n", n, text);
}

static int fuzz_mode(uint64_t seed, uint64_t count)
{
    if (!mode_enter_vmx("fuzz"))
        return 1;
    if (!fuzz_space_offered()) {
        mode_leave_vmx();
        return 1;
    }
    l1_state_save();
    build_l2_page_tables();
    printf("vmx_fuzz: seed %lu, %lu cases\n", seed, count);
    for (unsigned n = 0; n < count; n++)
        fuzz_case(seed, n);
    mode_leave_vmx();
    printf("vmx_fuzz: %lu cases\n", count);
    return 0;
}

/* The command line's mode: "fuzz SEED COUNT", "bench ITERATIONS", "soak
 * SECONDS"; empty, the checks. */
static int run_mode(const char *cmdline)
{
    const char *mode = cmdline_word(cmdline, 0);
    if (!strncmp(mode, "fuzz ", 5))
        return fuzz_verbose = cmdline_has(cmdline, "verbose"),
               fuzz_isolated = cmdline_has(cmdline, "isolated"),
               fuzz_mode(cmdline_number(cmdline_word(cmdline, 1), 1),
                         cmdline_number(cmdline_word(cmdline, 2), 100));
    if (!strncmp(mode, "bench ", 6) || !strcmp(mode, "bench"))
        return bench_mode(cmdline_number(cmdline_word(cmdline, 1), 2000));
    if (!strncmp(mode, "soak ", 5) || !strcmp(mode, "soak"))
        return soak_mode(cmdline_number(cmdline_word(cmdline, 1), 5));
    printf("vmx_probe: unknown mode '%s' (fuzz SEED COUNT, bench ITERATIONS, soak SECONDS)\n", mode);
    return 1;
}

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    (void)vcpu;
    (void)vcpus;
    guest_interrupts_init(false);
    gdt_load(&tables);
    if (*cmdline_word(cmdline, 0))
        return run_mode(cmdline);
    /* A failed step that later checks need ends the run early. */
    bool complete = discover() && outside_vmx_operation() && vmxon_checks();
    if (complete) {
        without_current_vmcs();
        complete = vmcs_pointer_checks();
        if (complete) {
            vmread_vmwrite_checks();
            complete = shadow_vmcs_checks() && restored_vmcs_checks() &&
                       remapped_operand_checks() && vm_entry_checks();
            if (complete)
                l2_checks();
        }
        leave_vmx_operation();
    }
    if (!complete)
        printf("vmx_probe: stopped early: a failed check above is a step the rest needs\n");
    printf("vmx_probe: %u checks, %u failed\n", checks, failures);
    return (int)failures;
}
