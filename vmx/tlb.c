#include "vmx/tlb.h"
#include "vmx/vmx_cpu.h"
#include "vmx/vmx_insn.h"
#include "arch/percpu.h"
#include "arch/smp.h"

void tlb_flush_vpid(uint16_t vpid)
{
    if (!vpid)
        return;     /* VPID 0: the CPU flushes on every VM entry and exit itself */
    if (vmcs_config.ept_vpid_cap & VPID_CAP_INVVPID_SINGLE)
        invvpid(INVVPID_SINGLE_CONTEXT, vpid, 0);
    else
        invvpid(INVVPID_ALL_CONTEXT, 0, 0);
}

void tlb_flush_ept(uint64_t eptp)
{
    if (vmcs_config.ept_vpid_cap & EPT_CAP_INVEPT_SINGLE)
        invept(INVEPT_SINGLE_CONTEXT, eptp);
    else
        invept(INVEPT_ALL_CONTEXT, 0);
}

static void flush_ept_here(void *eptp)
{
    tlb_flush_ept((uint64_t)(uintptr_t)eptp);
}

void tlb_flush_ept_everywhere(uint64_t eptp)
{
    for (uint32_t cpu = 0; cpu < cpu_count; cpu++)
        if (percpu[cpu].online)
            smp_call_on(cpu, flush_ept_here, (void *)(uintptr_t)eptp);
}
