#include "sched/directed_yield.h"

/* KVM's kvm_vcpu_eligible_for_directed_yield. */
static bool eligible(struct dy_vcpu *v)
{
    bool ok = !v->in_spin_loop || v->dy_eligible;
    if (v->in_spin_loop)
        v->dy_eligible = !v->dy_eligible;
    return ok;
}

int directed_yield(struct dy_vcpu *vcpus, uint32_t n, uint32_t self, uint32_t *last_boosted,
                   dy_boost_fn boost, void *ctx)
{
    int tries = DIRECTED_YIELD_TRIES;
    uint32_t start = *last_boosted;     /* others may change it meanwhile */
    vcpus[self].in_spin_loop = true;
    int boosted = -1;
    for (int pass = 0; pass < 2 && boosted < 0 && tries; pass++) {
        for (uint32_t i = 0; i < n; i++) {
            /* Pass 0: those after the last boosted one; pass 1: the rest. */
            if (pass == 0 ? i <= start : i > start)
                continue;
            struct dy_vcpu *v = &vcpus[i];
            if (i == self || !v->preempted || !v->in_kernel || !eligible(v))
                continue;
            int result = boost(ctx, i);
            if (result > 0) {
                *last_boosted = i;
                boosted = (int)i;
                break;
            }
            if (result < 0 && --tries == 0)
                break;
        }
    }
    vcpus[self].in_spin_loop = false;
    vcpus[self].dy_eligible = false;
    return boosted;
}
