#include "mon/monitor_wait.h"
#include "sched/sched.h"
#include "arch/cpu.h"
#include "arch/tsc.h"
#include "lib/string.h"

#define HELD_KEYS_MAX 128

static struct {
    bool (*ready)(void);
    void (*done)(enum monitor_wait_end end);   /* NULL: nothing waits */
    uint64_t deadline;
    bool key_ends, key_typed;
} waiting;
static char held_keys[HELD_KEYS_MAX];
static size_t held_count;
static void (*resume)(const char *held_keys, size_t count);

void monitor_defer(bool (*ready)(void), void (*done)(enum monitor_wait_end end),
                   unsigned timeout_ms, bool key_ends)
{
    waiting.ready = ready;
    waiting.deadline = rdtsc() + (uint64_t)timeout_ms * tsc_khz();
    waiting.key_ends = key_ends;
    waiting.key_typed = false;
    waiting.done = done;
    /* CPU 0 may sleep meanwhile: a key or an answer wakes it (the vCPUs
     * poke it), the time-out by this. */
    sched_cpu_wake_at(0, waiting.deadline);
}

bool monitor_waiting(void)
{
    return waiting.done;
}

bool monitor_wait_take_key(char c)
{
    if (!waiting.done)
        return false;
    if (waiting.key_ends && !waiting.key_typed)
        waiting.key_typed = true;
    else if (held_count < sizeof(held_keys))
        held_keys[held_count++] = c;
    return true;
}

/* CPU 0's loop: the wait's end, then the prompt and the keys that waited. */
static void finish_waiting(uint32_t cpu)
{
    if (cpu != 0 || !waiting.done)
        return;
    enum monitor_wait_end end;
    if (waiting.key_typed)
        end = MONITOR_KEY;
    else if (waiting.ready())
        end = MONITOR_READY;
    else if ((int64_t)(rdtsc() - waiting.deadline) >= 0)
        end = MONITOR_TIMED_OUT;
    else
        return;
    void (*done)(enum monitor_wait_end) = waiting.done;
    waiting.done = NULL;
    done(end);
    if (waiting.done)
        return;
    sched_cpu_wake_at(0, 0);
    char keys[HELD_KEYS_MAX];
    size_t n = held_count;
    memcpy(keys, held_keys, n);
    held_count = 0;
    resume(keys, n);
}

/* Whether the wait is over: CPU 0 does not halt then. */
static bool wait_pending(uint32_t cpu)
{
    return cpu == 0 && waiting.done &&
           (waiting.key_typed || waiting.ready() || (int64_t)(rdtsc() - waiting.deadline) >= 0);
}

void monitor_wait_init(void (*on_resume)(const char *held_keys, size_t count))
{
    resume = on_resume;
    sched_add_cpu_work(finish_waiting, wait_pending);
}
