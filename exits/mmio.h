#ifndef EXITS_MMIO_H
#define EXITS_MMIO_H
/* Emulates the guest instruction that touched guest-physical `gpa`, which is
 * not RAM: fetch it at the guest's RIP, decode it, and perform the access on
 * the device there (the vCPU's xAPIC page); where there is none, loads read
 * all-ones and stores are dropped (counted). */
#include <stdint.h>
#include "exits/exits.h"

enum exit_action emulate_mmio(struct vcpu *vcpu, uint64_t gpa);
#endif
