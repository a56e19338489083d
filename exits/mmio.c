#include "exits/mmio.h"
#include "dev/apic_access.h"
#include "dev/irq.h"
#include "virt/guest_mem.h"
#include "virt/guest_walk.h"
#include "exits/insn_decode.h"
#include "virt/vcpu_regs.h"
#include "virt/vm.h"
#include "vmx/vmcs.h"
#include "lib/printf.h"

#define MAX_INSN_BYTES 15
#define AR_L  (1u << 13)    /* 64-bit code segment */
#define AR_DB (1u << 14)    /* 32-bit default operand size */

static bool read_guest(void *ctx, uint64_t gpa, void *dst, unsigned len)
{
    return guest_mem_read(ctx, gpa, dst, len);
}

/* The bytes at the guest's RIP; a fetch may cross into the next page. */
static unsigned fetch_instruction(struct vcpu *v, uint8_t *bytes)
{
    struct guest_paging paging = { vmcs_read(GUEST_CR0), vmcs_read(GUEST_CR3),
                                   vmcs_read(GUEST_CR4), vmcs_read(GUEST_IA32_EFER) };
    uint64_t linear = vmcs_read(GUEST_CS_BASE) + vmcs_read(GUEST_RIP);
    unsigned got = 0;
    while (got < MAX_INSN_BYTES) {
        uint64_t gpa;
        if (!guest_translate(&paging, linear + got, read_guest, v->vm, &gpa))
            break;
        unsigned chunk = 4096 - (unsigned)(gpa & 4095);
        if (chunk > MAX_INSN_BYTES - got)
            chunk = MAX_INSN_BYTES - got;
        if (!guest_mem_read(v->vm, gpa, bytes + got, chunk))
            break;
        got += chunk;
    }
    return got;
}

static enum cpu_mode code_mode(void)
{
    uint32_t ar = (uint32_t)vmcs_read(GUEST_CS_AR_BYTES);
    if (ar & AR_L)
        return MODE_64;
    return ar & AR_DB ? MODE_32 : MODE_16;
}

enum exit_action emulate_mmio(struct vcpu *v, uint64_t gpa)
{
    uint8_t bytes[MAX_INSN_BYTES] = { 0 };
    unsigned n = fetch_instruction(v, bytes);
    struct mmio_insn insn;
    if (!insn_decode_mmio(bytes, n, code_mode(), &insn)) {
        char why[128];
        snprintf(why, sizeof(why),
                 "cannot emulate the access to guest-physical 0x%lx (instruction bytes "
                 "%02x %02x %02x %02x ...)", gpa, bytes[0], bytes[1], bytes[2], bytes[3]);
        return stop_vm_with_dump(v, why);
    }
    if (insn.kind == MMIO_LOAD) {
        uint64_t value;
        if (!apic_mmio_access(v, gpa, false, insn.size, &value) &&
            !ioapic_mmio_access(v->vm, gpa, false, insn.size, &value)) {
            value = ~0ull;
            __atomic_add_fetch(&v->vm->unhandled_reads, 1, __ATOMIC_RELAXED);
        }
        uint64_t old = vcpu_read_gpr(v, insn.reg);
        vcpu_write_gpr(v, insn.reg, mmio_load_result(&insn, old, value));
    } else {
        uint64_t value = mmio_store_value(&insn, vcpu_read_gpr(v, insn.reg));
        if (!apic_mmio_access(v, gpa, true, insn.size, &value) &&
            !ioapic_mmio_access(v->vm, gpa, true, insn.size, &value))
            __atomic_add_fetch(&v->vm->unhandled_writes, 1, __ATOMIC_RELAXED);
    }
    advance_rip(v, insn.length);
    return EXIT_RESUME;
}
