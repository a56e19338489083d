#ifndef VIRT_VCPU_H
#define VIRT_VCPU_H
/* A vCPU's state on the physical CPU that runs it (KVM's vcpu_load and
 * vcpu_put); its run loop is machine/vcpu_run.h's. */
#include "virt/vm.h"

/* XCR0 components (SDM Vol. 1 13.1). */
#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)
#define XCR0_MPX (3ull << 3)            /* BNDREGS, BNDCSR: both or neither */
#define XCR0_AVX512 (7ull << 5)         /* opmask, ZMM_Hi256, Hi16_ZMM: all or none */
#define XCR0_AMX (3ull << 17)           /* XTILECFG, XTILEDATA: both or neither */

/* The XCR0 bits a guest may enable (and the vCPU switch saves). */
uint64_t guest_xcr0_supported(void);

/* Makes the vCPU's state current on this CPU (creating its VMCS the first
 * time). False if it cannot run (out of memory: its VM has been ended). */
bool vcpu_load(struct vcpu *vcpu);
void vcpu_put(struct vcpu *vcpu);
/* Releases what the vCPU holds on this CPU (VMCS, VPID) once it stopped. */
void vcpu_release(struct vcpu *vcpu);
#endif
