#ifndef NESTED_ENTRY_CHECKS_H
#define NESTED_ENTRY_CHECKS_H
/*
 * The checks of a nested VM entry (L1's VMLAUNCH/VMRESUME) that vmxvisor
 * makes in software, because the processor never sees vmcs12: the VMX
 * controls against what L1 was offered (SDM Vol. 3C 27.2.1), the host-state
 * area L1 will return to (27.2.2-27.2.4), and the guest-state area (27.3.1).
 * The processor makes many of the guest-state checks again on vmcs02, but
 * only after vmxvisor has loaded the VM-entry MSR-load list in software
 * (27.4); a guest-state failure must end the entry with reason 33 before
 * that list is looked at, so they are made here first.
 *
 * Call them in the SDM's order: controls, host state, guest state; the
 * guest-state checks take the controls as already found valid. Pure: the
 * fields come through vmcs12_read, the processor's widths from the caller.
 */
#include <stdint.h>
#include <stdbool.h>
#include "nested/vmcs12.h"
#include "nested/vmx_caps.h"
#include "vmx/exit_reasons.h"
#include "vmx/vmx_controls.h"

/* VM-instruction error numbers of a failed entry (SDM Vol. 3C 31.4). */
#define VMXERR_ENTRY_INVALID_CONTROL_FIELD      7
#define VMXERR_ENTRY_INVALID_HOST_STATE_FIELD   8

/* A guest-state check that fails makes the entry end in a VM exit with this
 * exit reason (33 with bit 31 set) and one of these exit qualifications
 * (SDM Vol. 3C 27.8). */
#define NESTED_ENTRY_FAILURE_EXIT_REASON \
    (EXIT_REASON_INVALID_GUEST_STATE | EXIT_REASON_ENTRY_FAILURE)
enum nested_entry_failure_qualification {
    NESTED_ENTRY_FAILURE_DEFAULT = 0,
    NESTED_ENTRY_FAILURE_PDPTE = 2,         /* a PDPTE field has a reserved bit set */
    NESTED_ENTRY_FAILURE_LINK_POINTER = 4,  /* the VMCS link pointer */
};

/*
 * Each returns 0 if vmcs12 passes, else the VM-instruction error number; on
 * failure *failed_check (if not NULL) names the check, as a static string,
 * for the trace.
 *   phys_addr_bits:   MAXPHYADDR as L1 sees it (CPUID 0x80000008 EAX[7:0])
 *   linear_addr_bits: 48, or 57 where L1 may use 5-level paging (EAX[15:8])
 *   l1_in_ia32e_mode: L1's IA32_EFER.LMA at its VMLAUNCH/VMRESUME
 */
uint32_t nested_check_controls(const struct vmcs12 *vmcs12, const struct nested_vmx_caps *caps,
                               unsigned phys_addr_bits, const char **failed_check);
/* The valid bit of VM-entry (and VM-exit, IDT-vectoring) interruption
 * information: an event is there (SDM Vol. 3C 25.8.3, 25.9.2). */
#define NESTED_EVENT_VALID (1u << 31)
/* The control checks that read them alone (27.2.1.1: the primary controls
 * allowed, NMI-window exiting with virtual NMIs): 0, or
 * VMXERR_ENTRY_INVALID_CONTROL_FIELD. No other check reads those two
 * controls (the order of the control checks is not the SDM's to fix: any
 * failure is the same VMfail). */
uint32_t nested_check_window_controls(const struct vmcs12 *vmcs12,
                                      const struct nested_vmx_caps *caps,
                                      unsigned phys_addr_bits, const char **failed_check);
/* The checks of the event to inject alone (the last of the control
 * checks, 27.2.1.3): 0, or VMXERR_ENTRY_INVALID_CONTROL_FIELD. */
uint32_t nested_check_injection(const struct vmcs12 *vmcs12, const struct nested_vmx_caps *caps,
                                unsigned phys_addr_bits, const char **failed_check);
uint32_t nested_check_host_state(const struct vmcs12 *vmcs12, const struct nested_vmx_caps *caps,
                                 unsigned phys_addr_bits, unsigned linear_addr_bits,
                                 bool l1_in_ia32e_mode, const char **failed_check);
/* True if vmcs12's guest state passes; otherwise *exit_qualification is the
 * qualification of the entry-failure exit and *failed_check (if not NULL)
 * names the check. With EPT, the PDPTEs of a PAE guest are checked here;
 * without it they come from L1's memory at guest CR3, and whoever loads
 * them checks them (qualification NESTED_ENTRY_FAILURE_PDPTE). Canonical
 * addresses have 57 bits where caps let L1 set CR4.LA57, else 48.
 *   link_region_revision: the first 32 bits of the region the VMCS link
 *   pointer names, in L1's memory (all ones where L1 has none)
 *   memo: what the segment-register and descriptor-table checks (27.3.1.2,
 *   27.3.1.3) last passed on, or NULL: with the same inputs (L2's segments
 *   seldom change between exits) they are not run again */
#define NESTED_SEGMENT_INPUTS (8 * 4 + 4 + 1)
struct nested_segment_memo {
    bool valid;
    uint64_t inputs[NESTED_SEGMENT_INPUTS];
};
bool nested_check_guest_state(const struct vmcs12 *vmcs12, const struct nested_vmx_caps *caps,
                              unsigned phys_addr_bits, uint32_t link_region_revision,
                              struct nested_segment_memo *memo, uint64_t *exit_qualification,
                              const char **failed_check);
/* The guest-state check whose input changes while the guest state stays
 * as it last passed nested_check_guest_state: the VMCS link pointer's
 * (27.3.1.5), whose region lies in L1's memory. (RIP, which L1 moves past
 * the instruction of nearly every exit, is the other input that changes:
 * its checks, 27.3.1.4, are the processor's on vmcs02, which enters with
 * vmcs12's RIP, IA-32e mode guest control and CS; a failure there is L1's
 * failed entry, exit reason 33 with qualification 0, as here.) True if it
 * passes; otherwise *exit_qualification as for nested_check_guest_state. */
bool nested_recheck_guest_state(const struct vmcs12 *vmcs12, const struct nested_vmx_caps *caps,
                                unsigned phys_addr_bits, uint32_t link_region_revision,
                                uint64_t *exit_qualification, const char **failed_check);
/* The guest-state checks of the event to inject alone (27.3.1.4, 27.3.1.5:
 * against RFLAGS.IF, the activity and interruptibility states): true if
 * they pass; a failure's exit qualification is 0. */
bool nested_check_injection_guest_state(const struct vmcs12 *vmcs12,
                                        const struct nested_vmx_caps *caps,
                                        unsigned phys_addr_bits, const char **failed_check);
/* An EPT pointer that VM entry and INVEPT accept (SDM Vol. 3C 25.6.11):
 * a memory type, walk length and A/D setting `ept_vpid_cap` offers, bits
 * 11:7 and those beyond the physical-address width 0. */
bool nested_eptp_valid(uint64_t eptp, uint64_t ept_vpid_cap, unsigned phys_addr_bits);
/* A PDPTE that PAE paging may start from: not present, or present with no
 * reserved bit and its address within the physical width (SDM Vol. 3C
 * 27.3.1.6; Vol. 3A 5.4.1). */
bool nested_pdpte_valid(uint64_t pdpte, unsigned phys_addr_bits);
#endif
