#ifndef VMX_VMCS_H
#define VMX_VMCS_H
/* Typed access to the current VMCS. A failing VMREAD/VMWRITE here is a
 * hypervisor bug (every field we touch exists on CPUs we accept), so it is
 * fatal with the field's name rather than silently ignored. */
#include <stdint.h>
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_insn.h"

__attribute__((noreturn)) void vmcs_access_failed(const char *op, uint32_t field,
                                                  enum vmx_result r);

static inline uint64_t vmcs_read(enum vmcs_field field)
{
    uint64_t v;
    enum vmx_result r = vmread_checked(field, &v);
    if (__builtin_expect(r != VMX_SUCCEED, 0))
        vmcs_access_failed("VMREAD", field, r);
    return v;
}

static inline void vmcs_write(enum vmcs_field field, uint64_t value)
{
    enum vmx_result r = vmwrite_checked(field, value);
    if (__builtin_expect(r != VMX_SUCCEED, 0))
        vmcs_access_failed("VMWRITE", field, r);
}

static inline void vmcs_set_bits(enum vmcs_field field, uint64_t bits)
{
    vmcs_write(field, vmcs_read(field) | bits);
}

static inline void vmcs_clear_bits(enum vmcs_field field, uint64_t bits)
{
    vmcs_write(field, vmcs_read(field) & ~bits);
}

/* Prints every field the current VMCS supports, grouped by kind. */
void vmcs_dump(void);
/* The SDM's text for a VM-instruction error number (SDM Vol. 3C 31.4). */
const char *vmx_instruction_error_text(uint32_t error);
#endif
