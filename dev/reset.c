/* The ways PC software resets the machine short of a triple fault (which
 * exits/exit_dispatch.c handles): the reset control register at 0xcf9
 * (Intel PIIX/ICH; the FADT's RESET_REG names it, so Linux's reboot=acpi
 * uses it) and the 8042 keyboard controller's pulse-reset command, the
 * oldest way. Both end in vm_guest_reset. */
#include "dev/devices.h"
#include "dev/platform_ports.h"
#include "dev/platform.h"
#include "virt/vm.h"

#define RCR_SYS_RST     0x02        /* hard reset when RST_CPU goes to 1 (kept, read back) */
#define RCR_RST_CPU     0x04        /* writing 1 resets */
#define RCR_FULL_RST    0x08        /* also cycle power (kept, read back) */
#define KBC_STATUS_IDLE 0x00        /* output buffer empty, input buffer empty */
#define KBC_PULSE_CMD   0xf0        /* 0xf0-0xff: pulse output port bits 0-3 low where clear */
#define KBC_RESET_LINE  0x01        /* output port bit 0 drives the CPU's reset */

/* The register is a byte: wider accesses at 0xcf9 are not it. */
bool reset_control_access(struct vm *vm, uint16_t port, unsigned size, bool is_write,
                          uint32_t *value)
{
    (void)port;
    if (size != 1) {
        platform_port_unclaimed(vm, is_write, value);
        return true;
    }
    spin_lock(&vm->dev->platform_lock);
    if (is_write)
        vm->dev->reset_control = (uint8_t)(*value & (RCR_SYS_RST | RCR_FULL_RST));
    else
        *value = vm->dev->reset_control;
    spin_unlock(&vm->dev->platform_lock);
    if (is_write && *value & RCR_RST_CPU) {
        vm_guest_reset(vm, "0xcf9");
        return false;
    }
    return true;
}

/* Only as much of an 8042 as resetting needs: the status always says both
 * buffers are empty, so a guest's "wait until the controller takes a
 * command" loop goes straight on; the FADT says there is no 8042, so an OS
 * does not look for a keyboard. */
bool kbc_access(struct vm *vm, uint16_t port, unsigned size, bool is_write, uint32_t *value)
{
    (void)port;
    (void)size;
    if (!is_write) {
        *value = KBC_STATUS_IDLE;
        return true;
    }
    uint8_t cmd = (uint8_t)*value;
    if ((cmd & KBC_PULSE_CMD) == KBC_PULSE_CMD && !(cmd & KBC_RESET_LINE)) {
        vm_guest_reset(vm, "keyboard controller");
        return false;
    }
    platform_port_unclaimed(vm, is_write, value);
    return true;
}
