#ifndef EXITS_EXIT_PAUSE_H
#define EXITS_EXIT_PAUSE_H
/* PAUSE-loop exiting: the per-vCPU adaptive window and directed yield. */
#include "exits/exits.h"
#include <stdbool.h>
#include <stdint.h>

struct vcpu;
struct vm;

/* The window a new vCPU starts with (its VM's ple_window). */
void ple_vcpu_init(struct vcpu *vcpu);
/* Scheduled in after another vCPU ran on the CPU: the window shrinks
 * (KVM's kvm_arch_sched_in -> shrink_ple_window). */
void ple_sched_in(struct vcpu *vcpu);
/* Every start of a slice; a boosted vCPU's slice may be cut short here and
 * extended at its end (sched/spin_guard.h). */
void ple_slice_start(struct vcpu *vcpu, bool boosted, uint64_t *slice);
/* The slice is over: how many cycles more the vCPU keeps its CPU (0: none),
 * because it is inside or just past a spin loop. */
uint64_t ple_slice_end(struct vcpu *vcpu);
/* After a boosted slice: whether the vCPU got past the lock it was boosted
 * for, so the spinner that lent its CPU should have it back. */
bool ple_boost_got_past(const struct vcpu *vcpu);
/* Leaving its CPU: remembers whether it was in kernel mode (directed yield
 * prefers such vCPUs: they may hold a kernel lock) and whether inside a spin
 * loop (a boost then lasts until it is past its lock). */
void ple_sched_out(struct vcpu *vcpu);
enum exit_action handle_pause(struct vcpu *vcpu, struct vm_exit exit);
#endif
