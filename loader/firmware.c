#include "loader/firmware.h"
#include "loader/acpi.h"
#include "loader/smbios.h"
#include "loader/guest_layout.h"
#include "virt/guest_mem.h"
#include "dev/vclock.h"
#include "virt/vm.h"
#include "arch/cmos.h"
#include "arch/cpu.h"
#include "arch/tsc.h"
#include "lib/printf.h"

#define DEFAULT_CENTURY 20

/* Written once, by the boot CPU, before any vCPU runs. */
static uint64_t clock_start_tsc;
static struct rtc_date start_date = { .dow = 7, .day = 1, .month = 1, .year = 2000 };
static bool clock_started;

/* The host's register values in the calendar form the VMs' RTCs keep. A
 * CMOS without a century byte (0 or nonsense) is taken to mean 20xx. */
static struct rtc_date host_date(const struct cmos_clock *c)
{
    uint8_t b = c->status_b;
    unsigned century = rtc_decode(c->century, b);
    if (century < 19 || century > 99)
        century = DEFAULT_CENTURY;
    return (struct rtc_date){
        .sec = rtc_decode(c->seconds, b), .min = rtc_decode(c->minutes, b),
        .hour = rtc_decode_hour(c->hours, b), .dow = rtc_decode(c->day_of_week, b),
        .day = rtc_decode(c->day, b), .month = rtc_decode(c->month, b),
        .year = (uint16_t)(century * 100 + rtc_decode(c->year, b)),
    };
}

static void start_platform_clock(void)
{
    struct cmos_clock c;
    bool read = cmos_read_clock(&c);
    clock_start_tsc = rdtsc();
    if (read)
        start_date = host_date(&c);
    kprintf("vm clocks: start at %04u-%02u-%02u %02u:%02u:%02u (%s)\n", start_date.year,
            start_date.month, start_date.day, start_date.hour, start_date.min, start_date.sec,
            read ? "the host's RTC" : "the host's RTC does not settle: a fixed date");
    clock_started = true;
}

uint64_t platform_clock_ticks(uint64_t hz)
{
    uint64_t now = rdtsc();
    /* another CPU's TSC may lag the one that started the clock a little */
    uint64_t elapsed = now > clock_start_tsc ? now - clock_start_tsc : 0;
    return vclock_scale(elapsed, tsc_khz() * 1000, hz);
}

void firmware_power_on(struct vm *vm)
{
    if (!clock_started)
        start_platform_clock();
    /* The start date is the time at platform clock 0: the RTC catches up
     * on its first access. */
    rtc_reset(&vm->rtc, &start_date, 0);
}

bool firmware_boot(struct vm *vm)
{
    /* 4 KiB hold the tables for ACPI_MAX_VCPUS; VMs boot (are created or
     * reset) one at a time (virt/vm.c's vm_boot), so one buffer serves
     * them all. */
    static uint8_t tables[4096];
    _Static_assert(sizeof(tables) <= GUEST_ACPI_END - GUEST_ACPI_GPA, "tables past the BIOS area");
    size_t len = acpi_build_tables(tables, sizeof(tables), GUEST_ACPI_GPA, vm->config.vcpus);
    if (!len || !guest_mem_write(vm, GUEST_ACPI_GPA, tables, len))
        return false;
    len = smbios_build(tables, sizeof(tables), GUEST_SMBIOS_GPA);
    if (!len || !guest_mem_write(vm, GUEST_SMBIOS_GPA, tables, len))
        return false;
    spin_lock(&vm->platform_lock);
    uint64_t low = guest_low_ram_end(vm->ram_size);
    rtc_set_memory_sizes(&vm->rtc, low, vm->ram_size - low);
    spin_unlock(&vm->platform_lock);
    return true;
}
