/* Software checks of a nested VM entry (see entry_checks.h). Each check is a
 * small predicate named in a table, in the SDM's order, with its section. */
#include "nested/entry_checks.h"
#include "arch/cpu.h"
#include "arch/msr.h"
#include "virt/vcpu_msrs.h"

#define DEBUGCTL_LBR    (1ull << 0)
#define DEBUGCTL_BTF    (1ull << 1)

/* The IA32_DEBUGCTL bits vmcs12 may load into L2: LBR and BTF, which only
 * change how L2's own branches are recorded and single-stepped. The other
 * bits (TR, BTS and the freezes) would have the processor send branch
 * records to L0's bus or memory, which vmxvisor does not virtualise, so they
 * count as reserved (as in KVM's vmx_get_supported_debugctl). */
#define DEBUGCTL_DEFINED (DEBUGCTL_LBR | DEBUGCTL_BTF)

/* IA32_VMX_BASIC[56] and IA32_VMX_MISC fields (SDM Vol. 3D A.1, A.6). */
#define BASIC_ANY_ERROR_CODE_INJECTION (1ull << 56)
#define MISC_CR3_TARGETS(misc)          ((misc) >> 16 & 0x1ff)
#define MISC_MSR_LIST_MAX(misc)         (512 * (((misc) >> 25 & 7) + 1))
#define MISC_ZERO_LENGTH_INJECTION      (1ull << 30)

/* VM-entry interruption-information field (SDM Vol. 3C 25.8.3, Table 25-17). */
#define EVENT_VECTOR(info)              ((info) & 0xff)
#define EVENT_TYPE(info)                ((info) >> 8 & 7)
#define EVENT_DELIVER_ERROR_CODE        (1u << 11)
#define EVENT_RESERVED                  0x7ffff000u     /* bits 30:12 */
enum event_type {
    EVENT_EXTERNAL_INTERRUPT = 0, EVENT_TYPE_RESERVED = 1, EVENT_NMI = 2,
    EVENT_HARDWARE_EXCEPTION = 3, EVENT_SOFTWARE_INTERRUPT = 4,
    EVENT_PRIVILEGED_SOFTWARE_EXCEPTION = 5, EVENT_SOFTWARE_EXCEPTION = 6, EVENT_OTHER = 7,
};
#define VECTOR_DB       1
#define VECTOR_NMI      2
#define VECTOR_MC       18
/* The exceptions that push an error code (SDM Vol. 3A Table 6-1): #DF,
 * #TS, #NP, #SS, #GP, #PF, #AC, #CP. */
#define ERROR_CODE_EXCEPTIONS \
    (1u << 8 | 1u << 10 | 1u << 11 | 1u << 12 | 1u << 13 | 1u << 14 | 1u << 17 | 1u << 21)

/* Guest interruptibility state (SDM Vol. 3C 25.4.2, Table 25-3). Bit 4,
 * "enclave interruption", counts as reserved: vmxvisor never enables SGX
 * for a guest (IA32_FEATURE_CONTROL), so no L2 can be in an enclave. */
#define BLOCKING_BY_STI     (1u << 0)
#define BLOCKING_BY_MOV_SS  (1u << 1)
#define BLOCKING_BY_SMI     (1u << 2)
#define BLOCKING_BY_NMI     (1u << 3)
#define INTERRUPTIBILITY_DEFINED \
    (BLOCKING_BY_STI | BLOCKING_BY_MOV_SS | BLOCKING_BY_SMI | BLOCKING_BY_NMI)

enum activity_state { ACTIVITY_ACTIVE, ACTIVITY_HLT, ACTIVITY_SHUTDOWN, ACTIVITY_WAIT_FOR_SIPI };

#define SELECTOR_RPL_TI     7u
#define SELECTOR_RPL(sel)   ((sel) & 3)
#define SELECTOR_TI         4u

/* Segment access rights (SDM Vol. 3C 25.4.1, Table 25-2). */
#define AR_TYPE(ar)         ((ar) & 0xf)
#define AR_S                (1u << 4)
#define AR_DPL(ar)          ((ar) >> 5 & 3)
#define AR_P                (1u << 7)
#define AR_L                (1u << 13)
#define AR_DB               (1u << 14)
#define AR_G                (1u << 15)
#define AR_UNUSABLE         (1u << 16)
#define AR_RESERVED         0xfffe0f00u     /* bits 31:17 and 11:8 */
#define AR_VIRTUAL_8086     0xf3u           /* present read/write accessed data, DPL 3 */

/* Segment types (SDM Vol. 3A 3.4.5.1, 3.5): with S = 1, bit 3 tells code
 * from data, bit 2 is conforming (code) or expand-down (data), bit 1
 * readable (code) or writable (data), bit 0 accessed. */
#define TYPE_ACCESSED       1u
#define TYPE_READABLE       2u
#define TYPE_CONFORMING     4u
#define TYPE_EXPAND_DOWN    4u
#define TYPE_CODE           8u
#define TYPE_DATA_READ_WRITE_ACCESSED 3u
#define TYPE_LDT            2u
#define TYPE_BUSY_TSS_16    3u
#define TYPE_BUSY_TSS       11u             /* 32-bit, or 64-bit in IA-32e mode */

/* RFLAGS (SDM Vol. 1 3.4.3): bit 1 is 1; bits 63:22, 15, 5 and 3 are
 * reserved. */
#define RFLAGS_FIXED_1      (1ull << 1)
#define RFLAGS_RESERVED     (~0x3fffffull | 1ull << 15 | 1ull << 5 | 1ull << 3)
#define RFLAGS_VM           (1ull << 17)

/* Pending debug exceptions (SDM Vol. 3C 25.4.2, Table 25-4): B3-B0, enabled
 * breakpoint (12) and BS (14). Bit 16 (RTM) counts as reserved: an RTM
 * debug exception needs IA32_DEBUGCTL.RTM, which no guest of vmxvisor can
 * set (vmxvisor emulates no WRMSR to IA32_DEBUGCTL, and vmcs12 may load
 * only LBR and BTF), so none can be pending. */
#define PENDING_DEBUG_BS        (1ull << 14)
#define PENDING_DEBUG_DEFINED   (0xfull | 1ull << 12 | PENDING_DEBUG_BS)
#define VMCS_LINK_POINTER_NONE (~0ull)

/* EPTP (SDM Vol. 3C 25.6.11). */
#define EPTP_MEMORY_TYPE(eptp)  ((eptp) & 7)
#define EPTP_WALK_LENGTH(eptp)  (((eptp) >> 3 & 7) + 1)
#define EPTP_ACCESSED_DIRTY     (1ull << 6)
#define EPTP_RESERVED           0xf80ull            /* bits 11:7 */
#define MEMORY_TYPE_UC          0
#define MEMORY_TYPE_WB          6
#define VMFUNC_EPTP_SWITCHING   (1ull << 0)

/* A present PAE PDPTE's reserved bits below MAXPHYADDR: 2:1 and 8:5 (SDM
 * Vol. 3A 5.4.1, Table 5-8). */
#define PDPTE_PRESENT           1ull
#define PDPTE_RESERVED          0x1e6ull

/* One VM entry under check: vmcs12, what L1 was offered and told, and the
 * control words as the processor applies them (the secondary ones are 0
 * unless activated, SDM Vol. 3C 27.2.1.1). */
struct entry {
    const struct vmcs12 *vmcs12;
    const struct nested_vmx_caps *caps;
    unsigned phys_addr_bits, linear_addr_bits;
    bool l1_in_ia32e_mode;
    uint32_t link_region_revision;
    uint32_t ctl[VMX_CTL_CLASSES];
};

struct entry_check {
    const char *name;
    bool (*passes)(const struct entry *e);
    /* what a failed guest-state check puts in the exit qualification */
    enum nested_entry_failure_qualification qualification;
};
#define CHECK(name, passes) { name, passes, NESTED_ENTRY_FAILURE_DEFAULT }

/* Every field read here is one vmcs12 has (vmx/vmcs_fields.h). */
static uint64_t field(const struct entry *e, uint32_t encoding)
{
    return vmcs12_get(e->vmcs12, encoding);
}

static bool control_on(const struct entry *e, enum vmx_control_class cls, uint32_t control)
{
    return e->ctl[cls] & control;
}

static uint64_t capability(const struct entry *e, enum nested_vmx_msr_index msr)
{
    return e->caps->msr[msr];
}

static bool within_phys_width(const struct entry *e, uint64_t address)
{
    return address >> e->phys_addr_bits == 0;
}

/* "Bits 11:0 of the address must be 0; the address must not set any bits
 * beyond the processor's physical-address width", said of every page the
 * controls name (27.2.1.1). */
static bool page_address_valid(const struct entry *e, uint32_t encoding)
{
    uint64_t address = field(e, encoding);
    return (address & 0xfff) == 0 && within_phys_width(e, address);
}

/* Bits 63 down to the width's top bit all equal. */
static bool is_canonical(uint64_t address, unsigned bits)
{
    uint64_t sign = 1ull << (bits - 1), low_bits = (sign << 1) - 1;
    return ((address & low_bits) ^ sign) - sign == address;
}

/* Addresses that VM entry or exit loads into MSRs and descriptor-table and
 * segment bases are canonical for the processor's linear-address width,
 * whatever CR4.LA57: processors with 5-level paging check them so (as KVM
 * models them, is_noncanonical_msr_address and is_noncanonical_base_address). */
static bool canonical(const struct entry *e, uint32_t encoding)
{
    return is_canonical(field(e, encoding), e->linear_addr_bits);
}

/* SDM Vol. 3C 24.8: a bit set in FIXED0 must be 1, a bit clear in FIXED1
 * must be 0. */
static bool fixed_bits_valid(uint64_t value, uint64_t fixed0, uint64_t fixed1)
{
    return (value & fixed0) == fixed0 && !(value & ~fixed1);
}

/* "Each of the 8 bytes must have one of the values 0 (UC), 1 (WC), 4 (WT),
 * 5 (WP), 6 (WB), or 7 (UC-)" (27.2.2, 27.3.1.1). */
static bool pat_valid(uint64_t pat)
{
    for (unsigned i = 0; i < 8; i++) {
        unsigned type = pat >> (8 * i) & 0xff;
        if (type == 2 || type == 3 || type > 7)
            return false;
    }
    return true;
}

static bool control_word_allowed(const struct entry *e, enum vmx_control_class cls)
{
    uint32_t must = e->caps->must_be_1[cls], may = e->caps->may_be_1[cls];
    return (e->ctl[cls] & must) == must && !(e->ctl[cls] & ~may);
}

/* ---- VM-execution control fields (SDM Vol. 3C 27.2.1.1) ---- */

static bool pin_controls_allowed(const struct entry *e)
{
    return control_word_allowed(e, VMX_CTL_PIN);
}

static bool primary_controls_allowed(const struct entry *e)
{
    return control_word_allowed(e, VMX_CTL_PROC);
}

/* No checks at all when "activate secondary controls" is 0. */
static bool secondary_controls_allowed(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PROC, PROC_ACTIVATE_SECONDARY) ||
           control_word_allowed(e, VMX_CTL_PROC2);
}

static bool cr3_target_count_supported(const struct entry *e)
{
    return field(e, CR3_TARGET_COUNT) <= MISC_CR3_TARGETS(capability(e, NESTED_VMX_MISC));
}

static bool io_bitmap_addresses_valid(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PROC, PROC_USE_IO_BITMAPS) ||
           (page_address_valid(e, IO_BITMAP_A) && page_address_valid(e, IO_BITMAP_B));
}

static bool msr_bitmap_address_valid(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PROC, PROC_USE_MSR_BITMAPS) ||
           page_address_valid(e, MSR_BITMAP);
}

static bool virtual_apic_address_valid(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PROC, PROC_USE_TPR_SHADOW) ||
           page_address_valid(e, VIRTUAL_APIC_PAGE_ADDR);
}

/* Bits 31:4 of the TPR threshold are 0 with a TPR shadow and no virtual-
 * interrupt delivery. The comparison of bits 3:0 with the VTPR reads the
 * virtual-APIC page, which vmcs02 uses too: the processor makes it. */
static bool tpr_threshold_valid(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PROC, PROC_USE_TPR_SHADOW) ||
           control_on(e, VMX_CTL_PROC2, PROC2_VIRTUAL_INTR_DELIVERY) ||
           !(field(e, TPR_THRESHOLD) & ~0xfull);
}

static bool apic_virtualization_has_tpr_shadow(const struct entry *e)
{
    return control_on(e, VMX_CTL_PROC, PROC_USE_TPR_SHADOW) ||
           !control_on(e, VMX_CTL_PROC2, PROC2_VIRTUALIZE_X2APIC | PROC2_APIC_REGISTER_VIRT |
                                         PROC2_VIRTUAL_INTR_DELIVERY);
}

static bool virtual_nmis_have_nmi_exiting(const struct entry *e)
{
    return control_on(e, VMX_CTL_PIN, PIN_NMI_EXITING) ||
           !control_on(e, VMX_CTL_PIN, PIN_VIRTUAL_NMIS);
}

static bool nmi_window_exiting_has_virtual_nmis(const struct entry *e)
{
    return control_on(e, VMX_CTL_PIN, PIN_VIRTUAL_NMIS) ||
           !control_on(e, VMX_CTL_PROC, PROC_NMI_WINDOW_EXITING);
}

static bool apic_access_address_valid(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PROC2, PROC2_VIRTUALIZE_APIC_ACCESSES) ||
           page_address_valid(e, APIC_ACCESS_ADDR);
}

static bool x2apic_virtualization_excludes_apic_accesses(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PROC2, PROC2_VIRTUALIZE_X2APIC) ||
           !control_on(e, VMX_CTL_PROC2, PROC2_VIRTUALIZE_APIC_ACCESSES);
}

static bool interrupt_delivery_has_external_interrupt_exiting(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PROC2, PROC2_VIRTUAL_INTR_DELIVERY) ||
           control_on(e, VMX_CTL_PIN, PIN_EXTERNAL_INTERRUPT_EXITING);
}

static bool posted_interrupts_have_delivery_and_ack(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PIN, PIN_POSTED_INTERRUPTS) ||
           (control_on(e, VMX_CTL_PROC2, PROC2_VIRTUAL_INTR_DELIVERY) &&
            control_on(e, VMX_CTL_EXIT, EXIT_ACK_INTERRUPT_ON_EXIT));
}

static bool posted_interrupt_vector_valid(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PIN, PIN_POSTED_INTERRUPTS) ||
           field(e, POSTED_INTR_NOTIFICATION_VECTOR) <= 0xff;
}

static bool posted_interrupt_descriptor_valid(const struct entry *e)
{
    uint64_t address = field(e, POSTED_INTR_DESC_ADDR);
    return !control_on(e, VMX_CTL_PIN, PIN_POSTED_INTERRUPTS) ||
           ((address & 0x3f) == 0 && within_phys_width(e, address));
}

static bool vpid_nonzero(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PROC2, PROC2_ENABLE_VPID) ||
           field(e, VIRTUAL_PROCESSOR_ID) != 0;
}

bool nested_eptp_valid(uint64_t eptp, uint64_t ept_vpid_cap, unsigned phys_addr_bits)
{
    bool type_offered = (EPTP_MEMORY_TYPE(eptp) == MEMORY_TYPE_UC && (ept_vpid_cap & EPT_CAP_UC)) ||
                        (EPTP_MEMORY_TYPE(eptp) == MEMORY_TYPE_WB && (ept_vpid_cap & EPT_CAP_WB));
    bool walk_offered = (EPTP_WALK_LENGTH(eptp) == 4 && (ept_vpid_cap & EPT_CAP_WALK_4)) ||
                        (EPTP_WALK_LENGTH(eptp) == 5 && (ept_vpid_cap & EPT_CAP_WALK_5));
    bool ad_offered = !(eptp & EPTP_ACCESSED_DIRTY) || (ept_vpid_cap & EPT_CAP_AD);
    return type_offered && walk_offered && ad_offered && !(eptp & EPTP_RESERVED) &&
           eptp >> phys_addr_bits == 0;
}

static bool ept_pointer_valid(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PROC2, PROC2_ENABLE_EPT) ||
           nested_eptp_valid(field(e, EPT_POINTER), capability(e, NESTED_VMX_EPT_VPID_CAP),
                             e->phys_addr_bits);
}

static bool pml_valid(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PROC2, PROC2_ENABLE_PML) ||
           (control_on(e, VMX_CTL_PROC2, PROC2_ENABLE_EPT) && page_address_valid(e, PML_ADDRESS));
}

static bool unrestricted_guest_has_ept(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PROC2, PROC2_UNRESTRICTED_GUEST) ||
           control_on(e, VMX_CTL_PROC2, PROC2_ENABLE_EPT);
}

static bool mode_based_execute_control_has_ept(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PROC2, PROC2_MODE_BASED_EPT_EXEC) ||
           control_on(e, VMX_CTL_PROC2, PROC2_ENABLE_EPT);
}

/* The VM functions must be ones IA32_VMX_VMFUNC offers. */
static bool vm_functions_offered(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PROC2, PROC2_ENABLE_VMFUNC) ||
           !(field(e, VM_FUNCTION_CONTROL) & ~capability(e, NESTED_VMX_VMFUNC));
}

static bool eptp_switching_valid(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PROC2, PROC2_ENABLE_VMFUNC) ||
           !(field(e, VM_FUNCTION_CONTROL) & VMFUNC_EPTP_SWITCHING) ||
           (control_on(e, VMX_CTL_PROC2, PROC2_ENABLE_EPT) &&
            page_address_valid(e, EPTP_LIST_ADDRESS));
}

static bool vmread_vmwrite_bitmap_addresses_valid(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PROC2, PROC2_VMCS_SHADOWING) ||
           (page_address_valid(e, VMREAD_BITMAP) && page_address_valid(e, VMWRITE_BITMAP));
}

static bool ve_information_address_valid(const struct entry *e)
{
    return !control_on(e, VMX_CTL_PROC2, PROC2_EPT_VIOLATION_VE) ||
           page_address_valid(e, VE_INFO_ADDRESS);
}

/* ---- VM-exit control fields (27.2.1.2) and MSR lists ---- */

static bool exit_controls_allowed(const struct entry *e)
{
    return control_word_allowed(e, VMX_CTL_EXIT);
}

static bool timer_save_has_timer(const struct entry *e)
{
    return control_on(e, VMX_CTL_PIN, PIN_PREEMPTION_TIMER) ||
           !control_on(e, VMX_CTL_EXIT, EXIT_SAVE_PREEMPTION_TIMER);
}

/* A non-empty MSR list is 16-byte aligned and lies wholly within the
 * physical-address width (27.2.1.2, 27.2.1.3). A list longer than
 * 512 * (IA32_VMX_MISC[27:25] + 1) entries leaves the processor's behaviour
 * undefined (Vol. 3D A.6): vmxvisor refuses the entry, the one outcome L1
 * can see and correct. */
static bool msr_list_valid(const struct entry *e, uint32_t count_field, uint32_t address_field)
{
    uint64_t count = field(e, count_field), address = field(e, address_field);
    return count == 0 ||
           (count <= MISC_MSR_LIST_MAX(capability(e, NESTED_VMX_MISC)) && (address & 0xf) == 0 &&
            within_phys_width(e, address) && within_phys_width(e, address + count * 16 - 1));
}

static bool exit_msr_store_list_valid(const struct entry *e)
{
    return msr_list_valid(e, VM_EXIT_MSR_STORE_COUNT, VM_EXIT_MSR_STORE_ADDR);
}

static bool exit_msr_load_list_valid(const struct entry *e)
{
    return msr_list_valid(e, VM_EXIT_MSR_LOAD_COUNT, VM_EXIT_MSR_LOAD_ADDR);
}

/* ---- VM-entry control fields (27.2.1.3) ---- */

static bool entry_controls_allowed(const struct entry *e)
{
    return control_word_allowed(e, VMX_CTL_ENTRY);
}

static bool entry_msr_load_list_valid(const struct entry *e)
{
    return msr_list_valid(e, VM_ENTRY_MSR_LOAD_COUNT, VM_ENTRY_MSR_LOAD_ADDR);
}

static uint32_t injected_event(const struct entry *e)
{
    return (uint32_t)field(e, VM_ENTRY_INTR_INFO);
}

/* Type 1 is reserved; type 7 (other event) exists only with the "monitor
 * trap flag" control. */
static bool injected_type_valid(const struct entry *e)
{
    uint32_t event = injected_event(e);
    unsigned type = EVENT_TYPE(event);
    bool mtf_offered = e->caps->may_be_1[VMX_CTL_PROC] & PROC_MONITOR_TRAP_FLAG;
    return !(event & NESTED_EVENT_VALID) ||
           (type != EVENT_TYPE_RESERVED && (type != EVENT_OTHER || mtf_offered));
}

/* An NMI is vector 2, a hardware exception at most 31, other event 0. */
static bool injected_vector_valid(const struct entry *e)
{
    uint32_t event = injected_event(e);
    unsigned vector = EVENT_VECTOR(event);
    if (!(event & NESTED_EVENT_VALID))
        return true;
    switch (EVENT_TYPE(event)) {
    case EVENT_NMI: return vector == VECTOR_NMI;
    case EVENT_HARDWARE_EXCEPTION: return vector <= 31;
    case EVENT_OTHER: return vector == 0;
    default: return true;
    }
}

/* Only a hardware exception into a guest with CR0.PE = 1 may deliver an
 * error code, and then exactly the exceptions that push one, unless
 * IA32_VMX_BASIC[56] lets any hardware exception have one or not. */
static bool injected_error_code_flag_valid(const struct entry *e)
{
    uint32_t event = injected_event(e);
    if (!(event & NESTED_EVENT_VALID))
        return true;
    bool delivers = event & EVENT_DELIVER_ERROR_CODE;
    if (EVENT_TYPE(event) != EVENT_HARDWARE_EXCEPTION || !(field(e, GUEST_CR0) & CR0_PE))
        return !delivers;
    if (capability(e, NESTED_VMX_BASIC) & BASIC_ANY_ERROR_CODE_INJECTION)
        return true;
    unsigned vector = EVENT_VECTOR(event);
    return delivers == (vector < 32 && (ERROR_CODE_EXCEPTIONS >> vector & 1));
}

static bool injected_reserved_bits_clear(const struct entry *e)
{
    uint32_t event = injected_event(e);
    return !(event & NESTED_EVENT_VALID) || !(event & EVENT_RESERVED);
}

/* An error code delivered has bits 31:16 clear. */
static bool injected_error_code_valid(const struct entry *e)
{
    uint32_t event = injected_event(e);
    return !(event & NESTED_EVENT_VALID) || !(event & EVENT_DELIVER_ERROR_CODE) ||
           !(field(e, VM_ENTRY_EXCEPTION_ERROR_CODE) & 0xffff0000u);
}

/* A software interrupt or exception has an instruction length of 0-15,
 * 0 only if IA32_VMX_MISC[30] allows it. */
static bool injected_instruction_length_valid(const struct entry *e)
{
    uint32_t event = injected_event(e);
    unsigned type = EVENT_TYPE(event);
    if (!(event & NESTED_EVENT_VALID) || (type != EVENT_SOFTWARE_INTERRUPT &&
                                   type != EVENT_PRIVILEGED_SOFTWARE_EXCEPTION &&
                                   type != EVENT_SOFTWARE_EXCEPTION))
        return true;
    uint64_t length = field(e, VM_ENTRY_INSTRUCTION_LEN);
    bool zero_allowed = capability(e, NESTED_VMX_MISC) & MISC_ZERO_LENGTH_INJECTION;
    return length <= 15 && (length != 0 || zero_allowed);
}

/* The control checks that read the event-window controls, which L1s
 * toggle between most entries (nested_check_window_controls): first. */
static const struct entry_check window_control_checks[] = {
    /* 27.2.1.1 */
    CHECK("primary processor-based controls", primary_controls_allowed),
    CHECK("NMI-window exiting needs virtual NMIs", nmi_window_exiting_has_virtual_nmis),
};

static const struct entry_check control_checks[] = {
    CHECK("pin-based controls", pin_controls_allowed),
    CHECK("secondary processor-based controls", secondary_controls_allowed),
    CHECK("CR3-target count", cr3_target_count_supported),
    CHECK("I/O-bitmap addresses", io_bitmap_addresses_valid),
    CHECK("MSR-bitmap address", msr_bitmap_address_valid),
    CHECK("virtual-APIC address", virtual_apic_address_valid),
    CHECK("TPR threshold", tpr_threshold_valid),
    CHECK("APIC virtualization needs a TPR shadow", apic_virtualization_has_tpr_shadow),
    CHECK("virtual NMIs need NMI exiting", virtual_nmis_have_nmi_exiting),
    CHECK("APIC-access address", apic_access_address_valid),
    CHECK("x2APIC virtualization excludes APIC-access virtualization",
          x2apic_virtualization_excludes_apic_accesses),
    CHECK("virtual-interrupt delivery needs external-interrupt exiting",
          interrupt_delivery_has_external_interrupt_exiting),
    CHECK("posted interrupts need virtual-interrupt delivery and interrupt acknowledgement",
          posted_interrupts_have_delivery_and_ack),
    CHECK("posted-interrupt notification vector", posted_interrupt_vector_valid),
    CHECK("posted-interrupt descriptor address", posted_interrupt_descriptor_valid),
    CHECK("VPID", vpid_nonzero),
    CHECK("EPT pointer", ept_pointer_valid),
    CHECK("PML needs EPT and a PML address", pml_valid),
    CHECK("unrestricted guest needs EPT", unrestricted_guest_has_ept),
    CHECK("mode-based execute control needs EPT", mode_based_execute_control_has_ept),
    CHECK("VM-function controls", vm_functions_offered),
    CHECK("EPTP switching needs EPT and an EPTP-list address", eptp_switching_valid),
    CHECK("VMREAD/VMWRITE-bitmap addresses", vmread_vmwrite_bitmap_addresses_valid),
    CHECK("virtualization-exception information address", ve_information_address_valid),
    /* 27.2.1.2 */
    CHECK("VM-exit controls", exit_controls_allowed),
    CHECK("saving the preemption timer needs the timer", timer_save_has_timer),
    CHECK("VM-exit MSR-store list", exit_msr_store_list_valid),
    CHECK("VM-exit MSR-load list", exit_msr_load_list_valid),
    /* 27.2.1.3 */
    CHECK("VM-entry controls", entry_controls_allowed),
    CHECK("VM-entry MSR-load list", entry_msr_load_list_valid),
};

/* The last of the control checks (27.2.1.3): the event to inject. */
static const struct entry_check injection_control_checks[] = {
    CHECK("injected event type", injected_type_valid),
    CHECK("injected event vector", injected_vector_valid),
    CHECK("injected event deliver-error-code bit", injected_error_code_flag_valid),
    CHECK("injected event reserved bits", injected_reserved_bits_clear),
    CHECK("injected event error code", injected_error_code_valid),
    CHECK("injected event instruction length", injected_instruction_length_valid),
};

/* ---- Host control registers and MSRs (27.2.2) ---- */

static bool host_address_space_size(const struct entry *e)
{
    return control_on(e, VMX_CTL_EXIT, EXIT_HOST_ADDR_SPACE_SIZE);
}

static bool ia32e_mode_guest(const struct entry *e)
{
    return control_on(e, VMX_CTL_ENTRY, ENTRY_IA32E_MODE_GUEST);
}

static bool host_cr0_valid(const struct entry *e)
{
    return fixed_bits_valid(field(e, HOST_CR0), capability(e, NESTED_VMX_CR0_FIXED0),
                            capability(e, NESTED_VMX_CR0_FIXED1));
}

static bool host_cr4_valid(const struct entry *e)
{
    return fixed_bits_valid(field(e, HOST_CR4), capability(e, NESTED_VMX_CR4_FIXED0),
                            capability(e, NESTED_VMX_CR4_FIXED1));
}

static bool host_cet_has_write_protect(const struct entry *e)
{
    return !(field(e, HOST_CR4) & CR4_CET) || (field(e, HOST_CR0) & CR0_WP);
}

static bool host_cr3_valid(const struct entry *e)
{
    return within_phys_width(e, field(e, HOST_CR3));
}

static bool host_sysenter_canonical(const struct entry *e)
{
    return canonical(e, HOST_IA32_SYSENTER_ESP) && canonical(e, HOST_IA32_SYSENTER_EIP);
}

/* vmxvisor's virtual processor has no performance counters (CPUID leaf 0xA
 * reads 0, exits/exit_cpuid.c): every bit of IA32_PERF_GLOBAL_CTRL is
 * reserved. */
static bool host_perf_global_ctrl_valid(const struct entry *e)
{
    return !control_on(e, VMX_CTL_EXIT, EXIT_LOAD_PERF_GLOBAL_CTRL) ||
           field(e, HOST_IA32_PERF_GLOBAL_CTRL) == 0;
}

static bool host_pat_valid(const struct entry *e)
{
    return !control_on(e, VMX_CTL_EXIT, EXIT_LOAD_PAT) || pat_valid(field(e, HOST_IA32_PAT));
}

static bool host_efer_reserved_clear(const struct entry *e)
{
    return !control_on(e, VMX_CTL_EXIT, EXIT_LOAD_EFER) ||
           !(field(e, HOST_IA32_EFER) & ~VCPU_EFER_BITS);
}

static bool host_efer_matches_address_space_size(const struct entry *e)
{
    uint64_t efer = field(e, HOST_IA32_EFER);
    bool size = host_address_space_size(e);
    return !control_on(e, VMX_CTL_EXIT, EXIT_LOAD_EFER) ||
           ((bool)(efer & EFER_LMA) == size && (bool)(efer & EFER_LME) == size);
}

/* ---- Host segment and descriptor-table registers (27.2.3) ---- */

static bool host_selectors_rpl_ti_clear(const struct entry *e)
{
    static const uint32_t selectors[] = {
        HOST_ES_SELECTOR, HOST_CS_SELECTOR, HOST_SS_SELECTOR, HOST_DS_SELECTOR,
        HOST_FS_SELECTOR, HOST_GS_SELECTOR, HOST_TR_SELECTOR,
    };
    for (unsigned i = 0; i < sizeof(selectors) / sizeof(selectors[0]); i++)
        if (field(e, selectors[i]) & SELECTOR_RPL_TI)
            return false;
    return true;
}

static bool host_cs_tr_nonzero(const struct entry *e)
{
    return field(e, HOST_CS_SELECTOR) != 0 && field(e, HOST_TR_SELECTOR) != 0;
}

static bool host_ss_nonzero_for_32bit_host(const struct entry *e)
{
    return host_address_space_size(e) || field(e, HOST_SS_SELECTOR) != 0;
}

static bool host_bases_canonical(const struct entry *e)
{
    static const uint32_t bases[] = {
        HOST_FS_BASE, HOST_GS_BASE, HOST_GDTR_BASE, HOST_IDTR_BASE, HOST_TR_BASE,
    };
    for (unsigned i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
        if (!canonical(e, bases[i]))
            return false;
    return true;
}

/* ---- Address-space size (27.2.4) ---- */

/* Outside IA-32e mode, neither an IA-32e guest nor a 64-bit host. With the
 * next check this also covers "a 32-bit host has no IA-32e guest": a 32-bit
 * host implies L1 is outside IA-32e mode. */
static bool address_space_outside_ia32e_mode(const struct entry *e)
{
    return e->l1_in_ia32e_mode || (!ia32e_mode_guest(e) && !host_address_space_size(e));
}

/* In IA-32e mode, a 64-bit host. */
static bool address_space_in_ia32e_mode(const struct entry *e)
{
    return !e->l1_in_ia32e_mode || host_address_space_size(e);
}

static bool host_pcide_clear_for_32bit_host(const struct entry *e)
{
    return host_address_space_size(e) || !(field(e, HOST_CR4) & CR4_PCIDE);
}

static bool host_rip_32bit_for_32bit_host(const struct entry *e)
{
    return host_address_space_size(e) || field(e, HOST_RIP) >> 32 == 0;
}

static bool host_pae_for_64bit_host(const struct entry *e)
{
    return !host_address_space_size(e) || (field(e, HOST_CR4) & CR4_PAE);
}

/* RIP is canonical for the paging mode the exit puts L1 in: 57 bits with
 * the host CR4.LA57. */
static bool host_rip_canonical_for_64bit_host(const struct entry *e)
{
    unsigned bits = field(e, HOST_CR4) & CR4_LA57 ? 57 : 48;
    return !host_address_space_size(e) || is_canonical(field(e, HOST_RIP), bits);
}

static const struct entry_check host_state_checks[] = {
    /* 27.2.2 */
    CHECK("host CR0", host_cr0_valid),
    CHECK("host CR4", host_cr4_valid),
    CHECK("host CR4.CET needs CR0.WP", host_cet_has_write_protect),
    CHECK("host CR3", host_cr3_valid),
    CHECK("host IA32_SYSENTER_ESP/EIP canonical", host_sysenter_canonical),
    CHECK("host IA32_PERF_GLOBAL_CTRL", host_perf_global_ctrl_valid),
    CHECK("host IA32_PAT", host_pat_valid),
    CHECK("host IA32_EFER reserved bits", host_efer_reserved_clear),
    CHECK("host IA32_EFER.LMA/LME match the host address-space size",
          host_efer_matches_address_space_size),
    /* 27.2.3 */
    CHECK("host selectors' RPL and TI", host_selectors_rpl_ti_clear),
    CHECK("host CS and TR selectors nonzero", host_cs_tr_nonzero),
    CHECK("host SS selector nonzero for a 32-bit host", host_ss_nonzero_for_32bit_host),
    CHECK("host FS/GS/GDTR/IDTR/TR bases canonical", host_bases_canonical),
    /* 27.2.4 */
    CHECK("outside IA-32e mode: no IA-32e guest, no 64-bit host",
          address_space_outside_ia32e_mode),
    CHECK("in IA-32e mode: a 64-bit host", address_space_in_ia32e_mode),
    CHECK("host CR4.PCIDE for a 32-bit host", host_pcide_clear_for_32bit_host),
    CHECK("host RIP for a 32-bit host", host_rip_32bit_for_32bit_host),
    CHECK("host CR4.PAE for a 64-bit host", host_pae_for_64bit_host),
    CHECK("host RIP canonical for a 64-bit host", host_rip_canonical_for_64bit_host),
};

/* ---- Guest control registers, debug registers and MSRs (27.3.1.1) ---- */

static bool unrestricted_guest(const struct entry *e)
{
    return control_on(e, VMX_CTL_PROC2, PROC2_UNRESTRICTED_GUEST);
}

/* PE and PG are not checked with "unrestricted guest"; CD and NW never
 * are, since VM entry does not change them. */
static bool guest_cr0_valid(const struct entry *e)
{
    uint64_t unchecked = CR0_CD | CR0_NW;
    if (unrestricted_guest(e))
        unchecked |= CR0_PE | CR0_PG;
    return fixed_bits_valid(field(e, GUEST_CR0) & ~unchecked,
                            capability(e, NESTED_VMX_CR0_FIXED0) & ~unchecked,
                            capability(e, NESTED_VMX_CR0_FIXED1));
}

static bool guest_paging_has_protection(const struct entry *e)
{
    uint64_t cr0 = field(e, GUEST_CR0);
    return !(cr0 & CR0_PG) || (cr0 & CR0_PE);
}

static bool guest_cr4_valid(const struct entry *e)
{
    return fixed_bits_valid(field(e, GUEST_CR4), capability(e, NESTED_VMX_CR4_FIXED0),
                            capability(e, NESTED_VMX_CR4_FIXED1));
}

static bool guest_cet_has_write_protect(const struct entry *e)
{
    return !(field(e, GUEST_CR4) & CR4_CET) || (field(e, GUEST_CR0) & CR0_WP);
}

static bool guest_cr3_valid(const struct entry *e)
{
    return within_phys_width(e, field(e, GUEST_CR3));
}

static bool guest_debugctl_valid(const struct entry *e)
{
    return !control_on(e, VMX_CTL_ENTRY, ENTRY_LOAD_DEBUG_CONTROLS) ||
           !(field(e, GUEST_IA32_DEBUGCTL) & ~DEBUGCTL_DEFINED);
}

static bool guest_dr7_valid(const struct entry *e)
{
    return !control_on(e, VMX_CTL_ENTRY, ENTRY_LOAD_DEBUG_CONTROLS) ||
           field(e, GUEST_DR7) >> 32 == 0;
}

static bool ia32e_guest_has_paging_and_pae(const struct entry *e)
{
    return !ia32e_mode_guest(e) ||
           ((field(e, GUEST_CR0) & CR0_PG) && (field(e, GUEST_CR4) & CR4_PAE));
}

static bool guest_pcide_needs_ia32e_mode(const struct entry *e)
{
    return ia32e_mode_guest(e) || !(field(e, GUEST_CR4) & CR4_PCIDE);
}

static bool guest_sysenter_canonical(const struct entry *e)
{
    return canonical(e, GUEST_SYSENTER_ESP) && canonical(e, GUEST_SYSENTER_EIP);
}

/* As for the host: no performance counters, every bit reserved. */
static bool guest_perf_global_ctrl_valid(const struct entry *e)
{
    return !control_on(e, VMX_CTL_ENTRY, ENTRY_LOAD_PERF_GLOBAL_CTRL) ||
           field(e, GUEST_IA32_PERF_GLOBAL_CTRL) == 0;
}

static bool guest_pat_valid(const struct entry *e)
{
    return !control_on(e, VMX_CTL_ENTRY, ENTRY_LOAD_PAT) || pat_valid(field(e, GUEST_IA32_PAT));
}

static bool guest_efer_reserved_clear(const struct entry *e)
{
    return !control_on(e, VMX_CTL_ENTRY, ENTRY_LOAD_EFER) ||
           !(field(e, GUEST_IA32_EFER) & ~VCPU_EFER_BITS);
}

static bool guest_efer_lma_matches_ia32e_mode(const struct entry *e)
{
    return !control_on(e, VMX_CTL_ENTRY, ENTRY_LOAD_EFER) ||
           (bool)(field(e, GUEST_IA32_EFER) & EFER_LMA) == ia32e_mode_guest(e);
}

static bool guest_efer_lme_matches_lma_with_paging(const struct entry *e)
{
    uint64_t efer = field(e, GUEST_IA32_EFER);
    return !control_on(e, VMX_CTL_ENTRY, ENTRY_LOAD_EFER) || !(field(e, GUEST_CR0) & CR0_PG) ||
           (bool)(efer & EFER_LME) == (bool)(efer & EFER_LMA);
}

/* ---- Guest segment registers (27.3.1.2) ---- */

/* The registers in the order of the SDM's rules: CS, SS, the data-segment
 * registers DS, ES, FS and GS (which share theirs), TR, LDTR. */
enum segment { SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_TR, SEG_LDTR };

#define SEGMENT_FIELDS(reg) \
    { GUEST_##reg##_SELECTOR, GUEST_##reg##_BASE, GUEST_##reg##_LIMIT, GUEST_##reg##_AR_BYTES }
static const struct { uint32_t selector, base, limit, access_rights; } segment_fields[] = {
    [SEG_CS] = SEGMENT_FIELDS(CS), [SEG_SS] = SEGMENT_FIELDS(SS), [SEG_DS] = SEGMENT_FIELDS(DS),
    [SEG_ES] = SEGMENT_FIELDS(ES), [SEG_FS] = SEGMENT_FIELDS(FS), [SEG_GS] = SEGMENT_FIELDS(GS),
    [SEG_TR] = SEGMENT_FIELDS(TR), [SEG_LDTR] = SEGMENT_FIELDS(LDTR),
};

static uint32_t seg_selector(const struct entry *e, enum segment s)
{
    return (uint32_t)field(e, segment_fields[s].selector);
}

static uint64_t seg_base(const struct entry *e, enum segment s)
{
    return field(e, segment_fields[s].base);
}

static uint32_t seg_limit(const struct entry *e, enum segment s)
{
    return (uint32_t)field(e, segment_fields[s].limit);
}

static uint32_t seg_ar(const struct entry *e, enum segment s)
{
    return (uint32_t)field(e, segment_fields[s].access_rights);
}

static unsigned seg_type(const struct entry *e, enum segment s)
{
    return AR_TYPE(seg_ar(e, s));
}

static unsigned seg_dpl(const struct entry *e, enum segment s)
{
    return AR_DPL(seg_ar(e, s));
}

static unsigned seg_rpl(const struct entry *e, enum segment s)
{
    return SELECTOR_RPL(seg_selector(e, s));
}

static bool seg_usable(const struct entry *e, enum segment s)
{
    return !(seg_ar(e, s) & AR_UNUSABLE);
}

static bool virtual_8086(const struct entry *e)
{
    return field(e, GUEST_RFLAGS) & RFLAGS_VM;
}

/* A rule on one segment register, which the checks below apply to the
 * registers the SDM names. */
typedef bool segment_rule(const struct entry *e, enum segment s);

/* In virtual-8086 mode, CS, SS, DS, ES, FS and GS are real-mode segments:
 * based at selector * 16, 64 KiB long, read/write data of DPL 3. */
static bool holds_in_virtual_8086_mode(const struct entry *e, segment_rule *rule)
{
    if (!virtual_8086(e))
        return true;
    for (enum segment s = SEG_CS; s <= SEG_GS; s++)
        if (!rule(e, s))
            return false;
    return true;
}

/* Outside virtual-8086 mode the access rights of CS, and of each of SS,
 * DS, ES, FS and GS that is usable, are checked field by field. */
static bool holds_for_cs_and_usable(const struct entry *e, segment_rule *rule)
{
    if (virtual_8086(e))
        return true;
    for (enum segment s = SEG_CS; s <= SEG_GS; s++)
        if ((s == SEG_CS || seg_usable(e, s)) && !rule(e, s))
            return false;
    return true;
}

/* The rules only the usable data-segment registers have, outside
 * virtual-8086 mode. */
static bool holds_for_usable_data_segments(const struct entry *e, segment_rule *rule)
{
    if (virtual_8086(e))
        return true;
    for (enum segment s = SEG_DS; s <= SEG_GS; s++)
        if (seg_usable(e, s) && !rule(e, s))
            return false;
    return true;
}

/* Rules every register has, where they apply to it. */
static bool s_bit_set(const struct entry *e, enum segment s)
{
    return seg_ar(e, s) & AR_S;
}

static bool present(const struct entry *e, enum segment s)
{
    return seg_ar(e, s) & AR_P;
}

static bool ar_reserved_clear(const struct entry *e, enum segment s)
{
    return !(seg_ar(e, s) & AR_RESERVED);
}

/* The G bit agrees with the limit, which is in bytes: "if any bit in the
 * limit field in the range 11:0 is 0, G must be 0; if any bit in the range
 * 31:20 is 1, G must be 1" (a limit in 4-KiB units fills bits 11:0, one
 * in bytes fits in 20 bits). */
static bool granularity_fits_limit(const struct entry *e, enum segment s)
{
    uint32_t limit = seg_limit(e, s);
    bool g = seg_ar(e, s) & AR_G;
    return (!g || (limit & 0xfff) == 0xfff) && (g || limit >> 20 == 0);
}

/* Selector fields. */

static bool guest_tr_ti_clear(const struct entry *e)
{
    return !(seg_selector(e, SEG_TR) & SELECTOR_TI);
}

static bool guest_ldtr_ti_clear(const struct entry *e)
{
    return !seg_usable(e, SEG_LDTR) || !(seg_selector(e, SEG_LDTR) & SELECTOR_TI);
}

/* The CPL is in both; unrestricted guests may be in real mode, where the
 * RPLs mean nothing. */
static bool guest_ss_rpl_matches_cs(const struct entry *e)
{
    return virtual_8086(e) || unrestricted_guest(e) ||
           seg_rpl(e, SEG_SS) == seg_rpl(e, SEG_CS);
}

/* Base-address fields. */

static bool real_mode_base(const struct entry *e, enum segment s)
{
    return seg_base(e, s) == (uint64_t)seg_selector(e, s) << 4;
}

static bool guest_virtual_8086_bases(const struct entry *e)
{
    return holds_in_virtual_8086_mode(e, real_mode_base);
}

/* Usable or not: the FS and GS bases are loaded either way, and are
 * IA32_FS_BASE and IA32_GS_BASE. */
static bool guest_tr_fs_gs_bases_canonical(const struct entry *e)
{
    return canonical(e, GUEST_TR_BASE) && canonical(e, GUEST_FS_BASE) &&
           canonical(e, GUEST_GS_BASE);
}

static bool guest_ldtr_base_canonical(const struct entry *e)
{
    return !seg_usable(e, SEG_LDTR) || canonical(e, GUEST_LDTR_BASE);
}

/* Outside 64-bit mode bases have 32 bits, and in it those of CS, SS, DS
 * and ES are not used: bits 63:32 of them are 0. */
static bool guest_cs_base_32bit(const struct entry *e)
{
    return seg_base(e, SEG_CS) >> 32 == 0;
}

static bool guest_ss_ds_es_bases_32bit(const struct entry *e)
{
    for (enum segment s = SEG_SS; s <= SEG_ES; s++)
        if (seg_usable(e, s) && seg_base(e, s) >> 32)
            return false;
    return true;
}

/* Limit fields. */

static bool real_mode_limit(const struct entry *e, enum segment s)
{
    return seg_limit(e, s) == 0xffff;
}

static bool guest_virtual_8086_limits(const struct entry *e)
{
    return holds_in_virtual_8086_mode(e, real_mode_limit);
}

/* Access-rights fields of CS, SS, DS, ES, FS, GS. */

static bool real_mode_access_rights(const struct entry *e, enum segment s)
{
    return seg_ar(e, s) == AR_VIRTUAL_8086;
}

static bool guest_virtual_8086_access_rights(const struct entry *e)
{
    return holds_in_virtual_8086_mode(e, real_mode_access_rights);
}

/* Accessed code (9, 11, 13, 15); with "unrestricted guest" also the
 * read/write accessed data segment (3) of real mode. */
static bool guest_cs_type_valid(const struct entry *e)
{
    unsigned type = seg_type(e, SEG_CS);
    return virtual_8086(e) || (type & (TYPE_CODE | TYPE_ACCESSED)) == (TYPE_CODE | TYPE_ACCESSED) ||
           (unrestricted_guest(e) && type == TYPE_DATA_READ_WRITE_ACCESSED);
}

/* Read/write accessed data, expand-up or expand-down (3 or 7). */
static bool guest_ss_type_valid(const struct entry *e)
{
    unsigned type = seg_type(e, SEG_SS);
    return virtual_8086(e) || !seg_usable(e, SEG_SS) || type == TYPE_DATA_READ_WRITE_ACCESSED ||
           type == (TYPE_DATA_READ_WRITE_ACCESSED | TYPE_EXPAND_DOWN);
}

/* Accessed, and readable if code. */
static bool data_segment_type_valid(const struct entry *e, enum segment s)
{
    unsigned type = seg_type(e, s);
    return (type & TYPE_ACCESSED) && (!(type & TYPE_CODE) || (type & TYPE_READABLE));
}

static bool guest_data_segment_types_valid(const struct entry *e)
{
    return holds_for_usable_data_segments(e, data_segment_type_valid);
}

/* Code or data, not system descriptors. */
static bool guest_code_data_s_bits_set(const struct entry *e)
{
    return holds_for_cs_and_usable(e, s_bit_set);
}

/* SS.DPL is the CPL: a non-conforming CS has it as its DPL, a conforming
 * one at most it; a real-mode data CS (unrestricted guest) has DPL 0. */
static bool guest_cs_dpl_valid(const struct entry *e)
{
    unsigned type = seg_type(e, SEG_CS), dpl = seg_dpl(e, SEG_CS), cpl = seg_dpl(e, SEG_SS);
    if (virtual_8086(e))
        return true;
    if (type == TYPE_DATA_READ_WRITE_ACCESSED)
        return dpl == 0;
    return type & TYPE_CONFORMING ? dpl <= cpl : dpl == cpl;
}

/* Whether usable or not (SS.DPL is always loaded, as the CPL). */
static bool guest_ss_dpl_matches_rpl(const struct entry *e)
{
    return virtual_8086(e) || unrestricted_guest(e) || seg_dpl(e, SEG_SS) == seg_rpl(e, SEG_SS);
}

/* Real mode (CR0.PE = 0) and a real-mode data CS run at CPL 0. */
static bool guest_ss_dpl_0_in_real_mode(const struct entry *e)
{
    bool real_mode = !(field(e, GUEST_CR0) & CR0_PE) ||
                     seg_type(e, SEG_CS) == TYPE_DATA_READ_WRITE_ACCESSED;
    return virtual_8086(e) || !real_mode || seg_dpl(e, SEG_SS) == 0;
}

/* A data or non-conforming code segment (types 0-11) is not more
 * privileged than its selector's RPL asks. */
static bool dpl_not_below_rpl(const struct entry *e, enum segment s)
{
    unsigned conforming_code = TYPE_CODE | TYPE_CONFORMING;
    return (seg_type(e, s) & conforming_code) == conforming_code ||
           seg_dpl(e, s) >= seg_rpl(e, s);
}

static bool guest_data_segment_dpls_valid(const struct entry *e)
{
    return unrestricted_guest(e) || holds_for_usable_data_segments(e, dpl_not_below_rpl);
}

static bool guest_code_data_present(const struct entry *e)
{
    return holds_for_cs_and_usable(e, present);
}

static bool guest_code_data_ar_reserved_clear(const struct entry *e)
{
    return holds_for_cs_and_usable(e, ar_reserved_clear);
}

/* A 64-bit code segment has no default operand size: D/B = 1 with L = 1
 * is reserved. */
static bool guest_cs_db_clear_with_l(const struct entry *e)
{
    uint32_t ar = seg_ar(e, SEG_CS);
    return !ia32e_mode_guest(e) || !(ar & AR_L) || !(ar & AR_DB);
}

static bool guest_code_data_granularity_valid(const struct entry *e)
{
    return holds_for_cs_and_usable(e, granularity_fits_limit);
}

/* Access-rights field of TR, which must be usable: a busy TSS. */

static bool guest_tr_type_valid(const struct entry *e)
{
    unsigned type = seg_type(e, SEG_TR);
    return type == TYPE_BUSY_TSS || (!ia32e_mode_guest(e) && type == TYPE_BUSY_TSS_16);
}

static bool guest_tr_s_bit_clear(const struct entry *e)
{
    return !s_bit_set(e, SEG_TR);
}

static bool guest_tr_present(const struct entry *e)
{
    return present(e, SEG_TR);
}

static bool guest_tr_ar_reserved_clear(const struct entry *e)
{
    return ar_reserved_clear(e, SEG_TR);
}

static bool guest_tr_granularity_valid(const struct entry *e)
{
    return granularity_fits_limit(e, SEG_TR);
}

static bool guest_tr_usable(const struct entry *e)
{
    return seg_usable(e, SEG_TR);
}

/* Access-rights field of LDTR, if usable: an LDT. */

static bool guest_ldtr_type_valid(const struct entry *e)
{
    return !seg_usable(e, SEG_LDTR) || seg_type(e, SEG_LDTR) == TYPE_LDT;
}

static bool guest_ldtr_s_bit_clear(const struct entry *e)
{
    return !seg_usable(e, SEG_LDTR) || !s_bit_set(e, SEG_LDTR);
}

static bool guest_ldtr_present(const struct entry *e)
{
    return !seg_usable(e, SEG_LDTR) || present(e, SEG_LDTR);
}

static bool guest_ldtr_ar_reserved_clear(const struct entry *e)
{
    return !seg_usable(e, SEG_LDTR) || ar_reserved_clear(e, SEG_LDTR);
}

static bool guest_ldtr_granularity_valid(const struct entry *e)
{
    return !seg_usable(e, SEG_LDTR) || granularity_fits_limit(e, SEG_LDTR);
}

/* ---- Guest descriptor-table registers (27.3.1.3) ---- */

static bool guest_gdtr_idtr_bases_canonical(const struct entry *e)
{
    return canonical(e, GUEST_GDTR_BASE) && canonical(e, GUEST_IDTR_BASE);
}

/* The limits are 16 bits in 32-bit fields. */
static bool guest_gdtr_idtr_limits_16bit(const struct entry *e)
{
    return field(e, GUEST_GDTR_LIMIT) >> 16 == 0 && field(e, GUEST_IDTR_LIMIT) >> 16 == 0;
}

/* ---- Guest RIP and RFLAGS (27.3.1.4) ---- */

static bool guest_64bit_mode(const struct entry *e)
{
    return ia32e_mode_guest(e) && (seg_ar(e, SEG_CS) & AR_L);
}

static bool guest_rip_32bit_outside_64bit_mode(const struct entry *e)
{
    return guest_64bit_mode(e) || field(e, GUEST_RIP) >> 32 == 0;
}

/* For the processor's linear-address width, not the guest's paging mode
 * (the SDM's N, CPUID 0x80000008 EAX[15:8]). */
static bool guest_rip_canonical_in_64bit_mode(const struct entry *e)
{
    return !guest_64bit_mode(e) || canonical(e, GUEST_RIP);
}

static bool guest_rflags_reserved_valid(const struct entry *e)
{
    uint64_t rflags = field(e, GUEST_RFLAGS);
    return !(rflags & RFLAGS_RESERVED) && (rflags & RFLAGS_FIXED_1);
}

/* Virtual-8086 mode exists only in protected mode outside IA-32e mode. */
static bool guest_virtual_8086_in_protected_mode(const struct entry *e)
{
    return !virtual_8086(e) || (!ia32e_mode_guest(e) && (field(e, GUEST_CR0) & CR0_PE));
}


static bool injected_external_interrupt_has_if(const struct entry *e)
{
    uint32_t event = injected_event(e);
    return !(event & NESTED_EVENT_VALID) || EVENT_TYPE(event) != EVENT_EXTERNAL_INTERRUPT ||
           (field(e, GUEST_RFLAGS) & RFLAGS_IF);
}

/* ---- Guest non-register state (27.3.1.5) ---- */

static uint64_t activity_state(const struct entry *e)
{
    return field(e, GUEST_ACTIVITY_STATE);
}

static uint32_t interruptibility(const struct entry *e)
{
    return (uint32_t)field(e, GUEST_INTERRUPTIBILITY_INFO);
}

/* Active, or an inactive state IA32_VMX_MISC offers. */
static bool activity_state_supported(const struct entry *e)
{
    uint64_t misc = capability(e, NESTED_VMX_MISC);
    switch (activity_state(e)) {
    case ACTIVITY_ACTIVE: return true;
    case ACTIVITY_HLT: return misc & VMX_MISC_ACTIVITY_HLT;
    case ACTIVITY_SHUTDOWN: return misc & VMX_MISC_ACTIVITY_SHUTDOWN;
    case ACTIVITY_WAIT_FOR_SIPI: return misc & VMX_MISC_ACTIVITY_WAIT_SIPI;
    default: return false;
    }
}

static bool hlt_has_ss_dpl_0(const struct entry *e)
{
    return activity_state(e) != ACTIVITY_HLT || seg_dpl(e, SEG_SS) == 0;
}

static bool sti_mov_ss_blocking_needs_active_state(const struct entry *e)
{
    return activity_state(e) == ACTIVITY_ACTIVE ||
           !(interruptibility(e) & (BLOCKING_BY_STI | BLOCKING_BY_MOV_SS));
}

/* An injected event must be one the activity state does not block: any when
 * active; in HLT external interrupts, NMIs, #DB, #MC and a pending MTF exit;
 * in shutdown NMIs and #MC; none in wait-for-SIPI. */
static bool injected_event_allowed_in_activity_state(const struct entry *e)
{
    uint32_t event = injected_event(e);
    if (!(event & NESTED_EVENT_VALID))
        return true;
    unsigned type = EVENT_TYPE(event), vector = EVENT_VECTOR(event);
    bool exception = type == EVENT_HARDWARE_EXCEPTION;
    switch (activity_state(e)) {
    case ACTIVITY_ACTIVE:
        return true;
    case ACTIVITY_HLT:
        return type == EVENT_EXTERNAL_INTERRUPT || type == EVENT_NMI ||
               (exception && (vector == VECTOR_DB || vector == VECTOR_MC)) ||
               (type == EVENT_OTHER && vector == 0);
    case ACTIVITY_SHUTDOWN:
        return type == EVENT_NMI || (exception && vector == VECTOR_MC);
    default:
        return false;
    }
}

static bool interruptibility_reserved_clear(const struct entry *e)
{
    return !(interruptibility(e) & ~INTERRUPTIBILITY_DEFINED);
}

static bool not_blocked_by_both_sti_and_mov_ss(const struct entry *e)
{
    uint32_t both = BLOCKING_BY_STI | BLOCKING_BY_MOV_SS;
    return (interruptibility(e) & both) != both;
}

static bool sti_blocking_has_if(const struct entry *e)
{
    return !(interruptibility(e) & BLOCKING_BY_STI) || (field(e, GUEST_RFLAGS) & RFLAGS_IF);
}

static bool injected_external_interrupt_unblocked(const struct entry *e)
{
    uint32_t event = injected_event(e);
    return !(event & NESTED_EVENT_VALID) || EVENT_TYPE(event) != EVENT_EXTERNAL_INTERRUPT ||
           !(interruptibility(e) & (BLOCKING_BY_STI | BLOCKING_BY_MOV_SS));
}

static bool injected_nmi_not_blocked_by_mov_ss(const struct entry *e)
{
    uint32_t event = injected_event(e);
    return !(event & NESTED_EVENT_VALID) || EVENT_TYPE(event) != EVENT_NMI ||
           !(interruptibility(e) & BLOCKING_BY_MOV_SS);
}

/* L1 never runs in SMM: vmxvisor emulates no SMM. */
static bool no_smi_blocking_outside_smm(const struct entry *e)
{
    return !(interruptibility(e) & BLOCKING_BY_SMI);
}

static bool injected_nmi_not_blocked_by_virtual_nmi(const struct entry *e)
{
    uint32_t event = injected_event(e);
    return !control_on(e, VMX_CTL_PIN, PIN_VIRTUAL_NMIS) || !(event & NESTED_EVENT_VALID) ||
           EVENT_TYPE(event) != EVENT_NMI || !(interruptibility(e) & BLOCKING_BY_NMI);
}

static uint64_t pending_debug_exceptions(const struct entry *e)
{
    return field(e, GUEST_PENDING_DBG_EXCEPTIONS);
}

static bool pending_debug_reserved_clear(const struct entry *e)
{
    return !(pending_debug_exceptions(e) & ~PENDING_DEBUG_DEFINED);
}

/* After STI, MOV SS or HLT the single-step trap of that instruction may be
 * still to come: BS says so, and must agree with RFLAGS.TF and
 * IA32_DEBUGCTL.BTF (with BTF only branches trap, and none of these is
 * one). The IA32_DEBUGCTL field is read whether or not it is loaded. */
static bool pending_bs_matches_single_step(const struct entry *e)
{
    bool deferred = (interruptibility(e) & (BLOCKING_BY_STI | BLOCKING_BY_MOV_SS)) ||
                    activity_state(e) == ACTIVITY_HLT;
    bool single_step = (field(e, GUEST_RFLAGS) & RFLAGS_TF) &&
                       !(field(e, GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF);
    return !deferred || (bool)(pending_debug_exceptions(e) & PENDING_DEBUG_BS) == single_step;
}

/* A VMCS link pointer other than all ones names a 4 KiB-aligned region
 * within the physical-address width whose revision identifier is ours and
 * whose shadow-VMCS indicator equals the "VMCS shadowing" control
 * (27.3.1.5). */
static bool vmcs_link_pointer_valid(const struct entry *e)
{
    uint64_t link = field(e, VMCS_LINK_POINTER);
    uint32_t expected = VMCS12_REVISION |
                        (control_on(e, VMX_CTL_PROC2, PROC2_VMCS_SHADOWING) ? VMCS12_SHADOW_INDICATOR : 0);
    return link == VMCS_LINK_POINTER_NONE ||
           (!(link & 0xfff) && within_phys_width(e, link) && e->link_region_revision == expected);
}

/* ---- Guest PDPTEs (27.3.1.6) ---- */

/* With EPT, PAE paging outside IA-32e mode takes its PDPTEs from these
 * fields: a present one sets no reserved bit. (Without EPT they come from
 * L1's memory at CR3: whoever loads them checks them the same way.) */
static bool guest_pdptes_valid(const struct entry *e)
{
    bool pae_paging = (field(e, GUEST_CR0) & CR0_PG) && (field(e, GUEST_CR4) & CR4_PAE) &&
                      !ia32e_mode_guest(e);
    if (!control_on(e, VMX_CTL_PROC2, PROC2_ENABLE_EPT) || !pae_paging)
        return true;
    static const uint32_t pdptes[] = { GUEST_PDPTE0, GUEST_PDPTE1, GUEST_PDPTE2, GUEST_PDPTE3 };
    for (unsigned i = 0; i < 4; i++)
        if (!nested_pdpte_valid(field(e, pdptes[i]), e->phys_addr_bits))
            return false;
    return true;
}

bool nested_pdpte_valid(uint64_t pdpte, unsigned phys_addr_bits)
{
    /* Bits 63:MAXPHYADDR are reserved, 63 included (no XD in a PDPTE). */
    return !(pdpte & PDPTE_PRESENT) || (!(pdpte & PDPTE_RESERVED) && pdpte >> phys_addr_bits == 0);
}

static const struct entry_check guest_state_checks[] = {
    /* 27.3.1.1 */
    CHECK("guest CR0", guest_cr0_valid),
    CHECK("guest CR0.PG needs CR0.PE", guest_paging_has_protection),
    CHECK("guest CR4", guest_cr4_valid),
    CHECK("guest CR4.CET needs CR0.WP", guest_cet_has_write_protect),
    CHECK("guest CR3", guest_cr3_valid),
    CHECK("guest IA32_DEBUGCTL", guest_debugctl_valid),
    CHECK("guest DR7", guest_dr7_valid),
    CHECK("IA-32e mode guest needs CR0.PG and CR4.PAE", ia32e_guest_has_paging_and_pae),
    CHECK("guest CR4.PCIDE needs IA-32e mode", guest_pcide_needs_ia32e_mode),
    CHECK("guest IA32_SYSENTER_ESP/EIP canonical", guest_sysenter_canonical),
    CHECK("guest IA32_PERF_GLOBAL_CTRL", guest_perf_global_ctrl_valid),
    CHECK("guest IA32_PAT", guest_pat_valid),
    CHECK("guest IA32_EFER reserved bits", guest_efer_reserved_clear),
    CHECK("guest IA32_EFER.LMA matches IA-32e mode guest", guest_efer_lma_matches_ia32e_mode),
    CHECK("guest IA32_EFER.LME matches LMA with paging", guest_efer_lme_matches_lma_with_paging),
};

/* The segment-register and descriptor-table checks: the costly part, and
 * a pure function of segment_check_inputs, so skipped when those are what
 * they were when the checks last passed (struct nested_segment_memo). */
static const struct entry_check segment_checks[] = {
    /* 27.3.1.2: selectors, bases, limits */
    CHECK("guest TR selector TI", guest_tr_ti_clear),
    CHECK("guest LDTR selector TI", guest_ldtr_ti_clear),
    CHECK("guest SS.RPL equals CS.RPL", guest_ss_rpl_matches_cs),
    CHECK("virtual-8086 segment bases", guest_virtual_8086_bases),
    CHECK("guest TR/FS/GS bases canonical", guest_tr_fs_gs_bases_canonical),
    CHECK("guest LDTR base canonical", guest_ldtr_base_canonical),
    CHECK("guest CS base bits 63:32", guest_cs_base_32bit),
    CHECK("guest SS/DS/ES base bits 63:32", guest_ss_ds_es_bases_32bit),
    CHECK("virtual-8086 segment limits", guest_virtual_8086_limits),
    /* 27.3.1.2: access rights of CS, SS, DS, ES, FS, GS */
    CHECK("virtual-8086 segment access rights", guest_virtual_8086_access_rights),
    CHECK("guest CS type", guest_cs_type_valid),
    CHECK("guest SS type", guest_ss_type_valid),
    CHECK("guest DS/ES/FS/GS type", guest_data_segment_types_valid),
    CHECK("guest CS/SS/DS/ES/FS/GS S bit", guest_code_data_s_bits_set),
    CHECK("guest CS DPL", guest_cs_dpl_valid),
    CHECK("guest SS.DPL equals SS.RPL", guest_ss_dpl_matches_rpl),
    CHECK("guest SS.DPL 0 in real mode", guest_ss_dpl_0_in_real_mode),
    CHECK("guest DS/ES/FS/GS DPL", guest_data_segment_dpls_valid),
    CHECK("guest CS/SS/DS/ES/FS/GS P bit", guest_code_data_present),
    CHECK("guest CS/SS/DS/ES/FS/GS access-rights reserved bits",
          guest_code_data_ar_reserved_clear),
    CHECK("guest CS.D/B clear with CS.L in IA-32e mode", guest_cs_db_clear_with_l),
    CHECK("guest CS/SS/DS/ES/FS/GS G bit and limit", guest_code_data_granularity_valid),
    /* 27.3.1.2: access rights of TR and LDTR */
    CHECK("guest TR type", guest_tr_type_valid),
    CHECK("guest TR S bit", guest_tr_s_bit_clear),
    CHECK("guest TR P bit", guest_tr_present),
    CHECK("guest TR access-rights reserved bits", guest_tr_ar_reserved_clear),
    CHECK("guest TR G bit and limit", guest_tr_granularity_valid),
    CHECK("guest TR usable", guest_tr_usable),
    CHECK("guest LDTR type", guest_ldtr_type_valid),
    CHECK("guest LDTR S bit", guest_ldtr_s_bit_clear),
    CHECK("guest LDTR P bit", guest_ldtr_present),
    CHECK("guest LDTR access-rights reserved bits", guest_ldtr_ar_reserved_clear),
    CHECK("guest LDTR G bit and limit", guest_ldtr_granularity_valid),
    /* 27.3.1.3 */
    CHECK("guest GDTR/IDTR bases canonical", guest_gdtr_idtr_bases_canonical),
    CHECK("guest GDTR/IDTR limits", guest_gdtr_idtr_limits_16bit),
};

static const struct entry_check later_guest_state_checks[] = {
    /* 27.3.1.4 */
    CHECK("guest RIP bits 63:32 outside 64-bit mode", guest_rip_32bit_outside_64bit_mode),
    CHECK("guest RIP canonical in 64-bit mode", guest_rip_canonical_in_64bit_mode),
    CHECK("guest RFLAGS reserved bits", guest_rflags_reserved_valid),
    CHECK("guest RFLAGS.VM needs protected mode outside IA-32e mode",
          guest_virtual_8086_in_protected_mode),
    /* 27.3.1.5 */
    CHECK("activity state", activity_state_supported),
    CHECK("HLT needs SS.DPL 0", hlt_has_ss_dpl_0),
    CHECK("STI or MOV-SS blocking needs the active state",
          sti_mov_ss_blocking_needs_active_state),
    CHECK("interruptibility reserved bits", interruptibility_reserved_clear),
    CHECK("blocking by both STI and MOV SS", not_blocked_by_both_sti_and_mov_ss),
    CHECK("STI blocking needs RFLAGS.IF", sti_blocking_has_if),
    CHECK("SMI blocking outside SMM", no_smi_blocking_outside_smm),
    CHECK("guest pending debug exceptions reserved bits", pending_debug_reserved_clear),
    CHECK("guest pending BS with STI or MOV-SS blocking or HLT", pending_bs_matches_single_step),
};

/* The guest-state checks of the event to inject (27.3.1.4, 27.3.1.5),
 * against RFLAGS.IF, the activity state and the interruptibility state;
 * run after the others (their exit qualification is the same, 0). */
static const struct entry_check injection_guest_checks[] = {
    CHECK("RFLAGS.IF for an injected external interrupt", injected_external_interrupt_has_if),
    CHECK("injected event allowed in the activity state",
          injected_event_allowed_in_activity_state),
    CHECK("STI or MOV-SS blocking with an injected external interrupt",
          injected_external_interrupt_unblocked),
    CHECK("MOV-SS blocking with an injected NMI", injected_nmi_not_blocked_by_mov_ss),
    CHECK("virtual-NMI blocking with an injected NMI", injected_nmi_not_blocked_by_virtual_nmi),
};

/* The guest-state checks with their own exit qualifications, last. */
static const struct entry_check final_guest_state_checks[] = {
    { "VMCS link pointer", vmcs_link_pointer_valid, NESTED_ENTRY_FAILURE_LINK_POINTER },
    /* 27.3.1.6 */
    { "guest PDPTEs", guest_pdptes_valid, NESTED_ENTRY_FAILURE_PDPTE },
};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static struct entry entry_under_check(const struct vmcs12 *vmcs12,
                                      const struct nested_vmx_caps *caps, unsigned phys_addr_bits,
                                      unsigned linear_addr_bits, bool l1_in_ia32e_mode)
{
    struct entry e = {
        .vmcs12 = vmcs12, .caps = caps, .phys_addr_bits = phys_addr_bits,
        .linear_addr_bits = linear_addr_bits, .l1_in_ia32e_mode = l1_in_ia32e_mode,
    };
    e.ctl[VMX_CTL_PIN] = (uint32_t)field(&e, PIN_BASED_VM_EXEC_CONTROL);
    e.ctl[VMX_CTL_PROC] = (uint32_t)field(&e, CPU_BASED_VM_EXEC_CONTROL);
    if (e.ctl[VMX_CTL_PROC] & PROC_ACTIVATE_SECONDARY)
        e.ctl[VMX_CTL_PROC2] = (uint32_t)field(&e, SECONDARY_VM_EXEC_CONTROL);
    e.ctl[VMX_CTL_EXIT] = (uint32_t)field(&e, VM_EXIT_CONTROLS);
    e.ctl[VMX_CTL_ENTRY] = (uint32_t)field(&e, VM_ENTRY_CONTROLS);
    return e;
}

static const struct entry_check *first_failed(const struct entry_check *checks, unsigned count,
                                              const struct entry *e, const char **failed_check)
{
    for (unsigned i = 0; i < count; i++) {
        if (!checks[i].passes(e)) {
            if (failed_check)
                *failed_check = checks[i].name;
            return &checks[i];
        }
    }
    return NULL;
}

uint32_t nested_check_controls(const struct vmcs12 *vmcs12, const struct nested_vmx_caps *caps,
                               unsigned phys_addr_bits, const char **failed_check)
{
    struct entry e = entry_under_check(vmcs12, caps, phys_addr_bits, 0, false);
    return first_failed(window_control_checks, COUNT(window_control_checks), &e, failed_check) ||
                   first_failed(control_checks, COUNT(control_checks), &e, failed_check) ||
                   first_failed(injection_control_checks, COUNT(injection_control_checks), &e,
                                failed_check)
               ? VMXERR_ENTRY_INVALID_CONTROL_FIELD : 0;
}

uint32_t nested_check_window_controls(const struct vmcs12 *vmcs12,
                                      const struct nested_vmx_caps *caps,
                                      unsigned phys_addr_bits, const char **failed_check)
{
    struct entry e = entry_under_check(vmcs12, caps, phys_addr_bits, 0, false);
    return first_failed(window_control_checks, COUNT(window_control_checks), &e, failed_check)
               ? VMXERR_ENTRY_INVALID_CONTROL_FIELD : 0;
}

uint32_t nested_check_injection(const struct vmcs12 *vmcs12, const struct nested_vmx_caps *caps,
                                unsigned phys_addr_bits, const char **failed_check)
{
    struct entry e = entry_under_check(vmcs12, caps, phys_addr_bits, 0, false);
    return first_failed(injection_control_checks, COUNT(injection_control_checks), &e,
                        failed_check)
               ? VMXERR_ENTRY_INVALID_CONTROL_FIELD : 0;
}

uint32_t nested_check_host_state(const struct vmcs12 *vmcs12, const struct nested_vmx_caps *caps,
                                 unsigned phys_addr_bits, unsigned linear_addr_bits,
                                 bool l1_in_ia32e_mode, const char **failed_check)
{
    struct entry e = entry_under_check(vmcs12, caps, phys_addr_bits, linear_addr_bits,
                                       l1_in_ia32e_mode);
    return first_failed(host_state_checks, COUNT(host_state_checks), &e, failed_check)
               ? VMXERR_ENTRY_INVALID_HOST_STATE_FIELD : 0;
}

/* The linear-address width of the processor L1 sees: 57 bits if L1 may set
 * CR4.LA57 (IA32_VMX_CR4_FIXED1 is the hardware's, and L2's state is
 * checked again by it on vmcs02), 48 otherwise. */
static unsigned linear_addr_bits_offered(const struct nested_vmx_caps *caps)
{
    return caps->msr[NESTED_VMX_CR4_FIXED1] & CR4_LA57 ? 57 : 48;
}

/* Everything the segment checks read: the eight segment registers' fields,
 * GDTR and IDTR, and of the rest only what selects their rules
 * (RFLAGS.VM, CR0.PE, the IA-32e mode guest and unrestricted guest
 * controls, the linear-address width). */
static void segment_check_inputs(const struct entry *e, uint64_t *inputs)
{
    static const uint32_t tables[] = { GUEST_GDTR_BASE, GUEST_GDTR_LIMIT, GUEST_IDTR_BASE,
                                       GUEST_IDTR_LIMIT };
    unsigned n = 0;
    for (unsigned s = 0; s < COUNT(segment_fields); s++) {
        inputs[n++] = field(e, segment_fields[s].selector);
        inputs[n++] = field(e, segment_fields[s].base);
        inputs[n++] = field(e, segment_fields[s].limit);
        inputs[n++] = field(e, segment_fields[s].access_rights);
    }
    for (unsigned i = 0; i < COUNT(tables); i++)
        inputs[n++] = field(e, tables[i]);
    inputs[n++] = (field(e, GUEST_RFLAGS) & RFLAGS_VM) | (field(e, GUEST_CR0) & CR0_PE) |
                  (uint64_t)ia32e_mode_guest(e) << 32 | (uint64_t)unrestricted_guest(e) << 33 |
                  (uint64_t)e->linear_addr_bits << 40;
}
_Static_assert(NESTED_SEGMENT_INPUTS == 8 * 4 + 4 + 1, "segment_check_inputs fills them all");

static const struct entry_check recheck_checks[] = {
    { "VMCS link pointer", vmcs_link_pointer_valid, NESTED_ENTRY_FAILURE_LINK_POINTER },
};

bool nested_recheck_guest_state(const struct vmcs12 *vmcs12, const struct nested_vmx_caps *caps,
                                unsigned phys_addr_bits, uint32_t link_region_revision,
                                uint64_t *exit_qualification, const char **failed_check)
{
    struct entry e = entry_under_check(vmcs12, caps, phys_addr_bits,
                                       linear_addr_bits_offered(caps), false);
    e.link_region_revision = link_region_revision;
    const struct entry_check *failed =
        first_failed(recheck_checks, COUNT(recheck_checks), &e, failed_check);
    if (failed)
        *exit_qualification = failed->qualification;
    return !failed;
}

bool nested_check_guest_state(const struct vmcs12 *vmcs12, const struct nested_vmx_caps *caps,
                              unsigned phys_addr_bits, uint32_t link_region_revision,
                              struct nested_segment_memo *memo, uint64_t *exit_qualification,
                              const char **failed_check)
{
    struct entry e = entry_under_check(vmcs12, caps, phys_addr_bits,
                                       linear_addr_bits_offered(caps), false);
    e.link_region_revision = link_region_revision;
    const struct entry_check *failed =
        first_failed(guest_state_checks, COUNT(guest_state_checks), &e, failed_check);
    if (!failed) {
        uint64_t inputs[NESTED_SEGMENT_INPUTS];
        segment_check_inputs(&e, inputs);
        bool known_good = memo && memo->valid;
        for (unsigned i = 0; known_good && i < NESTED_SEGMENT_INPUTS; i++)
            known_good = inputs[i] == memo->inputs[i];
        if (!known_good) {
            failed = first_failed(segment_checks, COUNT(segment_checks), &e, failed_check);
            if (memo && !failed) {
                for (unsigned i = 0; i < NESTED_SEGMENT_INPUTS; i++)
                    memo->inputs[i] = inputs[i];
                memo->valid = true;
            }
        }
    }
    if (!failed)
        failed = first_failed(later_guest_state_checks, COUNT(later_guest_state_checks), &e,
                              failed_check);
    if (!failed)
        failed = first_failed(injection_guest_checks, COUNT(injection_guest_checks), &e,
                              failed_check);
    if (!failed)
        failed = first_failed(final_guest_state_checks, COUNT(final_guest_state_checks), &e,
                              failed_check);
    if (failed)
        *exit_qualification = failed->qualification;
    return !failed;
}

bool nested_check_injection_guest_state(const struct vmcs12 *vmcs12,
                                        const struct nested_vmx_caps *caps,
                                        unsigned phys_addr_bits, const char **failed_check)
{
    struct entry e = entry_under_check(vmcs12, caps, phys_addr_bits, 0, false);
    return !first_failed(injection_guest_checks, COUNT(injection_guest_checks), &e, failed_check);
}
