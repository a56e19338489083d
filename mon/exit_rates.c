/* Exit counters as they change: `top`, a live view like kvm_stat's (per VM
 * and per reason, the exits per emulated second and their average handling
 * ticks, a frame a second until a key or for a number of seconds), and
 * `clear_exits`, which starts a VM's counters from zero. The counters are
 * the vCPUs' own (virt/exit_stats.h), read and cleared from CPU 0 while the
 * vCPUs count on: a moment's view. */
#include "mon/monitor.h"
#include "mon/monitor_wait.h"
#include "virt/vm.h"
#include "vmx/exit_reasons.h"
#include "arch/tsc.h"
#include "arch/cpu.h"
#include "arch/serial.h"
#include "lib/printf.h"
#include "lib/string.h"

#define TOP_REASONS 8           /* reasons shown per VM and frame, the busiest first */

static struct {
    struct vm *only;            /* NULL: every running VM */
    uint32_t frames_left;       /* 0: until a key */
    uint32_t frame;
    uint64_t last_tsc;
    /* Per VM and reason at the last frame: exits, those timed (not
     * completed in the fastpath, virt/exit_stats.h), their ticks. */
    uint64_t count[MAX_VMS][EXIT_REASON_MAX], timed[MAX_VMS][EXIT_REASON_MAX];
    uint64_t cycles[MAX_VMS][EXIT_REASON_MAX];
} top;

static void vm_totals(const struct vm *vm, uint64_t *count, uint64_t *timed, uint64_t *cycles)
{
    memset(count, 0, sizeof(top.count[0]));
    memset(timed, 0, sizeof(top.timed[0]));
    memset(cycles, 0, sizeof(top.cycles[0]));
    for (uint32_t v = 0; v < vm->vcpu_count; v++)
        for (unsigned r = 0; r < EXIT_REASON_MAX; r++) {
            const struct exit_stats *s = &vm->vcpus[v].stats;
            count[r] += s->count[r];
            timed[r] += s->count[r] - s->fast[r];
            cycles[r] += s->cycles[r];
        }
}

/* How far a counter went since the last frame; counters cleared meanwhile
 * (clear_exits) count from zero. */
static uint64_t since_last(uint64_t now, uint64_t then)
{
    return now >= then ? now - then : now;
}

static bool shown(const struct vm *vm)
{
    return !vm_has_finished(vm) && (!top.only || top.only == vm);
}

/* One VM's line and its busiest reasons since the last frame. */
static void print_vm_rates(uint32_t index, uint64_t elapsed_us)
{
    const struct vm *vm = &vms[index];
    uint64_t count[EXIT_REASON_MAX], timed[EXIT_REASON_MAX], cycles[EXIT_REASON_MAX];
    uint64_t delta[EXIT_REASON_MAX];
    vm_totals(vm, count, timed, cycles);
    uint64_t total = 0;
    for (unsigned r = 0; r < EXIT_REASON_MAX; r++) {
        delta[r] = since_last(count[r], top.count[index][r]);
        total += delta[r];
    }
    kprintf("  vm %-12s %10lu exits/s\n", vm->config.name, total * 1000000 / elapsed_us);
    bool used[EXIT_REASON_MAX] = { false };
    for (unsigned shown_reasons = 0; shown_reasons < TOP_REASONS; shown_reasons++) {
        unsigned best = EXIT_REASON_MAX;
        for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
            if (!used[r] && delta[r] && (best == EXIT_REASON_MAX || delta[r] > delta[best]))
                best = r;
        if (best == EXIT_REASON_MAX)
            break;
        used[best] = true;
        uint64_t ticks = since_last(cycles[best], top.cycles[index][best]);
        uint64_t timed_exits = since_last(timed[best], top.timed[index][best]);
        char average[EXIT_AVERAGE_TEXT];
        exit_average_text(average, ticks, timed_exits);
        kprintf("    %-34s %10lu /s %10s avg-ticks\n", vmx_exit_reason_name(best),
                delta[best] * 1000000 / elapsed_us, average);
    }
    memcpy(top.count[index], count, sizeof(count));
    memcpy(top.timed[index], timed, sizeof(timed));
    memcpy(top.cycles[index], cycles, sizeof(cycles));
}

static bool never(void)
{
    return false;
}

/* A frame each second (the wait's time-out), until a key or the last one. */
static void next_frame(enum monitor_wait_end end)
{
    if (end == MONITOR_KEY)
        return;
    uint64_t now = rdtsc(), elapsed_us = (now - top.last_tsc) * 1000 / tsc_khz();
    top.last_tsc = now;
    console_hold();
    kprintf("top: second %u\n", ++top.frame);
    for (uint32_t i = 0; i < vm_count; i++)
        if (shown(&vms[i]))
            print_vm_rates(i, elapsed_us ? elapsed_us : 1);
    console_unhold();
    if (top.frames_left && !--top.frames_left)
        return;
    monitor_defer(never, next_frame, 1000, true);
}

void cmd_top(const char *args)
{
    top.only = NULL;
    top.frames_left = 0;
    while (*args) {
        const char *end = args;
        while (*end && *end != ' ')
            end++;
        uint32_t seconds = 0;
        const char *c = args;
        for (; c < end && *c >= '0' && *c <= '9' && seconds < 100000; c++)
            seconds = seconds * 10 + (uint32_t)(*c - '0');
        if (c == end && seconds) {
            top.frames_left = seconds;
        } else if (!(top.only = vm_find_live(args, (size_t)(end - args)))) {
            kprintf("top: no running VM named '%.*s' (usage: top [VM] [SECONDS])\n",
                    (int)(end - args), args);
            return;
        }
        for (args = end; *args == ' '; args++)
            ;
    }
    top.frame = 0;
    top.last_tsc = rdtsc();
    for (uint32_t i = 0; i < vm_count; i++)
        vm_totals(&vms[i], top.count[i], top.timed[i], top.cycles[i]);
    kprintf("top: exits per second%s; any key ends it\n",
            top.frames_left ? " for a few seconds" : "");
    monitor_defer(never, next_frame, 1000, true);
}

void cmd_clear_exits(const char *args)
{
    size_t len = strlen(args);
    while (len && args[len - 1] == ' ')
        len--;
    struct vm *vm = vm_find_live(args, len);
    if (!vm) {
        kprintf("clear_exits: no running VM named '%s'\n", args);
        return;
    }
    for (uint32_t v = 0; v < vm->vcpu_count; v++) {
        struct exit_stats *s = &vm->vcpus[v].stats;
        memset(s->count, 0, sizeof(s->count));
        memset(s->fast, 0, sizeof(s->fast));
        memset(s->cycles, 0, sizeof(s->cycles));
        memset(s->from_l2, 0, sizeof(s->from_l2));
        memset(s->to_l1, 0, sizeof(s->to_l1));
        s->launches = 0;
    }
    kprintf("vm %s: exit counters cleared\n", vm->config.name);
}
