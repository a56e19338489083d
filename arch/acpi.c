/* ACPI RSDP/RSDT/XSDT/MADT parsing (ACPI spec 6.x, 5.2.5 and 5.2.12). */
#include "arch/acpi.h"
#include "arch/paging.h"
#include "lib/checksum.h"
#include "lib/string.h"

struct __attribute__((packed)) rsdp {
    char signature[8];
    uint8_t checksum;
    char oem[6];
    uint8_t revision;
    uint32_t rsdt;
    uint32_t length;
    uint64_t xsdt;
    uint8_t ext_checksum, reserved[3];
};

struct __attribute__((packed)) sdt_header {
    char signature[4];
    uint32_t length;
    uint8_t revision, checksum;
    char oem[6], oem_table[8];
    uint32_t oem_revision, creator, creator_revision;
};

enum { MADT_LOCAL_APIC = 0, MADT_IOAPIC = 1, MADT_INT_OVERRIDE = 2, MADT_LOCAL_X2APIC = 9 };
#define MADT_CPU_ENABLED        1
#define MADT_CPU_ONLINE_CAPABLE 2

/* The RSDP is on a 16-byte boundary in the EBDA's first KiB or in
 * 0xe0000-0xfffff (ACPI 5.2.5.1) when the boot loader gave no copy. */
static const struct rsdp *scan_for_rsdp(void)
{
    uint64_t ebda = (uint64_t)*(const uint16_t *)phys_to_virt(0x40e) << 4;
    uint64_t areas[2][2] = { { ebda, ebda + 1024 }, { 0xe0000, 0x100000 } };
    for (int a = 0; a < 2; a++)
        for (uint64_t p = areas[a][0]; p && p < areas[a][1]; p += 16)
            if (!memcmp(phys_to_virt(p), "RSD PTR ", 8) && !byte_sum(phys_to_virt(p), 20))
                return phys_to_virt(p);
    return NULL;
}

static const struct sdt_header *find_table(const struct rsdp *rsdp, const char sig[4])
{
    bool use_xsdt = rsdp->revision >= 2 && rsdp->xsdt;
    const struct sdt_header *root = (const void *)(use_xsdt ? rsdp->xsdt : rsdp->rsdt);
    size_t entry_size = use_xsdt ? 8 : 4;
    size_t n = (root->length - sizeof(*root)) / entry_size;
    const uint8_t *entries = (const uint8_t *)(root + 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t addr = 0;
        memcpy(&addr, entries + i * entry_size, entry_size);
        const struct sdt_header *t = (const void *)addr;
        if (!memcmp(t->signature, sig, 4) && !byte_sum(t, t->length))
            return t;
    }
    return NULL;
}

static void add_cpu(struct host_topology *topo, uint32_t apic_id, uint32_t flags)
{
    if ((flags & (MADT_CPU_ENABLED | MADT_CPU_ONLINE_CAPABLE)) && topo->cpu_count < ACPI_MAX_CPUS)
        topo->apic_ids[topo->cpu_count++] = apic_id;
}

bool acpi_read_topology(uint64_t rsdp_hint, struct host_topology *topo, const char **why)
{
    memset(topo, 0, sizeof(*topo));
    for (uint32_t irq = 0; irq < 16; irq++)
        topo->isa_irq_to_gsi[irq] = irq;
    const struct rsdp *rsdp = rsdp_hint ? (const void *)rsdp_hint : scan_for_rsdp();
    if (!rsdp) {
        *why = "no ACPI RSDP found";
        return false;
    }
    const struct sdt_header *madt = find_table(rsdp, "APIC");
    if (!madt) {
        *why = "no valid ACPI MADT";
        return false;
    }
    const uint8_t *p = (const uint8_t *)madt + sizeof(*madt) + 8;  /* skip LAPIC addr, flags */
    const uint8_t *end = (const uint8_t *)madt + madt->length;
    while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
        uint32_t u32;
        switch (p[0]) {
        case MADT_LOCAL_APIC:
            memcpy(&u32, p + 4, 4);
            add_cpu(topo, p[3], u32);
            break;
        case MADT_LOCAL_X2APIC: {
            uint32_t id;
            memcpy(&id, p + 4, 4);
            memcpy(&u32, p + 8, 4);
            add_cpu(topo, id, u32);
            break;
        }
        case MADT_IOAPIC:
            if (!topo->ioapic_address) {
                memcpy(&u32, p + 4, 4);
                topo->ioapic_address = u32;
                memcpy(&topo->ioapic_gsi_base, p + 8, 4);
            }
            break;
        case MADT_INT_OVERRIDE:
            if (p[3] < 16) {
                uint16_t flags;
                memcpy(&u32, p + 4, 4);
                memcpy(&flags, p + 8, 2);
                topo->isa_irq_to_gsi[p[3]] = u32;
                topo->isa_irq_active_low[p[3]] = (flags & 3) == 3;
                topo->isa_irq_level[p[3]] = (flags >> 2 & 3) == 3;
            }
            break;
        }
        p += p[1];
    }
    if (!topo->cpu_count) {
        *why = "the MADT lists no enabled CPU";
        return false;
    }
    return true;
}
