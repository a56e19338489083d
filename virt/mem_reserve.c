/* Host memory promised to VMs (virt/mem_reserve.h). */
#include "virt/mem_reserve.h"
#include "lib/page_alloc.h"
#include "lib/printf.h"
#include "lib/spinlock.h"

static spinlock_t lock = SPINLOCK_INIT;
/* What the host still owes the VMs: each VM's reserved RAM not backed
 * yet, and its overhead. */
static uint64_t owed_pages;

static uint64_t unreserved_free_pages(void)
{
    uint64_t free = page_alloc_free_pages(), kept = owed_pages + MEM_RESERVE_HOST_PAGES;
    return free > kept ? free - kept : 0;
}

static uint64_t mib(uint64_t pages)
{
    return pages * PAGE_SIZE >> 20;
}

bool mem_reserve(struct mem_reservation *r, uint64_t ram_pages, uint64_t overhead_pages,
                 bool overcommit, char *why, size_t why_size)
{
    spin_lock(&lock);
    uint64_t available = unreserved_free_pages(), need = ram_pages + overhead_pages;
    if (need > available && !overcommit) {
        spin_unlock(&lock);
        snprintf(why, why_size, "needs %lu MiB of host memory (%lu MiB of RAM, %lu MiB for its "
                 "tables), and %lu MiB are free and unreserved; give it less memory, or set "
                 "overcommit = on in [global]", mib(need), mib(ram_pages), mib(overhead_pages),
                 mib(available));
        return false;
    }
    uint64_t overhead = overhead_pages < available ? overhead_pages : available;
    uint64_t ram = need <= available ? ram_pages : available - overhead;
    *r = (struct mem_reservation){ .ram_pages = ram, .overhead_pages = overhead };
    owed_pages += ram + overhead;
    spin_unlock(&lock);
    return true;
}

void mem_unreserve(struct mem_reservation *r)
{
    spin_lock(&lock);
    uint64_t backed_within = r->backed_pages < r->ram_pages ? r->backed_pages : r->ram_pages;
    owed_pages -= r->ram_pages - backed_within + r->overhead_pages;
    *r = (struct mem_reservation){ 0 };
    spin_unlock(&lock);
}

bool mem_charge(struct mem_reservation *r, uint64_t pages)
{
    spin_lock(&lock);
    uint64_t within = r->ram_pages > r->backed_pages ? r->ram_pages - r->backed_pages : 0;
    if (within > pages)
        within = pages;
    /* Beyond the reservation: only from pages nobody is owed. */
    bool ok = pages == within || unreserved_free_pages() >= pages - within;
    if (ok) {
        r->backed_pages += pages;
        owed_pages -= within;
    }
    spin_unlock(&lock);
    return ok;
}

void mem_uncharge(struct mem_reservation *r, uint64_t pages)
{
    spin_lock(&lock);
    uint64_t after = r->backed_pages - pages;
    /* What it owed back within its reservation is owed again. */
    uint64_t within_before = r->backed_pages < r->ram_pages ? r->backed_pages : r->ram_pages;
    uint64_t within_after = after < r->ram_pages ? after : r->ram_pages;
    owed_pages += within_before - within_after;
    r->backed_pages = after;
    spin_unlock(&lock);
}

void mem_host_totals(struct mem_host_totals *t)
{
    spin_lock(&lock);
    *t = (struct mem_host_totals){ page_alloc_free_pages(), owed_pages };
    spin_unlock(&lock);
}
