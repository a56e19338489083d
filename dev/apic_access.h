#ifndef DEV_APIC_ACCESS_H
#define DEV_APIC_ACCESS_H
/* The guest's ways into its virtual local APIC (dev/vlapic.h): the x2APIC
 * MSRs, IA32_APIC_BASE, IA32_TSC_DEADLINE, the xAPIC page, CR8; and what an
 * APIC does to other vCPUs: IPIs, INIT and start-up. */
#include <stdint.h>
#include <stdbool.h>

struct vcpu;
struct vm;

#define X2APIC_MSR_FIRST      0x800
#define X2APIC_MSR_LAST       0x8ff

/* RDMSR/WRMSR of the APIC MSRs; false means #GP. Other MSRs: not handled
 * here (*handled = false). */
bool apic_msr_read(struct vcpu *vcpu, uint32_t msr, uint64_t *value, bool *handled);
bool apic_msr_write(struct vcpu *vcpu, uint32_t msr, uint64_t value, bool *handled);
/* An access to guest-physical `gpa` by an emulated instruction: true if it
 * hit this vCPU's xAPIC page (and was performed), false if not. */
bool apic_mmio_access(struct vcpu *vcpu, uint64_t gpa, bool write, unsigned size,
                      uint64_t *value);
/* APIC virtualization's trap-like exits (dev/apicv.h): a write the
 * processor put in the register page (APIC-write exit, the register's
 * offset), and an EOI it did that the EOI-exit bitmap sends here. */
void apic_write_trap(struct vcpu *vcpu, uint32_t offset);
void apic_eoi_induced(struct vcpu *vcpu, uint8_t vector);
/* MOV to/from CR8: the task-priority class, TPR bits 7:4. */
void apic_set_cr8(struct vcpu *vcpu, uint64_t value);
uint64_t apic_get_cr8(const struct vcpu *vcpu);
/* An edge on the vCPU's LINT1 (the monitor's `nmi`, as QEMU's): an NMI or an
 * interrupt as its LVT entry says (dev/vlapic.h); true if an NMI went. Any
 * CPU may call. */
bool apic_lint1_edge(struct vcpu *vcpu);
/* In the vCPU's own run loop: acts on a pending INIT or start-up IPI.
 * Returns false if the vCPU must now wait for a start-up IPI. */
bool apic_process_init_sipi(struct vcpu *vcpu);
#endif
