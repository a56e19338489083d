/* The facts of an exit from L2 for the reflection table (nested/l2_exit.h). */
#include "nested/l2_exit.h"
#include "nested/nested.h"
#include "nested/reflect.h"
#include "virt/guest_mem.h"
#include "virt/vcpu_regs.h"
#include "vmx/exit_reasons.h"
#include "vmx/vmcs.h"
#include "arch/cpu.h"

#define CR_ACCESS_MOV_TO 0
#define AR_L (1u << 13)         /* CS.L: 64-bit code */

static bool read_l1(void *ctx, uint64_t gpa, void *dst, unsigned len)
{
    return guest_mem_read(ctx, gpa, dst, len);
}

bool nested_l1_asks_for_exit(struct vcpu *v, uint32_t reason)
{
    struct l2_exit exit = { .reason = reason };
    switch (reason & 0xffff) {
    case EXIT_REASON_EXCEPTION_NMI:
        exit.interruption_info = (uint32_t)vmcs_read(VM_EXIT_INTR_INFO);
        exit.interruption_error = (uint32_t)vmcs_read(VM_EXIT_INTR_ERROR_CODE);
        break;
    case EXIT_REASON_CR_ACCESS:
        exit.qualification = vmcs_read(EXIT_QUALIFICATION);
        if ((exit.qualification >> 4 & 3) == CR_ACCESS_MOV_TO)
            exit.cr_source = vcpu_read_gpr(v, exit.qualification >> 8 & 0xf);
        break;
    case EXIT_REASON_IO_INSTRUCTION:
        exit.qualification = vmcs_read(EXIT_QUALIFICATION);
        break;
    case EXIT_REASON_RDMSR:
    case EXIT_REASON_WRMSR:
        exit.msr = (uint32_t)v->regs.rcx;
        break;
    case EXIT_REASON_VMREAD:
    case EXIT_REASON_VMWRITE: {
        /* The field is named by Reg2 of the instruction information (SDM
         * Vol. 3C 28.2.5), 32 bits of it outside 64-bit mode. */
        uint32_t info = (uint32_t)vmcs_read(VMX_INSTRUCTION_INFO);
        exit.vmcs_field = vcpu_read_gpr(v, info >> 28 & 0xf);
        bool long_mode = (vmcs_read(GUEST_IA32_EFER) & EFER_LMA) &&
                         (vmcs_read(GUEST_CS_AR_BYTES) & AR_L);
        if (!long_mode)
            exit.vmcs_field = (uint32_t)exit.vmcs_field;
        break;
    }
    case EXIT_REASON_PREEMPTION_TIMER: {
        uint64_t deadline = v->nested->timer_deadline;
        exit.l1_timer_expired = deadline && (int64_t)(rdtsc() - deadline) >= 0;
        break;
    }
    }
    return nested_reflect(v->nested->vmcs12, &exit, read_l1, v->vm);
}
