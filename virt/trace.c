#include "virt/trace.h"
#include "virt/vm.h"
#include "arch/cpu.h"
#include "arch/percpu.h"
#include "lib/printf.h"

struct trace_entry {
    uint64_t seq;               /* 0: never written; the sequence number + 1 */
    uint64_t tsc;
    uint32_t cpu, vm, vcpu;
    enum trace_event event;
    int64_t a, b;
};

static struct trace_entry ring[TRACE_SIZE];
static uint64_t next_seq;

static const char *const event_names[] = {
    [TRACE_PLE_GROW] = "ple-grow", [TRACE_PLE_SHRINK] = "ple-shrink", [TRACE_YIELD] = "yield",
};

/* A seqlock per entry: the writer marks it 0 (being written), fences, fills
 * it, then publishes seq + 1; the reader accepts a copy only if the mark was
 * the same before and after. */
void trace_record(const struct vcpu *v, enum trace_event event, int64_t a, int64_t b)
{
    uint64_t seq = __atomic_fetch_add(&next_seq, 1, __ATOMIC_RELAXED);
    struct trace_entry *e = &ring[seq % TRACE_SIZE];
    __atomic_store_n(&e->seq, 0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    e->tsc = rdtsc();
    e->cpu = this_cpu()->index;
    e->vm = v->vm->index;
    e->vcpu = v->id;
    e->event = event;
    e->a = a;
    e->b = b;
    __atomic_store_n(&e->seq, seq + 1, __ATOMIC_RELEASE);
}

void trace_print(uint32_t count)
{
    uint64_t end = __atomic_load_n(&next_seq, __ATOMIC_ACQUIRE);
    if (count > TRACE_SIZE)
        count = TRACE_SIZE;
    uint64_t start = end > count ? end - count : 0;
    kprintf("%-16s cpu %-12s vcpu %-10s details\n", "tsc", "vm", "event");
    for (uint64_t seq = start; seq < end; seq++) {
        const struct trace_entry *slot = &ring[seq % TRACE_SIZE];
        uint64_t mark = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
        struct trace_entry e = *slot;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (mark != seq + 1 || __atomic_load_n(&slot->seq, __ATOMIC_RELAXED) != mark)
            continue;           /* overwritten or being written */
        const char *vm = e.vm < vm_count ? vms[e.vm].config.name : "?";
        kprintf("%-16lu %3u %-12s %4u %-10s ", e.tsc, e.cpu, vm, e.vcpu, event_names[e.event]);
        if (e.event == TRACE_YIELD)
            kprintf(e.a < 0 ? "no candidate\n" : "boosted vcpu %ld%s\n", e.a,
                    e.b ? " (on this CPU)" : " (on another CPU)");
        else
            kprintf("window %ld -> %ld\n", e.a, e.b);
    }
}
