#ifndef ARCH_PAGING_H
#define ARCH_PAGING_H
#include <stdint.h>

/* Builds the host's own page tables: an identity map of RAM up to `ram_top`
 * (write-back) and of the local-APIC/IOAPIC window (uncached), with 2 MiB
 * pages, and switches to them. Returns the CR3 value every CPU loads. */
uint64_t paging_init_host(uint64_t ram_top);

/* Physical memory is identity-mapped. The empty asm hides constant addresses
 * (firmware areas) from the compiler's object-bounds analysis. */
static inline void *phys_to_virt(uint64_t phys)
{
    __asm__("" : "+r"(phys));
    return (void *)phys;
}
#endif
