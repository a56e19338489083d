#ifndef ARCH_TSC_H
#define ARCH_TSC_H
#include <stdint.h>

/* Measures the TSC rate against the 8254 PIT; returns kHz. */
uint64_t tsc_calibrate(void);
uint64_t tsc_khz(void);
void udelay(uint64_t microseconds);
#endif
