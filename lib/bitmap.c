#include "lib/bitmap.h"

size_t bitmap_find_clear_run(const uint64_t *map, size_t nbits, size_t count, size_t align)
{
    if (!count || !align)
        return nbits;
    for (size_t start = 0; start + count <= nbits;) {
        if (!(start % BITS_PER_WORD) && map[start / BITS_PER_WORD] == ~0ull) {
            start += align > BITS_PER_WORD ? align : BITS_PER_WORD;  /* skip full words fast */
            start = (start + align - 1) / align * align;
            continue;
        }
        size_t n = 0;
        while (n < count && !bitmap_test(map, start + n))
            n++;
        if (n == count)
            return start;
        start = (start + n + 1 + align - 1) / align * align;
    }
    return nbits;
}

size_t bitmap_words_with_clear_bits(const uint64_t *map, size_t words, uint16_t *out)
{
    size_t count = 0;
    for (size_t i = 0; i < words; i++)
        if (map[i] != ~0ull)
            out[count++] = (uint16_t)i;
    return count;
}
