#ifndef ARCH_MSR_H
#define ARCH_MSR_H
/* MSR indices (SDM Vol. 4, "Model-Specific Registers"). */
#define MSR_IA32_APIC_BASE             0x01b
#define MSR_IA32_FEATURE_CONTROL       0x03a
#define MSR_IA32_SYSENTER_CS           0x174
#define MSR_IA32_SYSENTER_ESP          0x175
#define MSR_IA32_SYSENTER_EIP          0x176
#define MSR_IA32_PAT                   0x277
#define MSR_IA32_TSC_DEADLINE          0x6e0
#define MSR_IA32_VMX_BASIC             0x480
#define MSR_IA32_VMX_PINBASED_CTLS     0x481
#define MSR_IA32_VMX_PROCBASED_CTLS    0x482
#define MSR_IA32_VMX_EXIT_CTLS         0x483
#define MSR_IA32_VMX_ENTRY_CTLS        0x484
#define MSR_IA32_VMX_MISC              0x485
#define MSR_IA32_VMX_CR0_FIXED0        0x486
#define MSR_IA32_VMX_CR0_FIXED1        0x487
#define MSR_IA32_VMX_CR4_FIXED0        0x488
#define MSR_IA32_VMX_CR4_FIXED1        0x489
#define MSR_IA32_VMX_VMCS_ENUM         0x48a
#define MSR_IA32_VMX_PROCBASED_CTLS2   0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP      0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS  0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS    0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS   0x490
#define MSR_IA32_VMX_VMFUNC            0x491
#define MSR_IA32_EFER                  0xc0000080
#define MSR_FS_BASE                    0xc0000100
#define MSR_GS_BASE                    0xc0000101

#define APIC_BASE_BSP      (1ull << 8)
#define APIC_BASE_X2APIC   (1ull << 10)
#define APIC_BASE_ENABLE   (1ull << 11)

/* IA32_FEATURE_CONTROL bits (SDM Vol. 3C 24.7 "Enabling and Entering VMX Operation"). */
#define FEATURE_CONTROL_LOCKED              (1ull << 0)
#define FEATURE_CONTROL_VMXON_INSIDE_SMX    (1ull << 1)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX   (1ull << 2)

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#endif
