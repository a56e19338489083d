#ifndef VIRT_BOOT_STATE_H
#define VIRT_BOOT_STATE_H
/* How a VM's vCPU 0 starts: the state its image's loader (loader/guest_boot.h)
 * chose, which the vCPU's VMCS is built from (virt/vmcs_setup.c). */
#include <stdint.h>

enum boot_cpu_mode { BOOT_CPU_LONG, BOOT_CPU_PROTECTED, BOOT_CPU_REAL };

/* vCPU 0's first state; selectors index the GDT at GUEST_GDT_GPA. */
struct boot_state {
    enum boot_cpu_mode mode;
    uint64_t rip, rsp;
    uint16_t code_selector;
    uint64_t rax, rbx, rdx, rsi, rdi;
    /* What the image is, for the console: "Linux 6.1.0-57-amd64", "multiboot", ... */
    char image_kind[48];
};
#endif
