/* Isolation: plants a marker naming this VM in its own memory, then reads
 * all of its guest-physical RAM and a sample of everything else below
 * 4 GiB, and fails if it ever sees another VM's marker or the hypervisor's
 * banner. Outside RAM must read as all-ones, and writes there must vanish. */
#include "guests/runtime/guest.h"

/* The strings searched for are stored shifted by one (each byte + 1), so
 * this image does not contain them; decoded, they live only in the buffers
 * below, and matches there are our own. */
#define MARKER_ENCODED "JTPMBUJPO.NBSLFS;"   /* "ISOLATION-MARKER:" */
#define BANNER_ENCODED "b!WU.y!izqfswjtps"   /* the hypervisor's "a VT-x hypervisor" */
#define FOUR_GIB (4ull << 30)
#define STEP_OUTSIDE (2ull << 20)

static char marker_prefix[32], banner[32], own_marker[64];

static void decode(char *dst, const char *encoded)
{
    while (*encoded)
        *dst++ = (char)(*encoded++ - 1);
    *dst = '\0';
}

static bool is_ours(const volatile char *p)
{
    const char *c = (const char *)p;
    return (c >= marker_prefix && c < marker_prefix + sizeof(marker_prefix)) ||
           (c >= banner && c < banner + sizeof(banner)) ||
           (c >= own_marker && c < own_marker + sizeof(own_marker));
}

/* Matches of `needle` in [p, p+len) that are not in our own buffers and,
 * for the marker, not our own marker. */
static int count_foreign(const volatile char *p, size_t len, const char *needle)
{
    size_t n = strlen(needle), own = strlen(own_marker);
    int found = 0;
    for (size_t i = 0; i + n <= len; i++) {
        if (p[i] != needle[0] || is_ours(p + i))
            continue;
        size_t k = 1;
        while (k < n && p[i + k] == needle[k])
            k++;
        if (k < n)
            continue;
        bool mine = needle == marker_prefix && i + own <= len;
        for (size_t j = n; mine && j < own; j++)
            mine = p[i + j] == own_marker[j];
        found += !mine;
    }
    return found;
}

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    (void)vcpu;
    (void)vcpus;
    decode(marker_prefix, MARKER_ENCODED);
    decode(banner, BANNER_ENCODED);
    snprintf(own_marker, sizeof(own_marker), "%s%s", marker_prefix, cmdline);
    /* Fresh RAM reads as zeros, what is not RAM as all-ones: the first
     * all-ones page ends RAM. Reading is all this probe does outside its
     * own variables. */
    uint64_t ram = 0;
    for (uint64_t a = 0; a < FOUR_GIB; a += 4096) {
        if (*(volatile uint64_t *)a == ~0ull)
            break;
        ram = a + 4096;
    }
    int foreign = 0, host = 0, not_ones = 0;
    for (uint64_t a = 0; a < ram; a += 4096) {
        const volatile char *page = (const volatile char *)a;
        foreign += count_foreign(page, 4096, marker_prefix);
        host += count_foreign(page, 4096, banner);
    }
    for (uint64_t a = (ram + STEP_OUTSIDE) & ~(STEP_OUTSIDE - 1); a < 0xfec00000ull;
         a += STEP_OUTSIDE) {
        volatile uint64_t *p = (volatile uint64_t *)a;
        *p = a;                         /* dropped: nothing is there */
        not_ones += *p != ~0ull;
    }
    printf("isolation_probe %s: RAM %lu MiB, foreign markers %d, host banner %d, "
           "non-all-ones outside RAM %d\n", cmdline, ram >> 20, foreign, host, not_ones);
    return foreign || host || not_ones;
}
