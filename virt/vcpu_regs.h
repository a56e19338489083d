#ifndef VIRT_VCPU_REGS_H
#define VIRT_VCPU_REGS_H
/* Guest general registers by the x86 encoding number (0 RAX, 1 RCX, 2 RDX,
 * 3 RBX, 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15), as exit qualifications
 * and instruction information name them. RSP lives in the VMCS. */
#include <stdint.h>

struct vcpu;
uint64_t vcpu_read_gpr(struct vcpu *vcpu, unsigned n);
void vcpu_write_gpr(struct vcpu *vcpu, unsigned n, uint64_t value);
#endif
