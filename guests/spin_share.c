/* CPU share under overcommit: every vCPU counts loop iterations until the
 * VM's deadline (the last vCPU's arrival + the window from the command line,
 * in millions of TSC cycles), then reports its count; the last one to finish
 * ends the VM. The counts are proportional to the CPU time each vCPU got.
 * With "halt-others" after the window, every vCPU but 0 halts at once (with
 * interrupts off: for good) and vCPU 0 reports alone. With "sti" the vCPUs
 * compute with interrupts enabled, as an OS does (Bochs does not exit on
 * external interrupts while a guest has them disabled). With "init-all",
 * once all have arrived vCPU 0 sends INIT to every vCPU, itself included:
 * all wait for a start-up IPI no one will send. */
#include "guests/runtime/guest.h"
#include "arch/lapic.h"

#define ICR_ALL_INCL_SELF 0x80000

#define MAX_VCPUS 64

static volatile uint64_t deadline;
static volatile uint32_t finished, arrived;
static volatile uint64_t counts[MAX_VCPUS];

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    if (vcpu != 0 && cmdline_has(cmdline, "halt-others"))
        cpu_halt_forever();
    if (cmdline_has(cmdline, "halt-others"))
        vcpus = 1;
    if (cmdline_has(cmdline, "sti"))
        irq_enable();
    /* The window opens when the last vCPU has arrived (the others were
     * started one after another by INIT-SIPI-SIPI), so all count alike. */
    if (__atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST) == vcpus)
        deadline = rdtsc() + cmdline_number(cmdline, 100) * 1000000;
    if (vcpu == 0 && cmdline_has(cmdline, "init-all")) {
        while (arrived < vcpus)
            cpu_relax();
        printf("spin_share: INIT to every vCPU\n");
        lapic_send_ipi(0, ICR_INIT | ICR_LEVEL_ASSERT | ICR_ALL_INCL_SELF);
        for (;;)
            cpu_relax();        /* the INIT ends this */
    }
    while (!deadline)
        cpu_relax();
    uint64_t n = 0;
    while (rdtsc() < deadline) {
        for (int i = 0; i < 100; i++)
            __asm__ volatile("" ::: "memory");
        n++;
    }
    counts[vcpu] = n;
    if (__atomic_add_fetch(&finished, 1, __ATOMIC_SEQ_CST) < vcpus)
        cpu_halt_forever();     /* the last vCPU reports for all */
    for (uint32_t v = 0; v < vcpus && v < MAX_VCPUS; v++)
        printf("spin_share: vcpu %u iterations %lu\n", v, counts[v]);
    return 0;
}
