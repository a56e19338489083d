#include "guests/runtime/guest.h"

#define COM1 0x3f8
#define COM1_LSR (COM1 + 5)
#define LSR_THR_EMPTY 0x20
#define LSR_TX_EMPTY  0x40      /* holding and shift registers both empty */
#define DEBUG_EXIT_PORT 0xf4

void com1_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        while (!(inb(COM1_LSR) & LSR_THR_EMPTY))
            ;
        outb(COM1, (uint8_t)s[i]);
    }
}

void com1_flush(void)
{
    while (!(inb(COM1_LSR) & LSR_TX_EMPTY))
        ;
}

void debug_exit(uint8_t code)
{
    outb(DEBUG_EXIT_PORT, code);
    cpu_halt_forever();
}

bool cmdline_has(const char *cmdline, const char *word)
{
    size_t n = strlen(word);
    for (const char *s = cmdline_word(cmdline, 0); *s; s = cmdline_word(s, 1))
        if (!strncmp(s, word, n) && (s[n] == ' ' || s[n] == '\0'))
            return true;
    return false;
}

uint64_t cmdline_number(const char *cmdline, uint64_t fallback)
{
    uint64_t n = 0;
    const char *s = cmdline;
    for (; *s >= '0' && *s <= '9'; s++)
        n = n * 10 + (uint64_t)(*s - '0');
    return s == cmdline ? fallback : n;
}

int check(bool ok, const char *what)
{
    printf("%s: %s\n", ok ? "ok" : "FAIL", what);
    return !ok;
}

int check_detail(const char *guest, const char *name, bool ok, const char *detail)
{
    printf("%s: %s: %s%s%s\n", guest, name, ok ? "ok" : "FAIL", *detail ? " " : "", detail);
    return !ok;
}

const char *cmdline_word(const char *cmdline, unsigned n)
{
    const char *s = cmdline;
    while (*s == ' ')
        s++;
    for (; n && *s; n--) {
        while (*s && *s != ' ')
            s++;
        while (*s == ' ')
            s++;
    }
    return s;
}

uint64_t median(uint64_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    return n ? v[n / 2] : 0;
}

void bench_report(const char *name, uint64_t value, const char *unit)
{
    printf("BENCH %s %lu %s\n", name, value, unit);
}
