#ifndef DEV_ACPI_PM_H
#define DEV_ACPI_PM_H
/*
 * The ACPI fixed-hardware registers the FADT describes (ACPI 6.4 4.8.3),
 * at PLATFORM_ACPI_PM_BASE: PM1a status (+0) and enable (+2), PM1a control
 * (+4), the PM timer (+8). ACPI mode is always on (SCI_EN reads 1, as the
 * FADT's SMI_CMD = 0 promises). Writing SLP_EN with the \_S5 SLP_TYP asks
 * for soft-off. Pure, driven with the PM timer's count; the port glue is
 * dev/acpi_pm_port.c.
 *
 * The SCI is not raised: the only status bit that can become set is
 * TMR_STS (the timer's bit 23 toggling), and noticing that without a guest
 * access needs a hypervisor timer the VM does not have yet.
 */
#include <stdint.h>
#include <stdbool.h>

#define ACPI_PM_TIMER_HZ    3579545ull  /* ACPI 4.8.3.3: the PM timer's clock */
#define ACPI_PM_TIMER_MASK  0xffffffu   /* 24 bits (the FADT's TMR_VAL_EXT is 0) */
#define ACPI_PM_PORTS       12          /* status, enable, control, 2 unused, timer */

#define ACPI_PM1_TMR_STS    0x0001      /* PM1 status: the timer's bit 23 changed */
#define ACPI_PM1_CNT_SCI_EN 0x0001
#define ACPI_PM1_CNT_BM_RLD 0x0002
#define ACPI_PM1_CNT_GBL_RLS 0x0004
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP (7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN 0x2000

struct acpi_pm {
    uint16_t enable;            /* PM1 enable */
    uint16_t control;           /* PM1 control: BM_RLD and SLP_TYP (the rest reads fixed) */
    uint64_t tmr_sts_cleared;   /* timer ticks when the guest last cleared TMR_STS */
};

enum acpi_pm_result {
    ACPI_PM_DONE,
    ACPI_PM_DROPPED,            /* a write to a read-only or absent register */
    ACPI_PM_SLEEP_UNSUPPORTED,  /* SLP_EN with any other SLP_TYP: S1-S4 are not offered */
    ACPI_PM_POWER_OFF,          /* SLP_EN with the \_S5 SLP_TYP */
};

/* An access of `size` bytes at `offset` from PLATFORM_ACPI_PM_BASE; `ticks`
 * is the PM timer's count, unwrapped (3.579545 MHz ticks since the platform
 * clock started). Bytes outside the registers read as 0xff. */
uint32_t acpi_pm_read(const struct acpi_pm *pm, unsigned offset, unsigned size, uint64_t ticks);
enum acpi_pm_result acpi_pm_write(struct acpi_pm *pm, unsigned offset, unsigned size,
                                  uint32_t value, uint64_t ticks);
#endif
