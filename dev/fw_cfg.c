#include "dev/fw_cfg.h"
#include "lib/le.h"
#include "lib/string.h"

#define FW_CFG_ID_TRADITIONAL 1u        /* bit 1 (DMA interface) stays clear */

size_t fw_cfg_item(uint16_t key, const struct fw_cfg_machine *m, uint8_t out[FW_CFG_ITEM_MAX])
{
    switch (key) {
    case FW_CFG_SIGNATURE: memcpy(out, "QEMU", 4); return 4;
    case FW_CFG_ID: le_put(out, FW_CFG_ID_TRADITIONAL, 4); return 4;
    case FW_CFG_RAM_SIZE: le_put(out, m->ram_size, 8); return 8;
    case FW_CFG_NB_CPUS:
    case FW_CFG_MAX_CPUS: le_put(out, m->cpus, 2); return 2;
    case FW_CFG_FILE_DIR: memset(out, 0, 4); return 4;  /* count 0 (big-endian) */
    default: return 0;
    }
}

void fw_cfg_select(struct fw_cfg *s, uint16_t key)
{
    s->key = key;
    s->offset = 0;
}

uint8_t fw_cfg_read_byte(struct fw_cfg *s, const struct fw_cfg_machine *m)
{
    uint8_t item[FW_CFG_ITEM_MAX];
    size_t len = fw_cfg_item(s->key, m, item);
    if (s->offset >= len)
        return 0;       /* the offset stays put: every later read is 0 too */
    return item[s->offset++];
}
