#ifndef LIB_QUADS_H
#define LIB_QUADS_H
/* Runs of quadwords: where two first differ, and a copy. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How many of the first `count` quadwords of `a` and `b` are equal before
 * the first that is not (`count` if all are). One REPE CMPSQ: a string
 * instruction's iterations are what costs, and what Bochs counts (as for
 * lib/string.c's memcpy), where a compare loop takes five instructions a
 * quadword. */
static inline size_t quads_equal_prefix(const uint64_t *a, const uint64_t *b, size_t count)
{
    size_t left = count;
    bool all_equal;
    if (!count)
        return 0;
    __asm__ volatile("repe cmpsq"
                     : "+S"(a), "+D"(b), "+c"(left), "=@ccz"(all_equal)
                     :
                     : "memory");
    /* Stopped at a difference: the count was taken for that quadword too. */
    return all_equal ? count : count - left - 1;
}

/* `count` quadwords from `from` to `to`: one REPE MOVSQ, without
 * lib/string.c's call and tail of bytes. */
static inline void quads_copy(uint64_t *to, const uint64_t *from, size_t count)
{
    __asm__ volatile("rep movsq" : "+D"(to), "+S"(from), "+c"(count) : : "memory");
}
#endif
