/* Ports 0x70/0x71 onto the VM's RTC model (dev/rtc.h), timed by the
 * platform clock. A wider access covers the following ports byte by byte,
 * as the ISA bus splits it: `outw 0x70` selects and writes in one go. */
#include "dev/devices.h"
#include "dev/platform_ports.h"
#include "dev/platform_clock.h"
#include "dev/platform.h"
#include "dev/vclock.h"
#include "virt/vm.h"

bool rtc_port_access(struct vm *vm, uint16_t port, unsigned size, bool is_write, uint32_t *value)
{
    uint64_t now = platform_clock_ticks(NS_PER_SECOND);
    uint32_t result = 0;
    bool dropped = false;
    spin_lock(&vm->dev->platform_lock);
    for (unsigned i = 0; i < size; i++) {
        uint8_t byte = (uint8_t)(*value >> (8 * i)), out = 0xff;
        switch (port + i) {
        case PLATFORM_CMOS_INDEX:
            /* Bit 7 masks NMIs on a PC; the VM has no NMI sources to mask.
             * The port is write-only: reads see 0xff. */
            if (is_write)
                vm->dev->rtc.index = byte & RTC_INDEX_MASK;
            break;
        case PLATFORM_CMOS_DATA:
            if (is_write)
                rtc_write(&vm->dev->rtc, vm->dev->rtc.index, byte, now);
            else
                out = rtc_read(&vm->dev->rtc, vm->dev->rtc.index, now);
            break;
        default:
            dropped = true;         /* a byte past 0x71 belongs to no device */
            break;
        }
        result |= (uint32_t)out << (8 * i);
    }
    spin_unlock(&vm->dev->platform_lock);
    if (dropped)
        platform_port_unclaimed(vm, is_write, value);
    /* After counting, which fills a read with all-ones: the claimed bytes
     * of a wide read keep what the RTC gave. */
    if (!is_write)
        *value = result;
    return true;
}
