/* I/O-instruction exits (SDM Vol. 3C 28.2.1, Table 28-5 qualification). */
#include "exits/exits.h"
#include "exits/pio.h"
#include "virt/vm.h"

#define IO_SIZE(q)      ((unsigned)((q) & 7) + 1)
#define IO_IN           (1u << 3)
#define IO_STRING       (1u << 4)
#define IO_PORT(q)      ((uint16_t)((q) >> 16))

enum exit_action handle_io(struct vcpu *vcpu, const struct vm_exit *exit)
{
    uint64_t q = exit->qualification;
    if (q & IO_STRING)
        return stop_vm_with_dump(vcpu, "string I/O (INS/OUTS) is not emulated");
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
