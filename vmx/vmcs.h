#ifndef VMX_VMCS_H
#define VMX_VMCS_H
/* Typed access to the current VMCS. A failing VMREAD/VMWRITE here is a
 * hypervisor bug (every field we touch exists on CPUs we accept), so it is
 * fatal with the field's name rather than silently ignored; the base-field
 * accesses below, which cannot fail, test nothing. */
#include <stdint.h>
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_insn.h"

/* Guest interruptibility state: blocking by STI and by MOV SS, blocking by
 * NMI (virtual-NMI blocking with "virtual NMIs"; SDM Vol. 3C 25.4.2 Table
 * 25-3). */
#define INTERRUPTIBILITY_STI_MOV_SS 0x3
#define INTERRUPTIBILITY_NMI        0x8
/* Pending debug exceptions: BS, a single-step trap (SDM Vol. 3C 25.4.2). */
#define PENDING_DBG_BS              (1ull << 14)

/* On the exit path every instruction counts: success costs one untaken
 * branch (JBE: CF or ZF set means VMfail), failure goes out of line. */
__attribute__((noreturn, cold)) void vmcs_read_failed(uint32_t field);
__attribute__((noreturn, cold)) void vmcs_write_failed(uint32_t field);

static inline uint64_t vmcs_read(enum vmcs_field field)
{
    uint64_t v;
    __asm__ goto("vmread %[field], %[value]\n\tjbe %l[failed]"
                 : [value] "=r"(v) : [field] "r"((uint64_t)field) : "cc" : failed);
    return v;
failed:
    vmcs_read_failed(field);
}

/* VMREAD of a field the processor may lack: false if it does (VMfailValid,
 * SDM Vol. 3C 31.3 VMREAD), one branch as for vmcs_read. */
static inline bool vmcs_read_if_present(enum vmcs_field field, uint64_t *value)
{
    uint64_t v;
    __asm__ goto("vmread %[field], %[value]\n\tjbe %l[missing]"
                 : [value] "=r"(v) : [field] "r"((uint64_t)field) : "cc" : missing);
    *value = v;
    return true;
missing:
    return false;
}

static inline void vmcs_write(enum vmcs_field field, uint64_t value)
{
    __asm__ goto("vmwrite %[value], %[field]\n\tjbe %l[failed]"
                 :: [field] "r"((uint64_t)field), [value] "rm"(value) : "cc", "memory" : failed);
    return;
failed:
    vmcs_write_failed(field);
}

/* VMREAD and VMWRITE of a base field: one every processor vmxvisor runs
 * on has (the fields of the first VMX processors, and those of the
 * controls vmx/vmcs_config.c requires), in a VMCS the caller made current
 * with a checked VMPTRLD. They fail only for a field the processor lacks,
 * without a current VMCS, or for VMWRITE a read-only field (SDM Vol. 3C
 * 31.3 VMREAD, VMWRITE): none can happen, so no branch. For the paths
 * that move dozens (a nested exit saves L2's state and loads L1's host
 * state), where the branches are a tenth of the cost. */
static inline uint64_t vmcs_read_base(enum vmcs_field field)
{
    uint64_t v;
    __asm__ volatile("vmread %[field], %[value]" : [value] "=r"(v) : [field] "r"((uint64_t)field) : "cc");
    return v;
}

static inline void vmcs_write_base(enum vmcs_field field, uint64_t value)
{
    __asm__ volatile("vmwrite %[value], %[field]"
                     :: [field] "r"((uint64_t)field), [value] "rm"(value) : "cc", "memory");
}

static inline void vmcs_set_bits(enum vmcs_field field, uint64_t bits)
{
    vmcs_write(field, vmcs_read(field) | bits);
}

static inline void vmcs_clear_bits(enum vmcs_field field, uint64_t bits)
{
    vmcs_write(field, vmcs_read(field) & ~bits);
}

/* CR0 and CR4 as the guest sees them: the bits the guest/host mask gives to
 * the host come from the read shadow, the guest's own from the register
 * (SDM Vol. 3C 26.3 "Changes to Instruction Behavior", MOV from CR0/CR4). */
static inline uint64_t guest_visible_cr(enum vmcs_field cr, enum vmcs_field mask,
                                        enum vmcs_field shadow)
{
    uint64_t host_owned = vmcs_read_base(mask);
    return (vmcs_read_base(cr) & ~host_owned) | (vmcs_read_base(shadow) & host_owned);
}
#define guest_cr0() guest_visible_cr(GUEST_CR0, CR0_GUEST_HOST_MASK, CR0_READ_SHADOW)
#define guest_cr4() guest_visible_cr(GUEST_CR4, CR4_GUEST_HOST_MASK, CR4_READ_SHADOW)

/* Prints every field the current VMCS supports, grouped by kind. */
void vmcs_dump(void);
/* The SDM's text for a VM-instruction error number (SDM Vol. 3C 31.4). */
const char *vmx_instruction_error_text(uint32_t error);
#endif
