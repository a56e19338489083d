#ifndef VMX_PLE_H
#define VMX_PLE_H
/*
 * PAUSE-loop exiting's adaptive window, with KVM's semantics (grow_ple_window
 * and shrink_ple_window in vmx.c): the window grows on every PLE exit of a
 * vCPU, so a vCPU that spins for good reason exits less and less, and it
 * shrinks (by default: is reset) when the vCPU is scheduled in again.
 * Pure arithmetic, unit-tested on the host.
 *
 *   grow:   modifier < 1     -> base
 *           modifier < base  -> val * modifier
 *           otherwise        -> val + modifier       capped at max
 *   shrink: modifier < 1     -> base
 *           modifier < base  -> val / modifier
 *           otherwise        -> val - modifier       floored at base
 */
#include <stdint.h>

/* PAUSE-loop exiting parameters (SDM Vol. 3C 26.1.3: the gap is the most
 * TSC cycles between two PAUSEs of one loop, the window the most a loop may
 * spin before it exits). */
struct ple_params {
    uint32_t gap, window;           /* KVM: ple_gap 128, ple_window 4096 */
    uint32_t grow, shrink, max;     /* KVM: 2, 0, UINT32_MAX */
};

uint32_t ple_window_grow(uint32_t val, uint32_t base, uint32_t modifier, uint32_t max);
uint32_t ple_window_shrink(uint32_t val, uint32_t base, uint32_t modifier);
#endif
