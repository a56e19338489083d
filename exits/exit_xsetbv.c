/* XSETBV always exits (SDM Vol. 3C 26.1.2). The guest's XCR0 stays loaded
 * while its vCPU owns the CPU (the host uses no extended state); vcpu_load
 * switches it between vCPUs. */
#include "exits/exits.h"
#include "virt/event_inject.h"
#include "virt/vm.h"
#include "arch/cpu.h"
#include "vmx/vmcs.h"

#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)
#define XCR0_MPX (3ull << 3)            /* BNDREGS, BNDCSR: both or neither */
#define XCR0_AVX512 (7ull << 5)         /* opmask, ZMM_Hi256, Hi16_ZMM: all or none */
#define XCR0_AMX (3ull << 17)           /* XTILECFG, XTILEDATA: both or neither */

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

#define XCR0_FIRST_EXTENDED 2           /* x87 and SSE live in the legacy area */

uint64_t guest_xcr0_supported(void)
{
    static uint64_t mask;   /* CPUID leaf 0xD: the same on every CPU of a machine */
    if (!mask) {
        struct cpuid_regs r = cpuid(0xd, 0);
        /* AMX tile data (8 KiB) would not fit the vCPU's one-page save area. */
        uint64_t m = (((uint64_t)r.edx << 32) | r.eax) & ~XCR0_AMX;
        /* SDM Vol. 1 13.2: each supported component reports its size in
         * sub-leaf n. One without (Bochs 2.7 lists PKRU so) is left out,
         * so that the guest sees consistent XSAVE sizes and offsets. */
        for (unsigned i = XCR0_FIRST_EXTENDED; i < 64; i++)
            if ((m >> i & 1) && cpuid(0xd, i).eax == 0)
                m &= ~(1ull << i);
        __atomic_store_n(&mask, m, __ATOMIC_RELEASE);
    }
    return mask;
}

enum exit_action handle_xsetbv(struct vcpu *vcpu, const struct vm_exit *exit)
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
