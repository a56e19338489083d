/* Machine resets as a guest sees them (tests/system/lifecycle.t). It counts
 * its boots in a CMOS NVRAM byte, which a reset keeps as a PC's battery
 * does, and says "reboot_probe: boot N" first thing. Command line: a number
 * N first, then optionally "cf9", "kbc" or "triple": on its first boot it
 * resets the machine that way (the reset control register, the keyboard
 * controller's pulse-reset command, or a triple fault); any other boot
 * counts to N million, with a line every 50 million, and ends the VM with
 * status 0. */
#include "guests/runtime/guest.h"

#define CMOS_INDEX          0x70
#define CMOS_DATA           0x71
#define BOOT_COUNT_BYTE     0x60    /* NVRAM the firmware does not use */
#define RESET_PORT          0xcf9
#define RESET_CPU           0x06    /* SYS_RST | RST_CPU: a hard reset */
#define KBC_CMD             0x64
#define KBC_PULSE_RESET     0xfe
#define MILLIONS_PER_LINE   50

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

static void cmos_write(uint8_t reg, uint8_t value)
{
    outb(CMOS_INDEX, reg);
    outb(CMOS_DATA, value);
}

/* An empty IDT: the #UD cannot be delivered, nor the #DF that follows. */
static void triple_fault(void)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } none = { 0, 0 };
    __asm__ volatile("lidt %0; ud2" :: "m"(none));
}

/* Resets as the command line says; returns only if it did not. */
static bool reset_machine(const char *cmdline)
{
    if (cmdline_has(cmdline, "cf9")) {
        printf("reboot_probe: resetting through 0xcf9\n");
        outb(RESET_PORT, RESET_CPU);
    } else if (cmdline_has(cmdline, "kbc")) {
        printf("reboot_probe: resetting through the keyboard controller\n");
        outb(KBC_CMD, KBC_PULSE_RESET);
    } else if (cmdline_has(cmdline, "triple")) {
        printf("reboot_probe: triple-faulting\n");
        triple_fault();
    } else {
        return false;
    }
    return true;
}

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    (void)vcpu;
    (void)vcpus;
    unsigned boot = cmos_read(BOOT_COUNT_BYTE) + 1u;
    cmos_write(BOOT_COUNT_BYTE, (uint8_t)boot);
    printf("reboot_probe: boot %u\n", boot);
    if (boot == 1 && reset_machine(cmdline)) {
        printf("reboot_probe: FAIL: still running after the reset\n");
        return 1;
    }
    uint64_t millions = cmdline_number(cmdline, 0);
    for (uint64_t m = 1; m <= millions; m++) {
        for (uint32_t i = 0; i < 1000000; i++)
            __asm__ volatile("" ::: "memory");
        if (m % MILLIONS_PER_LINE == 0)
            printf("reboot_probe: boot %u: counted %lu million\n", boot, m);
    }
    printf("reboot_probe: done after %u boot(s)\n", boot);
    return 0;
}
