#include "vmx/ple.h"

uint32_t ple_window_grow(uint32_t val, uint32_t base, uint32_t modifier, uint32_t max)
{
    if (modifier < 1)
        return base;
    uint64_t grown = modifier < base ? (uint64_t)val * modifier : (uint64_t)val + modifier;
    return grown > max ? max : (uint32_t)grown;
}

uint32_t ple_window_shrink(uint32_t val, uint32_t base, uint32_t modifier)
{
    if (modifier < 1)
        return base;
    uint32_t shrunk = modifier < base ? val / modifier : val > modifier ? val - modifier : 0;
    return shrunk < base ? base : shrunk;
}
