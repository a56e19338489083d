/* vmcs02 from vmcs01 and vmcs12 (nested/merge.h). */
#include "nested/merge.h"
#include "vmx/vmx_controls.h"
#include "lib/bitmap.h"

#define VECTOR_PF 14

void nested_merge_controls(const struct vmcs_controls *l0, const struct vmcs12_controls *l1,
                           struct vmcs02_controls *out)
{
    out->pin = l0->pin | (l1->pin & ~PIN_PREEMPTION_TIMER);
    /* vmcs01's TPR shadow is L0's APIC virtualization for L1 (dev/apicv.h):
     * L2 gets one only if L1 asked for it, on L1's virtual-APIC page. */
    uint32_t proc = (l0->proc & ~(PROC_INTERRUPT_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING |
                                  PROC_USE_IO_BITMAPS | PROC_USE_TPR_SHADOW)) | l1->proc;
    proc &= ~PROC_USE_IO_BITMAPS;
    proc |= PROC_UNCONDITIONAL_IO_EXITING | PROC_USE_MSR_BITMAPS;
    if (!(proc & PROC_USE_TPR_SHADOW))
        proc |= PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING;
    uint32_t l1_proc2 = l1->proc & PROC_ACTIVATE_SECONDARY ? l1->proc2 : 0;
    out->proc2 = (l0->proc2 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_ENABLE_INVPCID |
                               PROC2_ENABLE_XSAVES)) |
                 (l1_proc2 & (PROC2_ENABLE_RDTSCP | PROC2_WBINVD_EXITING | PROC2_UNRESTRICTED_GUEST |
                              PROC2_PAUSE_LOOP_EXITING));
    /* RDTSCP without L1's enabling raises #UD in L2, as on a CPU where the
     * control is 0 (SDM Vol. 3C 26.3): vmcs01's would let it through. */
    out->proc = proc | PROC_ACTIVATE_SECONDARY;
    out->exit = l0->exit;
    out->entry = (l0->entry & ~ENTRY_IA32E_MODE_GUEST) | (l1->entry & ENTRY_IA32E_MODE_GUEST);
    out->exception_bitmap = l0->exception_bitmap | l1->exception_bitmap;
    if (l0->exception_bitmap & (1u << VECTOR_PF)) {
        out->pf_error_code_mask = 0;
        out->pf_error_code_match = 0;
    } else {
        out->pf_error_code_mask = l1->pf_error_code_mask;
        out->pf_error_code_match = l1->pf_error_code_match;
    }
    out->cr0_mask = l0->cr0_mask | l1->cr0_mask;
    out->cr4_mask = l0->cr4_mask | l1->cr4_mask;
}

bool nested_msr_bitmap_bit(uint32_t msr, bool write, unsigned *byte, unsigned *bit)
{
    unsigned base;
    if (msr <= 0x1fff)
        base = 0;
    else if (msr >= 0xc0000000 && msr <= 0xc0001fff)
        base = 1024;
    else
        return false;
    unsigned index = msr & 0x1fff;
    *byte = (write ? 2048 : 0) + base + index / 8;
    *bit = index % 8;
    return true;
}

unsigned nested_msr_bitmap_open_words(const uint64_t *l0, uint16_t *words)
{
    _Static_assert(NESTED_MSR_BITMAP_WORDS % NESTED_MSR_MERGE_STRIDE == 0,
                   "a full list of words fills whole strides");
    unsigned count = (unsigned)bitmap_words_with_clear_bits(l0, NESTED_MSR_BITMAP_WORDS, words);
    for (; count % NESTED_MSR_MERGE_STRIDE; count++)
        words[count] = words[count - 1];
    return count;
}
