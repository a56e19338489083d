#ifndef VIRT_VCPU_MSRS_H
#define VIRT_VCPU_MSRS_H
#include <stdint.h>

struct vcpu;
/* Intercept every MSR but the pass-through ones (virt/vcpu_msrs.c). */
void msr_bitmap_init(uint64_t *bitmap);
/* The pass-through MSRs no VMCS field holds, switched with the vCPU. */
void vcpu_msrs_load(const struct vcpu *vcpu);
void vcpu_msrs_save(struct vcpu *vcpu);
#endif
