#ifndef VIRT_TRACE_H
#define VIRT_TRACE_H
/* A ring of recent events for the monitor's `info trace` (KVM's
 * tracepoints, in small): written from any CPU without locks, the newest
 * TRACE_SIZE kept. */
#include <stdint.h>

#define TRACE_SIZE 256

enum trace_event {
    TRACE_PLE_GROW,         /* a: old window, b: new window */
    TRACE_PLE_SHRINK,       /* a: old window, b: new window (scheduled in) */
    TRACE_YIELD,            /* a: vCPU boosted or -1, b: 1 if on this CPU */
};

struct vcpu;

void trace_record(const struct vcpu *vcpu, enum trace_event event, int64_t a, int64_t b);
/* Prints the newest `count` events, oldest first. */
void trace_print(uint32_t count);
#endif
