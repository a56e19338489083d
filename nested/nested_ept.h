#ifndef NESTED_NESTED_EPT_H
#define NESTED_NESTED_EPT_H
/*
 * EPT and VPID for L2 (KVM's nested EPT and vpid02). An L2 whose vmcs12
 * enables EPT runs on a shadow EPT, EPT02 = EPT12 composed with EPT01,
 * built at its EPT violations: L0 walks L1's EPT12 (nested/ept12.h) for
 * the L2-physical address; where EPT12 permits the access, the L1-physical
 * page it names is mapped in EPT02 with EPT12's permissions (L1's RAM is
 * RWX in EPT01); where it does not, L1 gets the EPT violation or
 * misconfiguration with the SDM's exit information. The walk is done
 * again at every violation, so a permission L1 added without INVEPT is
 * found without an exit to L1. EPT02 roots are kept per L1 EPTP and VM
 * (nested/ept02.h) and dropped by L1's INVEPT.
 *
 * An L2 whose vmcs12 does not enable EPT runs in L1's physical space on
 * EPT01, as before. Either way L2 has a VPID of its own, vpid02, so that
 * nested entries and exits need not flush L1's translations.
 */
#include <stdint.h>
#include <stdbool.h>

struct vcpu;
struct vm;

/* Host pages a VM with `ram_size` bytes of RAM may hold in EPT02 roots
 * (the table budget, nested/ept02.h) and their cache. */
uint64_t nested_ept02_budget_pages(uint64_t ram_size);

/* Whether the vCPU's L2 runs on EPT02 (in L2, with EPT in vmcs12). */
bool nested_l2_uses_ept(const struct vcpu *vcpu);

/* vmcs02 (current) gets its EPT pointer for this nested entry: EPT02's
 * root for vmcs12's EPTP, or EPT01. False if no memory is left for a root. */
bool nested_ept_enter(struct vcpu *vcpu, uint32_t proc2_12);

enum nested_ept_fault {
    NESTED_EPT_MAPPED,      /* EPT02 maps it now: L2 runs the access again */
    NESTED_EPT_VIOLATION,   /* EPT12 does not permit it: L1's EPT violation,
                             * with *detail its exit qualification */
    NESTED_EPT_MISCONFIG,   /* EPT12 is misconfigured there: L1's exit */
    NESTED_EPT_NOT_RAM,     /* EPT12 maps it to L1-physical *detail, not RAM */
    NESTED_EPT_PML_FULL,    /* a write L1's PML would log, with its log full:
                             * L1's page-modification-log-full exit */
    NESTED_EPT_NO_MEMORY,
};
/* An EPT violation of vmcs02 (current) while L2 runs on EPT02, with its
 * exit qualification. With accessed and dirty flags in L1's EPTP (bit 6),
 * the walk sets them in EPT12 as the processor would (SDM Vol. 3C
 * 30.3.5; L2's accesses to its paging structures count as writes), a page
 * whose EPT12 leaf is not dirty goes into EPT02 without write permission,
 * so that its first write comes back here to set the flag, and with L1's
 * PML on, that write is logged in L1's PML buffer (SDM Vol. 3C 30.3.6,
 * "Page-Modification Logging"; KVM's nested_vmx_write_pml_buffer). */
enum nested_ept_fault nested_ept_violation(struct vcpu *vcpu, uint64_t qualification,
                                           uint64_t *detail);

/* L2's physical address `l2_gpa` as L1's, by a walk of EPT12 (the vCPU
 * `vcpu` runs L2 on EPT02): false where EPT12 does not map it for reading.
 * For L0's own accesses on L2's behalf (virt/guest_linear.h). */
bool nested_l2_to_l1_gpa(void *vcpu, uint64_t l2_gpa, uint64_t *l1_gpa);

/* L1's page at host-physical `hpa` became write-watched (virt/write_watch.h):
 * no shadow EPT keeps a leaf that maps it (they come back read-only at
 * L2's next access, 4 KiB there since EPT01 maps it so now), and no CPU a
 * translation of one. */
void nested_ept_write_protect(struct vm *vm, uint64_t hpa);
/* L1's INVEPT: the roots made from `eptp12`'s EPT12, or all (`all`). */
void nested_invept(struct vcpu *vcpu, uint64_t eptp12, bool all);
/* Every root of the VM goes (machine reset, end); no vCPU holds one. */
void nested_ept_vm_free(struct vm *vm);
#endif
