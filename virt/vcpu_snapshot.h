#ifndef VIRT_VCPU_SNAPSHOT_H
#define VIRT_VCPU_SNAPSHOT_H
/*
 * A vCPU's architectural state as the monitor shows it (`info registers`,
 * `x`): its general registers and the guest-state fields of its VMCS. A
 * VMCS can only be read on the CPU where it is active, so the copy is made
 * there, on request (REQ_SNAPSHOT; QEMU's cpu_synchronize_state): by a
 * running vCPU before its next entry, and for a vCPU off its CPU (halted,
 * waiting for SIPI, stopped, waiting for a CPU) by the CPU where its VMCS
 * is active, between the entities it runs (machine/vcpu_inspect.c). Nothing
 * is copied unless asked: blocking and switching stay as cheap as before.
 */
#include <stdint.h>
#include <stdbool.h>
#include "vmx/guest_regs.h"
#include "vmx/vmcs.h"

#define SNAPSHOT_FIELDS(X)                                                                   \
    X(GUEST_RIP) X(GUEST_RSP) X(GUEST_RFLAGS) X(GUEST_CR0) X(GUEST_CR3) X(GUEST_CR4)          \
    X(CR0_GUEST_HOST_MASK) X(CR0_READ_SHADOW) X(CR4_GUEST_HOST_MASK) X(CR4_READ_SHADOW)      \
    X(GUEST_IA32_EFER) X(GUEST_DR7) X(GUEST_ACTIVITY_STATE) X(GUEST_INTERRUPTIBILITY_INFO)   \
    X(GUEST_ES_SELECTOR) X(GUEST_ES_BASE) X(GUEST_ES_LIMIT) X(GUEST_ES_AR_BYTES)             \
    X(GUEST_CS_SELECTOR) X(GUEST_CS_BASE) X(GUEST_CS_LIMIT) X(GUEST_CS_AR_BYTES)             \
    X(GUEST_SS_SELECTOR) X(GUEST_SS_BASE) X(GUEST_SS_LIMIT) X(GUEST_SS_AR_BYTES)             \
    X(GUEST_DS_SELECTOR) X(GUEST_DS_BASE) X(GUEST_DS_LIMIT) X(GUEST_DS_AR_BYTES)             \
    X(GUEST_FS_SELECTOR) X(GUEST_FS_BASE) X(GUEST_FS_LIMIT) X(GUEST_FS_AR_BYTES)             \
    X(GUEST_GS_SELECTOR) X(GUEST_GS_BASE) X(GUEST_GS_LIMIT) X(GUEST_GS_AR_BYTES)             \
    X(GUEST_LDTR_SELECTOR) X(GUEST_LDTR_BASE) X(GUEST_LDTR_LIMIT) X(GUEST_LDTR_AR_BYTES)     \
    X(GUEST_TR_SELECTOR) X(GUEST_TR_BASE) X(GUEST_TR_LIMIT) X(GUEST_TR_AR_BYTES)             \
    X(GUEST_GDTR_BASE) X(GUEST_GDTR_LIMIT) X(GUEST_IDTR_BASE) X(GUEST_IDTR_LIMIT)

#define SNAPSHOT_INDEX(field) SNAP_##field,
enum snapshot_index { SNAPSHOT_FIELDS(SNAPSHOT_INDEX) SNAPSHOT_FIELD_COUNT };
#undef SNAPSHOT_INDEX

struct vcpu_snapshot {
    volatile uint64_t seq;          /* odd while a copy is being made */
    uint64_t tsc;                   /* when it was made */
    bool in_l2;                     /* the fields are L2's (vmcs02 was current) */
    bool in_run_loop;               /* by the running vCPU, not while it was off its CPU */
    struct guest_regs regs;
    uint64_t cr2;
    uint64_t field[SNAPSHOT_FIELD_COUNT];
};

struct vcpu;
/* Copies the vCPU's state; on the CPU where its VMCS is current. In its run
 * loop CR2 is the guest's in the register; off its CPU, the saved copy. */
void vcpu_snapshot_take(struct vcpu *v, bool in_run_loop);
/* What the guest reads from CR0 and CR4: the host-owned bits from the read
 * shadows (SDM Vol. 3C 25.6.6). */
uint64_t snapshot_guest_cr0(const struct vcpu_snapshot *s);
uint64_t snapshot_guest_cr4(const struct vcpu_snapshot *s);
#endif
