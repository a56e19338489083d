#ifndef SCHED_DIRECTED_YIELD_H
#define SCHED_DIRECTED_YIELD_H
/*
 * Directed yield on a PAUSE-loop exit, as KVM's kvm_vcpu_on_spin does it:
 * the spinning vCPU probably waits for a lock held by a vCPU of the same VM
 * that was preempted, so it offers its CPU time to such a vCPU.
 *
 * Candidates are looked at in two passes starting after the vCPU boosted
 * last and wrapping round, so boosts rotate. Skipped: the spinner itself,
 * vCPUs not preempted (running, or not runnable), blocked vCPUs with no
 * pending event, vCPUs preempted outside kernel mode (a PAUSE exit happens
 * only at CPL 0, so the lock holder is in the kernel too), and spinners
 * that are not eligible: a vCPU in its own spin loop is eligible only every
 * other time it is looked at, so spinners do not just yield to each other.
 * After `tries` failed boosts it gives up. Pure logic, unit-tested.
 */
#include <stdint.h>
#include <stdbool.h>

#define DIRECTED_YIELD_TRIES 3      /* KVM: 3 */

struct dy_vcpu {
    bool preempted;             /* runnable but not on a CPU */
    bool in_kernel;             /* CPL 0 when it was preempted */
    bool in_spin_loop;          /* itself in a PLE exit's yield right now */
    bool dy_eligible;           /* toggled each time a spinner is looked at */
};

/* Tries to boost vCPU `index`: > 0 done, 0 not possible now (say it is
 * running after all), < 0 failed (counts against the tries). */
typedef int (*dy_boost_fn)(void *ctx, uint32_t index);

/* The search for vCPU `self` of `n`; updates *last_boosted on success and
 * the eligibility flags it looks at. Returns the boosted index or -1. */
int directed_yield(struct dy_vcpu *vcpus, uint32_t n, uint32_t self, uint32_t *last_boosted,
                   dy_boost_fn boost, void *ctx);
#endif
