#ifndef NESTED_EVENTS_H
#define NESTED_EVENTS_H
/*
 * Events for a vCPU of a nested VM before each entry (KVM's
 * vmx_check_nested_events): while L2 runs, an interrupt for L1 exits to L1
 * if L1 asked for external-interrupt exiting (whatever L2's RFLAGS.IF; with
 * "acknowledge interrupt on exit" its vector in the exit's interruption
 * information), else it is delivered to L2; an NMI likewise with "NMI
 * exiting", once L2 could take one; L1's VMX-preemption timer
 * exits to L1 when it expires; INIT exits to L1 from L2 and waits, blocked,
 * while L1 is in VMX root operation (SDM Vol. 3C 24.8).
 */
#include <stdint.h>
#include <stdbool.h>

struct vcpu;

/* NMI and interrupt delivery before an entry of a vCPU that runs L2. */
void nested_deliver_events(struct vcpu *vcpu);
/* L2 halts (a HLT L1 does not exit on): whether an interrupt ends the
 * halt whatever L2's RFLAGS.IF, as one that exits to L1 does (26.4.1). */
bool nested_l2_halts(struct vcpu *vcpu);
/* L1's preemption timer, before an entry into L2: exits to L1 if it has
 * expired; else the host TSC by which L2 must be out (0: no timer). */
uint64_t nested_timer_check(struct vcpu *vcpu, uint64_t now);
/* An INIT or start-up IPI for a vCPU in VMX operation: true if handled
 * here (an exit to L1, or blocked until VMXOFF). */
bool nested_init_signal(struct vcpu *vcpu);
#endif
