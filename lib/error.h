#ifndef LIB_ERROR_H
#define LIB_ERROR_H
/* Pure logic reports failures as text in a caller's buffer. */
#include <stdbool.h>
#include <stddef.h>

/* Formats the reason into why[size] and returns false, so a check reads
 * `return fail(why, size, "...", ...);`. */
bool fail(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#endif
