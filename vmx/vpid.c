#include "vmx/vpid.h"
#include "lib/string.h"

void vpid_pool_init(struct vpid_pool *pool, uint32_t limit)
{
    memset(pool, 0, sizeof(*pool));
    pool->limit = limit > VPID_COUNT ? VPID_COUNT : limit;
    bitmap_set(pool->used, 0);          /* the host's */
}

uint16_t vpid_alloc(struct vpid_pool *pool)
{
    spin_lock(&pool->lock);
    size_t vpid = bitmap_find_clear_run(pool->used, pool->limit, 1, 1);
    if (vpid >= pool->limit)
        vpid = 0;
    else
        bitmap_set(pool->used, vpid);
    spin_unlock(&pool->lock);
    return (uint16_t)vpid;
}

void vpid_free(struct vpid_pool *pool, uint16_t vpid)
{
    if (!vpid)
        return;
    spin_lock(&pool->lock);
    bitmap_clear(pool->used, vpid);
    spin_unlock(&pool->lock);
}
