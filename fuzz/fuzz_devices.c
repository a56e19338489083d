/* The PC's device models driven by sequences of register accesses from the
 * input (FUZZ_DEVICE picks the model at build time: one harness each):
 * the 16550A UART, the 8259 pair, the I/O APIC, the PIT, the RTC, ACPI PM,
 * fw_cfg and the virtual LAPIC. Each access is a kind, a register and a
 * value, with the time moving on; the models' own ranges are checked as
 * they go. */
#include "fuzz/fuzz.h"
#include "dev/acpi_pm.h"
#include "dev/fw_cfg.h"
#include "dev/ioapic.h"
#include "dev/pic.h"
#include "dev/pit.h"
#include "dev/rtc.h"
#include "dev/uart16550.h"
#include "dev/serial_line.h"
#include "dev/vlapic.h"

#define MAX_ACCESSES 4096

static bool deliver(void *ctx, const struct ioapic_msg *msg)
{
    (void)ctx;
    (void)msg;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { data, size, 0 };
    uint64_t now = 1000000;
#if FUZZ_DEVICE_UART
    struct uart16550 u;
    static struct serial_line line;
    uart16550_reset(&u);
    serial_line_reset(&line);
    for (unsigned n = 0; n < MAX_ACCESSES && in.at < size; n++) {
        unsigned kind = fuzz_take(&in, 1) % 3, reg = fuzz_take(&in, 1) % 8;
        uint8_t v = (uint8_t)fuzz_take(&in, 1);
        int tx;
        if (kind == 0)
            (void)uart16550_read(&u, reg);
        else if (kind == 1)
            uart16550_write(&u, reg, v, &tx);
        else
            (void)serial_line_send(&line, &u, v);
        serial_line_drain(&line, &u);
        FUZZ_ASSERT(u.rx_count <= UART_RX_FIFO_SIZE && u.rx_head < UART_RX_FIFO_SIZE);
        /* Bytes wait on the line only while the FIFO is full or the line is
         * disconnected (loopback). */
        FUZZ_ASSERT(line.count <= SERIAL_LINE_QUEUE_SIZE &&
                    (!line.count || !uart16550_rx_room(&u) || !uart16550_input_connected(&u)));
        (void)uart16550_irq(&u);
    }
#elif FUZZ_DEVICE_PIC
    struct vpic pic;
    vpic_reset(&pic);
    static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1 };
    for (unsigned n = 0; n < MAX_ACCESSES && in.at < size; n++) {
        unsigned kind = fuzz_take(&in, 1) % 4;
        uint16_t port = ports[fuzz_take(&in, 1) % 6];
        uint8_t v = (uint8_t)fuzz_take(&in, 1);
        if (kind == 0)
            (void)vpic_read(&pic, port);
        else if (kind == 1)
            vpic_write(&pic, port, v);
        else if (kind == 2)
            vpic_set_irq(&pic, v % 16 == 2 ? 3 : v % 16, v & 0x80);
        else if (vpic_output(&pic))
            (void)vpic_acknowledge(&pic);
    }
#elif FUZZ_DEVICE_IOAPIC
    static struct vioapic io;
    vioapic_reset(&io, 0, deliver, NULL);
    for (unsigned n = 0; n < MAX_ACCESSES && in.at < size; n++) {
        unsigned kind = fuzz_take(&in, 1) % 4;
        uint32_t offset = (uint32_t)fuzz_take(&in, 1) << 2 & 0xff;
        uint32_t v = (uint32_t)fuzz_take(&in, 4);
        if (kind == 0)
            (void)vioapic_read(&io, offset);
        else if (kind == 1)
            vioapic_write(&io, offset, v);
        else if (kind == 2)
            vioapic_set_irq(&io, v % 64, v & 0x100);
        else
            vioapic_eoi(&io, (uint8_t)v);
    }
#elif FUZZ_DEVICE_PIT
    struct vpit pit;
    vpit_reset(&pit, 50000000);
    for (unsigned n = 0; n < MAX_ACCESSES && in.at < size; n++) {
        unsigned kind = fuzz_take(&in, 1) % 5, offset = fuzz_take(&in, 1) % 4;
        uint8_t v = (uint8_t)fuzz_take(&in, 1);
        now += fuzz_take(&in, 2);
        uint64_t deadline;
        if (kind == 0)
            (void)vpit_read(&pit, offset, now);
        else if (kind == 1)
            vpit_write(&pit, offset, v, now);
        else if (kind == 2)
            (void)vpit_port61_read(&pit, now);
        else if (kind == 3)
            vpit_port61_write(&pit, v, now);
        else if (vpit_irq_deadline(&pit, &deadline))
            (void)vpit_irq_due(&pit, deadline);
    }
#elif FUZZ_DEVICE_RTC
    struct rtc rtc;
    static const struct rtc_date start = { .sec = 59, .min = 59, .hour = 23, .dow = 7,
                                           .day = 28, .month = 2, .year = 2099 };
    rtc_reset(&rtc, &start, 0);
    for (unsigned n = 0; n < MAX_ACCESSES && in.at < size; n++) {
        unsigned kind = fuzz_take(&in, 1) % 2;
        uint8_t reg = (uint8_t)fuzz_take(&in, 1) & 0x7f, v = (uint8_t)fuzz_take(&in, 1);
        now += fuzz_take(&in, 4) * 1000;
        if (kind == 0)
            (void)rtc_read(&rtc, reg, now);
        else
            rtc_write(&rtc, reg, v, now);
    }
#elif FUZZ_DEVICE_ACPI_PM
    struct acpi_pm pm = { 0 };
    for (unsigned n = 0; n < MAX_ACCESSES && in.at < size; n++) {
        unsigned kind = fuzz_take(&in, 1) % 2, offset = fuzz_take(&in, 1) % 16;
        unsigned access_size = 1u << (fuzz_take(&in, 1) % 3);
        uint32_t v = (uint32_t)fuzz_take(&in, 4);
        now += fuzz_take(&in, 2);
        if (kind == 0)
            (void)acpi_pm_read(&pm, offset, access_size, now);
        else
            (void)acpi_pm_write(&pm, offset, access_size, v, now);
    }
#elif FUZZ_DEVICE_FW_CFG
    struct fw_cfg s = { 0 };
    const struct fw_cfg_machine m = { .ram_size = 64ull << 20, .cpus = 2 };
    for (unsigned n = 0; n < MAX_ACCESSES && in.at < size; n++) {
        if (fuzz_take(&in, 1) & 1)
            fw_cfg_select(&s, (uint16_t)fuzz_take(&in, 2));
        else
            (void)fw_cfg_read_byte(&s, &m);
        uint8_t item[FW_CFG_ITEM_MAX];
        FUZZ_ASSERT(fw_cfg_item((uint16_t)fuzz_take(&in, 2), &m, item) <= FW_CFG_ITEM_MAX);
    }
#elif FUZZ_DEVICE_VLAPIC
    static struct vlapic apic;
    vlapic_reset(&apic, 1);
    for (unsigned n = 0; n < MAX_ACCESSES && in.at < size; n++) {
        unsigned kind = fuzz_take(&in, 1) % 9;
        uint32_t offset = (uint32_t)fuzz_take(&in, 1) << 4 & 0x3f0;
        uint64_t v = fuzz_take(&in, 8);
        now += fuzz_take(&in, 3);
        struct apic_ipi ipi;
        uint64_t value;
        if (kind == 0)
            (void)vlapic_read(&apic, offset, now, &value);
        else if (kind == 1)
            (void)vlapic_write(&apic, offset, v, now, &ipi);
        else if (kind == 2)
            (void)vlapic_set_base(&apic, v, (1ull << 39) - 1);
        else if (kind == 3)
            vlapic_write_tsc_deadline(&apic, v, 0, now);
        else if (kind == 4)
            vlapic_init_signal(&apic);
        else if (kind == 5) {   /* another CPU's interrupt, then the owner's sync */
            /* The incremental RVI (dev/apicv.c): the old highest and the
             * newcomers' highest give the highest after the sync. */
            int before = vlapic_highest_irr(&apic);
            if (vlapic_set_irr_trigger(&apic, (uint8_t)v, v >> 8 & 1)) {
                int newcomer = vlapic_highest_irr_in(&apic, vlapic_sync_irr(&apic));
                FUZZ_ASSERT((newcomer > before ? newcomer : before) == vlapic_highest_irr(&apic));
            }
        }
        else if (kind == 6 && vlapic_pending_vector(&apic) >= 0)
            vlapic_accept(&apic, (uint8_t)vlapic_pending_vector(&apic));
        else if (kind == 7 && vlapic_mode(&apic) == APIC_MODE_XAPIC) {
            /* The processor writes the page as the guest runs (APIC-register
             * virtualization, xAPIC mode): TPR with bits 31:8 cleared (SDM
             * Vol. 3C 30.1.2), the others as written, then the APIC-write
             * exit's model write. */
            if (offset == APIC_REG_TPR) {
                *vlapic_reg(&apic, offset) = (uint8_t)v;
            } else {
                *vlapic_reg(&apic, offset) = (uint32_t)v;
                (void)vlapic_write(&apic, offset, vlapic_get(&apic, offset), now, &ipi);
            }
        } else if (kind == 8) {
            vlapic_set_cr8(&apic, v);
        }
        FUZZ_ASSERT(vlapic_get(&apic, APIC_REG_TPR) <= 0xff);
        FUZZ_ASSERT(vlapic_highest_irr(&apic) < 256 && vlapic_highest_isr(&apic) < 256);
        int pending = vlapic_pending_vector(&apic);
        FUZZ_ASSERT(pending < 0 || (pending >= 16 && ((uint32_t)pending & 0xf0) > (vlapic_ppr(&apic) & 0xf0)));
    }
#else
#error "FUZZ_DEVICE_... names the model"
#endif
    return 0;
}
