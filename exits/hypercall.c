/*
 * VMCALL hypercalls. ABI: RAX = number, arguments in RDI, RSI; result in
 * RAX (negative on error). Only CPL 0 may call.
 *   1 PRINT(gpa, len)  print len (<= 256) bytes of guest-physical memory
 *   2 EXIT(status)     end the VM with status (0-255)
 *   3 YIELD()          give up the physical CPU for now
 */
#include "exits/exits.h"
#include "virt/guest_mem.h"
#include "virt/vm.h"
#include "vmx/vmcs.h"
#include "arch/serial.h"

enum hypercall { HC_PRINT = 1, HC_EXIT = 2, HC_YIELD = 3 };
#define HC_ERR_NOSYS  ((uint64_t)-38)
#define HC_ERR_PERM   ((uint64_t)-1)
#define HC_ERR_FAULT  ((uint64_t)-14)
#define HC_ERR_INVAL  ((uint64_t)-22)
#define HC_PRINT_MAX  256
#define AR_DPL(ar)    (((ar) >> 5) & 3)

enum exit_action handle_vmcall(struct vcpu *vcpu, struct vm_exit exit)
{
    (void)exit;
    struct guest_regs *r = &vcpu->regs;
    enum exit_action action = EXIT_RESUME;
    skip_instruction(vcpu);
    if (AR_DPL(vmcs_read(GUEST_SS_AR_BYTES)) != 0) {    /* SS.DPL is the CPL */
        r->rax = HC_ERR_PERM;
        return EXIT_RESUME;
    }
    switch (r->rax) {
    case HC_PRINT: {
        char text[HC_PRINT_MAX];
        if (r->rsi > HC_PRINT_MAX) {
            r->rax = HC_ERR_INVAL;
        } else if (!guest_mem_read(vcpu->vm, r->rdi, text, r->rsi)) {
            r->rax = HC_ERR_FAULT;
        } else {
            console_guest_line(vcpu->vm->config.name, text, r->rsi);
            r->rax = 0;
        }
        break;
    }
    case HC_EXIT:
        vm_end(vcpu->vm, (int)(r->rdi & 0xff), "exit hypercall");
        return EXIT_STOP_VCPU;
    case HC_YIELD:
        r->rax = 0;
        action = EXIT_RESCHEDULE;
        break;
    default:
        r->rax = HC_ERR_NOSYS;
        break;
    }
    return action;
}
