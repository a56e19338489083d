/* ACPI 6.4 4.8.3: PM1 event and control registers and the PM timer, byte
 * by byte, so that 8-, 16- and 32-bit accesses all behave as the hardware's
 * registers do. */
#include "dev/acpi_pm.h"
#include "dev/platform.h"

enum {
    PM1_STS = PLATFORM_ACPI_PM_BASE - PLATFORM_ACPI_PM_BASE,
    PM1_EN = PM1_STS + 2,
    PM1_CNT = PLATFORM_ACPI_PM1_CNT - PLATFORM_ACPI_PM_BASE,
    PM_TMR = PLATFORM_ACPI_PM_TMR - PLATFORM_ACPI_PM_BASE,
};
_Static_assert(PM1_CNT == 4 && PM_TMR == 8, "the FADT's PM1 block lengths assume this layout");

/* ACPI 4.8.3.1.2 PM1 enable: TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN,
 * PCIEXP_WAKE_DIS; the rest is reserved. */
#define PM1_EN_WRITABLE     0x4721
#define PM1_CNT_STORED      (ACPI_PM1_CNT_BM_RLD | ACPI_PM1_CNT_SLP_TYP)
#define TMR_STS_BIT         23          /* TMR_STS is set whenever this timer bit changes */

static uint16_t pm1_status(const struct acpi_pm *pm, uint64_t ticks)
{
    return ticks >> TMR_STS_BIT != pm->tmr_sts_cleared >> TMR_STS_BIT ? ACPI_PM1_TMR_STS : 0;
}

static uint8_t read_byte(const struct acpi_pm *pm, unsigned offset, uint64_t ticks)
{
    unsigned shift = (offset & 1) * 8;
    switch (offset & ~1u) {
    case PM1_STS: return (uint8_t)(pm1_status(pm, ticks) >> shift);
    case PM1_EN: return (uint8_t)(pm->enable >> shift);
    case PM1_CNT: return (uint8_t)((pm->control | ACPI_PM1_CNT_SCI_EN) >> shift);
    case PM_TMR:
    case PM_TMR + 2:
        return (uint8_t)((ticks & ACPI_PM_TIMER_MASK) >> ((offset - PM_TMR) * 8));
    default: return 0xff;
    }
}

uint32_t acpi_pm_read(const struct acpi_pm *pm, unsigned offset, unsigned size, uint64_t ticks)
{
    uint32_t value = 0;
    for (unsigned i = 0; i < size; i++)
        value |= (uint32_t)read_byte(pm, offset + i, ticks) << (8 * i);
    return value;
}

static enum acpi_pm_result write_byte(struct acpi_pm *pm, unsigned offset, uint8_t byte,
                                      uint64_t ticks)
{
    unsigned shift = (offset & 1) * 8;
    uint16_t mask = (uint16_t)(0xff << shift), value = (uint16_t)(byte << shift);
    switch (offset & ~1u) {
    case PM1_STS:
        /* Status bits are cleared by writing 1 (ACPI 4.8.3.1.1). */
        if (value & ACPI_PM1_TMR_STS)
            pm->tmr_sts_cleared = ticks;
        return ACPI_PM_DONE;
    case PM1_EN:
        pm->enable = (uint16_t)((pm->enable & ~mask) | (value & mask & PM1_EN_WRITABLE));
        return ACPI_PM_DONE;
    case PM1_CNT:
        pm->control = (uint16_t)((pm->control & ~mask) | (value & mask & PM1_CNT_STORED));
        /* ACPI 4.8.3.2.1: SLP_EN starts the transition SLP_TYP names; it is
         * write-only and reads 0. */
        if (!(value & ACPI_PM1_CNT_SLP_EN))
            return ACPI_PM_DONE;
        return (pm->control & ACPI_PM1_CNT_SLP_TYP) >> ACPI_PM1_CNT_SLP_TYP_SHIFT ==
                       PLATFORM_S5_SLP_TYP
                   ? ACPI_PM_POWER_OFF
                   : ACPI_PM_SLEEP_UNSUPPORTED;
    default:
        return ACPI_PM_DROPPED;         /* the timer is read-only; 6-7 hold nothing */
    }
}

enum acpi_pm_result acpi_pm_write(struct acpi_pm *pm, unsigned offset, unsigned size,
                                  uint32_t value, uint64_t ticks)
{
    /* The most telling outcome wins: power off over an unsupported sleep over a
     * dropped byte (the enum is in that order). */
    enum acpi_pm_result result = ACPI_PM_DONE;
    for (unsigned i = 0; i < size; i++) {
        enum acpi_pm_result r = write_byte(pm, offset + i, (uint8_t)(value >> (8 * i)), ticks);
        if (r > result)
            result = r;
    }
    return result;
}
