/* The runtime's C entry for vCPU 0 (start.S calls it): kprintf gets its
 * output, a multi-vCPU guest its interrupts and its other vCPUs (smp.c),
 * then guest_main runs.
 * A file of its own so that the runtime's files use each other one way:
 * entry.c uses smp.c and guest.c, smp.c uses guest.c. */
#include "guests/runtime/guest.h"

void guest_start(uint32_t vcpu, uint32_t vcpus, const char *cmdline);
void guest_start(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    printf_set_output(com1_write);
    if (!cmdline)
        cmdline = "";
    if (vcpus > 1) {
        guest_interrupts_init(cmdline_has(cmdline, "x2apic"));
        guest_start_aps(vcpus, cmdline);
    }
    guest_exit(guest_main(vcpu, vcpus, cmdline));
}
