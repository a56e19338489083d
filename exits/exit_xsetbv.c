/* XSETBV always exits (SDM Vol. 3C 26.1.2). The guest's XCR0 stays loaded
 * while its vCPU owns the CPU (the host uses no extended state); vcpu_load
 * switches it between vCPUs. */
#include "exits/exits.h"
#include "virt/event_inject.h"
#include "virt/vm.h"
#include "virt/vcpu.h"
#include "arch/cpu.h"
#include "vmx/vmcs.h"

/* SDM Vol. 2 XSETBV and Vol. 1 13.3: the combinations that raise #GP. A
 * value the CPU would refuse must never reach the host's own XSETBV. */
static bool valid_xcr0(uint64_t v)
{
    if (!(v & XCR0_X87) || ((v & XCR0_AVX) && !(v & XCR0_SSE)))
        return false;
    if ((v & XCR0_MPX) && (v & XCR0_MPX) != XCR0_MPX)
        return false;
    if ((v & XCR0_AVX512) && ((v & XCR0_AVX512) != XCR0_AVX512 || !(v & XCR0_AVX)))
        return false;
    if ((v & XCR0_AMX) && (v & XCR0_AMX) != XCR0_AMX)
        return false;
    return true;
}

enum exit_action handle_xsetbv(struct vcpu *vcpu, struct vm_exit exit)
{
    (void)exit;
    uint64_t value = (vcpu->regs.rdx << 32) | (uint32_t)vcpu->regs.rax;
    /* SDM Vol. 2 XSETBV: #GP for XCR other than 0, x87 off, AVX without SSE,
     * or bits the processor does not support. */
    if ((uint32_t)vcpu->regs.rcx != 0 || !valid_xcr0(value) || (value & ~guest_xcr0_supported())) {
        inject_exception(vcpu, VECTOR_GP, true, 0);
        return EXIT_RESUME;
    }
    __asm__ volatile("xsetbv" :: "c"(0), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
    vcpu->xcr0 = value;
    skip_instruction(vcpu);
    return EXIT_RESUME;
}
