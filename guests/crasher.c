/* Raises #UD with no IDT: #UD cannot be delivered, nor can the #DF that
 * follows, so the CPU shuts down (a triple fault) and the hypervisor must
 * stop this VM, and only it. */
#include "guests/runtime/guest.h"

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    (void)vcpu;
    (void)vcpus;
    (void)cmdline;
    printf("crasher: about to triple-fault\n");
    __asm__ volatile("mov $0x1badc0de, %%rax; ud2" ::: "rax");
    printf("crasher: still alive?!\n");
    return 1;
}
