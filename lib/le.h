#ifndef LIB_LE_H
#define LIB_LE_H
/* Little-endian fields of the formats guests and firmware share (boot
 * headers, ELF, ACPI, SMBIOS, fw_cfg, CMOS): `bytes` (1-8) at `p`, which
 * need not be aligned. memcpy keeps unaligned access and aliasing well
 * defined; copying the low bytes of a uint64_t is the little-endian
 * encoding because x86, the only target, is little-endian itself. */
#include <stdint.h>
#include "lib/string.h"

static inline uint64_t le_get(const void *p, unsigned bytes)
{
    uint64_t v = 0;
    memcpy(&v, p, bytes);
    return v;
}

static inline void le_put(void *p, uint64_t v, unsigned bytes)
{
    memcpy(p, &v, bytes);
}
#endif
