/* The VM's ACPI tables (ACPI 6.4, chapter 5.2). Every multi-byte field is
 * little-endian; tables are written by offset, as the spec's tables list
 * them, rather than through packed structs. */
#include "loader/acpi.h"
#include "dev/platform.h"
#include "lib/checksum.h"
#include "lib/le.h"
#include "lib/string.h"

#define OEM_ID          "VMXVSR"        /* 6 characters */
#define OEM_TABLE_ID    "VMXVISOR"      /* 8 characters */
#define CREATOR_ID      "VMXV"
#define HEADER_LEN      36              /* ACPI 5.2.6 System Description Table Header */
#define RSDP_LEN        36              /* ACPI 5.2.5.3: revision 2 layout */
#define RSDP_V1_LEN     20              /* the part the first checksum covers */
#define FACS_LEN        64
#define FACS_ALIGN      64              /* ACPI 5.2.10: "aligned on a 64-byte boundary" */
#define FADT_LEN        276             /* ACPI 5.2.9 FADT Format, major version 6 */
#define TABLE_ALIGN     16
#define SDT_ENTRIES     2               /* RSDT/XSDT list the FADT and the MADT */

/* ACPI 5.2.12 MADT: the fixed part, then interrupt controller structures. */
#define MADT_FIXED_LEN  44
#define MADT_PCAT_COMPAT 1u             /* a dual 8259 is present too */
#define MADT_LAPIC      0               /* ACPI 5.2.12.2 Processor Local APIC */
#define MADT_LAPIC_LEN  8
#define MADT_LAPIC_ENABLED 1u
#define MADT_IOAPIC     1               /* ACPI 5.2.12.3 I/O APIC */
#define MADT_IOAPIC_LEN 12
#define MADT_ISO        2               /* ACPI 5.2.12.5 Interrupt Source Override */
#define MADT_ISO_LEN    10
#define MADT_LAPIC_NMI  4               /* ACPI 5.2.12.7 Local APIC NMI */
#define MADT_LAPIC_NMI_LEN 6
#define MADT_ALL_PROCESSORS 0xff
#define MPS_INTI_CONFORMS 0x0           /* ACPI 5.2.12.5 MPS INTI flags: polarity, trigger */
#define MPS_INTI_ACTIVE_HIGH 0x1
#define MPS_INTI_LEVEL  (0x3 << 2)
#define ISA_BUS         0
#define LINT1           1

/* ACPI 5.2.9 Fixed ACPI Description Table Fixed Feature Flags. */
#define FADT_WBINVD         (1u << 0)   /* WBINVD flushes caches correctly */
#define FADT_PROC_C1        (1u << 2)   /* C1 (HLT) works on every processor */
#define FADT_SLP_BUTTON     (1u << 5)   /* no fixed-feature sleep button */
#define FADT_RESET_REG_SUP  (1u << 10)  /* RESET_REG below is valid */
/* ACPI 5.2.9.3 IA-PC Boot Architecture Flags: legacy (ISA) devices
 * such as the RTC and 8259 are there; no 8042 (the OS must not probe one);
 * no VGA. */
#define BOOT_LEGACY_DEVICES (1u << 0)
#define BOOT_VGA_NOT_PRESENT (1u << 2)
#define FADT_PM1_EVT_LEN    4           /* status and enable, 16 bits each */
#define FADT_PM1_CNT_LEN    2
#define FADT_PM_TMR_LEN     4
#define FADT_NO_C2          101         /* P_LVL2_LAT > 100: C2 not supported */
#define FADT_NO_C3          1001        /* P_LVL3_LAT > 1000: C3 not supported */
#define CMOS_CENTURY_INDEX  0x32        /* where our RTC keeps the century */
#define RESET_VALUE         0x06        /* RST_CPU | SYS_RST: a hard reset through 0xcf9 */

/* ACPI 5.2.3.2 Generic Address Structure: address space and access size. */
#define GAS_SYSTEM_IO       1
#define GAS_ACCESS_BYTE     1
#define GAS_ACCESS_WORD     2
#define GAS_ACCESS_DWORD    3

/*
 * The DSDT's AML (ACPI 6.4 chapter 20, the AML grammar): one object,
 *   Name (_S5, Package (4) { SLP_TYP, SLP_TYP, 0, 0 })
 * which tells the OS what to write to PM1a_CNT.SLP_TYP/PM1b_CNT.SLP_TYP for
 * soft-off (ACPI 7.4.2 \_Sx System States: SLP_TYPa, SLP_TYPb, two reserved).
 */
_Static_assert(PLATFORM_S5_SLP_TYP < 8, "SLP_TYP is a 3-bit field");
static const uint8_t dsdt_aml[] = {
    0x08,                       /* NameOp: DefName := NameOp NameString DataRefObject
                                 * (ACPI 20.2.5.1) */
    '_', 'S', '5', '_',         /* NameSeg "_S5_": the DSDT's names are in the root scope */
    0x12,                       /* PackageOp: DefPackage := PackageOp PkgLength NumElements
                                 * PackageElementList (ACPI 20.2.5.4) */
    0x08,                       /* PkgLength, one byte (bits 7:6 = 0): the 8 bytes from here
                                 * to the end of the package, itself included (ACPI 20.2.4) */
    0x04,                       /* NumElements */
    0x0a, PLATFORM_S5_SLP_TYP,  /* BytePrefix ByteData: SLP_TYPa (ACPI 20.2.3 ByteConst) */
    0x0a, PLATFORM_S5_SLP_TYP,  /* SLP_TYPb (there is no PM1b block; the OS writes it anyway) */
    0x00,                       /* ZeroOp: reserved */
    0x00,                       /* ZeroOp: reserved */
};

/* Table space inside the caller's buffer; `gpa` is where byte 0 will be. */
struct space {
    uint8_t *buf;
    size_t size, used;
    uint64_t gpa;
};

/* Reserves `len` zeroed bytes at the next `align` boundary; NULL if they
 * do not fit. */
static uint8_t *reserve(struct space *s, size_t len, size_t align)
{
    size_t at = (s->used + align - 1) & ~(align - 1);
    if (at > s->size || len > s->size - at)
        return NULL;
    s->used = at + len;
    memset(s->buf + at, 0, len);
    return s->buf + at;
}

/* Where a reserved table will be in guest-physical memory (the tables lie
 * below 1 MiB: 32-bit pointers hold it). */
static uint32_t gpa_of(const struct space *s, const uint8_t *table)
{
    return (uint32_t)(s->gpa + (uint64_t)(table - s->buf));
}

/* ACPI 5.2.6: the header; the checksum (offset 9) is set last, by seal(). */
static void header(uint8_t *t, const char *signature, uint32_t len, uint8_t revision)
{
    memcpy(t, signature, 4);
    le_put(t + 4, len, 4);
    t[8] = revision;
    memcpy(t + 10, OEM_ID, 6);
    memcpy(t + 16, OEM_TABLE_ID, 8);
    le_put(t + 24, 1, 4);               /* OEM revision */
    memcpy(t + 28, CREATOR_ID, 4);
    le_put(t + 32, 1, 4);               /* creator revision */
}

static void seal(uint8_t *t, uint32_t len)
{
    t[9] = (uint8_t)-byte_sum(t, len);
}

static void gas(uint8_t *p, uint8_t bit_width, uint8_t access_size, uint64_t port)
{
    p[0] = GAS_SYSTEM_IO;
    p[1] = bit_width;
    p[2] = 0;                           /* bit offset */
    p[3] = access_size;
    le_put(p + 4, port, 8);
}

static void build_facs(uint8_t *t)
{
    memcpy(t, "FACS", 4);               /* ACPI 5.2.10: no checksum, no standard header */
    le_put(t + 4, FACS_LEN, 4);
    t[32] = 2;                          /* version */
}

static void build_dsdt(uint8_t *t, uint32_t len)
{
    header(t, "DSDT", len, 2);          /* revision 2: integers are 64 bits */
    memcpy(t + HEADER_LEN, dsdt_aml, sizeof(dsdt_aml));
    seal(t, len);
}

/* ACPI 5.2.9 FADT Format, with the 32-bit and the X_ (64-bit) forms of every
 * address agreeing, so the OS may use either. SMI_CMD is 0: there is no SMM
 * to hand over from, ACPI mode is on from the start (SCI_EN reads 1). */
static void build_fadt(uint8_t *t, uint32_t facs, uint32_t dsdt)
{
    header(t, "FACP", FADT_LEN, 6);
    le_put(t + 36, facs, 4);            /* FIRMWARE_CTRL */
    le_put(t + 40, dsdt, 4);
    le_put(t + 46, PLATFORM_ACPI_SCI_IRQ, 2);
    le_put(t + 56, PLATFORM_ACPI_PM_BASE, 4);   /* PM1a_EVT_BLK */
    le_put(t + 64, PLATFORM_ACPI_PM1_CNT, 4);   /* PM1a_CNT_BLK */
    le_put(t + 76, PLATFORM_ACPI_PM_TMR, 4);    /* PM_TMR_BLK */
    t[88] = FADT_PM1_EVT_LEN;
    t[89] = FADT_PM1_CNT_LEN;
    t[91] = FADT_PM_TMR_LEN;
    le_put(t + 96, FADT_NO_C2, 2);
    le_put(t + 98, FADT_NO_C3, 2);
    t[108] = CMOS_CENTURY_INDEX;
    le_put(t + 109, BOOT_LEGACY_DEVICES | BOOT_VGA_NOT_PRESENT, 2);
    le_put(t + 112, FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_RESET_REG_SUP, 4);
    gas(t + 116, 8, GAS_ACCESS_BYTE, PLATFORM_RESET_PORT);     /* RESET_REG (ACPI 4.8.3.6) */
    t[128] = RESET_VALUE;
    t[131] = 4;                         /* FADT minor version: ACPI 6.4 */
    le_put(t + 132, facs, 8);           /* X_FIRMWARE_CTRL */
    le_put(t + 140, dsdt, 8);           /* X_DSDT */
    gas(t + 148, FADT_PM1_EVT_LEN * 8, GAS_ACCESS_WORD, PLATFORM_ACPI_PM_BASE);
    gas(t + 172, FADT_PM1_CNT_LEN * 8, GAS_ACCESS_WORD, PLATFORM_ACPI_PM1_CNT);
    gas(t + 208, FADT_PM_TMR_LEN * 8, GAS_ACCESS_DWORD, PLATFORM_ACPI_PM_TMR);
    seal(t, FADT_LEN);
}

static uint32_t madt_len(uint32_t vcpus)
{
    return MADT_FIXED_LEN + vcpus * MADT_LAPIC_LEN + MADT_IOAPIC_LEN + 2 * MADT_ISO_LEN +
           MADT_LAPIC_NMI_LEN;
}

static uint8_t *madt_iso(uint8_t *p, uint8_t isa_irq, uint32_t gsi, uint16_t flags)
{
    p[0] = MADT_ISO;
    p[1] = MADT_ISO_LEN;
    p[2] = ISA_BUS;
    p[3] = isa_irq;
    le_put(p + 4, gsi, 4);
    le_put(p + 8, flags, 2);
    return p + MADT_ISO_LEN;
}

static void build_madt(uint8_t *t, uint32_t vcpus)
{
    uint32_t len = madt_len(vcpus);
    header(t, "APIC", len, 5);          /* revision 5: ACPI 6.3 and later */
    le_put(t + 36, (uint32_t)PLATFORM_LAPIC_GPA, 4);
    le_put(t + 40, MADT_PCAT_COMPAT, 4);
    uint8_t *p = t + MADT_FIXED_LEN;
    for (uint32_t i = 0; i < vcpus; i++, p += MADT_LAPIC_LEN) {
        p[0] = MADT_LAPIC;
        p[1] = MADT_LAPIC_LEN;
        p[2] = (uint8_t)i;              /* ACPI processor UID */
        p[3] = (uint8_t)i;              /* APIC ID: the vCPU number */
        le_put(p + 4, MADT_LAPIC_ENABLED, 4);
    }
    p[0] = MADT_IOAPIC;
    p[1] = MADT_IOAPIC_LEN;
    p[2] = PLATFORM_IOAPIC_ID;
    le_put(p + 4, (uint32_t)PLATFORM_IOAPIC_GPA, 4);
    le_put(p + 8, 0, 4);                /* its pins are GSIs 0.. */
    p += MADT_IOAPIC_LEN;
    /* As QEMU describes its PC: the PIT's IRQ 0 arrives on pin 2 (ISA's
     * edge/high, hence "conforms"); the SCI is level-triggered, active high. */
    p = madt_iso(p, PLATFORM_IRQ_PIT, PLATFORM_GSI_PIT, MPS_INTI_CONFORMS);
    p = madt_iso(p, PLATFORM_ACPI_SCI_IRQ, PLATFORM_ACPI_SCI_IRQ,
                 MPS_INTI_LEVEL | MPS_INTI_ACTIVE_HIGH);
    /* NMIs come in on every local APIC's LINT1, as on a PC. */
    p[0] = MADT_LAPIC_NMI;
    p[1] = MADT_LAPIC_NMI_LEN;
    p[2] = MADT_ALL_PROCESSORS;
    le_put(p + 3, MPS_INTI_CONFORMS, 2);
    p[5] = LINT1;
    seal(t, len);
}

/* ACPI 5.2.7 RSDT (32-bit entries) and ACPI 5.2.8 XSDT (64-bit entries). */
static void build_sdt(uint8_t *t, const char *signature, unsigned entry_size,
                      const uint32_t entries[SDT_ENTRIES])
{
    uint32_t len = HEADER_LEN + SDT_ENTRIES * entry_size;
    header(t, signature, len, 1);
    for (unsigned i = 0; i < SDT_ENTRIES; i++) {
        if (entry_size == 4)
            le_put(t + HEADER_LEN + i * 4, entries[i], 4);
        else
            le_put(t + HEADER_LEN + i * 8, entries[i], 8);
    }
    seal(t, len);
}

/* ACPI 5.2.5.3: the first checksum covers the ACPI 1.0 part, the extended one
 * the whole structure. */
static void build_rsdp(uint8_t *p, uint32_t rsdt, uint32_t xsdt)
{
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, OEM_ID, 6);
    p[15] = 2;                          /* revision: ACPI 2.0 and later */
    le_put(p + 16, rsdt, 4);
    le_put(p + 20, RSDP_LEN, 4);
    le_put(p + 24, xsdt, 8);
    p[8] = (uint8_t)-byte_sum(p, RSDP_V1_LEN);
    p[32] = (uint8_t)-byte_sum(p, RSDP_LEN);
}

size_t acpi_build_tables(uint8_t *buf, size_t size, uint64_t gpa, uint32_t vcpus)
{
    /* Alignment is kept relative to buf, so it must hold for gpa too; the
     * RSDT and FADT point with 32 bits. */
    if (vcpus == 0 || vcpus > ACPI_MAX_VCPUS || gpa % FACS_ALIGN || gpa + size > UINT32_MAX)
        return 0;
    struct space s = { .buf = buf, .size = size, .gpa = gpa };
    uint32_t dsdt_len = HEADER_LEN + sizeof(dsdt_aml);
    uint8_t *rsdp = reserve(&s, RSDP_LEN, TABLE_ALIGN);
    uint8_t *facs = reserve(&s, FACS_LEN, FACS_ALIGN);
    uint8_t *dsdt = reserve(&s, dsdt_len, TABLE_ALIGN);
    uint8_t *fadt = reserve(&s, FADT_LEN, TABLE_ALIGN);
    uint8_t *madt = reserve(&s, madt_len(vcpus), TABLE_ALIGN);
    uint8_t *rsdt = reserve(&s, HEADER_LEN + SDT_ENTRIES * 4, TABLE_ALIGN);
    uint8_t *xsdt = reserve(&s, HEADER_LEN + SDT_ENTRIES * 8, TABLE_ALIGN);
    if (!rsdp || !facs || !dsdt || !fadt || !madt || !rsdt || !xsdt)
        return 0;
    build_facs(facs);
    build_dsdt(dsdt, dsdt_len);
    build_fadt(fadt, gpa_of(&s, facs), gpa_of(&s, dsdt));
    build_madt(madt, vcpus);
    const uint32_t entries[SDT_ENTRIES] = { gpa_of(&s, fadt), gpa_of(&s, madt) };
    build_sdt(rsdt, "RSDT", 4, entries);
    build_sdt(xsdt, "XSDT", 8, entries);
    build_rsdp(rsdp, gpa_of(&s, rsdt), gpa_of(&s, xsdt));
    return s.used;
}
