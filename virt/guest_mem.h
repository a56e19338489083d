#ifndef VIRT_GUEST_MEM_H
#define VIRT_GUEST_MEM_H
/*
 * Guest RAM: backed on demand. Nothing is allocated when a VM is created;
 * the first access to a guest-physical page takes an EPT violation and the
 * TDP fault path (KVM's kvm_tdp_page_fault) allocates host memory and maps
 * it, with the largest page the slot and the host allow.
 */
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

struct vm;
struct vcpu;

/* RAM occupies [0, low_end) and, above 4 GiB, the rest: the PC's MMIO hole
 * below 4 GiB stays free for devices. */
#define GUEST_LOW_RAM_LIMIT 0xc0000000ull
#define GUEST_HIGH_RAM_BASE 0x100000000ull

/* The end of the low RAM slot for `ram_size` bytes of RAM: what does not
 * fit below GUEST_LOW_RAM_LIMIT goes above 4 GiB. */
static inline uint64_t guest_low_ram_end(uint64_t ram_size)
{
    return ram_size < GUEST_LOW_RAM_LIMIT ? ram_size : GUEST_LOW_RAM_LIMIT;
}

/* The RAM slot holding `gpa`: false if gpa is not RAM. */
bool guest_ram_slot(const struct vm *vm, uint64_t gpa, uint64_t *start, uint64_t *end);

enum tdp_result { TDP_MAPPED, TDP_NOT_RAM, TDP_NO_MEMORY };
/* Makes `gpa` accessible to the guest (an EPT violation on RAM). */
enum tdp_result tdp_page_fault(struct vm *vm, uint64_t gpa, uint64_t *mapped_size);

/* The host-physical address of `gpa` and the size of the EPT leaf that
 * maps it, mapping it first as an EPT violation would. */
enum tdp_result guest_mem_translate(struct vm *vm, uint64_t gpa, uint64_t *hpa,
                                    uint64_t *page_size);

/* A page of the guest's RAM that a structure of the guest names by its
 * guest-physical address (a nested guest's MSR bitmap, its shadow VMCS),
 * found once and kept while the address stays the same: the guest's RAM
 * stays where it is until the VM's reboot, which frees the holder first. */
struct guest_page_ref {
    bool known;
    uint64_t gpa;
    void *host;             /* NULL: not RAM */
};

/* The host address of the page at `gpa` (4 KiB-aligned), or NULL if it is
 * not RAM; translated only when `gpa` is not the one `ref` last found. */
static inline void *guest_page_ref_get(struct vm *vm, struct guest_page_ref *ref, uint64_t gpa)
{
    if (!ref->known || gpa != ref->gpa) {
        uint64_t hpa, size;
        ref->host = guest_mem_translate(vm, gpa, &hpa, &size) == TDP_MAPPED ? (void *)hpa : NULL;
        ref->gpa = gpa;
        ref->known = true;
    }
    return ref->host;
}

/* Copies to/from guest-physical memory, populating it as needed; false if
 * any byte is outside RAM or memory ran out. */
bool guest_mem_write(struct vm *vm, uint64_t gpa, const void *src, size_t len);
bool guest_mem_read(struct vm *vm, uint64_t gpa, void *dst, size_t len);
/* The host address of the byte at `gpa`, mapping its page first; NULL
 * outside RAM. Valid until the VM's RAM goes (its reboot or end), whose
 * callers drop what they keep of it first (struct guest_page_ref). */
uint8_t *guest_mem_host(struct vm *vm, uint64_t gpa);

/* Copies from what guest-physical memory holds without backing anything
 * (RAM never touched reads as the zeros its first touch gets): for the
 * monitor, under the VM's lock, so that a reset or the VM's end cannot free
 * the memory meanwhile. False if any byte is not RAM. */
bool guest_mem_peek(struct vm *vm, uint64_t gpa, void *dst, size_t len);

/* Releases every backing page and the EPT tables. */
void guest_mem_destroy(struct vm *vm);
#endif
