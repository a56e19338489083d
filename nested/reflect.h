#ifndef NESTED_REFLECT_H
#define NESTED_REFLECT_H
/*
 * Which VM exits from L2 go to L1 (KVM's nested_vmx_reflect_vmexit): a
 * const table beside the exit dispatch table says, per exit reason, whether
 * L0 keeps the exit (its own external interrupts, EPT faults in L1's
 * memory, its preemption-timer slices, NMIs), L1 always gets it (CPUID,
 * VMCALL, triple fault, INVD, XSETBV, every VMX instruction but VMREAD and
 * VMWRITE), or L1's controls decide (a control bit, its I/O, MSR and
 * VMREAD/VMWRITE bitmaps, its exception bitmap, its CR masks). An exit L1 did not ask for is L0's to handle on
 * L2's behalf, as L1 would have let it happen. Pure: the exit's facts and
 * L1's memory come from the caller (nested/l2_exit.c), so it is
 * unit-tested.
 */
#include <stdint.h>
#include <stdbool.h>
#include "nested/vmcs12.h"

/* What the decision needs of an exit from L2 (vmcs02's exit information
 * and the guest registers it names). */
struct l2_exit {
    uint32_t reason;            /* with bit 31 for a failed entry */
    uint64_t qualification;
    uint32_t interruption_info, interruption_error;
    uint32_t msr;               /* RDMSR/WRMSR: ECX */
    uint64_t cr_source;         /* MOV to CR: the value written */
    uint64_t vmcs_field;        /* VMREAD/VMWRITE: the register naming the
                                 * field (bits 31:0 outside 64-bit mode) */
    bool l1_timer_expired;      /* L1's emulated VMX-preemption timer */
};

/* Reads `len` bytes of L1's memory at `gpa`; false where it has none. */
typedef bool (*l1_memory_read_fn)(void *ctx, uint64_t gpa, void *dst, unsigned len);

/* Whether the exit goes to L1 whatever L1's controls and memory say (its
 * failed entries, and what the table gives L1 always): the decision of
 * most exits L1 gets, without gathering their facts. */
bool nested_reflect_always(uint32_t reason);

/* Whether the exit goes to L1, given L1's vmcs12 and its memory (for its
 * I/O and MSR bitmaps; bitmaps L1 has no memory for make the access exit
 * to L1). */
bool nested_reflect(const struct vmcs12 *vmcs12, const struct l2_exit *exit,
                    l1_memory_read_fn read_l1, void *ctx);
#endif
