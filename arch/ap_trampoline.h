#ifndef ARCH_AP_TRAMPOLINE_H
#define ARCH_AP_TRAMPOLINE_H

/* Below 1 MiB and page aligned: the SIPI vector is the page number. */
#define AP_TRAMPOLINE_ADDR            0x8000
#define AP_TRAMPOLINE_PARAMS_OFFSET   0xc0

#ifndef __ASSEMBLER__
#include <stdint.h>

struct ap_trampoline_params {
    uint64_t cr3;
    uint64_t stack_top;
    uint64_t entry;
};

extern const char __ap_trampoline_start[], __ap_trampoline_end[];
#endif

#endif
