/* The test guests' runtime on bare metal, for an image GRUB boots with
 * `multiboot2` (tools/vmxrun --bare-multiboot) instead of vmxvisor running it
 * as a VM: bare_start.S makes the VM's start state, this file gives it the
 * command line (from the Multiboot2 information, parsed by the hypervisor's
 * own arch/bootinfo.c) and ends the run. vm.c is the VM's counterpart. */
/* Before guest.h, whose printf macro would rename platform.h's format attribute. */
#include "arch/platform.h"
#include "guests/runtime/guest.h"
#include "arch/bootinfo.h"

#define BOCHS_SHUTDOWN_PORT 0x8900
/* The 16550's registers at COM1 (0x3f8). */
#define COM1_IER 0x3f9
#define COM1_DLL 0x3f8          /* with LCR.DLAB set */
#define COM1_DLM 0x3f9
#define COM1_FCR 0x3fa
#define COM1_LCR 0x3fb
#define COM1_MCR 0x3fc
#define LCR_DLAB 0x80
#define LCR_8N1  0x03
#define FCR_ENABLE_CLEAR 0x07
#define MCR_DTR_RTS 0x03
#define PIC_MASTER_IMR 0x21
#define PIC_SLAVE_IMR  0xa1

/* What firmware does for an OS here and vmxvisor's virtual UART does not
 * need: COM1 at 115200 baud, 8N1, FIFOs on (as the hypervisor's own
 * serial_init); a UART fresh from reset sends 5-bit characters. */
static void com1_init(void)
{
    outb(COM1_IER, 0);
    outb(COM1_LCR, LCR_DLAB);
    outb(COM1_DLL, 1);
    outb(COM1_DLM, 0);
    outb(COM1_LCR, LCR_8N1);
    outb(COM1_FCR, FCR_ENABLE_CLEAR);
    outb(COM1_MCR, MCR_DTR_RTS);
}

/* bare_start.S's call in 64-bit mode, before the runtime's _start: COM1
 * set up, the command line found. */
const char *bare_boot(uint32_t magic, uint64_t info);
const char *bare_boot(uint32_t magic, uint64_t info)
{
    const char *why;
    com1_init();
    /* The BIOS leaves the 8259s delivering at vector base 8, where IRQ 0
     * would look like #DF once the guest enables interrupts: masked, as an
     * OS that uses its local APIC does (a VM's 8259s start masked). */
    outb(PIC_MASTER_IMR, 0xff);
    outb(PIC_SLAVE_IMR, 0xff);
    if (bootinfo_parse(magic, info, &why))
        return bootinfo.cmdline;
    printf_set_output(com1_write);
    printf("bare: %s\n", why);
    guest_exit(EXIT_BAD_BOOT);     /* the hypervisor's status for a bad boot */
}

/* The run ends as the hypervisor ends one in Bochs (arch/platform.c): with
 * the exit-status line tools/vmxrun turns into its own status (0..255;
 * docs/launcher.md), once it has left the UART, then "Shutdown" to Bochs'
 * shutdown port, which stops the emulator. */
void guest_exit(int status)
{
    printf("vmxvisor: exit status %d\n", status & 0xff);
    com1_flush();
    for (const char *s = "Shutdown"; *s; s++)
        outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
    cpu_halt_forever();
}
