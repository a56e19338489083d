#ifndef NESTED_L2_EXIT_H
#define NESTED_L2_EXIT_H
/* An exit from L2 as it arrives (vmcs02 current): whose it is. */
#include <stdint.h>
#include <stdbool.h>

struct vcpu;

/* Whether the exit `reason` that just came from L2 goes to L1 (the table
 * of nested/reflect.h, given this exit's facts and L1's memory). */
bool nested_l1_wants_exit(struct vcpu *vcpu, uint32_t reason);
#endif
