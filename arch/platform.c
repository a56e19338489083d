#include "arch/platform.h"
#include "arch/bootinfo.h"
#include "arch/cpu.h"
#include "arch/serial.h"
#include "arch/smp.h"
#include "lib/printf.h"
#include "lib/string.h"
#include <stdarg.h>

#define BOCHS_SHUTDOWN_PORT 0x8900
#define QEMU_DEBUG_EXIT_PORT 0xf4

enum exit_method { EXIT_BY_HALT, EXIT_BY_BOCHS, EXIT_BY_QEMU };
static enum exit_method exit_method = EXIT_BY_HALT;

void platform_init(void)
{
    char method[16];
    if (!bootinfo_cmdline_value("exit", method, sizeof(method)))
        return;
    if (!strcmp(method, "bochs"))
        exit_method = EXIT_BY_BOCHS;
    else if (!strcmp(method, "qemu"))
        exit_method = EXIT_BY_QEMU;
    else if (strcmp(method, "halt"))
        kprintf("vmxvisor: unknown exit=%s on the command line, using exit=halt\n", method);
}

void platform_exit(int status)
{
    irq_disable();
    smp_stop_other_cpus();
    console_take_over();    /* a stopped CPU may have been holding it */
    klog("vmxvisor: exit status %d\n", status);
    serial_flush();     /* the emulator or machine may stop before the UART drains */
    switch (exit_method) {
    case EXIT_BY_BOCHS:
        for (const char *s = "Shutdown"; *s; s++)
            outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
        break;
    case EXIT_BY_QEMU:
        outl(QEMU_DEBUG_EXIT_PORT, (uint32_t)status);
        break;
    case EXIT_BY_HALT:
        break;
    }
    cpu_halt_forever();
}

void platform_fatal_stop(void)
{
    platform_exit(EXIT_HYPERVISOR_FAULT);
}

void panic_status(int status, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    kprintf("vmxvisor: fatal: %s\n", msg);
    platform_exit(status);
}
