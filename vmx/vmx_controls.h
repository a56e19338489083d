#ifndef VMX_VMX_CONTROLS_H
#define VMX_VMX_CONTROLS_H
/*
 * VMX control bits, each defined once with its SDM name (SDM Vol. 3C 25.6
 * "VM-Execution Control Fields", 25.7.1 "VM-Exit Controls", 25.8.1 "VM-Entry
 * Controls"). The lists generate the bit masks and the name lookup used in
 * messages and dumps.
 */
#include <stdint.h>

#define VMX_PIN_CONTROLS(X)                                                   \
    X(PIN_EXTERNAL_INTERRUPT_EXITING, 0, "external-interrupt exiting")        \
    X(PIN_NMI_EXITING, 3, "NMI exiting")                                      \
    X(PIN_VIRTUAL_NMIS, 5, "virtual NMIs")                                    \
    X(PIN_PREEMPTION_TIMER, 6, "activate VMX-preemption timer")               \
    X(PIN_POSTED_INTERRUPTS, 7, "process posted interrupts")

#define VMX_PROC_CONTROLS(X)                                                  \
    X(PROC_INTERRUPT_WINDOW_EXITING, 2, "interrupt-window exiting")           \
    X(PROC_USE_TSC_OFFSETTING, 3, "use TSC offsetting")                       \
    X(PROC_HLT_EXITING, 7, "HLT exiting")                                     \
    X(PROC_INVLPG_EXITING, 9, "INVLPG exiting")                               \
    X(PROC_MWAIT_EXITING, 10, "MWAIT exiting")                                \
    X(PROC_RDPMC_EXITING, 11, "RDPMC exiting")                                \
    X(PROC_RDTSC_EXITING, 12, "RDTSC exiting")                                \
    X(PROC_CR3_LOAD_EXITING, 15, "CR3-load exiting")                          \
    X(PROC_CR3_STORE_EXITING, 16, "CR3-store exiting")                        \
    X(PROC_ACTIVATE_TERTIARY, 17, "activate tertiary controls")               \
    X(PROC_CR8_LOAD_EXITING, 19, "CR8-load exiting")                          \
    X(PROC_CR8_STORE_EXITING, 20, "CR8-store exiting")                        \
    X(PROC_USE_TPR_SHADOW, 21, "use TPR shadow")                              \
    X(PROC_NMI_WINDOW_EXITING, 22, "NMI-window exiting")                      \
    X(PROC_MOV_DR_EXITING, 23, "MOV-DR exiting")                              \
    X(PROC_UNCONDITIONAL_IO_EXITING, 24, "unconditional I/O exiting")         \
    X(PROC_USE_IO_BITMAPS, 25, "use I/O bitmaps")                             \
    X(PROC_MONITOR_TRAP_FLAG, 27, "monitor trap flag")                        \
    X(PROC_USE_MSR_BITMAPS, 28, "use MSR bitmaps")                            \
    X(PROC_MONITOR_EXITING, 29, "MONITOR exiting")                            \
    X(PROC_PAUSE_EXITING, 30, "PAUSE exiting")                                \
    X(PROC_ACTIVATE_SECONDARY, 31, "activate secondary controls")

#define VMX_PROC2_CONTROLS(X)                                                 \
    X(PROC2_VIRTUALIZE_APIC_ACCESSES, 0, "virtualize APIC accesses")          \
    X(PROC2_ENABLE_EPT, 1, "enable EPT")                                      \
    X(PROC2_DESCRIPTOR_TABLE_EXITING, 2, "descriptor-table exiting")          \
    X(PROC2_ENABLE_RDTSCP, 3, "enable RDTSCP")                                \
    X(PROC2_VIRTUALIZE_X2APIC, 4, "virtualize x2APIC mode")                   \
    X(PROC2_ENABLE_VPID, 5, "enable VPID")                                    \
    X(PROC2_WBINVD_EXITING, 6, "WBINVD exiting")                              \
    X(PROC2_UNRESTRICTED_GUEST, 7, "unrestricted guest")                      \
    X(PROC2_APIC_REGISTER_VIRT, 8, "APIC-register virtualization")            \
    X(PROC2_VIRTUAL_INTR_DELIVERY, 9, "virtual-interrupt delivery")           \
    X(PROC2_PAUSE_LOOP_EXITING, 10, "PAUSE-loop exiting")                     \
    X(PROC2_RDRAND_EXITING, 11, "RDRAND exiting")                             \
    X(PROC2_ENABLE_INVPCID, 12, "enable INVPCID")                             \
    X(PROC2_ENABLE_VMFUNC, 13, "enable VM functions")                         \
    X(PROC2_VMCS_SHADOWING, 14, "VMCS shadowing")                             \
    X(PROC2_ENCLS_EXITING, 15, "enable ENCLS exiting")                        \
    X(PROC2_RDSEED_EXITING, 16, "RDSEED exiting")                             \
    X(PROC2_ENABLE_PML, 17, "enable PML")                                     \
    X(PROC2_EPT_VIOLATION_VE, 18, "EPT-violation #VE")                        \
    X(PROC2_CONCEAL_VMX_FROM_PT, 19, "conceal VMX from PT")                   \
    X(PROC2_ENABLE_XSAVES, 20, "enable XSAVES/XRSTORS")                       \
    X(PROC2_MODE_BASED_EPT_EXEC, 22, "mode-based execute control for EPT")    \
    X(PROC2_TSC_SCALING, 25, "use TSC scaling")

#define VMX_EXIT_CONTROLS(X)                                                  \
    X(EXIT_SAVE_DEBUG_CONTROLS, 2, "save debug controls")                     \
    X(EXIT_HOST_ADDR_SPACE_SIZE, 9, "host address-space size")                \
    X(EXIT_LOAD_PERF_GLOBAL_CTRL, 12, "load IA32_PERF_GLOBAL_CTRL")           \
    X(EXIT_ACK_INTERRUPT_ON_EXIT, 15, "acknowledge interrupt on exit")        \
    X(EXIT_SAVE_PAT, 18, "save IA32_PAT")                                     \
    X(EXIT_LOAD_PAT, 19, "load IA32_PAT")                                     \
    X(EXIT_SAVE_EFER, 20, "save IA32_EFER")                                   \
    X(EXIT_LOAD_EFER, 21, "load IA32_EFER")                                   \
    X(EXIT_SAVE_PREEMPTION_TIMER, 22, "save VMX-preemption timer value")      \
    X(EXIT_CLEAR_BNDCFGS, 23, "clear IA32_BNDCFGS")

#define VMX_ENTRY_CONTROLS(X)                                                 \
    X(ENTRY_LOAD_DEBUG_CONTROLS, 2, "load debug controls")                    \
    X(ENTRY_IA32E_MODE_GUEST, 9, "IA-32e mode guest")                         \
    X(ENTRY_TO_SMM, 10, "entry to SMM")                                       \
    X(ENTRY_DEACTIVATE_DUAL_MONITOR, 11, "deactivate dual-monitor treatment") \
    X(ENTRY_LOAD_PERF_GLOBAL_CTRL, 13, "load IA32_PERF_GLOBAL_CTRL")          \
    X(ENTRY_LOAD_PAT, 14, "load IA32_PAT")                                    \
    X(ENTRY_LOAD_EFER, 15, "load IA32_EFER")                                  \
    X(ENTRY_LOAD_BNDCFGS, 16, "load IA32_BNDCFGS")

#define VMX_CONTROL_MASK(id, bit, name) id = 1u << (bit),
enum vmx_pin_control { VMX_PIN_CONTROLS(VMX_CONTROL_MASK) };
enum vmx_proc_control { VMX_PROC_CONTROLS(VMX_CONTROL_MASK) };
enum vmx_proc2_control { VMX_PROC2_CONTROLS(VMX_CONTROL_MASK) };
enum vmx_exit_control { VMX_EXIT_CONTROLS(VMX_CONTROL_MASK) };
enum vmx_entry_control { VMX_ENTRY_CONTROLS(VMX_CONTROL_MASK) };
#undef VMX_CONTROL_MASK

/* The event-window controls: a hypervisor opens and closes them between
 * most entries, to deliver an interrupt or NMI as soon as the guest can
 * take it (SDM Vol. 3C 25.6.2). */
#define PROC_EVENT_WINDOW_CONTROLS (PROC_INTERRUPT_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING)

/* The "default1" controls of each class: the bits the plain capability MSRs
 * always report as must-be-1, reserved bits and a few named controls of the
 * same class (CR3-load/store exiting, save/load debug controls); only a
 * TRUE_* MSR can allow them to be 0 (SDM Vol. 3D A.2). Secondary controls
 * have none (A.3.3). */
#define VMX_PIN_DEFAULT1   0x00000016u  /* bits 1, 2, 4 (SDM Vol. 3D A.3.1) */
#define VMX_PROC_DEFAULT1  0x0401e172u  /* bits 1, 4-6, 8, 13-16, 26 (A.3.2) */
#define VMX_EXIT_DEFAULT1  0x00036dffu  /* bits 0-8, 10, 11, 13, 14, 16, 17 (A.4) */
#define VMX_ENTRY_DEFAULT1 0x000011ffu  /* bits 0-8, 12 (A.5) */

/* The five control words, in the order of the capability MSRs. */
enum vmx_control_class {
    VMX_CTL_PIN, VMX_CTL_PROC, VMX_CTL_PROC2, VMX_CTL_EXIT, VMX_CTL_ENTRY, VMX_CTL_CLASSES
};

/* "pin-based", "primary processor-based", ... */
const char *vmx_control_class_name(enum vmx_control_class cls);
/* The SDM name of bit `bit` of a control word, or NULL for an unnamed bit. */
const char *vmx_control_name(enum vmx_control_class cls, unsigned bit);
#endif
