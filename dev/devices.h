#ifndef DEV_DEVICES_H
#define DEV_DEVICES_H
/* One VM's PC devices and its vCPUs' local APICs: the models' state and
 * the locks their glue takes. The VM core (virt/vm.h) holds a pointer to
 * it and never looks inside; the devices reach the core's vCPUs through
 * virt/vcpu_state.h. */
#include <stdint.h>
#include <stdbool.h>
#include "lib/spinlock.h"
#include "virt/vm_config.h"
#include "dev/vlapic.h"
#include "dev/pic.h"
#include "dev/ioapic.h"
#include "dev/pit.h"
#include "dev/uart.h"
#include "dev/rtc.h"
#include "dev/fw_cfg.h"
#include "dev/acpi_pm.h"

struct vm_devices {
    struct vm_uart uart;            /* COM1 */
    /* PC platform devices (dev/platform_ports.h); loader/firmware.c sets
     * them up with the ACPI tables */
    spinlock_t platform_lock;       /* the CMOS/RTC, fw_cfg, ACPI PM and reset registers */
    struct rtc rtc;
    struct fw_cfg fw_cfg;
    struct acpi_pm acpi_pm;
    uint8_t reset_control;          /* port 0xcf9 */
    volatile uint32_t pci_config_address;   /* port 0xcf8 */
    /* the legacy interrupt controllers (dev/irq.c) and the 8254
     * (dev/pit_access.c); their ports and page exit to us */
    spinlock_t irq_lock;            /* the 8259 pair and the I/O APIC */
    struct vpic pic;
    volatile bool pic_intr;         /* the 8259's INTR output */
    struct vioapic ioapic;
    spinlock_t pit_lock;
    struct vpit pit;
    volatile uint64_t pit_deadline; /* host TSC of its next interrupt; 0: none */
    struct vlapic apics[VM_MAX_VCPUS];  /* vCPU n's is vcpus[n].apic */
};
#endif
