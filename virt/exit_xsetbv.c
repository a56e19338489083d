/* XSETBV always exits (SDM Vol. 3C 26.1.2). The guest's XCR0 stays loaded
 * while its vCPU owns the CPU (the host uses no extended state); vcpu_load
 * switches it between vCPUs. */
#include "virt/exits.h"
#include "virt/event_inject.h"
#include "virt/vm.h"
#include "arch/cpu.h"
#include "vmx/vmcs.h"

#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)

static uint64_t host_supported_xcr0(void)
{
    struct cpuid_regs r = cpuid(0xd, 0);
    return ((uint64_t)r.edx << 32) | r.eax;
}

enum exit_action handle_xsetbv(struct vcpu *vcpu, const struct vm_exit *exit)
{
    (void)exit;
    uint64_t value = (vcpu->regs.rdx << 32) | (uint32_t)vcpu->regs.rax;
    /* SDM Vol. 2 XSETBV: #GP for XCR other than 0, x87 off, AVX without SSE,
     * or bits the processor does not support. */
    if ((uint32_t)vcpu->regs.rcx != 0 || !(value & XCR0_X87) ||
        ((value & XCR0_AVX) && !(value & XCR0_SSE)) || (value & ~host_supported_xcr0())) {
        inject_exception(vcpu, VECTOR_GP, true, 0);
        return EXIT_RESUME;
    }
    __asm__ volatile("xsetbv" :: "c"(0), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
    vcpu->xcr0 = value;
    skip_instruction(vcpu);
    return EXIT_RESUME;
}
