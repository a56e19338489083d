#ifndef LIB_PRINTF_H
#define LIB_PRINTF_H
/*
 * Formatted output. Pure logic that is also compiled on the host for unit
 * tests formats with snprintf; there it is libc's, here it is ours.
 */
#if __STDC_HOSTED__
#include <stdio.h>
#else
#include <stdarg.h>
#include <stddef.h>
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Console output, serialised across CPUs; lines from two CPUs never interleave
 * within one call. */
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vkprintf(const char *fmt, va_list ap);
/* Where kprintf writes: set once, before the first kprintf, by the program's
 * console (the hypervisor's serial_init, the test guests' guest_start). */
void printf_set_output(void (*write)(const char *s, size_t n));
#endif
#endif
