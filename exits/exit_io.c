/* I/O-instruction exits (SDM Vol. 3C 28.2.1, Table 28-5 qualification). */
#include "exits/exits.h"
#include "exits/pio.h"
#include "virt/guest_linear.h"
#include "virt/vcpu_regs.h"
#include "virt/vm.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_cpu.h"
#include "arch/cpu.h"

#define IO_SIZE(q)      ((unsigned)((q) & 7) + 1)
#define IO_IN           (1u << 3)
#define IO_STRING       (1u << 4)
#define IO_REP          (1u << 5)
#define IO_PORT(q)      ((uint16_t)((q) >> 16))
/* VM-exit instruction information for INS and OUTS (SDM Vol. 3C 28.2.5,
 * Table 28-8): address size (0: 16, 1: 32, 2: 64 bits), segment (OUTS). */
#define INFO_ADDRESS_SIZE(i) ((i) >> 7 & 7)
#define INFO_SEGMENT(i)      ((i) >> 15 & 7)
#define SEG_ES 0
#define SEG_FS 4
#define SEG_GS 5
#define RFLAGS_DF (1ull << 10)
#define AR_L      (1u << 13)
/* Elements moved per exit: a long REP goes on at the next entry, where the
 * guest can take interrupts in between, as between a REP's iterations. */
#define STRING_IO_BATCH 1024

/* INS and OUTS, with or without REP (SDM Vol. 2B): elements of `size`
 * bytes between the port and ES:[rDI] (INS) or seg:[rSI] (OUTS), the index
 * moving by the size up or down with RFLAGS.DF, rCX counting down, all at
 * the instruction's address size. A page the guest has not mapped is its
 * #PF, with the registers as far as the instruction got (it restarts). */
static enum exit_action string_io(struct vcpu *v, uint64_t q)
{
    if (!vmcs_config.ins_outs_info)
        return stop_vm_with_dump(v, "string I/O without the CPU's INS/OUTS exit information");
    uint32_t info = (uint32_t)vmcs_read(VMX_INSTRUCTION_INFO);
    unsigned size = IO_SIZE(q), address_size = INFO_ADDRESS_SIZE(info);
    bool in = q & IO_IN, rep = q & IO_REP;
    uint64_t mask = address_size == 0 ? 0xffff : address_size == 1 ? 0xffffffffull : ~0ull;
    unsigned seg = in ? SEG_ES : INFO_SEGMENT(info);
    /* In 64-bit mode only FS and GS have bases (SDM Vol. 3A 3.4.4). */
    bool long_mode = (vmcs_read(GUEST_CS_AR_BYTES) & AR_L) && address_size == 2;
    uint64_t base = long_mode && seg != SEG_FS && seg != SEG_GS
                        ? 0 : vmcs_read(GUEST_ES_BASE + 2 * seg);
    uint64_t *index = in ? &v->regs.rdi : &v->regs.rsi;
    int64_t step = vmcs_read(GUEST_RFLAGS) & RFLAGS_DF ? -(int64_t)size : (int64_t)size;
    uint64_t count = rep ? v->regs.rcx & mask : 1;
    for (unsigned done = 0; count && done < STRING_IO_BATCH; done++) {
        uint64_t linear = base + (*index & mask);
        uint32_t value = 0;
        if (in) {
            if (!pio_access(v->vm, IO_PORT(q), size, false, &value))
                return EXIT_STOP_VCPU;
            if (!vcpu_linear_access(v, linear, &value, size, true))
                return EXIT_RESUME;
        } else {
            if (!vcpu_linear_access(v, linear, &value, size, false))
                return EXIT_RESUME;
            if (!pio_access(v->vm, IO_PORT(q), size, true, &value))
                return EXIT_STOP_VCPU;
        }
        *index = (*index & ~mask) | ((*index + (uint64_t)step) & mask);
        count--;
        if (rep)
            v->regs.rcx = (v->regs.rcx & ~mask) | count;
    }
    if (!count)
        skip_instruction(v);
    return EXIT_RESUME;
}

enum exit_action handle_io(struct vcpu *vcpu, struct vm_exit exit)
{
    uint64_t q = exit.qualification;
    if (q & IO_STRING)
        return string_io(vcpu, q);
    unsigned size = IO_SIZE(q);
    uint64_t mask = size == 4 ? 0xffffffffull : (1ull << (size * 8)) - 1;
    bool is_write = !(q & IO_IN);
    uint32_t value = (uint32_t)(vcpu->regs.rax & mask);
    if (!pio_access(vcpu->vm, IO_PORT(q), size, is_write, &value))
        return EXIT_STOP_VCPU;
    if (!is_write) {
        /* A 32-bit IN zero-extends into RAX; 8- and 16-bit ones merge. */
        vcpu->regs.rax = size == 4 ? value : (vcpu->regs.rax & ~mask) | (value & mask);
    }
    skip_instruction(vcpu);
    return EXIT_RESUME;
}
