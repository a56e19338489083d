/* How a test guest ends when vmxvisor runs it as a VM: the EXIT hypercall
 * (README, "Guest start and ABI"). bare.c is the same for bare metal. */
#include "guests/runtime/guest.h"

void guest_exit(int status)
{
    hypercall(HC_EXIT, (uint64_t)status, 0);
    cpu_halt_forever();
}
