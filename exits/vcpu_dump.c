/* What went wrong with a vCPU, shown with its registers and VMCS
 * (exits/exits.h): for the exits that stop a VM and for failed entries. */
#include "exits/exits.h"
#include "virt/vm.h"
#include "virt/vm_lifecycle.h"
#include "vmx/vmcs.h"
#include "arch/cpu.h"
#include "arch/serial.h"
#include "lib/printf.h"

/* A failed entry may have left no current VMCS: a dump must not panic. */
static uint64_t read_for_dump(enum vmcs_field field)
{
    uint64_t v = 0;
    vmread_checked(field, &v);
    return v;
}

static void dump_registers(const struct vcpu *v)
{
    const struct guest_regs *r = &v->regs;
    kprintf("RIP %016lx RSP %016lx RFLAGS %016lx\n", read_for_dump(GUEST_RIP),
            read_for_dump(GUEST_RSP), read_for_dump(GUEST_RFLAGS));
    kprintf("RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n", r->rax, r->rbx, r->rcx, r->rdx);
    kprintf("RSI %016lx RDI %016lx RBP %016lx R8  %016lx\n", r->rsi, r->rdi, r->rbp, r->r8);
    kprintf("R9  %016lx R10 %016lx R11 %016lx R12 %016lx\n", r->r9, r->r10, r->r11, r->r12);
    /* The register is the guest's: a dump runs in the vCPU's run loop. */
    kprintf("R13 %016lx R14 %016lx R15 %016lx CR2 %016lx\n", r->r13, r->r14, r->r15, read_cr2());
}

/* What happened to the vCPU, what the VM does about it, and its state. */
void report_with_dump(const struct vcpu *vcpu, const char *why, const char *then)
{
    console_hold();
    klog("vm %s: vcpu %u: %s; %s\n", vcpu->vm->config.name, vcpu->id, why, then);
    dump_registers(vcpu);
    vmcs_dump();
    console_unhold();
}

enum exit_action stop_vm_with_dump(struct vcpu *vcpu, const char *why)
{
    report_with_dump(vcpu, why, "stopping the VM");
    vm_end(vcpu->vm, -1, why);
    return EXIT_STOP_VCPU;
}
