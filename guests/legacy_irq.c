/* The PC's legacy timer and interrupt controllers as firmware and an OS use
 * them: the 8254's channel 0 as a 1 kHz rate generator whose IRQ 0 arrives
 * through the I/O APIC (pin 2, as the MADT's override says) and through
 * the 8259 pair (LINT0 in ExtINT mode, or the local APIC disabled), with
 * EOIs and masks; channel 2 timed through port 0x61 against the TSC, as
 * firmware calibrates it (arch/tsc.c runs here unchanged). Rates are
 * checked against the TSC rate CPUID leaf 0x15 reports, with bounds loose
 * enough for an emulator. Prints one "legacy_irq: CHECK: ok|FAIL ..." line
 * per check; the status is the number of failures. */
#include "guests/runtime/guest.h"
#include "arch/interrupts.h"
#include "arch/lapic.h"
#include "arch/msr.h"
#include "arch/tsc.h"

#define IOAPIC_BASE     0xfec00000ull
#define IOAPIC_REDIR(pin) (0x10 + 2 * (pin))
#define IOAPIC_MASKED   (1u << 16)
#define PIT_GSI         2
#define PIT_HZ          1193182ull
#define PIT_COUNT       1193u       /* 1000.15 Hz */
#define PIT_CH0         0x40
#define PIT_MODE        0x43
#define PIC_MASTER      0x20
#define PIC_SLAVE       0xa0
#define PIC_EOI         0x20
#define IOAPIC_VECTOR   0x50
#define PIC_BASE        0x60        /* IRQ 0-7 at 0x60, 8-15 at 0x68 */
#define LINT0_EXTINT    (7u << 8)
#define LVT_MASKED      (1u << 16)
#define RUN_MS          60

static volatile uint32_t ticks;
static volatile bool pic_eoi = true;
static uint64_t tsc_hz;
static bool shared;     /* command line "shared": another VM competes for the CPU */
static int failures;

static void report(const char *name, bool ok, const char *detail)
{
    failures += check_detail("legacy_irq", name, ok, detail);
}

static void ioapic_write(uint32_t reg, uint32_t value)
{
    *(volatile uint32_t *)IOAPIC_BASE = reg;
    *(volatile uint32_t *)(IOAPIC_BASE + 0x10) = value;
}

static uint32_t ioapic_read(uint32_t reg)
{
    *(volatile uint32_t *)IOAPIC_BASE = reg;
    return *(volatile uint32_t *)(IOAPIC_BASE + 0x10);
}

static void tick(struct trap_frame *frame)
{
    (void)frame;
    ticks++;
}

static void pic_tick(struct trap_frame *frame)
{
    (void)frame;
    ticks++;
    if (pic_eoi)
        outb(PIC_MASTER, PIC_EOI);
}

/* Channel 0 in mode 2 (rate generator), lobyte/hibyte. */
static void pit_periodic(uint16_t count)
{
    outb(PIT_MODE, 0x34);
    outb(PIT_CH0, count & 0xff);
    outb(PIT_CH0, count >> 8);
}

/* Counts interrupts for `ms` of TSC time, halted or spinning between
 * them; returns how many the PIT should have raised meanwhile. Halted, the
 * APIC timer (where the APIC is enabled) wakes it at the end anyway. */
static uint64_t count_for(uint32_t ms, bool sleep, uint32_t *counted)
{
    uint32_t before = ticks;
    uint64_t start = rdtsc(), end = start + tsc_hz * ms / 1000;
    if (sleep && (rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ENABLE))
        lapic_timer_arm(end);
    irq_enable();
    while (rdtsc() < end) {
        if (sleep)
            halt();
        else
            cpu_relax();
    }
    irq_disable();
    *counted = ticks - before;
    return (rdtsc() - start) * PIT_HZ / PIT_COUNT / tsc_hz;
}

/* Ticks missed while the vCPU waits for its CPU coalesce: with another VM
 * on its CPU it sees only some of them (all when halted once the fair
 * scheduler's sleeper credit lets it preempt at once, not before). Never
 * more than expected, but for one already pending and the rounding. */
static void check_rate(const char *name, uint32_t ms, bool sleep)
{
    char detail[100];
    uint32_t counted;
    uint64_t expected = count_for(ms, sleep, &counted);
    uint64_t least = shared ? expected / 2 : expected * 9 / 10;
    snprintf(detail, sizeof(detail), "(%u interrupts in %u ms, %lu expected)", counted, ms,
             expected);
    report(name, counted >= least && counted <= expected + 2, detail);
}

/* One interrupt may have been accepted before the mask: it is let in first. */
static void check_silent(const char *name, uint32_t ms)
{
    char detail[60];
    uint32_t counted;
    count_for(2, false, &counted);
    count_for(ms, false, &counted);
    snprintf(detail, sizeof(detail), "(%u interrupts in %u ms)", counted, ms);
    report(name, counted == 0, detail);
}

static void through_ioapic(void)
{
    char detail[80];
    uint32_t version = ioapic_read(1);
    snprintf(detail, sizeof(detail), "(version register 0x%x, pin 2 0x%x)", version,
             ioapic_read(IOAPIC_REDIR(PIT_GSI)));
    report("ioapic version, entries masked at reset",
           version == 0x00170011 && ioapic_read(IOAPIC_REDIR(PIT_GSI)) == IOAPIC_MASKED, detail);
    ioapic_write(IOAPIC_REDIR(PIT_GSI) + 1, 0);             /* physical, APIC 0 */
    ioapic_write(IOAPIC_REDIR(PIT_GSI), IOAPIC_VECTOR);     /* fixed, edge */
    pit_periodic(PIT_COUNT);
    check_rate("pit 1 kHz through the ioapic, halted", RUN_MS, true);
    check_rate("pit 1 kHz through the ioapic, spinning", RUN_MS, false);
    ioapic_write(IOAPIC_REDIR(PIT_GSI), IOAPIC_VECTOR | IOAPIC_MASKED);
    check_silent("masked ioapic pin: no interrupts", 20);
}

static void pic_init(void)
{
    outb(PIC_MASTER, 0x11);         /* ICW1: edge, cascade, ICW4 */
    outb(PIC_MASTER + 1, PIC_BASE);
    outb(PIC_MASTER + 1, 0x04);     /* slave on IR2 */
    outb(PIC_MASTER + 1, 0x01);     /* 8086 mode */
    outb(PIC_SLAVE, 0x11);
    outb(PIC_SLAVE + 1, PIC_BASE + 8);
    outb(PIC_SLAVE + 1, 0x02);
    outb(PIC_SLAVE + 1, 0x01);
    outb(PIC_SLAVE + 1, 0xff);
}

static void through_pic(void)
{
    char detail[80];
    pic_init();
    outb(PIC_MASTER + 1, 0xfe);     /* IRQ 0 only */
    lapic_write(APIC_REG_LVT_LINT0, LINT0_EXTINT);
    check_rate("pit 1 kHz through the 8259 (LINT0 ExtINT), halted", RUN_MS, true);

    /* Without an EOI the 8259 holds back IRQ 0 behind the one in service. */
    pic_eoi = false;
    uint32_t counted;
    count_for(20, false, &counted);
    outb(PIC_MASTER, 0x0b);         /* OCW3: read ISR */
    uint8_t isr = inb(PIC_MASTER);
    outb(PIC_MASTER, PIC_EOI);
    pic_eoi = true;
    uint32_t after;
    count_for(20, false, &after);
    snprintf(detail, sizeof(detail), "(%u without EOI, ISR 0x%x, %u after it)", counted, isr,
             after);
    report("8259: no EOI, no further interrupt", counted == 1 && isr == 1 && after > 5, detail);

    outb(PIC_MASTER + 1, 0xff);
    check_silent("8259 mask: no interrupts", 20);
    outb(PIC_MASTER + 1, 0xfe);
    lapic_write(APIC_REG_LVT_LINT0, LINT0_EXTINT | LVT_MASKED);
    check_silent("lint0 masked: no 8259 interrupts", 20);

    /* A disabled local APIC leaves INTR wired straight to the CPU. */
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    wrmsr(MSR_IA32_APIC_BASE, base & ~APIC_BASE_ENABLE);
    check_rate("pit 1 kHz through the 8259, local apic disabled", RUN_MS, true);
    wrmsr(MSR_IA32_APIC_BASE, base);
    lapic_init_cpu();
    outb(PIC_MASTER + 1, 0xff);
}

/* Firmware's TSC calibration: channel 2 one-shot, OUT2 polled in port
 * 0x61 (arch/tsc.c, the hypervisor's own). */
static void calibration(void)
{
    char detail[80];
    uint64_t khz = tsc_calibrate();
    uint64_t want = tsc_hz / 1000;
    snprintf(detail, sizeof(detail), "(%lu kHz measured, cpuid says %lu kHz)", khz, want);
    report("pit channel 2 calibrates the tsc", khz > want * 97 / 100 && khz < want * 103 / 100,
           detail);
}

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    (void)vcpu;
    (void)vcpus;
    shared = cmdline_has(cmdline, "shared");
    guest_interrupts_init(false);
    interrupt_register(IOAPIC_VECTOR, tick);
    interrupt_register(PIC_BASE, pic_tick);
    tsc_hz = cpuid(0x15, 0).ecx;
    if (!tsc_hz) {
        report("cpuid 0x15 gives the tsc rate", false, "");
        return failures;
    }
    calibration();
    through_ioapic();
    through_pic();
    printf("legacy_irq: done, %d failures\n", failures);
    return failures;
}
