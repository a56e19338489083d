#ifndef VMX_VMCS_FIELDS_H
#define VMX_VMCS_FIELDS_H
/*
 * Every VMCS field, defined once: identifier, encoding, name (SDM Vol. 3D
 * Appendix B "Field Encoding in VMCS"), and how an L1 hypervisor reaches
 * it through the shadow VMCS (nested/shadow_vmcs.h): RW, its VMREAD and
 * VMWRITE run without exiting; RO, its VMREAD does; NO, both exit. RW are
 * the fields L1s write on nearly every exit (L0 reads each back before
 * every nested entry, so the list is short), RO those they read on nearly
 * every exit (KVM's vmcs_shadow_fields.h makes a similar choice). Width and kind are not
 * repeated: they are encoded in the encoding itself (SDM Vol. 3C 25.11.2
 * "VMREAD, VMWRITE, and Encodings of VMCS Fields": bits 14:13 width, 11:10
 * type, bit 0 the high half of a 64-bit field). Accessors, the VMCS dump,
 * the vmcs12 layout and the shadow-VMCS lists derive from this list.
 */
#include <stdint.h>
#include <stdbool.h>

#define VMCS_FIELDS(X)                                                           \
    /* 16-bit control */                                                        \
    X(VIRTUAL_PROCESSOR_ID, 0x0000, "VPID", NO)                                 \
    X(POSTED_INTR_NOTIFICATION_VECTOR, 0x0002, "posted-interrupt notification vector", NO) \
    X(EPTP_INDEX, 0x0004, "EPTP index", NO)                                     \
    /* 16-bit guest state */                                                    \
    X(GUEST_ES_SELECTOR, 0x0800, "guest ES selector", NO)                       \
    X(GUEST_CS_SELECTOR, 0x0802, "guest CS selector", NO)                       \
    X(GUEST_SS_SELECTOR, 0x0804, "guest SS selector", NO)                       \
    X(GUEST_DS_SELECTOR, 0x0806, "guest DS selector", NO)                       \
    X(GUEST_FS_SELECTOR, 0x0808, "guest FS selector", NO)                       \
    X(GUEST_GS_SELECTOR, 0x080a, "guest GS selector", NO)                       \
    X(GUEST_LDTR_SELECTOR, 0x080c, "guest LDTR selector", NO)                   \
    X(GUEST_TR_SELECTOR, 0x080e, "guest TR selector", NO)                       \
    X(GUEST_INTR_STATUS, 0x0810, "guest interrupt status", NO)                  \
    X(GUEST_PML_INDEX, 0x0812, "PML index", RW)                                 \
    /* 16-bit host state */                                                     \
    X(HOST_ES_SELECTOR, 0x0c00, "host ES selector", NO)                         \
    X(HOST_CS_SELECTOR, 0x0c02, "host CS selector", NO)                         \
    X(HOST_SS_SELECTOR, 0x0c04, "host SS selector", NO)                         \
    X(HOST_DS_SELECTOR, 0x0c06, "host DS selector", NO)                         \
    X(HOST_FS_SELECTOR, 0x0c08, "host FS selector", RO)                         \
    X(HOST_GS_SELECTOR, 0x0c0a, "host GS selector", RO)                         \
    X(HOST_TR_SELECTOR, 0x0c0c, "host TR selector", NO)                         \
    /* 64-bit control */                                                        \
    X(IO_BITMAP_A, 0x2000, "I/O bitmap A", NO)                                  \
    X(IO_BITMAP_B, 0x2002, "I/O bitmap B", NO)                                  \
    X(MSR_BITMAP, 0x2004, "MSR bitmaps", NO)                                    \
    X(VM_EXIT_MSR_STORE_ADDR, 0x2006, "VM-exit MSR-store address", NO)          \
    X(VM_EXIT_MSR_LOAD_ADDR, 0x2008, "VM-exit MSR-load address", NO)            \
    X(VM_ENTRY_MSR_LOAD_ADDR, 0x200a, "VM-entry MSR-load address", NO)          \
    X(EXECUTIVE_VMCS_POINTER, 0x200c, "executive-VMCS pointer", NO)             \
    X(PML_ADDRESS, 0x200e, "PML address", NO)                                   \
    X(TSC_OFFSET, 0x2010, "TSC offset", NO)                                     \
    X(VIRTUAL_APIC_PAGE_ADDR, 0x2012, "virtual-APIC address", NO)               \
    X(APIC_ACCESS_ADDR, 0x2014, "APIC-access address", NO)                      \
    X(POSTED_INTR_DESC_ADDR, 0x2016, "posted-interrupt descriptor address", NO) \
    X(VM_FUNCTION_CONTROL, 0x2018, "VM-function controls", NO)                  \
    X(EPT_POINTER, 0x201a, "EPT pointer", NO)                                   \
    X(EOI_EXIT_BITMAP0, 0x201c, "EOI-exit bitmap 0", NO)                        \
    X(EOI_EXIT_BITMAP1, 0x201e, "EOI-exit bitmap 1", NO)                        \
    X(EOI_EXIT_BITMAP2, 0x2020, "EOI-exit bitmap 2", NO)                        \
    X(EOI_EXIT_BITMAP3, 0x2022, "EOI-exit bitmap 3", NO)                        \
    X(EPTP_LIST_ADDRESS, 0x2024, "EPTP-list address", NO)                       \
    X(VMREAD_BITMAP, 0x2026, "VMREAD-bitmap address", NO)                       \
    X(VMWRITE_BITMAP, 0x2028, "VMWRITE-bitmap address", NO)                     \
    X(VE_INFO_ADDRESS, 0x202a, "virtualization-exception information address", NO) \
    X(XSS_EXIT_BITMAP, 0x202c, "XSS-exiting bitmap", NO)                        \
    X(TSC_MULTIPLIER, 0x2032, "TSC multiplier", NO)                             \
    /* 64-bit read-only data */                                                 \
    X(GUEST_PHYSICAL_ADDRESS, 0x2400, "guest-physical address", RO)             \
    /* 64-bit guest state */                                                    \
    X(VMCS_LINK_POINTER, 0x2800, "VMCS link pointer", NO)                       \
    X(GUEST_IA32_DEBUGCTL, 0x2802, "guest IA32_DEBUGCTL", NO)                   \
    X(GUEST_IA32_PAT, 0x2804, "guest IA32_PAT", NO)                             \
    X(GUEST_IA32_EFER, 0x2806, "guest IA32_EFER", NO)                           \
    X(GUEST_IA32_PERF_GLOBAL_CTRL, 0x2808, "guest IA32_PERF_GLOBAL_CTRL", NO)   \
    X(GUEST_PDPTE0, 0x280a, "guest PDPTE0", NO)                                 \
    X(GUEST_PDPTE1, 0x280c, "guest PDPTE1", NO)                                 \
    X(GUEST_PDPTE2, 0x280e, "guest PDPTE2", NO)                                 \
    X(GUEST_PDPTE3, 0x2810, "guest PDPTE3", NO)                                 \
    /* 64-bit host state */                                                     \
    X(HOST_IA32_PAT, 0x2c00, "host IA32_PAT", NO)                               \
    X(HOST_IA32_EFER, 0x2c02, "host IA32_EFER", NO)                             \
    X(HOST_IA32_PERF_GLOBAL_CTRL, 0x2c04, "host IA32_PERF_GLOBAL_CTRL", NO)     \
    /* 32-bit control */                                                        \
    X(PIN_BASED_VM_EXEC_CONTROL, 0x4000, "pin-based controls", NO)              \
    X(CPU_BASED_VM_EXEC_CONTROL, 0x4002, "primary processor-based controls", RW) \
    X(EXCEPTION_BITMAP, 0x4004, "exception bitmap", RO)                         \
    X(PAGE_FAULT_ERROR_CODE_MASK, 0x4006, "page-fault error-code mask", NO)     \
    X(PAGE_FAULT_ERROR_CODE_MATCH, 0x4008, "page-fault error-code match", NO)   \
    X(CR3_TARGET_COUNT, 0x400a, "CR3-target count", NO)                         \
    X(VM_EXIT_CONTROLS, 0x400c, "VM-exit controls", NO)                         \
    X(VM_EXIT_MSR_STORE_COUNT, 0x400e, "VM-exit MSR-store count", NO)           \
    X(VM_EXIT_MSR_LOAD_COUNT, 0x4010, "VM-exit MSR-load count", NO)             \
    X(VM_ENTRY_CONTROLS, 0x4012, "VM-entry controls", NO)                       \
    X(VM_ENTRY_MSR_LOAD_COUNT, 0x4014, "VM-entry MSR-load count", NO)           \
    X(VM_ENTRY_INTR_INFO, 0x4016, "VM-entry interruption information", RW)      \
    X(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x4018, "VM-entry exception error code", RW) \
    X(VM_ENTRY_INSTRUCTION_LEN, 0x401a, "VM-entry instruction length", RW)      \
    X(TPR_THRESHOLD, 0x401c, "TPR threshold", NO)                               \
    X(SECONDARY_VM_EXEC_CONTROL, 0x401e, "secondary processor-based controls", NO) \
    X(PLE_GAP, 0x4020, "PLE_Gap", NO)                                           \
    X(PLE_WINDOW, 0x4022, "PLE_Window", NO)                                     \
    /* 32-bit read-only data */                                                 \
    X(VM_INSTRUCTION_ERROR, 0x4400, "VM-instruction error", NO)                 \
    X(VM_EXIT_REASON, 0x4402, "exit reason", RO)                                \
    X(VM_EXIT_INTR_INFO, 0x4404, "VM-exit interruption information", RO)        \
    X(VM_EXIT_INTR_ERROR_CODE, 0x4406, "VM-exit interruption error code", RO)   \
    X(IDT_VECTORING_INFO, 0x4408, "IDT-vectoring information", RO)              \
    X(IDT_VECTORING_ERROR_CODE, 0x440a, "IDT-vectoring error code", RO)         \
    X(VM_EXIT_INSTRUCTION_LEN, 0x440c, "VM-exit instruction length", RO)        \
    X(VMX_INSTRUCTION_INFO, 0x440e, "VM-exit instruction information", RO)      \
    /* 32-bit guest state */                                                    \
    X(GUEST_ES_LIMIT, 0x4800, "guest ES limit", NO)                             \
    X(GUEST_CS_LIMIT, 0x4802, "guest CS limit", NO)                             \
    X(GUEST_SS_LIMIT, 0x4804, "guest SS limit", NO)                             \
    X(GUEST_DS_LIMIT, 0x4806, "guest DS limit", NO)                             \
    X(GUEST_FS_LIMIT, 0x4808, "guest FS limit", NO)                             \
    X(GUEST_GS_LIMIT, 0x480a, "guest GS limit", NO)                             \
    X(GUEST_LDTR_LIMIT, 0x480c, "guest LDTR limit", NO)                         \
    X(GUEST_TR_LIMIT, 0x480e, "guest TR limit", NO)                             \
    X(GUEST_GDTR_LIMIT, 0x4810, "guest GDTR limit", NO)                         \
    X(GUEST_IDTR_LIMIT, 0x4812, "guest IDTR limit", NO)                         \
    X(GUEST_ES_AR_BYTES, 0x4814, "guest ES access rights", NO)                  \
    X(GUEST_CS_AR_BYTES, 0x4816, "guest CS access rights", RO)                  \
    X(GUEST_SS_AR_BYTES, 0x4818, "guest SS access rights", RO)                  \
    X(GUEST_DS_AR_BYTES, 0x481a, "guest DS access rights", NO)                  \
    X(GUEST_FS_AR_BYTES, 0x481c, "guest FS access rights", NO)                  \
    X(GUEST_GS_AR_BYTES, 0x481e, "guest GS access rights", NO)                  \
    X(GUEST_LDTR_AR_BYTES, 0x4820, "guest LDTR access rights", NO)              \
    X(GUEST_TR_AR_BYTES, 0x4822, "guest TR access rights", NO)                  \
    X(GUEST_INTERRUPTIBILITY_INFO, 0x4824, "guest interruptibility state", RW)  \
    X(GUEST_ACTIVITY_STATE, 0x4826, "guest activity state", NO)                 \
    X(GUEST_SMBASE, 0x4828, "guest SMBASE", NO)                                 \
    X(GUEST_SYSENTER_CS, 0x482a, "guest IA32_SYSENTER_CS", NO)                  \
    X(VMX_PREEMPTION_TIMER_VALUE, 0x482e, "VMX-preemption timer value", RW)     \
    /* 32-bit host state */                                                     \
    X(HOST_IA32_SYSENTER_CS, 0x4c00, "host IA32_SYSENTER_CS", NO)               \
    /* natural-width control */                                                 \
    X(CR0_GUEST_HOST_MASK, 0x6000, "CR0 guest/host mask", RO)                   \
    X(CR4_GUEST_HOST_MASK, 0x6002, "CR4 guest/host mask", NO)                   \
    X(CR0_READ_SHADOW, 0x6004, "CR0 read shadow", RO)                           \
    X(CR4_READ_SHADOW, 0x6006, "CR4 read shadow", RO)                           \
    X(CR3_TARGET_VALUE0, 0x6008, "CR3-target value 0", NO)                      \
    X(CR3_TARGET_VALUE1, 0x600a, "CR3-target value 1", NO)                      \
    X(CR3_TARGET_VALUE2, 0x600c, "CR3-target value 2", NO)                      \
    X(CR3_TARGET_VALUE3, 0x600e, "CR3-target value 3", NO)                      \
    /* natural-width read-only data */                                          \
    X(EXIT_QUALIFICATION, 0x6400, "exit qualification", RO)                     \
    X(IO_RCX, 0x6402, "I/O RCX", NO)                                            \
    X(IO_RSI, 0x6404, "I/O RSI", NO)                                            \
    X(IO_RDI, 0x6406, "I/O RDI", NO)                                            \
    X(IO_RIP, 0x6408, "I/O RIP", NO)                                            \
    X(GUEST_LINEAR_ADDRESS, 0x640a, "guest-linear address", RO)                 \
    /* natural-width guest state */                                             \
    X(GUEST_CR0, 0x6800, "guest CR0", RO)                                       \
    X(GUEST_CR3, 0x6802, "guest CR3", RO)                                       \
    X(GUEST_CR4, 0x6804, "guest CR4", RO)                                       \
    X(GUEST_ES_BASE, 0x6806, "guest ES base", NO)                               \
    X(GUEST_CS_BASE, 0x6808, "guest CS base", RO)                               \
    X(GUEST_SS_BASE, 0x680a, "guest SS base", NO)                               \
    X(GUEST_DS_BASE, 0x680c, "guest DS base", NO)                               \
    X(GUEST_FS_BASE, 0x680e, "guest FS base", NO)                               \
    X(GUEST_GS_BASE, 0x6810, "guest GS base", NO)                               \
    X(GUEST_LDTR_BASE, 0x6812, "guest LDTR base", NO)                           \
    X(GUEST_TR_BASE, 0x6814, "guest TR base", NO)                               \
    X(GUEST_GDTR_BASE, 0x6816, "guest GDTR base", NO)                           \
    X(GUEST_IDTR_BASE, 0x6818, "guest IDTR base", NO)                           \
    X(GUEST_DR7, 0x681a, "guest DR7", NO)                                       \
    X(GUEST_RSP, 0x681c, "guest RSP", RW)                                       \
    X(GUEST_RIP, 0x681e, "guest RIP", RW)                                       \
    X(GUEST_RFLAGS, 0x6820, "guest RFLAGS", RW)                                 \
    X(GUEST_PENDING_DBG_EXCEPTIONS, 0x6822, "guest pending debug exceptions", NO) \
    X(GUEST_SYSENTER_ESP, 0x6824, "guest IA32_SYSENTER_ESP", NO)                \
    X(GUEST_SYSENTER_EIP, 0x6826, "guest IA32_SYSENTER_EIP", NO)                \
    /* natural-width host state */                                              \
    X(HOST_CR0, 0x6c00, "host CR0", NO)                                         \
    X(HOST_CR3, 0x6c02, "host CR3", NO)                                         \
    X(HOST_CR4, 0x6c04, "host CR4", NO)                                         \
    X(HOST_FS_BASE, 0x6c06, "host FS base", RO)                                 \
    X(HOST_GS_BASE, 0x6c08, "host GS base", RO)                                 \
    X(HOST_TR_BASE, 0x6c0a, "host TR base", NO)                                 \
    X(HOST_GDTR_BASE, 0x6c0c, "host GDTR base", NO)                             \
    X(HOST_IDTR_BASE, 0x6c0e, "host IDTR base", NO)                             \
    X(HOST_IA32_SYSENTER_ESP, 0x6c10, "host IA32_SYSENTER_ESP", NO)             \
    X(HOST_IA32_SYSENTER_EIP, 0x6c12, "host IA32_SYSENTER_EIP", NO)             \
    X(HOST_RSP, 0x6c14, "host RSP", RW)                                         \
    X(HOST_RIP, 0x6c16, "host RIP", NO)

#define VMCS_FIELD_ENUM(id, enc, name, shadow) id = enc,
enum vmcs_field { VMCS_FIELDS(VMCS_FIELD_ENUM) };
#undef VMCS_FIELD_ENUM

enum vmcs_field_width { VMCS_WIDTH_16, VMCS_WIDTH_64, VMCS_WIDTH_32, VMCS_WIDTH_NATURAL };
enum vmcs_field_type { VMCS_TYPE_CONTROL, VMCS_TYPE_READ_ONLY, VMCS_TYPE_GUEST, VMCS_TYPE_HOST };

static inline enum vmcs_field_width vmcs_field_width(uint32_t encoding)
{
    return (enum vmcs_field_width)(encoding >> 13 & 3);
}
static inline enum vmcs_field_type vmcs_field_type(uint32_t encoding)
{
    return (enum vmcs_field_type)(encoding >> 10 & 3);
}

enum vmcs_shadow { VMCS_SHADOW_NO, VMCS_SHADOW_RO, VMCS_SHADOW_RW };

/* Each field's shadow class as a constant (GUEST_RIP_SHADOW), for lists
 * that pick fields by class at compile time. */
#define VMCS_FIELD_SHADOW_ENUM(id, enc, name, shadow) id##_SHADOW = VMCS_SHADOW_##shadow,
enum vmcs_field_shadow_class { VMCS_FIELDS(VMCS_FIELD_SHADOW_ENUM) };
#undef VMCS_FIELD_SHADOW_ENUM

struct vmcs_field_info {
    uint32_t encoding;
    const char *id;             /* "GUEST_RIP" */
    const char *name;           /* "guest RIP" */
    enum vmcs_shadow shadow;
};

extern const struct vmcs_field_info vmcs_field_table[];
extern const unsigned vmcs_field_count;
/* NULL for an encoding the table does not know. */
const struct vmcs_field_info *vmcs_field_lookup(uint32_t encoding);
#endif
