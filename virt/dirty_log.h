#ifndef VIRT_DIRTY_LOG_H
#define VIRT_DIRTY_LOG_H
/*
 * A VM's dirty-page rate over a period, for the monitor's dirty_rate (QEMU's
 * calc_dirty_rate): which 4 KiB pages of its RAM its vCPUs wrote. Where the
 * CPU has PML and EPT accessed/dirty flags, each vCPU's vmcs01 logs the
 * guest-physical address of every page whose EPT dirty flag it sets (SDM
 * Vol. 3C 30.3.6), the flags being cleared first; elsewhere EPT01 loses
 * write permission and each page's first write faults (write protection,
 * KVM's way without PML). Either way EPT01's large leaves are split to 4 KiB
 * first and none is made meanwhile (KVM's eager splitting), so that one
 * write counts one page. Not counted: an L2's writes through its shadow
 * EPT (but for the one that ends a write watch, virt/write_watch.h) and the
 * hypervisor's own writes into guest memory (device models).
 */
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

struct vm;
struct vcpu;

/* Starts measuring `periods` consecutive periods of `cycles` TSC cycles
 * each; false (with why) if the VM cannot be measured now (measuring
 * already, out of memory). */
bool dirty_log_start(struct vm *vm, uint64_t cycles, uint32_t periods, char *why,
                     size_t why_size);
/* Ends a period that is over (at `now`), once, printing its rate, and
 * starts the next: from a vCPU's entry path or the monitor's CPU. */
void dirty_log_check(struct vm *vm, uint64_t now);
/* The vCPU's vmcs01 (current, in L1) logs or stops logging as the VM's
 * measurement says, and the translations this CPU cached of the VM's EPT
 * go (REQ_DIRTY_LOG: a measurement or a period began or ended). */
void dirty_log_vcpu_sync(struct vcpu *vcpu);
/* A PML-full exit: the vCPU's log goes into the VM's dirty set, emptied. */
void dirty_log_pml_full(struct vcpu *vcpu);
/* An EPT violation that wrote `gpa` while write protection measures: the
 * page counts as dirty and gets its write permission back. False if that
 * is not what the violation was. */
bool dirty_log_write_fault(struct vm *vm, uint64_t gpa);
/* A write to `gpa`, by the guest or its L2, faulted on a page L0 watches
 * (write_watch_fault): the watch ends, and the write counts as the
 * measurement's if one is under way. False if the page was not watched. */
bool dirty_log_watched_write(struct vm *vm, uint64_t gpa);
/* A page the measurement finds mapped for the first time (an EPT
 * violation's `write` or not): dirty if written; else, with write
 * protection, mapped without write permission like the others. */
void dirty_log_mapped(struct vm *vm, uint64_t gpa, bool write);
/* The last measurement's periods and the last period's dirty pages, as
 * ranges (`info dirty_rate`). */
void dirty_log_print(struct vm *vm);
/* The VM's memory goes (reset, end): a measurement stops unfinished, its
 * memory is freed. */
void dirty_log_free(struct vm *vm);
#endif
