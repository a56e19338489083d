#ifndef DEV_VCLOCK_H
#define DEV_VCLOCK_H
/*
 * Unit conversion for the clock a VM's platform devices count in (the ACPI
 * PM timer, the CMOS/RTC): host TSC ticks since the platform clock started
 * (dev/platform_clock.c), turned into the device's own frequency. Pure, so it is
 * unit-tested on the host.
 *
 * Why not each vCPU's guest TSC (host TSC + tsc_offset)? The offset is
 * per vCPU and changes when the guest writes IA32_TSC; a platform clock
 * that followed it would jump, or differ by the vCPU that reads it. On a PC
 * the PM timer and the RTC have crystals of their own. Until a guest writes
 * IA32_TSC (the offset starts at 0) both advance at the same rate.
 */
#include <stdint.h>

#define NS_PER_SECOND 1000000000ull

/* floor(ticks * to_hz / from_hz) for any `ticks` whose result fits in 64
 * bits, provided from_hz * to_hz does: whole periods of from_hz first, then
 * the remainder. */
uint64_t vclock_scale(uint64_t ticks, uint64_t from_hz, uint64_t to_hz);
#endif
