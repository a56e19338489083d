#ifndef VMX_VMX_INSN_H
#define VMX_VMX_INSN_H
/* Thin wrappers around the VMX instructions. Each reports the SDM's outcome
 * (SDM Vol. 3C 31.2 "Conventions"): VMsucceed, VMfailInvalid (CF=1, no
 * current VMCS) or VMfailValid (ZF=1, error number in the VMCS). */
#include <stdint.h>

enum vmx_result { VMX_SUCCEED = 0, VMX_FAIL_INVALID, VMX_FAIL_VALID };

#define VMX_RESULT_FROM_FLAGS(cf, zf) ((cf) ? VMX_FAIL_INVALID : (zf) ? VMX_FAIL_VALID : VMX_SUCCEED)

static inline enum vmx_result vmxon(uint64_t region_phys)
{
    uint8_t cf, zf;
    __asm__ volatile("vmxon %2; setc %0; setz %1"
                     : "=q"(cf), "=q"(zf) : "m"(region_phys) : "cc", "memory");
    return VMX_RESULT_FROM_FLAGS(cf, zf);
}

static inline enum vmx_result vmxoff(void)
{
    uint8_t cf, zf;
    __asm__ volatile("vmxoff; setc %0; setz %1" : "=q"(cf), "=q"(zf) :: "cc", "memory");
    return VMX_RESULT_FROM_FLAGS(cf, zf);
}
#endif
