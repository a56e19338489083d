#ifndef LIB_CHECKSUM_H
#define LIB_CHECKSUM_H
/* The 8-bit checksum of ACPI and SMBIOS structures: all bytes, the checksum
 * byte included, sum to 0 modulo 256. A table is valid when byte_sum of it
 * is 0; its checksum byte is filled in as -(byte_sum of the rest). */
#include <stdint.h>
#include <stddef.h>

static inline uint8_t byte_sum(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += b[i];
    return sum;
}
#endif
