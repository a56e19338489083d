#ifndef VIRT_MSR_BITMAP_H
#define VIRT_MSR_BITMAP_H
#include <stdint.h>

struct vcpu;
/* Intercept every MSR but the pass-through ones (exits/exit_msr.c). */
void msr_bitmap_init(uint64_t *bitmap);
/* The pass-through MSRs no VMCS field holds, switched with the vCPU. */
void vcpu_msrs_load(const struct vcpu *vcpu);
void vcpu_msrs_save(struct vcpu *vcpu);
#endif
