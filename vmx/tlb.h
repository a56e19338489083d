#ifndef VMX_TLB_H
#define VMX_TLB_H
/* Flushing a vCPU's cached translations on the executing CPU (SDM Vol. 3C
 * 30.4.3): single-context where the CPU offers it, all-context otherwise. */
#include <stdint.h>

void tlb_flush_vpid(uint16_t vpid);     /* linear and combined mappings of the VPID */
void tlb_flush_ept(uint64_t eptp);      /* guest-physical and combined mappings */
#endif
