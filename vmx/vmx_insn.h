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

/* VMCLEAR and VMPTRLD come on every nested round trip: their outcome is
 * two branches on the flags, which a caller's test of the result folds
 * into, not flags turned into a value. */
#define VMX_POINTER_INSN(insn, vmcs_phys)                                                  \
    do {                                                                                   \
        __asm__ goto(insn " %0; jc %l[invalid]; jz %l[valid]"                              \
                     :: "m"(vmcs_phys) : "cc", "memory" : invalid, valid);                 \
        return VMX_SUCCEED;                                                                \
    invalid:                                                                               \
        return VMX_FAIL_INVALID;                                                           \
    valid:                                                                                 \
        return VMX_FAIL_VALID;                                                             \
    } while (0)

static inline enum vmx_result vmclear(uint64_t vmcs_phys)
{
    VMX_POINTER_INSN("vmclear", vmcs_phys);
}

static inline enum vmx_result vmptrld(uint64_t vmcs_phys)
{
    VMX_POINTER_INSN("vmptrld", vmcs_phys);
}

/* VMREAD/VMWRITE of a field the current VMCS has; callers use the typed
 * accessors in vmx/vmcs.h. Failure (an unsupported field) yields 0 / is
 * reported by the _checked variants. */
static inline enum vmx_result vmread_checked(uint32_t field, uint64_t *value)
{
    uint8_t cf, zf;
    __asm__ volatile("vmread %3, %2; setc %0; setz %1"
                     : "=q"(cf), "=q"(zf), "=r"(*value) : "r"((uint64_t)field) : "cc");
    return VMX_RESULT_FROM_FLAGS(cf, zf);
}

static inline enum vmx_result vmwrite_checked(uint32_t field, uint64_t value)
{
    uint8_t cf, zf;
    __asm__ volatile("vmwrite %3, %2; setc %0; setz %1"
                     : "=q"(cf), "=q"(zf) : "r"((uint64_t)field), "rm"(value) : "cc", "memory");
    return VMX_RESULT_FROM_FLAGS(cf, zf);
}

/* INVEPT / INVVPID descriptor types (SDM Vol. 3C 31.3). */
enum invept_type { INVEPT_SINGLE_CONTEXT = 1, INVEPT_ALL_CONTEXT = 2 };
enum invvpid_type {
    INVVPID_INDIVIDUAL_ADDRESS = 0, INVVPID_SINGLE_CONTEXT = 1, INVVPID_ALL_CONTEXT = 2,
    INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS = 3,
};

static inline enum vmx_result invept(enum invept_type type, uint64_t eptp)
{
    struct { uint64_t eptp, reserved; } desc = { eptp, 0 };
    uint8_t cf, zf;
    __asm__ volatile("invept %2, %3; setc %0; setz %1"
                     : "=q"(cf), "=q"(zf) : "m"(desc), "r"((uint64_t)type) : "cc", "memory");
    return VMX_RESULT_FROM_FLAGS(cf, zf);
}

static inline enum vmx_result invvpid(enum invvpid_type type, uint16_t vpid, uint64_t address)
{
    struct { uint64_t vpid, address; } desc = { vpid, address };
    uint8_t cf, zf;
    __asm__ volatile("invvpid %2, %3; setc %0; setz %1"
                     : "=q"(cf), "=q"(zf) : "m"(desc), "r"((uint64_t)type) : "cc", "memory");
    return VMX_RESULT_FROM_FLAGS(cf, zf);
}

#endif
