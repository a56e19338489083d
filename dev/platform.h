#ifndef DEV_PLATFORM_H
#define DEV_PLATFORM_H
/*
 * Where the emulated PC's devices are (../shared/DESIGN.md "Guest platform
 * contract"); the ACPI tables, the device models and the loaders all take
 * the addresses from here. Port numbers follow QEMU's PC where a guest may
 * expect them.
 */
#define PLATFORM_IOAPIC_GPA     0xfec00000ull
#define PLATFORM_IOAPIC_ID      0           /* the MADT's IOAPIC ID; vCPUs' APIC IDs are 0..n-1 too, as on QEMU */
#define PLATFORM_IOAPIC_PINS    24
#define PLATFORM_LAPIC_GPA      0xfee00000ull

#define PLATFORM_PIC_MASTER     0x20        /* 8259 pair, and the ELCR at 0x4d0/0x4d1 */
#define PLATFORM_PIC_SLAVE      0xa0
#define PLATFORM_PIT_BASE       0x40        /* 8254: channels 0-2 at 0x40-0x42, mode 0x43 */
#define PLATFORM_PORT_61        0x61        /* NMI status/control: PIT channel 2 gate and output */
#define PLATFORM_KBC_DATA       0x60
#define PLATFORM_KBC_CMD        0x64        /* 0xfe: pulse reset */
#define PLATFORM_CMOS_INDEX     0x70
#define PLATFORM_CMOS_DATA      0x71
#define PLATFORM_FW_CFG_CTL     0x510       /* QEMU fw_cfg selector (16-bit) */
#define PLATFORM_FW_CFG_DATA    0x511
#define PLATFORM_ACPI_PM_BASE   0x600       /* PM1a event block (status 0x600, enable 0x602) */
#define PLATFORM_ACPI_PM1_CNT   0x604       /* PM1a control: SLP_TYP/SLP_EN */
#define PLATFORM_ACPI_PM_TMR    0x608       /* 24-bit PM timer at 3.579545 MHz */
#define PLATFORM_ACPI_SCI_IRQ   9
#define PLATFORM_PCI_CONFIG_ADDR 0xcf8
#define PLATFORM_PCI_CONFIG_DATA 0xcfc
#define PLATFORM_RESET_PORT     0xcf9       /* reset control register; also the FADT reset register */
#define PLATFORM_S5_SLP_TYP     5           /* the DSDT's \_S5 value */

#define PLATFORM_IRQ_PIT        0           /* ISA IRQs; IRQ 0 goes to IOAPIC pin 2 */
#define PLATFORM_GSI_PIT        2
#define PLATFORM_IRQ_COM1       4
#define PLATFORM_IRQ_RTC        8
#endif
