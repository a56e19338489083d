#ifndef LIB_BITMAP_H
#define LIB_BITMAP_H
/* Fixed-size bit arrays (page allocator, later the VPID allocator). */
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define BITS_PER_WORD 64
#define BITMAP_WORDS(nbits) (((nbits) + BITS_PER_WORD - 1) / BITS_PER_WORD)

static inline bool bitmap_test(const uint64_t *map, size_t bit)
{
    return map[bit / BITS_PER_WORD] >> (bit % BITS_PER_WORD) & 1;
}
static inline void bitmap_set(uint64_t *map, size_t bit)
{
    map[bit / BITS_PER_WORD] |= 1ull << (bit % BITS_PER_WORD);
}
static inline void bitmap_clear(uint64_t *map, size_t bit)
{
    map[bit / BITS_PER_WORD] &= ~(1ull << (bit % BITS_PER_WORD));
}

/* The indexes of the words of `map` (`words` of them, fewer than 65536)
 * that have a clear bit, into `out`; their count. */
size_t bitmap_words_with_clear_bits(const uint64_t *map, size_t words, uint16_t *out);

/* First run of `count` clear bits in [0, nbits) starting at a multiple of
 * `align`; returns nbits when there is none. */
size_t bitmap_find_clear_run(const uint64_t *map, size_t nbits, size_t count, size_t align);
#endif
