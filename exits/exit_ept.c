/* EPT violations: RAM is populated on first touch (the TDP fault path);
 * anything else is an MMIO access, emulated (exits/mmio.c). */
#include "exits/exits.h"
#include "virt/event_inject.h"
#include "virt/guest_mem.h"
#include "exits/mmio.h"
#include "virt/vm.h"
#include "vmx/vmcs.h"
#include "lib/printf.h"

/* SDM Vol. 3C 28.2.1, Table 28-7. */
#define EPT_QUAL_FETCH             (1ull << 2)
#define EPT_QUAL_LINEAR_VALID      (1ull << 7)
#define EPT_QUAL_LINEAR_TRANSLATED (1ull << 8)  /* clear: during a guest page walk */
#define VECTORING_INFO_VALID       (1u << 31)


enum exit_action handle_ept_violation(struct vcpu *vcpu, const struct vm_exit *exit)
{
    uint64_t gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
    uint64_t size = 0;
    char why[96];
    switch (tdp_page_fault(vcpu->vm, gpa, &size)) {
    case TDP_MAPPED:
        if (size)
            vcpu->stats.ept_maps[size == EPT_SIZE_4K ? 0 : size == EPT_SIZE_2M ? 1 : 2]++;
        restore_nmi_blocking(vcpu, exit->qualification);     /* the instruction runs again */
        return EXIT_RESUME;
    case TDP_NO_MEMORY:
        snprintf(why, sizeof(why), "out of host memory for guest-physical 0x%lx", gpa);
        return stop_vm_with_dump(vcpu, why);
    case TDP_NOT_RAM:
        break;
    }
    /* Only an instruction's own data access can be emulated: not a fetch,
     * not a walk of the guest's page tables, not an access made while
     * delivering an event (SDM Vol. 3C 28.2.4). */
    uint64_t q = exit->qualification;
    const char *what = NULL;
    if (q & EPT_QUAL_FETCH)
        what = "instruction fetch from";
    else if ((q & EPT_QUAL_LINEAR_VALID) && !(q & EPT_QUAL_LINEAR_TRANSLATED))
        what = "guest page-table walk through";
    else if (vmcs_read(IDT_VECTORING_INFO) & VECTORING_INFO_VALID)
        what = "event delivery through";
    if (what) {
        snprintf(why, sizeof(why), "%s guest-physical 0x%lx, which is not RAM", what, gpa);
        return stop_vm_with_dump(vcpu, why);
    }
    return emulate_mmio(vcpu, gpa);
}

enum exit_action handle_ept_misconfig(struct vcpu *vcpu, const struct vm_exit *exit)
{
    (void)exit;
    char why[80];
    snprintf(why, sizeof(why), "EPT misconfiguration at guest-physical 0x%lx",
             vmcs_read(GUEST_PHYSICAL_ADDRESS));
    return stop_vm_with_dump(vcpu, why);
}
