/* CPUID as the guest sees it: the hypervisor leaves, the filtered features,
 * the APIC ID. VMX is expected (nested VMX is on by default) unless the
 * command line says "novmx" (`nested = off`). With "debug-exit" on its
 * command line it ends through QEMU's isa-debug-exit port (status
 * (failures << 1) | 1) instead of the hypercall. With "rdrand" it prints
 * two RDRAND values (vCPU 0): vmxrun --seed makes them the same every run. */
#include "guests/runtime/guest.h"

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    int failures = 0;
    struct cpuid_regs h = cpuid(0x40000000, 0);
    char signature[13] = { 0 };
    memcpy(signature, &h.ebx, 4);
    memcpy(signature + 4, &h.ecx, 4);
    memcpy(signature + 8, &h.edx, 4);
    failures += check(!strcmp(signature, "vmxvisor"), "hypervisor signature 'vmxvisor'");
    failures += check(h.eax >= 0x40000001, "hypervisor max leaf");
    struct cpuid_regs l1 = cpuid(1, 0);
    failures += check(l1.ecx >> 31 & 1, "leaf 1 hypervisor-present bit");
    if (cmdline_has(cmdline, "novmx"))
        failures += check(!(l1.ecx >> 5 & 1), "leaf 1 VMX hidden (nested = off)");
    else
        failures += check(l1.ecx >> 5 & 1, "leaf 1 VMX offered (nested VMX)");
    failures += check(!(l1.ecx >> 3 & 1), "leaf 1 MONITOR hidden");
    failures += check(l1.ebx >> 24 == vcpu, "initial APIC ID is the vCPU number");
    failures += check((l1.ebx >> 16 & 0xff) == vcpus, "logical processor count");
    struct cpuid_regs l0 = cpuid(0, 0);
    failures += check(l0.eax >= 1, "basic leaves present");
    if (l0.eax >= 0xb) {
        struct cpuid_regs smt = cpuid(0xb, 0), core = cpuid(0xb, 1), end = cpuid(0xb, 2);
        failures += check(smt.ebx == 1 && (smt.ecx >> 8 & 0xff) == 1 && core.ebx == vcpus &&
                              (core.ecx >> 8 & 0xff) == 2 && (end.ecx >> 8 & 0xff) == 0 &&
                              core.edx == vcpu,
                          "leaf 0xb topology: one thread per core, one core per vCPU");
    }
    if (cmdline_has(cmdline, "rdrand") && vcpu == 0) {
        failures += check(l1.ecx >> 30 & 1, "leaf 1 RDRAND");
        uint64_t a, b;
        __asm__ volatile("rdrand %0\n\trdrand %1" : "=r"(a), "=r"(b) :: "cc");
        printf("cpuid_test: rdrand %016llx %016llx\n", (unsigned long long)a, (unsigned long long)b);
    }
    printf("cpuid_test: %d failure(s)\n", failures);
    if (cmdline_has(cmdline, "debug-exit"))
        debug_exit((uint8_t)failures);
    return failures;
}
