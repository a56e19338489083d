#ifndef FUZZ_FUZZ_H
#define FUZZ_FUZZ_H
/* What the libFuzzer harnesses share (fuzz/README in the top README's
 * "Fuzzing"): each defines LLVMFuzzerTestOneInput over one parser or device
 * model and aborts where the component breaks an invariant of its own, so
 * that libFuzzer reports it with the input. */
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                              \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                   \
        }                                                                              \
    } while (0)

/* Takes `n` bytes from the input (zeros once it is used up). */
struct fuzz_input {
    const uint8_t *data;
    size_t size, at;
};

static inline uint64_t fuzz_take(struct fuzz_input *in, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n && in->at < in->size; i++)
        v |= (uint64_t)in->data[in->at++] << (8 * i);
    return v;
}
#endif
