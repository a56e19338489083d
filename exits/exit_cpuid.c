/* CPUID: the host's answer, filtered to a virtual CPU the guest can rely on,
 * plus the hypervisor leaves (0x40000000: max leaf and signature). */
#include "dev/vlapic.h"
#include "exits/exits.h"
#include "nested/nested.h"
#include "virt/vm.h"
#include "virt/vcpu.h"
#include "arch/cpu.h"
#include "arch/cpuid_cache.h"
#include "arch/tsc.h"
#include "vmx/vmcs.h"

#define HYPERVISOR_LEAF_BASE    0x40000000u
#define HYPERVISOR_LEAF_MAX     0x40000001u
#define HYPERVISOR_LEAF_END     0x4fffffffu
/* "vmxvisor" then NULs, in EBX, ECX, EDX. */
#define SIGNATURE_EBX 0x76786d76u   /* "vmxv" */
#define SIGNATURE_ECX 0x726f7369u   /* "isor" */
#define SIGNATURE_EDX 0u

/* Leaf 1: features we do not virtualise (yet) are hidden. */
#define L1_ECX_MONITOR   (1u << 3)
#define L1_ECX_VMX       (1u << 5)
#define L1_ECX_SMX       (1u << 6)
#define L1_ECX_EST       (1u << 7)
#define L1_ECX_TM2       (1u << 8)
#define L1_ECX_PDCM      (1u << 15)
#define L1_ECX_X2APIC    (1u << 21)
#define L1_ECX_TSC_DEADLINE (1u << 24)
#define L1_ECX_OSXSAVE   (1u << 27)
#define L1_ECX_HYPERVISOR (1u << 31)
#define L1_EDX_MCE       (1u << 7)
#define L1_EDX_APIC      (1u << 9)
#define L1_EDX_MCA       (1u << 14)
#define L1_EDX_DS        (1u << 21)
#define L6_EAX_ARAT      (1u << 2)
#define L1_EDX_ACPI      (1u << 22)
#define L1_EDX_TM        (1u << 29)
#define L1_EDX_PBE       (1u << 31)

static void filter_leaf1(const struct vcpu *vcpu, struct cpuid_regs *r)
{
    r->ecx &= ~(L1_ECX_MONITOR | L1_ECX_VMX | L1_ECX_SMX | L1_ECX_EST | L1_ECX_TM2 |
                L1_ECX_PDCM | L1_ECX_OSXSAVE);
    /* The virtual APIC (dev/vlapic.c) has both, whatever the host has. */
    r->ecx |= L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE;
    r->ecx |= L1_ECX_HYPERVISOR;
    if (nested_offered(vcpu))           /* VMX for guests that are hypervisors */
        r->ecx |= L1_ECX_VMX;
    if (guest_cr4() & CR4_OSXSAVE)     /* OSXSAVE mirrors the guest's CR4 */
        r->ecx |= L1_ECX_OSXSAVE;
    /* No debug store is emulated: a CPU without it (guests then leave
     * DS_AREA alone). Machine checks are: IA32_MCG_* and a few banks
     * (virt/vcpu_msrs.c), as KVM always offers them. */
    r->edx &= ~(L1_EDX_ACPI | L1_EDX_TM | L1_EDX_PBE | L1_EDX_APIC | L1_EDX_DS);
    r->edx |= L1_EDX_MCE | L1_EDX_MCA;
    if (vlapic_mode(vcpu->apic) != APIC_MODE_DISABLED)   /* follows IA32_APIC_BASE.EN */
        r->edx |= L1_EDX_APIC;
    /* EBX[31:24] initial APIC ID, [23:16] logical processors in the package. */
    r->ebx = (r->ebx & 0xffff) | (vcpu->id << 24) | ((vcpu->vm->vcpu_count & 0xff) << 16);
}

/* Leaf 0xD: the state components are those XSETBV accepts
 * (guest_xcr0_supported: no AMX, none without a reported size). XSAVES is
 * hidden: it needs IA32_XSS, which is not emulated. */
#define LD1_EAX_XSAVES      (1u << 3)
#define XSTATE_PKRU         9
#define XSTATE_AMX_TILEDATA 18
#define XSTATE_FIRST_EXTENDED 2     /* x87 and SSE live in the legacy area */
#define XSAVE_LEGACY_AND_HEADER 576 /* the 512-byte legacy area and the 64-byte header */
#define LD_ECX_ALIGN64      (1u << 1)
/* Leaf 7 subleaf 0: features whose MSRs or VMX controls the hypervisor does
 * not provide are hidden, so that guests never touch them: WAITPKG (UMWAIT
 * needs the "enable user wait and pause" control), and the speculation
 * controls IA32_SPEC_CTRL, IA32_PRED_CMD, IA32_FLUSH_CMD,
 * IA32_ARCH_CAPABILITIES and IA32_CORE_CAPABILITIES with their SSBD bit, and
 * CET (its MSRs and XSS components are not provided). */
#define L7_EBX_TSC_ADJUST   (1u << 1)
#define L7_ECX_WAITPKG      (1u << 5)
#define L7_ECX_CET_SS       (1u << 7)
#define L7_EDX_CET_IBT      (1u << 20)
#define L7_ECX_PKU          (1u << 3)
#define L7_EDX_AMX_BF16     (1u << 22)
#define L7_EDX_AMX_TILE     (1u << 24)
#define L7_EDX_AMX_INT8     (1u << 25)
#define L7_EDX_SPEC_CTRL    (1u << 26)
#define L7_EDX_STIBP        (1u << 27)
#define L7_EDX_L1D_FLUSH    (1u << 28)
#define L7_EDX_ARCH_CAP     (1u << 29)
#define L7_EDX_CORE_CAP     (1u << 30)
#define L7_EDX_SSBD         (1u << 31)

static void filter_leaf7(uint32_t subleaf, struct cpuid_regs *r)
{
    if (subleaf != 0)
        return;
    r->ebx |= L7_EBX_TSC_ADJUST;       /* emulated (virt/vcpu_msrs.c) */
    r->ecx &= ~(L7_ECX_WAITPKG | L7_ECX_CET_SS);
    r->edx &= ~L7_EDX_CET_IBT;
    /* Features whose state component is not offered go with it. */
    uint64_t xcr0 = guest_xcr0_supported();
    if (!(xcr0 >> XSTATE_PKRU & 1))
        r->ecx &= ~L7_ECX_PKU;
    if (!(xcr0 >> XSTATE_AMX_TILEDATA & 1))
        r->edx &= ~(L7_EDX_AMX_BF16 | L7_EDX_AMX_TILE | L7_EDX_AMX_INT8);
    r->edx &= ~(L7_EDX_SPEC_CTRL | L7_EDX_STIBP | L7_EDX_L1D_FLUSH | L7_EDX_ARCH_CAP |
                L7_EDX_CORE_CAP | L7_EDX_SSBD);
}

/* The size of an XSAVE area holding the components of `xcr0` (SDM Vol. 1
 * 13.4.3 and 13.4.4): after the legacy area and header, each component at
 * its fixed offset (standard form), or packed in order with the alignment
 * sub-leaf n's ECX bit 1 asks for (compacted form, XSAVEC). Computed rather
 * than passed through, as KVM does: the guest's components are not all of
 * the host's, and Bochs 2.7 reports the standard size as the compacted one. */
static uint32_t xsave_area_size(uint64_t xcr0, bool compacted)
{
    uint32_t size = XSAVE_LEGACY_AND_HEADER;
    for (unsigned i = XSTATE_FIRST_EXTENDED; i < 64; i++) {
        if (!(xcr0 >> i & 1))
            continue;
        struct cpuid_regs c = cpuid(0xd, i);
        uint32_t end;
        if (compacted)
            end = ((c.ecx & LD_ECX_ALIGN64) ? (size + 63) & ~63u : size) + c.eax;
        else
            end = c.ebx + c.eax;
        if (end > size)
            size = end;
    }
    return size;
}

static void filter_leaf_d(const struct vcpu *vcpu, uint32_t subleaf, struct cpuid_regs *r)
{
    uint64_t mask = guest_xcr0_supported();
    if (subleaf == 0) {
        r->eax &= (uint32_t)mask;
        r->edx &= (uint32_t)(mask >> 32);
        r->ebx = xsave_area_size(vcpu->xcr0, false);
        r->ecx = xsave_area_size(mask, false);
    } else if (subleaf == 1) {
        r->eax &= ~LD1_EAX_XSAVES;
        r->ebx = xsave_area_size(vcpu->xcr0, true);     /* XCR0 | IA32_XSS, and XSS is 0 */
        r->ecx = r->edx = 0;        /* no IA32_XSS-managed components */
    } else if (subleaf < 64 && !(mask >> subleaf & 1)) {
        *r = (struct cpuid_regs){ 0, 0, 0, 0 };
    }
}

/* Leaves 0xB/0x1F (SDM Vol. 2A CPUID): the VM is one package of one-thread
 * cores, one per vCPU, and the x2APIC ID is the vCPU number, whatever the
 * host's topology. */
static struct cpuid_regs topology(const struct vcpu *vcpu, uint32_t subleaf)
{
    enum { LEVEL_SMT = 1, LEVEL_CORE = 2 };
    uint32_t count = vcpu->vm->vcpu_count, core_bits = 0;
    while ((1u << core_bits) < count)
        core_bits++;
    switch (subleaf) {
    case 0: return (struct cpuid_regs){ 0, 1, 0 | LEVEL_SMT << 8, vcpu->id };
    case 1: return (struct cpuid_regs){ core_bits, count, 1 | LEVEL_CORE << 8, vcpu->id };
    default: return (struct cpuid_regs){ 0, 0, subleaf & 0xff, vcpu->id };  /* no more levels */
    }
}

/* The leaves changed on their way to the guest (filter_leaf); the others
 * pass through as the processor answers. */
#define FILTERED_LEAVES ((1u << 1) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 0xa) | \
                         (1u << 0xb) | (1u << 0xd) | (1u << 0x15) | (1u << 0x16) | (1u << 0x1f))

/* Out of line: a leaf that passes through (leaf 0, the benchmarks' CPUID)
 * then costs neither its stack nor its saved registers. */
__attribute__((noinline)) static struct cpuid_regs filter_leaf(const struct vcpu *vcpu,
                                                               uint32_t leaf, uint32_t subleaf,
                                                               struct cpuid_regs r)
{
    switch (leaf) {
    case 1:
        filter_leaf1(vcpu, &r);
        break;
    case 7:
        filter_leaf7(subleaf, &r);
        break;
    case 0xd:
        filter_leaf_d(vcpu, subleaf, &r);
        break;
    case 5:     /* MONITOR/MWAIT: hidden */
    case 0xa:   /* performance monitoring */
        r = (struct cpuid_regs){ 0, 0, 0, 0 };
        break;
    case 6:     /* power management: only "the APIC timer always runs" (ARAT) */
        r = (struct cpuid_regs){ L6_EAX_ARAT, 0, 0, 0 };
        break;
    case 0x15: {
        /* TSC/crystal ratio 1/1 and the crystal's Hz = the TSC's: the
         * virtual APIC timer counts at that rate (dev/vlapic.h), which is
         * how guests (Linux) derive the APIC timer's frequency from here.
         * A TSC beyond 32 bits of Hz cannot be said so: nothing is said. */
        uint64_t hz = tsc_khz() * 1000;
        r = hz <= UINT32_MAX ? (struct cpuid_regs){ 1, 1, (uint32_t)hz, 0 }
                             : (struct cpuid_regs){ 0, 0, 0, 0 };
        break;
    }
    case 0x16: {
        /* Base and maximum frequency in MHz: the TSC's, so that a guest
         * needs no calibration against a timer for the processor's speed
         * either (Linux's cpu_khz_from_cpuid). No bus frequency is said. */
        uint32_t mhz = (uint32_t)(tsc_khz() / 1000);
        r = (struct cpuid_regs){ mhz, mhz, 0, 0 };
        break;
    }
    case 0xb:   /* x2APIC topology */
    case 0x1f:
        r = topology(vcpu, subleaf);
        break;
    }
    return r;
}

static struct cpuid_regs virtual_cpuid(const struct vcpu *vcpu, uint32_t leaf, uint32_t subleaf)
{
    if (leaf >= HYPERVISOR_LEAF_BASE && leaf <= HYPERVISOR_LEAF_END) {
        if (leaf == HYPERVISOR_LEAF_BASE)
            return (struct cpuid_regs){ HYPERVISOR_LEAF_MAX, SIGNATURE_EBX, SIGNATURE_ECX,
                                        SIGNATURE_EDX };
        return (struct cpuid_regs){ 0, 0, 0, 0 };   /* no paravirtual features */
    }
    struct cpuid_regs r = host_cpuid(leaf, subleaf);
    if (leaf < 32 && (FILTERED_LEAVES >> leaf & 1))
        return filter_leaf(vcpu, leaf, subleaf, r);
    return r;
}

/* Each CR4 feature bit and the CPUID bit that says it exists (SDM Vol. 3A
 * 2.5, Vol. 2A CPUID); CR4.CET goes with either CET bit. */
static const struct {
    uint8_t cr4_bit, leaf, reg, cpuid_bit;     /* reg: 0 EAX ... 3 EDX */
} cr4_features[] = {
    { 0, 1, 3, 1 },     /* VME: VME */
    { 1, 1, 3, 1 },     /* PVI: VME */
    { 2, 1, 3, 4 },     /* TSD: TSC */
    { 3, 1, 3, 2 },     /* DE: DE */
    { 4, 1, 3, 3 },     /* PSE: PSE */
    { 5, 1, 3, 6 },     /* PAE: PAE */
    { 6, 1, 3, 7 },     /* MCE: MCE */
    { 7, 1, 3, 13 },    /* PGE: PGE */
    { 9, 1, 3, 24 },    /* OSFXSR: FXSR */
    { 10, 1, 3, 25 },   /* OSXMMEXCPT: SSE */
    { 11, 7, 2, 2 },    /* UMIP: UMIP */
    { 12, 7, 2, 16 },   /* LA57: LA57 */
    { 13, 1, 2, 5 },    /* VMXE: VMX */
    { 14, 1, 2, 6 },    /* SMXE: SMX */
    { 16, 7, 1, 0 },    /* FSGSBASE: FSGSBASE */
    { 17, 1, 2, 17 },   /* PCIDE: PCID */
    { 18, 1, 2, 26 },   /* OSXSAVE: XSAVE */
    { 19, 7, 2, 23 },   /* KL: Key Locker */
    { 20, 7, 1, 7 },    /* SMEP: SMEP */
    { 21, 7, 1, 20 },   /* SMAP: SMAP */
    { 22, 7, 2, 3 },    /* PKE: PKU */
    { 23, 7, 2, 7 },    /* CET: CET_SS */
    { 23, 7, 3, 20 },   /* CET: CET_IBT */
    { 24, 7, 2, 31 },   /* PKS: PKS */
};

uint64_t guest_cr4_unavailable(const struct vcpu *vcpu)
{
    struct cpuid_regs l1 = virtual_cpuid(vcpu, 1, 0), l7 = virtual_cpuid(vcpu, 7, 0);
    uint64_t shown = 0, named = 0;
    for (unsigned i = 0; i < sizeof(cr4_features) / sizeof(cr4_features[0]); i++) {
        const struct cpuid_regs *r = cr4_features[i].leaf == 1 ? &l1 : &l7;
        const uint32_t regs[] = { r->eax, r->ebx, r->ecx, r->edx };
        uint64_t bit = 1ull << cr4_features[i].cr4_bit;
        named |= bit;
        if (regs[cr4_features[i].reg] >> cr4_features[i].cpuid_bit & 1)
            shown |= bit;
    }
    return named & ~shown;
}

/* The leaves whose answer follows the vCPU or its state (filter_leaf1's
 * APIC ID, OSXSAVE and APIC bits, leaf 0xD's sizes from XCR0, the
 * topology's x2APIC ID): never kept. */
#define PER_VCPU_LEAVES ((1u << 1) | (1u << 0xb) | (1u << 0xd) | (1u << 0x1f))

static void complete_cpuid(struct vcpu *vcpu, const struct cpuid_answer *a)
{
    struct guest_regs *g = &vcpu->regs;
    g->rax = a->rax;
    g->rbx = a->rbx;
    g->rcx = a->rcx;
    g->rdx = a->rdx;
    skip_instruction(vcpu);
}

/* A leaf not kept (yet): computed, and kept if it can be. Out of line, so
 * that the kept answers' path needs no stack frame. */
__attribute__((noinline)) static bool answer_and_keep(struct vcpu *vcpu)
{
    uint32_t leaf = (uint32_t)vcpu->regs.rax, subleaf = (uint32_t)vcpu->regs.rcx;
    struct cpuid_regs r = virtual_cpuid(vcpu, leaf, subleaf);
    if (!(leaf < 32 && (PER_VCPU_LEAVES >> leaf & 1)))
        cpuid_answer_keep(&vcpu->vm->cpuid, leaf, subleaf, r);
    complete_cpuid(vcpu, &(struct cpuid_answer){ r.eax, r.ebx, r.ecx, r.edx });
    return true;
}

bool handle_cpuid(struct vcpu *vcpu)
{
    uint32_t leaf = (uint32_t)vcpu->regs.rax, subleaf = (uint32_t)vcpu->regs.rcx;
    const struct cpuid_answer *kept = cpuid_answer_find(&vcpu->vm->cpuid, leaf, subleaf);
    if (!kept)
        return answer_and_keep(vcpu);
    complete_cpuid(vcpu, kept);
    return true;
}
