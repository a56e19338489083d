#ifndef VMX_VMX_CPU_H
#define VMX_VMX_CPU_H
/* VMX operation on each physical CPU, like KVM's hardware_setup (global
 * configuration, once) and hardware_enable (per CPU: VMXON). */
#include <stdint.h>
#include <stdbool.h>
#include "vmx/vmcs_config.h"

struct vmx_cpu_state {
    bool vmxon;                 /* in VMX root operation */
    uint64_t vmxon_region;      /* physical address */
    const char *error;          /* why VMX could not be enabled here */
    char error_buf[160];
};

/* The configuration all VMCSs are built from (negotiated on the BSP). */
extern struct vmcs_config vmcs_config;

/* On the BSP: negotiates vmcs_config; exits the hypervisor with a message
 * naming the missing feature if the CPU cannot run it. */
void vmx_setup_global(void);
/* On the calling CPU: checks it matches vmcs_config, enables VMX and
 * executes VMXON. Failure is recorded in its vmx_cpu_state. */
void vmx_enable_this_cpu(void *unused);
const struct vmx_cpu_state *vmx_cpu_state(uint32_t cpu);
/* Reads this CPU's capability MSRs (also for `info vmx msrs`). */
void vmx_read_capability_msrs(struct vmx_capability_msrs *caps);
#endif
