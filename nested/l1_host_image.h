/*
 * What a VM exit to L1 loads into L1's state from vmcs12's host-state area
 * and exit controls (SDM Vol. 3C 28.5.1, 28.5.2): CR0 and CR4 as the host
 * fields have them, CR3, EFER and PAT if the controls say so, the SYSENTER
 * MSRs, the segment registers with the limits and access rights the exit
 * gives them, GDTR and IDTR bases, RIP; and whether the exit invalidates
 * L1's translations (29.4.3.1). Worked out once per vmcs12 and set of its
 * host fields and exit controls, kept with the vmcs12 (through the cache of
 * VMCSs L1 left active, nested/vmcs12_cache.h) until L1 writes one of
 * those: each nested exit then writes it into vmcs01 as it is, a load and a
 * VMWRITE per field (nested/switch.c). Not in
 * it: HOST_RSP, which L1 writes without the entry noting it
 * (nested_note_written), and the CR0 bits the exit leaves as L1 has them.
 */
#ifndef NESTED_L1_HOST_IMAGE_H
#define NESTED_L1_HOST_IMAGE_H
#include <stdint.h>
#include <stdbool.h>

struct vmcs12;

/* A segment register as a VM exit loads it; 64-bit slots, so that each is
 * a VMWRITE's memory operand. */
struct l1_host_segment {
    uint64_t selector, base, limit, access_rights;
};

/* The segments in the order of their VMCS encodings (ES, CS, SS, DS, FS,
 * GS, LDTR, TR: GUEST_ES_SELECTOR + 2 * index). */
#define L1_HOST_SEGMENTS 8

struct l1_host_image {
    bool built;     /* it holds its vmcs12's image */
    bool load_efer, load_pat, flush_vpid;
    uint64_t cr0, cr4, cr3, efer, pat;
    /* CR0 (but for the bits the exit keeps) and CR4 as L1 sees them and
     * as the processor runs them: what vmcs01's read shadows and control
     * registers get. They depend on the processor's and the offered VMX
     * fixed bits: the builder's caller works them out (nested/switch.c). */
    uint64_t cr0_shadow, cr4_shadow, vmx_cr0, vmx_cr4;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    struct l1_host_segment segment[L1_HOST_SEGMENTS];
    uint64_t gdtr_base, idtr_base;
    uint64_t rip;
};

/* The image of `vmcs12`'s host state and exit controls, built. */
void l1_host_image_build(const struct vmcs12 *vmcs12, struct l1_host_image *image);
#endif
