/* Guest side of SMP and interrupts, written the way an OS does it so that
 * it exercises the virtual APIC: the hypervisor's own IDT code, LAPIC driver
 * and AP trampoline run here unchanged, as guest code. vCPU 0 starts the
 * others with INIT-SIPI-SIPI, one at a time (SDM Vol. 3A 9.4.4). */
#include "guests/runtime/guest.h"
#include "arch/ap_trampoline.h"
#include "arch/interrupts.h"
#include "arch/lapic.h"
#include "arch/msr.h"
#include "virt/guest_layout.h"

#define AP_START_TIMEOUT_CYCLES 50000000ull
#define SIPI_RETRY_CYCLES       2000000ull
#define CR4_OSFXSR_OSXMMEXCPT   0x600

static struct __attribute__((packed)) { uint16_t limit; uint64_t base; } boot_gdtr;
static volatile uint32_t starting_ap;
static volatile bool ap_online[256];
static uint32_t vcpu_total;
static const char *boot_cmdline;
static bool interrupts_ready;
static bool use_x2apic;

/* x2APIC mode, if the CPU has it: an OS puts every CPU in the same mode. */
static void enter_x2apic_mode(void)
{
    if (use_x2apic)
        wrmsr(MSR_IA32_APIC_BASE, rdmsr(MSR_IA32_APIC_BASE) | APIC_BASE_X2APIC);
}

/* An exception the guest did not expect: reported, then the guest fails. */
static void report_fatal_trap(struct trap_frame *frame)
{
    printf("guest: exception %lu (error code %lu) at RIP %lx\n", frame->vector,
           frame->error_code, frame->rip);
    guest_exit(-1);
}

void guest_interrupts_init(bool x2apic)
{
    if (interrupts_ready)
        return;
    use_x2apic = x2apic && (cpuid(1, 0).ecx & CPUID_1_ECX_X2APIC);
    enter_x2apic_mode();
    interrupt_set_fatal_handler(report_fatal_trap);
    idt_without_ist();
    idt_load();
    lapic_init_cpu();
    interrupts_ready = true;
}

/* The trampoline leaves an AP in 64-bit mode on its own GDT: switch to the
 * one vCPU 0 uses (same selectors as the IDT's gates), then run. */
static void ap_entry(void)
{
    uint32_t id = starting_ap;
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\tmov %2, %%eax\n\t"
                     "mov %%eax, %%ds\n\t"
                     "mov %%eax, %%es\n\t"
                     "mov %%eax, %%ss"
                     :: "m"(boot_gdtr), "i"(GUEST_SEL_CODE64), "i"(GUEST_SEL_DATA)
                     : "rax", "memory");
    write_cr4(read_cr4() | CR4_OSFXSR_OSXMMEXCPT);
    enter_x2apic_mode();
    interrupt_set_fatal_handler(report_fatal_trap);
    idt_load();
    lapic_init_cpu();
    __atomic_store_n(&ap_online[id], true, __ATOMIC_RELEASE);
    guest_exit(guest_main(id, vcpu_total, boot_cmdline));
}

static bool wait_online(uint32_t id, uint64_t cycles)
{
    uint64_t start = rdtsc();
    while (!__atomic_load_n(&ap_online[id], __ATOMIC_ACQUIRE))
        if (rdtsc() - start > cycles)
            return false;
    return true;
}

uint32_t guest_start_aps(uint32_t vcpus, const char *cmdline)
{
    vcpu_total = vcpus;
    boot_cmdline = cmdline;
    __asm__ volatile("sgdt %0" : "=m"(boot_gdtr));
    memcpy((void *)AP_TRAMPOLINE_ADDR, __ap_trampoline_start,
           __ap_trampoline_end - __ap_trampoline_start);
    struct ap_trampoline_params *params =
        (void *)(AP_TRAMPOLINE_ADDR + AP_TRAMPOLINE_PARAMS_OFFSET);
    uint32_t online = 1;
    for (uint32_t id = 1; id < vcpus && id < 256; id++) {
        starting_ap = id;
        params->cr3 = read_cr3();
        params->stack_top = GUEST_BOOT_STACK - id * GUEST_BOOT_STACK_PER_VCPU;
        params->entry = (uint64_t)ap_entry;
        uint32_t sipi = ICR_STARTUP | (AP_TRAMPOLINE_ADDR >> 12);
        lapic_send_ipi(id, ICR_INIT | ICR_LEVEL_ASSERT);
        lapic_send_ipi(id, sipi);
        if (!wait_online(id, SIPI_RETRY_CYCLES))
            lapic_send_ipi(id, sipi);
        if (!wait_online(id, AP_START_TIMEOUT_CYCLES)) {
            /* It may still start later, with the parameters: no other AP
             * may be given them meanwhile. */
            printf("guest: vCPU %u did not start; not starting the others\n", id);
            break;
        }
        online++;
    }
    return online;
}
