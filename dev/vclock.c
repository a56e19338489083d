#include "dev/vclock.h"

uint64_t vclock_scale(uint64_t ticks, uint64_t from_hz, uint64_t to_hz)
{
    /* ticks = q * from_hz + r with r < from_hz, so r * to_hz fits. */
    uint64_t q = ticks / from_hz, r = ticks % from_hz;
    return q * to_hz + r * to_hz / from_hz;
}
