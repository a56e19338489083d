#ifndef NESTED_VMCS02_FIELDS_H
#define NESTED_VMCS02_FIELDS_H
/*
 * The fields vmcs02 holds as vmcs12 has them: L2's guest state but for the
 * control registers, EFER, PAT and the debug state (which have rules of
 * their own, nested/switch.c), and the exit information a VM exit from
 * vmcs02 writes there. A nested exit copies them into vmcs12
 * (nested/switch.c), or vmcs02 serves them to L1 itself as its shadow VMCS
 * (nested/vmcs02_as_shadow.h).
 */
#include "vmx/vmcs_fields.h"

/* The guest-state fields copied between vmcs12 and vmcs02 as they are (the
 * control registers, EFER, PAT and the debug state have rules of their own). */
#define GUEST_FIELDS(X)                                                                   \
    X(GUEST_ES_SELECTOR) X(GUEST_CS_SELECTOR) X(GUEST_SS_SELECTOR) X(GUEST_DS_SELECTOR)    \
    X(GUEST_FS_SELECTOR) X(GUEST_GS_SELECTOR) X(GUEST_LDTR_SELECTOR) X(GUEST_TR_SELECTOR)  \
    X(GUEST_ES_LIMIT) X(GUEST_CS_LIMIT) X(GUEST_SS_LIMIT) X(GUEST_DS_LIMIT)                \
    X(GUEST_FS_LIMIT) X(GUEST_GS_LIMIT) X(GUEST_LDTR_LIMIT) X(GUEST_TR_LIMIT)              \
    X(GUEST_GDTR_LIMIT) X(GUEST_IDTR_LIMIT)                                                \
    X(GUEST_ES_AR_BYTES) X(GUEST_CS_AR_BYTES) X(GUEST_SS_AR_BYTES) X(GUEST_DS_AR_BYTES)    \
    X(GUEST_FS_AR_BYTES) X(GUEST_GS_AR_BYTES) X(GUEST_LDTR_AR_BYTES) X(GUEST_TR_AR_BYTES)  \
    X(GUEST_ES_BASE) X(GUEST_CS_BASE) X(GUEST_SS_BASE) X(GUEST_DS_BASE) X(GUEST_FS_BASE)   \
    X(GUEST_GS_BASE) X(GUEST_LDTR_BASE) X(GUEST_TR_BASE) X(GUEST_GDTR_BASE)                \
    X(GUEST_IDTR_BASE) X(GUEST_CR3) X(GUEST_RSP) X(GUEST_RIP) X(GUEST_RFLAGS)              \
    X(GUEST_PENDING_DBG_EXCEPTIONS) X(GUEST_SYSENTER_CS) X(GUEST_SYSENTER_ESP)             \
    X(GUEST_SYSENTER_EIP) X(GUEST_INTERRUPTIBILITY_INFO) X(GUEST_ACTIVITY_STATE)

/* The exit-information fields a nested exit passes on (SDM Vol. 3C 25.9). */
#define EXIT_INFO_FIELDS(X)                                                               \
    X(EXIT_QUALIFICATION) X(VM_EXIT_INTR_INFO) X(VM_EXIT_INTR_ERROR_CODE)                  \
    X(IDT_VECTORING_INFO) X(IDT_VECTORING_ERROR_CODE) X(VM_EXIT_INSTRUCTION_LEN)           \
    X(VMX_INSTRUCTION_INFO) X(GUEST_LINEAR_ADDRESS) X(GUEST_PHYSICAL_ADDRESS)

/* Of the guest fields, those L1 may write in vmcs02 while it is L1's
 * shadow VMCS (nested/vmcs02_as_shadow.h): a nested exit saves them into
 * vmcs12 at once, and the next entry compares. */
#define VMCS02_SHADOW_WRITABLE_GUEST_FIELDS(X)                                           \
    X(GUEST_RIP) X(GUEST_RSP) X(GUEST_RFLAGS) X(GUEST_INTERRUPTIBILITY_INFO)

#endif
