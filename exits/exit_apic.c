/* The exits of APIC virtualization (dev/apicv.h; SDM Vol. 3C 29.4-29.5,
 * 30.4): accesses the processor does not virtualise, writes it virtualised
 * but the model must act on, level-triggered EOIs, and a TPR lowered under
 * the threshold. */
#include "exits/exits.h"
#include "exits/mmio.h"
#include "dev/apic_access.h"
#include "dev/vlapic.h"
#include "virt/vm.h"
#include "virt/vcpu_state.h"
#include "vmx/vmcs.h"
#include "lib/printf.h"

/* Exit qualification of an APIC-access exit (SDM Vol. 3C 28.2.1, Table
 * 28-6): the page offset in bits 11:0, the kind of access in 15:12. */
#define APIC_ACCESS_OFFSET(q)   ((uint32_t)(q) & 0xfff)
#define APIC_ACCESS_TYPE(q)     ((unsigned)((q) >> 12) & 0xf)
enum { LINEAR_READ = 0, LINEAR_WRITE = 1 };

/* A fault-like exit before the access: the instruction is emulated on the
 * model, as an access to the xAPIC page without the virtualization would
 * be (exits/mmio.c). Fetches and accesses during event delivery or page
 * walks through the APIC page are nothing a guest does with its APIC. */
enum exit_action handle_apic_access(struct vcpu *vcpu, struct vm_exit exit)
{
    unsigned type = APIC_ACCESS_TYPE(exit.qualification);
    if (type != LINEAR_READ && type != LINEAR_WRITE) {
        char why[96];
        snprintf(why, sizeof(why), "APIC-access exit of type %u at offset 0x%x (not a data access)",
                 type, APIC_ACCESS_OFFSET(exit.qualification));
        return stop_vm_with_dump(vcpu, why);
    }
    uint64_t page = vcpu->apic->base_msr & ~0xfffull;
    return emulate_mmio(vcpu, page | APIC_ACCESS_OFFSET(exit.qualification));
}

/* Trap-like: the write is in the page and the instruction is done. */
enum exit_action handle_apic_write(struct vcpu *vcpu, struct vm_exit exit)
{
    apic_write_trap(vcpu, APIC_ACCESS_OFFSET(exit.qualification) & ~0xfu);
    return EXIT_RESUME;
}

/* Trap-like, after EOI virtualization of a vector in the EOI-exit bitmap;
 * the qualification is the vector. */
enum exit_action handle_eoi_induced(struct vcpu *vcpu, struct vm_exit exit)
{
    apic_eoi_induced(vcpu, (uint8_t)exit.qualification);
    return EXIT_RESUME;
}

/* Trap-like: TPR went under the threshold, a held-back interrupt may go. */
enum exit_action handle_tpr_below_threshold(struct vcpu *vcpu, struct vm_exit exit)
{
    (void)exit;
    vcpu_request(vcpu, REQ_EVENT);
    return EXIT_RESUME;
}
