#ifndef GUESTS_MB1_MB1_H
#define GUESTS_MB1_MB1_H
/*
 * A multiboot (v1) test kernel in the style of the QEMU test kernels
 * (kvm-unit-tests): it knows nothing of vmxvisor, only the PC platform and
 * the Multiboot Specification 0.6.96. Its own small runtime: a serial
 * console, PASS/FAIL reports, isa-debug-exit, and AP start-up.
 */
#define MB1_SEL_CODE        0x08        /* the kernel's own GDT (start.S) */
#define MB1_SEL_DATA        0x10
/* Where the APs' real-mode code is copied: below 1 MiB, page-aligned, so
 * that the start-up IPI's vector is its page number (SDM Vol. 3A 9.4.4). */
#define MB1_AP_TRAMPOLINE   0x8000

#ifndef __ASSEMBLER__
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* io.c: the console (COM1, polled) and the test's verdict. */
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* kvm-unit-tests' report(): a "PASS: ..." or "FAIL: ..." line, failures counted. */
void report(bool pass, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The summary line, then isa-debug-exit with 0 (all passed) or 1. */
__attribute__((noreturn)) void report_summary_and_exit(void);

/* string.c */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

/* smp.c: starts the other CPUs (INIT-SIPI-SIPI to all but self) and waits
 * until `expected` of them have checked in; returns how many did. */
unsigned smp_start_aps(unsigned expected);
#endif
#endif
