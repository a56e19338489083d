#ifndef DEV_FW_CFG_H
#define DEV_FW_CFG_H
/*
 * QEMU's firmware configuration device (fw_cfg), the traditional
 * interface only (QEMU's docs/specs/fw_cfg.rst): the guest writes a 16-bit
 * key to the selector port (PLATFORM_FW_CFG_CTL, 0x510), which also rewinds
 * the data offset, then reads the item a byte at a time from the data port
 * (PLATFORM_FW_CFG_DATA, 0x511); reads past its end, and of keys we do not
 * have, return 0. Test kernels written for QEMU use it to learn the machine.
 *
 * Items (integers little-endian unless said):
 *   0x0000 FW_CFG_SIGNATURE  "QEMU" (4 bytes)
 *   0x0001 FW_CFG_ID         u32 feature bits: 1 = traditional interface, no DMA
 *   0x0003 FW_CFG_RAM_SIZE   u64 bytes of RAM
 *   0x0005 FW_CFG_NB_CPUS    u16 CPUs at boot (the VM's vCPUs)
 *   0x000f FW_CFG_MAX_CPUS   u16 most CPUs (the same: no hot-plug)
 *   0x0019 FW_CFG_FILE_DIR   u32 big-endian count of named files: 0
 * The item logic here is pure (unit-tested); dev/fw_cfg_port.c is the device.
 */
#include <stdint.h>
#include <stddef.h>

enum fw_cfg_key {
    FW_CFG_SIGNATURE = 0x0000,
    FW_CFG_ID = 0x0001,
    FW_CFG_RAM_SIZE = 0x0003,
    FW_CFG_NB_CPUS = 0x0005,
    FW_CFG_MAX_CPUS = 0x000f,
    FW_CFG_FILE_DIR = 0x0019,
};

#define FW_CFG_ITEM_MAX 8               /* the longest item, in bytes */

/* What the items describe. */
struct fw_cfg_machine {
    uint64_t ram_size;
    uint16_t cpus;
};

/* The guest's view: the selected key and how far it has read. */
struct fw_cfg {
    uint16_t key;
    uint32_t offset;
};

/* Writes item `key` into out[FW_CFG_ITEM_MAX]; returns its length (0 for a
 * key we do not have). */
size_t fw_cfg_item(uint16_t key, const struct fw_cfg_machine *m, uint8_t out[FW_CFG_ITEM_MAX]);
/* The selector write: a new item, read from its start. */
void fw_cfg_select(struct fw_cfg *s, uint16_t key);
/* The next byte of the selected item (0 past its end). */
uint8_t fw_cfg_read_byte(struct fw_cfg *s, const struct fw_cfg_machine *m);
#endif
