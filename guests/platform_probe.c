/* The PC platform as an OS finds it: the ACPI tables (RSDP found by scanning
 * the BIOS area, checksums, XSDT -> MADT, FADT, DSDT's \_S5), QEMU's fw_cfg,
 * the PM timer's rate against the TSC, the CMOS clock (UIP, advancing
 * seconds, register D, NVRAM) and the empty PCI configuration space; then
 * it powers the VM off through PM1a_CNT with the DSDT's SLP_TYP, as an OS
 * shuts down. Prints "platform_probe: CHECK: ok|FAIL ..." lines; any
 * failure ends it through the exit hypercall instead, with the number of
 * failures.
 * Command line: the VM's RAM in MiB first (compared with fw_cfg); then
 * "reset-cf9" or "reset-kbc" to skip the probe and reset the VM through the
 * reset control register or the keyboard controller. */
#include "guests/runtime/guest.h"

#define BIOS_AREA       0xe0000ul
#define BIOS_AREA_END   0x100000ul
#define FW_CFG_CTL      0x510
#define FW_CFG_DATA     0x511
#define CMOS_INDEX      0x70
#define CMOS_DATA       0x71
#define PCI_CONFIG_ADDR 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define RESET_PORT      0xcf9
#define KBC_CMD         0x64
#define PM_TIMER_HZ     3579545ull
#define PM_TIMER_MASK   0xffffffu
#define SLP_EN          (1u << 13)
#define SLP_TYP_SHIFT   10
#define QEMU_S3_SLP_TYP 1
#define CMOS_UIP        0x80
#define CMOS_B_BINARY   0x04
#define CMOS_B_24H      0x02

static int failures;

static void report(const char *name, bool ok, const char *detail)
{
    failures += check_detail("platform_probe", name, ok, detail);
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static uint8_t sum(const uint8_t *p, size_t len)
{
    uint8_t s = 0;
    while (len--)
        s = (uint8_t)(s + *p++);
    return s;
}

static uint64_t tsc_hz(void)
{
    struct cpuid_regs r = cpuid(0x15, 0);
    return r.eax ? (uint64_t)r.ecx * r.ebx / r.eax : 0;
}

/* --- ACPI ------------------------------------------------------------ */

struct acpi {
    const uint8_t *xsdt, *madt, *fadt, *dsdt;
    uint16_t pm_timer, pm1a_cnt;
    int slp_typ_s5;             /* -1: not found */
};

/* As an OS does (ACPI 6.4 5.2.5.1): a 16-byte-aligned "RSD PTR " whose
 * first 20 bytes sum to 0. */
static const uint8_t *find_rsdp(void)
{
    for (uintptr_t p = BIOS_AREA; p < BIOS_AREA_END; p += 16)
        if (!memcmp((const void *)p, "RSD PTR ", 8) && !sum((const uint8_t *)p, 20))
            return (const uint8_t *)p;
    return NULL;
}

static bool table_ok(const uint8_t *t)
{
    return t && get32(t + 4) >= 36 && !sum(t, get32(t + 4));
}

/* The value of \_S5's first package element in the DSDT's AML:
 * NameOp "_S5_" PackageOp PkgLength NumElements (BytePrefix b | Zero | One). */
static int find_s5(const uint8_t *dsdt)
{
    uint32_t len = get32(dsdt + 4);
    for (uint32_t i = 36; i + 9 <= len; i++) {
        const uint8_t *a = dsdt + i;
        if (a[0] != 0x08 || memcmp(a + 1, "_S5_", 4) || a[5] != 0x12)
            continue;
        const uint8_t *e = a + 8;       /* one-byte PkgLength, NumElements */
        return e[0] == 0x0a ? e[1] : e[0] <= 1 ? e[0] : -1;
    }
    return -1;
}

static bool probe_acpi(struct acpi *acpi, uint32_t vcpus)
{
    char detail[96];
    const uint8_t *rsdp = find_rsdp();
    report("rsdp found by scanning the BIOS area", rsdp && rsdp[15] >= 2 && !sum(rsdp, 36), "");
    if (!rsdp)
        return false;
    acpi->xsdt = (const uint8_t *)(uintptr_t)get64(rsdp + 24);
    bool sums = table_ok(acpi->xsdt) && !memcmp(acpi->xsdt, "XSDT", 4);
    unsigned entries = sums ? (get32(acpi->xsdt + 4) - 36) / 8 : 0;
    for (unsigned i = 0; i < entries; i++) {
        const uint8_t *t = (const uint8_t *)(uintptr_t)get64(acpi->xsdt + 36 + 8 * i);
        sums &= table_ok(t);
        if (!memcmp(t, "APIC", 4))
            acpi->madt = t;
        else if (!memcmp(t, "FACP", 4))
            acpi->fadt = t;
    }
    if (acpi->fadt) {
        acpi->dsdt = (const uint8_t *)(uintptr_t)get64(acpi->fadt + 140);
        sums &= table_ok(acpi->dsdt) && !memcmp(acpi->dsdt, "DSDT", 4);
    }
    report("xsdt, madt, fadt and dsdt checksums", sums && acpi->madt && acpi->fadt, "");
    if (!sums || !acpi->madt || !acpi->fadt)
        return false;

    uint32_t enabled = 0, in_order = 0, len = get32(acpi->madt + 4);
    bool ioapic = false;
    for (uint32_t off = 44; off + 2 <= len && acpi->madt[off + 1]; off += acpi->madt[off + 1]) {
        const uint8_t *e = acpi->madt + off;
        if (e[0] == 0 && get32(e + 4) & 1) {
            in_order += e[3] == enabled;    /* APIC ID = vCPU number */
            enabled++;
        } else if (e[0] == 1) {
            ioapic = get32(e + 4) == 0xfec00000u;
        }
    }
    snprintf(detail, sizeof(detail), "(%u enabled, %u vCPUs)", enabled, vcpus);
    report("madt: one enabled local apic per vcpu, and the ioapic",
           enabled == vcpus && in_order == vcpus && ioapic, detail);

    /* The X_ forms where set, as an OS prefers them (ACPI 5.2.9). */
    const uint8_t *f = acpi->fadt;
    acpi->pm_timer = (uint16_t)(get64(f + 212) ? get64(f + 212) : get32(f + 76));
    acpi->pm1a_cnt = (uint16_t)(get64(f + 176) ? get64(f + 176) : get32(f + 64));
    snprintf(detail, sizeof(detail), "(PM_TMR 0x%x, PM1a_CNT 0x%x, SCI %u)", acpi->pm_timer,
             acpi->pm1a_cnt, f[46] | f[47] << 8);
    report("fadt: pm timer, pm1a control, sci", acpi->pm_timer == 0x608 &&
           acpi->pm1a_cnt == 0x604 && f[91] == 4 && (f[46] | f[47] << 8) == 9, detail);
    acpi->slp_typ_s5 = find_s5(acpi->dsdt);
    snprintf(detail, sizeof(detail), "(SLP_TYP %d)", acpi->slp_typ_s5);
    report("dsdt: \\_S5 package", acpi->slp_typ_s5 >= 0 && acpi->slp_typ_s5 < 8, detail);
    return acpi->slp_typ_s5 >= 0;
}

/* --- fw_cfg ---------------------------------------------------------- */

static uint64_t fw_cfg_read(uint16_t key, unsigned len)
{
    outw(FW_CFG_CTL, key);
    uint64_t v = 0;
    for (unsigned i = 0; i < len; i++)
        v |= (uint64_t)inb(FW_CFG_DATA) << (8 * i);
    return v;
}

static void probe_fw_cfg(uint32_t vcpus, uint64_t ram_mib)
{
    char detail[96];
    uint32_t signature = (uint32_t)fw_cfg_read(0x0000, 4);
    uint32_t id = (uint32_t)fw_cfg_read(0x0001, 4);
    uint32_t files = (uint32_t)fw_cfg_read(0x0019, 4);
    uint8_t past_end = (uint8_t)(fw_cfg_read(0x0000, 5) >> 32);   /* the byte after "QEMU" */
    report("fw_cfg signature, id and file directory",
           !memcmp(&signature, "QEMU", 4) && id == 1 && files == 0 && past_end == 0, "");
    uint64_t cpus = fw_cfg_read(0x0005, 2), max_cpus = fw_cfg_read(0x000f, 2);
    uint64_t ram = fw_cfg_read(0x0003, 8);
    snprintf(detail, sizeof(detail), "(%lu CPUs, max %lu, %lu MiB)", cpus, max_cpus, ram >> 20);
    report("fw_cfg cpu count and ram size",
           cpus == vcpus && max_cpus == vcpus && ram == ram_mib << 20, detail);
}

/* --- PM timer --------------------------------------------------------- */

#define TIGHT_READ_CYCLES 20000      /* a port exit's round trip is well below this */

/* A PM timer read and the TSC at its middle, retried until no wait for the
 * CPU came in between (this vCPU may share its CPU): a sample to compare
 * the two clocks with. */
static uint32_t pm_timer_sample(uint16_t port, uint64_t *tsc)
{
    for (;;) {
        uint64_t before = rdtsc();
        uint32_t value = inl(port);
        uint64_t after = rdtsc();
        if (after - before < TIGHT_READ_CYCLES) {
            *tsc = before + (after - before) / 2;
            return value;
        }
    }
}

/* Over a tenth of a second or more of TSC: the PM timer's ticks must be
 * within 5% of what the TSC says, the bits above 24 clear, and successive
 * reads never go backwards (mod 2^24: a step back shows as one of more than
 * half the range). */
static void probe_pm_timer(uint16_t port, uint64_t hz)
{
    char detail[96];
    uint64_t start, end;
    uint32_t raw = pm_timer_sample(port, &start), last = raw & PM_TIMER_MASK;
    uint64_t ticks = 0;
    bool forward = true, high_clear = true;
    do {
        raw = pm_timer_sample(port, &end);
        uint32_t now = raw & PM_TIMER_MASK, step = (now - last) & PM_TIMER_MASK;
        high_clear &= raw >> 24 == 0;
        forward &= step < (1u << 23);
        ticks += step;
        last = now;
    } while (end - start < hz / 10);
    uint64_t expected = hz ? (end - start) * PM_TIMER_HZ / hz : 0;
    snprintf(detail, sizeof(detail), "(%lu ticks, %lu expected from the TSC)", ticks, expected);
    report("pm timer runs at 3.579545 MHz",
           hz && forward && high_clear && ticks * 100 >= expected * 95 &&
               ticks * 100 <= expected * 105, detail);
}

/* --- CMOS ------------------------------------------------------------- */

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

static unsigned decode(uint8_t v, uint8_t b)
{
    return b & CMOS_B_BINARY ? v : (v >> 4) * 10 + (v & 15);
}

/* Seconds since midnight, read the way Linux does: after UIP has cleared. */
static bool read_clock(unsigned *seconds)
{
    for (unsigned polls = 0; cmos_read(0x0a) & CMOS_UIP; polls++)
        if (polls > 100000)
            return false;
    uint8_t b = cmos_read(0x0b);
    unsigned h = decode(cmos_read(0x04) & 0x7f, b);
    if (!(b & CMOS_B_24H))
        h = h % 12 + (cmos_read(0x04) & 0x80 ? 12 : 0);
    *seconds = h * 3600 + decode(cmos_read(0x02), b) * 60 + decode(cmos_read(0x00), b);
    return true;
}

static void probe_cmos(uint64_t hz)
{
    char detail[96];
    unsigned before, after;
    bool read = read_clock(&before);
    uint64_t start = rdtsc();
    while (rdtsc() - start < hz + hz / 10)      /* 1.1 s */
        cpu_relax();
    read &= read_clock(&after);
    unsigned delta = (after + 86400 - before) % 86400;
    snprintf(detail, sizeof(detail), "(advanced %u s)", delta);
    report("cmos clock advances 1-2 s across 1.1 s", read && delta >= 1 && delta <= 2, detail);

    /* UIP must rise before an update and fall soon after, with the
     * seconds moved on. Its window is 244 us, a few polls: allow three
     * updates in case this vCPU waits for its CPU across one. Polling
     * cannot see a window shorter than two reads: where a read costs that
     * much (a VM of a VM: each is a nested exit), the check says so. */
    report("cmos register d valid, base memory 640K",
           cmos_read(0x0d) == 0x80 && (cmos_read(0x15) | cmos_read(0x16) << 8) == 640, "");
    const char *uip_check = "cmos uip rises before an update and falls after";
    /* The cost of a read: the least of a few batches, since this vCPU may
     * wait for its CPU across one of them. */
    const unsigned reads = 8, batches = 4;
    uint64_t per_read = UINT64_MAX, uip_window = hz / 1000000 * 244;
    for (unsigned b = 0; b < batches; b++) {
        start = rdtsc();
        for (unsigned i = 0; i < reads; i++)
            (void)cmos_read(0x0a);
        uint64_t batch = (rdtsc() - start) / reads;
        if (batch < per_read)
            per_read = batch;
    }
    if (2 * per_read > uip_window) {
        printf("platform_probe: %s: skipped (a read takes %lu cycles, UIP lasts %lu)\n",
               uip_check, (unsigned long)per_read, (unsigned long)uip_window);
        return;
    }
    unsigned sec_before = cmos_read(0x00);
    bool rose = false, fell = false;
    start = rdtsc();
    while (rdtsc() - start < 3 * hz) {
        bool uip = cmos_read(0x0a) & CMOS_UIP;
        rose |= uip;
        if (rose && !uip) {
            fell = true;
            break;
        }
    }
    report(uip_check, rose && fell && cmos_read(0x00) != sec_before, "");
}

/* --- PCI, power off, resets --------------------------------------------- */

static void probe_pci(void)
{
    outl(PCI_CONFIG_ADDR, 0x80000000u);
    uint32_t latched = inl(PCI_CONFIG_ADDR);
    uint32_t vendor = inl(PCI_CONFIG_DATA);
    report("pci: 0xcf8 latches, 0xcfc reads all-ones", latched == 0x80000000u &&
           vendor == 0xffffffffu, "");
}

static void reset_through_cf9(void)
{
    printf("platform_probe: resetting through 0xcf9\n");
    outb(RESET_PORT, 0x02);
    outb(RESET_PORT, 0x06);
}

static void reset_through_kbc(void)
{
    printf("platform_probe: resetting through the keyboard controller\n");
    for (unsigned i = 0; i < 0x10000 && inb(KBC_CMD) & 0x02; i++)
        ;
    outb(KBC_CMD, 0xfe);
}

int guest_main(uint32_t vcpu, uint32_t vcpus, const char *cmdline)
{
    if (vcpu != 0)
        cpu_halt_forever();     /* they only have to be there, for the MADT */
    if (cmdline_has(cmdline, "sleep")) {
        /* S3 as QEMU's DSDT numbers it (SLP_TYP 1), which this platform
         * does not offer: the VM must end, not leave us waiting. */
        struct acpi acpi = { 0 };
        if (!probe_acpi(&acpi, vcpus))
            return 1;
        unsigned typ = acpi.slp_typ_s5 == QEMU_S3_SLP_TYP ? QEMU_S3_SLP_TYP + 1 : QEMU_S3_SLP_TYP;
        printf("platform_probe: asking for sleep with SLP_TYP %u\n", typ);
        outw(acpi.pm1a_cnt, (uint16_t)(typ << SLP_TYP_SHIFT | SLP_EN));
        report("an unsupported sleep state ends the VM", false, "(still running)");
        return failures;
    }
    if (cmdline_has(cmdline, "reset-cf9") || cmdline_has(cmdline, "reset-kbc")) {
        if (cmdline_has(cmdline, "reset-cf9"))
            reset_through_cf9();
        else
            reset_through_kbc();
        report("reset ends the VM", false, "(still running)");
        return failures;
    }
    uint64_t hz = tsc_hz();
    struct acpi acpi = { 0 };
    bool tables = probe_acpi(&acpi, vcpus);
    probe_fw_cfg(vcpus, cmdline_number(cmdline, 0));
    if (tables)
        probe_pm_timer(acpi.pm_timer, hz);
    probe_cmos(hz);
    probe_pci();
    printf("platform_probe: %d failure(s)\n", failures);
    if (failures || !tables)
        return failures ? failures : 1;
    outw(acpi.pm1a_cnt, (uint16_t)(acpi.slp_typ_s5 << SLP_TYP_SHIFT | SLP_EN));
    report("power off through pm1a_cnt", false, "(still running)");
    return failures;
}
