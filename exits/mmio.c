#include "exits/mmio.h"
#include "dev/apic_access.h"
#include "dev/irq.h"
#include "virt/guest_linear.h"
#include "virt/guest_mem.h"
#include "virt/guest_walk.h"
#include "exits/insn_emulate.h"
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

static struct guest_paging current_paging(void)
{
    return (struct guest_paging){ vmcs_read(GUEST_CR0), vmcs_read(GUEST_CR3),
                                  vmcs_read(GUEST_CR4), vmcs_read(GUEST_IA32_EFER) };
}

/* The bytes at the guest's RIP; a fetch may cross into the next page. */
static unsigned fetch_instruction(struct vcpu *v, uint8_t *bytes)
{
    struct guest_paging paging = current_paging();
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

/* A device register access: the vCPU's xAPIC page, the I/O APIC; where
 * nothing is, reads return all ones and writes go nowhere (counted). */
static void device_access(struct vcpu *v, uint64_t gpa, bool write, unsigned size,
                          uint64_t *value)
{
    if (apic_mmio_access(v, gpa, write, size, value) ||
        ioapic_mmio_access(v->vm, gpa, write, size, value))
        return;
    if (write) {
        __atomic_add_fetch(&v->vm->unhandled_writes, 1, __ATOMIC_RELAXED);
    } else {
        *value = ~0ull;
        __atomic_add_fetch(&v->vm->unhandled_reads, 1, __ATOMIC_RELAXED);
    }
}

/* The emulator's memory: the faulting access goes to the device; a string
 * instruction's linear addresses to RAM through the guest's paging (a #PF
 * injected where it maps nothing) or, where they land outside RAM, to the
 * device there. */
static bool access(void *ctx, uint64_t address, bool linear, unsigned size, uint64_t *value,
                   bool write)
{
    struct vcpu *v = ctx;
    uint64_t gpa = address, start, end;
    if (linear) {
        struct guest_paging paging = current_paging();
        if (!guest_translate(&paging, address, read_guest, v->vm, &gpa) ||
            guest_ram_slot(v->vm, gpa, &start, &end))
            return vcpu_linear_access(v, address, value, size, write);
    }
    device_access(v, gpa, write, size, value);
    return true;
}

static bool memory_read(void *ctx, uint64_t address, bool linear, unsigned size, uint64_t *value)
{
    *value = 0;
    return access(ctx, address, linear, size, value, false);
}

static bool memory_write(void *ctx, uint64_t address, bool linear, unsigned size, uint64_t value)
{
    return access(ctx, address, linear, size, &value, true);
}

static const enum vmcs_field segment_bases[] = { GUEST_ES_BASE, GUEST_CS_BASE, GUEST_SS_BASE,
                                                 GUEST_DS_BASE, GUEST_FS_BASE, GUEST_GS_BASE };

static uint64_t segment_base(void *ctx, unsigned segment)
{
    (void)ctx;
    return vmcs_read(segment_bases[segment]);
}

static uint64_t guest_rsp(void *ctx)
{
    (void)ctx;
    return vmcs_read(GUEST_RSP);
}

static uint64_t guest_rflags(void *ctx)
{
    (void)ctx;
    return vmcs_read(GUEST_RFLAGS);
}

static const struct emu_memory guest_memory = { memory_read, memory_write, segment_base,
                                                guest_rsp, guest_rflags };

enum exit_action emulate_mmio(struct vcpu *v, uint64_t gpa)
{
    uint8_t bytes[MAX_INSN_BYTES];
    struct emu_input in = { .bytes = bytes, .avail = fetch_instruction(v, bytes),
                            .mode = code_mode(), .mmio_gpa = gpa };
    /* The emulator works on the registers where they are; RSP and RFLAGS
     * are in the VMCS, read only if the instruction needs them and written
     * back only if it changed them. */
    struct emu_state state = { .gpr = guest_regs_array(&v->regs) };
    unsigned length = 0;
    enum emu_result result = insn_emulate(&in, &state, &guest_memory, v, &length);
    if (result == EMU_UNSUPPORTED) {
        char why[160];
        int n = snprintf(why, sizeof(why), "cannot emulate the access to guest-physical 0x%lx: "
                         "instruction bytes", gpa);
        for (unsigned i = 0; i < in.avail && n < (int)sizeof(why) - 4; i++)
            n += snprintf(why + n, sizeof(why) - n, " %02x", bytes[i]);
        return stop_vm_with_dump(v, why);
    }
    if (state.rsp_loaded)
        vmcs_write(GUEST_RSP, v->regs.rsp_copy);
    if (state.rflags_loaded)
        vmcs_write(GUEST_RFLAGS, state.rflags);
    if (result == EMU_DONE)
        advance_rip(v, length);
    return EXIT_RESUME;
}
