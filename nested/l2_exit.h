#ifndef NESTED_L2_EXIT_H
#define NESTED_L2_EXIT_H
/* An exit from L2 as it arrives (vmcs02 current): whose it is. */
#include <stdint.h>
#include <stdbool.h>
#include "nested/reflect.h"

struct vcpu;

/* Whether L1's controls or memory send the exit `reason` that just came
 * from L2 to L1 (the table of nested/reflect.h, given this exit's facts). */
bool nested_l1_asks_for_exit(struct vcpu *vcpu, uint32_t reason);

/* Whether the exit goes to L1: always for most of those L1 gets, else as
 * L1 asks. */
static inline bool nested_l1_wants_exit(struct vcpu *vcpu, uint32_t reason)
{
    return nested_reflect_always(reason) || nested_l1_asks_for_exit(vcpu, reason);
}
#endif
