#ifndef NESTED_MERGE_H
#define NESTED_MERGE_H
/*
 * vmcs02 from vmcs01 and vmcs12 (KVM's prepare_vmcs02): the controls L0
 * needs ORed with those L1 asked for, and the CR0/CR4 views of the three
 * parties. Pure, unit-tested.
 */
#include <stdint.h>
#include <stdbool.h>
#include "vmx/vmcs_controls.h"

/* The controls of vmcs02, by class. */
struct vmcs02_controls {
    uint32_t pin, proc, proc2, exit, entry;
    uint32_t exception_bitmap, pf_error_code_mask, pf_error_code_match;
    uint64_t cr0_mask, cr4_mask;
};

/* What vmcs12 asks for (its control fields as read). */
struct vmcs12_controls {
    uint32_t pin, proc, proc2, exit, entry;
    uint32_t exception_bitmap, pf_error_code_mask, pf_error_code_match;
    uint64_t cr0_mask, cr4_mask;
};

/*
 * vmcs02's controls:
 *  - pin-based: L0's | L1's, but L1's preemption timer is emulated by L0
 *    (its rate and deadline are L1's) and so not taken;
 *  - primary: L0's (less the event windows, which L0 turns on when it needs
 *    them) | L1's; always unconditional I/O exiting and never I/O bitmaps:
 *    L0 looks at L1's bitmaps on each I/O exit; MSR bitmaps (a merged one);
 *    CR8 exiting without L1's TPR shadow (none is offered), so that L2 never
 *    reaches L0's TPR;
 *  - secondary: L0's EPT (L2 runs in L1's physical space: EPT is not
 *    offered to L1) and VPID, L1's RDTSCP and WBINVD exiting; never
 *    unrestricted guest (not offered) or PAUSE-loop exiting (L1's guest is
 *    not L0's to spin-schedule);
 *  - VM-exit: L0's (the exit goes to L0);
 *  - VM-entry: L0's, with L1's IA-32e mode guest, and load EFER/PAT
 *    (L0 writes vmcs02's guest EFER and PAT as the entry would load them);
 *  - exception bitmap: L0's | L1's; #PF error-code mask/match: L1's, unless
 *    L0 intercepts #PF itself (then every #PF exits: 0/0);
 *  - CR0/CR4 guest/host masks: L0's | L1's.
 */
void nested_merge_controls(const struct vmcs_controls *l0, const struct vmcs12_controls *l1,
                           struct vmcs02_controls *out);
/* The read shadow vmcs02 gives L2: for the bits L1 owns (its mask) L1's
 * read shadow, for the others L2's own value (KVM: vmcs12 guest CR with
 * the shadow under L1's mask). */
static inline uint64_t nested_cr_read_shadow(uint64_t guest_cr12, uint64_t mask12,
                                             uint64_t read_shadow12)
{
    return (guest_cr12 & ~mask12) | (read_shadow12 & mask12);
}
/* The CR0 or CR4 vmcs12 receives at a nested exit (KVM's vmcs12_guest_cr0,
 * "the three-way rule"): bits neither L0 nor L1 owns come from the
 * processor (vmcs02's guest CR), bits L1 owns keep vmcs12's value, bits only
 * L0 owns come from vmcs02's read shadow (what L2 believes it wrote). */
static inline uint64_t nested_cr_for_vmcs12(uint64_t guest_cr02, uint64_t read_shadow02,
                                            uint64_t mask02, uint64_t guest_cr12, uint64_t mask12)
{
    uint64_t l0_only = mask02 & ~mask12;
    return (guest_cr02 & ~mask02) | (guest_cr12 & mask12) | (read_shadow02 & l0_only);
}
/* Where an MSR's bit is in a 4 KiB MSR bitmap (SDM Vol. 3C 25.6.9): the
 * byte offset and bit, or false for an MSR outside both ranges (it always
 * exits). */
bool nested_msr_bitmap_bit(uint32_t msr, bool write, unsigned *byte, unsigned *bit);
/* vmcs02's MSR bitmap: an access exits if L0's bitmap or L1's says so, so
 * it is all ones (every access exits) but in the 8-byte words where L0 lets
 * some access through; a nested entry merges only those (L0 opens a dozen
 * MSRs: a few words instead of 512). Their indexes go into `words`, room
 * for NESTED_MSR_BITMAP_WORDS; returns how many, a multiple of
 * NESTED_MSR_MERGE_STRIDE: the last index repeats to fill the stride (a
 * word merged twice is merged), so that the merge takes them a stride at a
 * time without a test per word. */
#define NESTED_MSR_BITMAP_WORDS (4096 / 8)
#define NESTED_MSR_MERGE_STRIDE 4
unsigned nested_msr_bitmap_open_words(const uint64_t *l0, uint16_t *words);
#endif
