#include "loader/smbios.h"
#include "lib/checksum.h"
#include "lib/le.h"
#include "lib/string.h"

#define ENTRY_POINT_SIZE   0x1f     /* the 2.1+ 32-bit entry point */
#define TABLE_OFFSET       0x20     /* the structures follow it, 16-byte aligned */
#define SMBIOS_MAJOR       2
#define SMBIOS_MINOR       8
#define TYPE_BIOS          0
#define TYPE_SYSTEM        1
#define TYPE_END           127
#define BIOS_SEGMENT       0xe800   /* where a PC BIOS image would start (informational) */
#define BIOS_CHARACTERISTICS_NOT_SUPPORTED (1u << 3)

/* Appends a structure: its formatted area, then its strings, each NUL-ended,
 * and the NUL that ends the set (DSP0134 6.1.3). Returns the new end, or 0
 * if it does not fit (or `at` is 0: an earlier one did not). Keeps the
 * largest structure's size, which the entry point states. */
static size_t add_structure(uint8_t *buf, size_t size, size_t at, const uint8_t *formatted,
                            size_t len, const char *const *strings, size_t count,
                            size_t *largest)
{
    if (!at)
        return 0;
    size_t need = len + 1 + (count == 0);
    for (size_t i = 0; i < count; i++)
        need += strlen(strings[i]) + 1;
    if (at + need > size)
        return 0;
    memcpy(buf + at, formatted, len);
    at += len;
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(strings[i]) + 1;
        memcpy(buf + at, strings[i], n);
        at += n;
    }
    if (count == 0)
        buf[at++] = 0;      /* no strings: a double NUL all the same */
    buf[at++] = 0;
    if (need > *largest)
        *largest = need;
    return at;
}

size_t smbios_build(uint8_t *buf, size_t size, uint64_t base)
{
    if (size < TABLE_OFFSET || base % 16 || base + size > 0x100000000ull)
        return 0;
    memset(buf, 0, TABLE_OFFSET);
    size_t at = TABLE_OFFSET, largest = 0;
    uint16_t handle = 0;

    /* Type 0 (DSP0134 7.1): vendor, version and release date are strings 1-3. */
    uint8_t bios[0x12] = { TYPE_BIOS, sizeof(bios) };
    le_put(bios + 2, handle++, 2);
    bios[4] = 1;
    bios[5] = 2;
    le_put(bios + 6, BIOS_SEGMENT, 2);
    bios[8] = 3;
    le_put(bios + 10, BIOS_CHARACTERISTICS_NOT_SUPPORTED, 8);
    static const char *const bios_strings[] = { "vmxvisor", "1.0", "11/22/2026" };
    at = add_structure(buf, size, at, bios, sizeof(bios), bios_strings, 3, &largest);

    /* Type 1 (7.2): manufacturer, product name, version, serial number. */
    uint8_t system[0x08] = { TYPE_SYSTEM, sizeof(system) };
    le_put(system + 2, handle++, 2);
    system[4] = 1;
    system[5] = 2;
    system[6] = 3;
    system[7] = 4;
    static const char *const system_strings[] = { "vmxvisor", "VT-x virtual machine", "1.0",
                                                  "0" };
    at = add_structure(buf, size, at, system, sizeof(system), system_strings, 4, &largest);

    uint8_t end[4] = { TYPE_END, sizeof(end) };
    le_put(end + 2, handle++, 2);
    at = add_structure(buf, size, at, end, sizeof(end), NULL, 0, &largest);
    if (!at)
        return 0;

    /* The entry point (5.2.1): anchor, intermediate "_DMI_" anchor and the
     * table's place, with one checksum over all of it and one over the
     * intermediate part. */
    uint8_t *ep = buf;
    memcpy(ep, "_SM_", 4);
    ep[5] = ENTRY_POINT_SIZE;
    ep[6] = SMBIOS_MAJOR;
    ep[7] = SMBIOS_MINOR;
    le_put(ep + 8, largest, 2);
    memcpy(ep + 0x10, "_DMI_", 5);
    le_put(ep + 0x16, at - TABLE_OFFSET, 2);
    le_put(ep + 0x18, base + TABLE_OFFSET, 4);
    le_put(ep + 0x1c, handle, 2);
    ep[0x1e] = SMBIOS_MAJOR << 4 | SMBIOS_MINOR;   /* BCD revision */
    ep[0x15] = (uint8_t)-byte_sum(ep + 0x10, ENTRY_POINT_SIZE - 0x10);
    ep[4] = (uint8_t)-byte_sum(ep, ENTRY_POINT_SIZE);
    return at;
}
