/* EPT violations: RAM is populated on first touch (the TDP fault path);
 * reads of guest-physical space that is neither RAM nor a device return
 * all-ones through a read-only page of 0xff (SDM Vol. 3C 30.3.3.2 for the
 * qualification bits). */
#include "virt/exits.h"
#include "virt/guest_mem.h"
#include "virt/vm.h"
#include "vmx/vmcs.h"
#include "lib/printf.h"

#define EPT_QUAL_READ   (1ull << 0)
#define EPT_QUAL_WRITE  (1ull << 1)
#define EPT_QUAL_FETCH  (1ull << 2)


enum exit_action handle_ept_violation(struct vcpu *vcpu, const struct vm_exit *exit)
{
    uint64_t gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
    uint64_t size = 0;
    char why[96];
    switch (tdp_page_fault(vcpu->vm, gpa, &size)) {
    case TDP_MAPPED:
        if (size)
            vcpu->stats.ept_maps[size == EPT_SIZE_4K ? 0 : size == EPT_SIZE_2M ? 1 : 2]++;
        return EXIT_RESUME;
    case TDP_NO_MEMORY:
        snprintf(why, sizeof(why), "out of host memory for guest-physical 0x%lx", gpa);
        return stop_vm_with_dump(vcpu, why);
    case TDP_NOT_RAM:
        break;
    }
    uint64_t q = exit->qualification;
    if ((q & (EPT_QUAL_WRITE | EPT_QUAL_FETCH)) == 0 &&
        vm_map_all_ones_page(vcpu->vm, gpa)) {
        __atomic_add_fetch(&vcpu->vm->unhandled_reads, 1, __ATOMIC_RELAXED);
        return EXIT_RESUME;
    }
    snprintf(why, sizeof(why), "%s guest-physical 0x%lx, which is neither RAM nor a device",
             q & EPT_QUAL_FETCH ? "instruction fetch from" : q & EPT_QUAL_WRITE ? "write to"
                                                                                : "read of",
             gpa);
    return stop_vm_with_dump(vcpu, why);
}

enum exit_action handle_ept_misconfig(struct vcpu *vcpu, const struct vm_exit *exit)
{
    (void)exit;
    char why[80];
    snprintf(why, sizeof(why), "EPT misconfiguration at guest-physical 0x%lx",
             vmcs_read(GUEST_PHYSICAL_ADDRESS));
    return stop_vm_with_dump(vcpu, why);
}
