#ifndef LOADER_GUEST_WRITE_H
#define LOADER_GUEST_WRITE_H
/* The loaders are pure: they put bytes into guest-physical memory through a
 * caller's function, so that bad images are unit-tested on the host. */
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/* Writes `len` bytes from `src` (zeros when src is NULL) at guest-physical
 * `gpa`; false if that is not RAM or memory ran out. */
typedef bool (*guest_write_fn)(void *ctx, uint64_t gpa, const void *src, size_t len);
#endif
