#ifndef VMX_TLB_H
#define VMX_TLB_H
/* Flushing a vCPU's cached translations on the executing CPU (SDM Vol. 3C
 * 30.4.3): single-context where the CPU offers it, all-context otherwise. */
#include <stdint.h>

void tlb_flush_vpid(uint16_t vpid);     /* linear and combined mappings of the VPID */
void tlb_flush_ept(uint64_t eptp);      /* guest-physical and combined mappings */
/* The same on every online CPU, each before this returns: after an EPT
 * entry lost a permission that any CPU may have cached. */
void tlb_flush_ept_everywhere(uint64_t eptp);
#endif
