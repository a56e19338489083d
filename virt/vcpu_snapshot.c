#include "virt/vcpu_snapshot.h"
#include "virt/vm.h"
#include "arch/cpu.h"
#include "arch/tsc.h"

static const enum vmcs_field snapshot_field[] = {
#define SNAPSHOT_FIELD(field) field,
    SNAPSHOT_FIELDS(SNAPSHOT_FIELD)
#undef SNAPSHOT_FIELD
};

void vcpu_snapshot_take(struct vcpu *v, bool in_run_loop)
{
    struct vcpu_snapshot *s = &v->snapshot;
    /* seq odd while copying: the monitor on CPU 0 reads it meanwhile. */
    __atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);    /* the odd number before the data */
    s->tsc = rdtsc();
    s->in_l2 = v->in_l2;
    s->in_run_loop = in_run_loop;
    s->regs = v->regs;
    s->cr2 = in_run_loop ? read_cr2() : v->cr2;
    /* Checked reads: a vCPU that failed its entry may have no current VMCS. */
    for (unsigned i = 0; i < SNAPSHOT_FIELD_COUNT; i++) {
        s->field[i] = 0;
        vmread_checked(snapshot_field[i], &s->field[i]);
    }
    __atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

uint64_t snapshot_guest_cr0(const struct vcpu_snapshot *s)
{
    uint64_t mask = s->field[SNAP_CR0_GUEST_HOST_MASK];
    return (s->field[SNAP_GUEST_CR0] & ~mask) | (s->field[SNAP_CR0_READ_SHADOW] & mask);
}

uint64_t snapshot_guest_cr4(const struct vcpu_snapshot *s)
{
    uint64_t mask = s->field[SNAP_CR4_GUEST_HOST_MASK];
    return (s->field[SNAP_GUEST_CR4] & ~mask) | (s->field[SNAP_CR4_READ_SHADOW] & mask);
}
