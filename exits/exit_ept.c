/* EPT violations: RAM is populated on first touch (the TDP fault path);
 * anything else is an MMIO access, emulated (exits/mmio.c). */
#include "exits/exits.h"
#include "virt/event_inject.h"
#include "virt/guest_mem.h"
#include "exits/mmio.h"
#include "virt/dirty_log.h"
#include "nested/nested.h"
#include "nested/nested_ept.h"
#include "nested/switch.h"
#include "vmx/exit_reasons.h"
#include "virt/vm.h"
#include "vmx/vmcs.h"
#include "lib/printf.h"

/* SDM Vol. 3C 28.2.1, Table 28-7. */
#define EPT_QUAL_WRITE             (1ull << 1)
#define EPT_QUAL_FETCH             (1ull << 2)
#define EPT_QUAL_LINEAR_VALID      (1ull << 7)
#define EPT_QUAL_LINEAR_TRANSLATED (1ull << 8)  /* clear: during a guest page walk */
#define EPT_QUAL_NMI_UNBLOCKING    (1ull << 12)
#define VECTORING_INFO_VALID       (1u << 31)


/* An EPT violation of L2 on EPT02 (nested/nested_ept.h): mapped, or L1's
 * to handle, with vmcs02's exit information but for the qualification
 * (none for a misconfiguration, SDM Vol. 3C 28.2.1). */
__attribute__((noinline)) static enum exit_action l2_ept_violation(struct vcpu *vcpu,
                                                                    uint64_t qualification)
{
    uint64_t detail = 0;
    char why[112];
    enum nested_ept_fault fault = nested_ept_violation(vcpu, qualification, &detail);
    switch (fault) {
    case NESTED_EPT_MAPPED:
        restore_nmi_blocking(vcpu, qualification);     /* the instruction runs again */
        return EXIT_RESUME;
    case NESTED_EPT_VIOLATION:
    case NESTED_EPT_MISCONFIG: {
        bool violation = fault == NESTED_EPT_VIOLATION;
        vcpu->stats.to_l1[EXIT_REASON_EPT_VIOLATION]++;     /* this exit from L2, reflected */
        nested_vm_exit(vcpu, violation ? EXIT_REASON_EPT_VIOLATION : EXIT_REASON_EPT_MISCONFIG,
                       NESTED_EXIT_INFO_REQUALIFIED, violation ? detail : 0, 0);
        return EXIT_RESUME;
    }
    case NESTED_EPT_PML_FULL:
        /* Its qualification: only bit 12, NMI unblocking by IRET, as the
         * EPT violation had it (SDM Vol. 3C 28.2.1). */
        vcpu->stats.to_l1[EXIT_REASON_EPT_VIOLATION]++;
        nested_vm_exit(vcpu, EXIT_REASON_PML_FULL, NESTED_EXIT_INFO_SYNTHETIC,
                       qualification & EPT_QUAL_NMI_UNBLOCKING, 0);
        return EXIT_RESUME;
    case NESTED_EPT_NOT_RAM:
        /* L1 gave L2 one of L1's devices: the access would have to be
         * emulated with L2's instruction fetched through EPT12. */
        snprintf(why, sizeof(why),
                 "L2 access to L2-physical 0x%lx, which L1's EPT maps to its non-RAM 0x%lx: "
                 "not emulated", vmcs_read(GUEST_PHYSICAL_ADDRESS), detail);
        return stop_vm_with_dump(vcpu, why);
    case NESTED_EPT_NO_MEMORY:
        break;
    }
    return stop_vm_with_dump(vcpu, "out of host memory for L2's shadow EPT");
}

enum exit_action handle_ept_violation(struct vcpu *vcpu, struct vm_exit exit)
{
    if (__builtin_expect(nested_in_l2(vcpu), 0) && nested_l2_uses_ept(vcpu))
        return l2_ept_violation(vcpu, exit.qualification);
    uint64_t gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
    uint64_t size = 0;
    char why[96];
    /* A write to a page L0 watches (an L1's MSR bitmap): first, as the
     * dirty-rate measurement may have protected it too. */
    if (__builtin_expect(vcpu->vm->write_watch.count != 0, 0) &&
        (exit.qualification & EPT_QUAL_WRITE) && dirty_log_watched_write(vcpu->vm, gpa)) {
        restore_nmi_blocking(vcpu, exit.qualification);
        return EXIT_RESUME;
    }
    /* A write to a page the dirty-rate measurement write-protected. */
    if (__builtin_expect(vcpu->vm->dirty_log.state == DIRTY_LOG_MEASURING, 0) &&
        (exit.qualification & EPT_QUAL_WRITE) && dirty_log_write_fault(vcpu->vm, gpa)) {
        restore_nmi_blocking(vcpu, exit.qualification);
        return EXIT_RESUME;
    }
    switch (tdp_page_fault(vcpu->vm, gpa, &size)) {
    case TDP_MAPPED:
        if (size)
            vcpu->stats.ept_maps[size == EPT_SIZE_4K ? 0 : size == EPT_SIZE_2M ? 1 : 2]++;
        if (__builtin_expect(vcpu->vm->dirty_log.state == DIRTY_LOG_MEASURING, 0) && size)
            dirty_log_mapped(vcpu->vm, gpa, exit.qualification & EPT_QUAL_WRITE);
        restore_nmi_blocking(vcpu, exit.qualification);     /* the instruction runs again */
        return EXIT_RESUME;
    case TDP_NO_MEMORY:
        /* Only a VM past its reservation meets this (virt/mem_reserve.h). */
        snprintf(why, sizeof(why), "out of host memory for guest-physical 0x%lx: %lu MiB backed, "
                 "%lu MiB reserved (overcommit)", gpa, vcpu->vm->mem.backed_pages >> 8,
                 vcpu->vm->mem.ram_pages >> 8);
        return stop_vm_with_dump(vcpu, why);
    case TDP_NOT_RAM:
        break;
    }
    /* Only an instruction's own data access can be emulated: not a fetch,
     * not a walk of the guest's page tables, not an access made while
     * delivering an event (SDM Vol. 3C 28.2.4). */
    uint64_t q = exit.qualification;
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

enum exit_action handle_ept_misconfig(struct vcpu *vcpu, struct vm_exit exit)
{
    (void)exit;
    char why[80];
    snprintf(why, sizeof(why), "EPT misconfiguration at guest-physical 0x%lx",
             vmcs_read(GUEST_PHYSICAL_ADDRESS));
    return stop_vm_with_dump(vcpu, why);
}
