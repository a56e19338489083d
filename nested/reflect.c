/* The reflection of L2's exits (nested/reflect.h). */
#include "nested/reflect.h"
#include "nested/merge.h"
#include "virt/exit_stats.h"
#include "vmx/exit_reasons.h"
#include "vmx/vmx_controls.h"
#include "arch/cpu.h"

#define INTR_TYPE_NMI 2
#define VECTOR_PF 14

enum rule {
    L1_GETS,            /* the default: L1 did not forbid it, or always gets it */
    L0_KEEPS,
    BY_PROC,            /* L1 asked by a primary processor-based control */
    BY_PROC2,           /* by a secondary one */
    BY_RULE,            /* by its own test below */
};

/* The facts a rule looks at. */
struct decision {
    const struct vmcs12 *vmcs12;
    const struct l2_exit *exit;
    l1_memory_read_fn read_l1;
    void *ctx;
};

typedef bool (*l1_test_fn)(const struct decision *d);

/* A 32-bit control field of vmcs12. */
static uint32_t control12(const struct vmcs12 *v12, enum vmcs_field field)
{
    return (uint32_t)vmcs12_get(v12, field);
}

/* An exception exits if its bit is set in L1's exception bitmap; a #PF as
 * the error-code mask and match say (SDM Vol. 3C 25.6.3). NMIs are the
 * host's. */
static bool wants_exception(const struct decision *d)
{
    const struct vmcs12 *v12 = d->vmcs12;
    uint32_t info = d->exit->interruption_info;
    unsigned type = info >> 8 & 7, vector = info & 0xff;
    if (type == INTR_TYPE_NMI)
        return false;
    uint32_t bitmap = control12(v12, EXCEPTION_BITMAP);
    bool bit = bitmap >> vector & 1;
    if (vector != VECTOR_PF)
        return bit;
    uint32_t error = d->exit->interruption_error;
    bool match = (error & control12(v12, PAGE_FAULT_ERROR_CODE_MASK)) ==
                 control12(v12, PAGE_FAULT_ERROR_CODE_MATCH);
    return bit ? match : !match;
}

/* A control-register access exits to L1 if it touches what L1 intercepts
 * (SDM Vol. 3C 26.1.3): a MOV to CR0/CR4 writing a bit L1 owns to a value
 * other than its read shadow, CR3 and CR8 accesses by their controls, CLTS
 * with TS owned and set in the shadow, LMSW changing an owned bit (or
 * setting PE where the shadow has it clear). */
static bool wants_cr_access(const struct decision *d)
{
    const struct vmcs12 *v12 = d->vmcs12;
    uint64_t q = d->exit->qualification;
    unsigned cr = q & 0xf, access = q >> 4 & 3;
    uint32_t proc = control12(v12, CPU_BASED_VM_EXEC_CONTROL);
    uint64_t mask0 = vmcs12_get(v12, CR0_GUEST_HOST_MASK), shadow0 = vmcs12_get(v12, CR0_READ_SHADOW);
    switch (access) {
    case 0:     /* MOV to CR */
        if (cr == 0 || cr == 4) {
            uint64_t mask = cr ? vmcs12_get(v12, CR4_GUEST_HOST_MASK) : mask0;
            uint64_t shadow = cr ? vmcs12_get(v12, CR4_READ_SHADOW) : shadow0;
            return ((d->exit->cr_source ^ shadow) & mask) != 0;
        }
        if (cr == 3)
            return proc & PROC_CR3_LOAD_EXITING;
        return proc & PROC_CR8_LOAD_EXITING;
    case 1:     /* MOV from CR */
        return cr == 3 ? proc & PROC_CR3_STORE_EXITING : proc & PROC_CR8_STORE_EXITING;
    case 2:     /* CLTS */
        return (mask0 & CR0_TS) && (shadow0 & CR0_TS);
    default: {  /* LMSW: bits 3:0 of the source */
        uint64_t data = q >> 16 & 0xf;
        if ((mask0 & CR0_PE) && !(shadow0 & CR0_PE) && (data & CR0_PE))
            return true;
        return ((data ^ shadow0) & mask0 & 0xe) != 0;
    }
    }
}

/* I/O by L1's unconditional I/O exiting or its I/O bitmaps (SDM Vol. 3C
 * 26.1.3); bitmaps that are not in L1's RAM exit. */
static bool wants_io(const struct decision *d)
{
    const struct vmcs12 *v12 = d->vmcs12;
    uint32_t proc = control12(v12, CPU_BASED_VM_EXEC_CONTROL);
    if (!(proc & PROC_USE_IO_BITMAPS))
        return proc & PROC_UNCONDITIONAL_IO_EXITING;
    uint64_t q = d->exit->qualification;
    unsigned port = (unsigned)(q >> 16 & 0xffff), size = (q & 7) + 1;
    for (unsigned p = port; p < port + size; p++) {
        if (p > 0xffff)
            return true;    /* an access that wraps around exits */
        uint64_t byte = vmcs12_get(v12, p < 0x8000 ? IO_BITMAP_A : IO_BITMAP_B) + (p & 0x7fff) / 8;
        uint8_t bits;
        if (!d->read_l1(d->ctx, byte, &bits, 1) || (bits >> (p % 8) & 1))
            return true;
    }
    return false;
}

/* RDMSR/WRMSR by L1's MSR bitmap; without one, and for MSRs outside its
 * ranges, always (SDM Vol. 3C 26.1.3). */
static bool wants_msr(const struct decision *d, bool write)
{
    const struct vmcs12 *v12 = d->vmcs12;
    if (!(control12(v12, CPU_BASED_VM_EXEC_CONTROL) & PROC_USE_MSR_BITMAPS))
        return true;
    unsigned byte, bit;
    if (!nested_msr_bitmap_bit(d->exit->msr, write, &byte, &bit))
        return true;
    uint8_t bits;
    if (!d->read_l1(d->ctx, vmcs12_get(v12, MSR_BITMAP) + byte, &bits, 1))
        return true;
    return bits >> bit & 1;
}

static bool wants_rdmsr(const struct decision *d)
{
    return wants_msr(d, false);
}

static bool wants_wrmsr(const struct decision *d)
{
    return wants_msr(d, true);
}

/* L1's interrupt-window exiting, or L0's own (it injects L1's interrupts
 * into L2 when L1 lets them through). */
static bool wants_interrupt_window(const struct decision *d)
{
    return control12(d->vmcs12, CPU_BASED_VM_EXEC_CONTROL) & PROC_INTERRUPT_WINDOW_EXITING;
}

/* PAUSE exits by L1's PAUSE exiting or its PAUSE-loop exiting: vmcs02
 * has PLE only as L1 set it (nested/merge.c). */
static bool wants_pause(const struct decision *d)
{
    uint32_t proc = control12(d->vmcs12, CPU_BASED_VM_EXEC_CONTROL);
    return (proc & PROC_PAUSE_EXITING) ||
           ((proc & PROC_ACTIVATE_SECONDARY) &&
            (control12(d->vmcs12, SECONDARY_VM_EXEC_CONTROL) & PROC2_PAUSE_LOOP_EXITING));
}

/* The hardware timer ends L0's slices too: L1's emulated one has expired,
 * or it is L0's. */
static bool wants_preemption_timer(const struct decision *d)
{
    return d->exit->l1_timer_expired;
}

/* VMREAD and VMWRITE exit to L1 unless L1 gives L2 a shadow VMCS ("VMCS
 * shadowing") and its VMREAD or VMWRITE bitmap has the field's bit clear,
 * for an encoding within bits 14:0 (SDM Vol. 3C 26.1.3, 25.6.15): L0 then
 * does the access on L1's shadow VMCS for L2 (nested/vmx_insn.c). A
 * bitmap where L1 has no memory reads all ones. */
static bool wants_vmcs_access(const struct decision *d, enum vmcs_field bitmap)
{
    uint32_t proc = control12(d->vmcs12, CPU_BASED_VM_EXEC_CONTROL);
    if (!(proc & PROC_ACTIVATE_SECONDARY) ||
        !(control12(d->vmcs12, SECONDARY_VM_EXEC_CONTROL) & PROC2_VMCS_SHADOWING))
        return true;
    uint64_t field = d->exit->vmcs_field;
    uint8_t byte;
    if (field >> 15 || !d->read_l1(d->ctx, vmcs12_get(d->vmcs12, bitmap) + (field >> 3), &byte, 1))
        return true;
    return byte >> (field & 7) & 1;
}

static bool wants_vmread(const struct decision *d)
{
    return wants_vmcs_access(d, VMREAD_BITMAP);
}

static bool wants_vmwrite(const struct decision *d)
{
    return wants_vmcs_access(d, VMWRITE_BITMAP);
}

static const struct {
    uint8_t rule;
    uint32_t control;           /* BY_PROC, BY_PROC2 */
    l1_test_fn test;            /* BY_RULE */
} reflection[EXIT_REASON_MAX] = {
    [EXIT_REASON_EXCEPTION_NMI] = { BY_RULE, 0, wants_exception },
    [EXIT_REASON_EXTERNAL_INTERRUPT] = { L0_KEEPS },
    [EXIT_REASON_INIT_SIGNAL] = { L0_KEEPS },
    [EXIT_REASON_SIPI] = { L0_KEEPS },
    [EXIT_REASON_INTERRUPT_WINDOW] = { BY_RULE, 0, wants_interrupt_window },
    [EXIT_REASON_NMI_WINDOW] = { L0_KEEPS },
    [EXIT_REASON_HLT] = { BY_PROC, PROC_HLT_EXITING },
    [EXIT_REASON_INVLPG] = { BY_PROC, PROC_INVLPG_EXITING },
    [EXIT_REASON_RDPMC] = { BY_PROC, PROC_RDPMC_EXITING },
    [EXIT_REASON_RDTSC] = { BY_PROC, PROC_RDTSC_EXITING },
    [EXIT_REASON_RDTSCP] = { BY_PROC, PROC_RDTSC_EXITING },
    [EXIT_REASON_CR_ACCESS] = { BY_RULE, 0, wants_cr_access },
    [EXIT_REASON_DR_ACCESS] = { BY_PROC, PROC_MOV_DR_EXITING },
    [EXIT_REASON_IO_INSTRUCTION] = { BY_RULE, 0, wants_io },
    [EXIT_REASON_RDMSR] = { BY_RULE, 0, wants_rdmsr },
    [EXIT_REASON_WRMSR] = { BY_RULE, 0, wants_wrmsr },
    [EXIT_REASON_MWAIT] = { BY_PROC, PROC_MWAIT_EXITING },
    [EXIT_REASON_MONITOR] = { BY_PROC, PROC_MONITOR_EXITING },
    [EXIT_REASON_PAUSE] = { BY_RULE, 0, wants_pause },
    [EXIT_REASON_MACHINE_CHECK] = { L0_KEEPS },
    [EXIT_REASON_EPT_VIOLATION] = { L0_KEEPS },
    /* L1 is not offered APIC virtualization: vmcs02's are L0's (switch.c). */
    [EXIT_REASON_APIC_ACCESS] = { L0_KEEPS },
    [EXIT_REASON_EPT_MISCONFIG] = { L0_KEEPS },
    [EXIT_REASON_PREEMPTION_TIMER] = { BY_RULE, 0, wants_preemption_timer },
    [EXIT_REASON_WBINVD] = { BY_PROC2, PROC2_WBINVD_EXITING },
    [EXIT_REASON_VMREAD] = { BY_RULE, 0, wants_vmread },
    [EXIT_REASON_VMWRITE] = { BY_RULE, 0, wants_vmwrite },
};

/* A failed entry of vmcs02 with an exit (invalid guest state, MSR
 * loading) is L1's: its VMLAUNCH/VMRESUME ended so. */
bool nested_reflect_always(uint32_t reason)
{
    uint32_t basic = reason & 0xffff;
    return (reason & EXIT_REASON_ENTRY_FAILURE) || basic >= EXIT_REASON_MAX ||
           reflection[basic].rule == L1_GETS;
}

bool nested_reflect(const struct vmcs12 *v12, const struct l2_exit *exit,
                    l1_memory_read_fn read_l1, void *ctx)
{
    if (nested_reflect_always(exit->reason))
        return true;
    uint32_t reason = exit->reason & 0xffff;
    const struct decision d = { v12, exit, read_l1, ctx };
    switch (reflection[reason].rule) {
    case L0_KEEPS:
        return false;
    case BY_PROC:
        return control12(v12, CPU_BASED_VM_EXEC_CONTROL) & reflection[reason].control;
    case BY_PROC2: {
        uint32_t proc = control12(v12, CPU_BASED_VM_EXEC_CONTROL);
        return (proc & PROC_ACTIVATE_SECONDARY) &&
               (control12(v12, SECONDARY_VM_EXEC_CONTROL) & reflection[reason].control);
    }
    case BY_RULE:
        return reflection[reason].test(&d);
    default:
        return true;
    }
}
