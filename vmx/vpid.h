#ifndef VMX_VPID_H
#define VMX_VPID_H
/*
 * Virtual-processor identifiers tag a vCPU's TLB entries so that VM entries
 * and exits need not flush (SDM Vol. 3C 30.1 "Virtual-Processor Identifiers").
 * A global bitmap allocator, as KVM's allocate_vpid/free_vpid: VPID 0 is the
 * host's and means "no VPID"; when all are taken a vCPU runs without one and
 * is flushed on every VM entry and exit by the CPU itself.
 */
#include <stdint.h>
#include <stdbool.h>
#include "lib/bitmap.h"
#include "lib/spinlock.h"

#define VPID_COUNT 65536        /* a VPID is 16 bits */

struct vpid_pool {
    spinlock_t lock;
    uint32_t limit;             /* VPIDs 1..limit-1 are handed out */
    uint64_t used[BITMAP_WORDS(VPID_COUNT)];
};

/* `limit` caps the pool (VPID_COUNT normally; smaller in tests). */
void vpid_pool_init(struct vpid_pool *pool, uint32_t limit);
/* A free VPID, or 0 when none is left. */
uint16_t vpid_alloc(struct vpid_pool *pool);
void vpid_free(struct vpid_pool *pool, uint16_t vpid);
#endif
