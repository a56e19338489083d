#ifndef VIRT_MEM_RESERVE_H
#define VIRT_MEM_RESERVE_H
/*
 * Host memory promised to VMs. Guest RAM is backed on first touch
 * (virt/guest_mem.h), so without accounting a VM that touches all of its
 * RAM could take pages another VM was configured with, and that VM would be
 * the one to stop. Each VM reserves its RAM and an estimate of its tables
 * when it is created; a VM that does not fit is refused, naming what is
 * free. Backing a page charges the VM's reservation; the free pages the host
 * keeps are never fewer than what it still owes reserved VMs.
 *
 * With `overcommit = on` in [global], a VM that does not fit is created
 * with what is left as its reservation; beyond it, it takes unreserved free
 * pages only, so that when memory runs out it is that VM that stops, never
 * one within its reservation.
 */
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

struct vm;

/* Pages the hypervisor keeps for itself beyond any reservation. */
#define MEM_RESERVE_HOST_PAGES 4096     /* 16 MiB */

struct mem_reservation {
    uint64_t ram_pages;         /* the RAM promised (less than its RAM if overcommitted) */
    uint64_t overhead_pages;    /* promised for its tables and structures */
    uint64_t backed_pages;      /* RAM pages backing it now */
};

/* Reserves `ram_pages` of RAM and `overhead_pages` for the VM. False, with
 * the reason, if they do not fit and `overcommit` is off. */
bool mem_reserve(struct mem_reservation *r, uint64_t ram_pages, uint64_t overhead_pages,
                 bool overcommit, char *why, size_t why_size);
/* Gives the reservation back (the VM is gone; its RAM freed). */
void mem_unreserve(struct mem_reservation *r);
/* Before backing `pages` more RAM pages: false if the VM may not have them
 * (beyond its reservation, with no unreserved page free). */
bool mem_charge(struct mem_reservation *r, uint64_t pages);
/* Its RAM pages were freed (`pages` of them, a failed backing or all). */
void mem_uncharge(struct mem_reservation *r, uint64_t pages);

struct mem_host_totals {
    uint64_t free_pages;        /* the allocator's */
    uint64_t owed_pages;        /* reserved and not backed yet, tables included */
};
void mem_host_totals(struct mem_host_totals *t);
#endif
