/* Application-processor start-up (SDM Vol. 3A 9.4 "Multiple-Processor (MP)
 * Initialization") and cross-CPU calls by IPI. */
#include "arch/smp.h"
#include "arch/percpu.h"
#include "arch/cpu.h"
#include "arch/msr.h"
#include "arch/lapic.h"
#include "arch/interrupts.h"
#include "arch/tsc.h"
#include "arch/ap_trampoline.h"
#include "lib/page_alloc.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "lib/spinlock.h"

#define AP_START_TIMEOUT_US 100000

struct percpu percpu[MAX_CPUS];
uint32_t cpu_count;

struct call_slot {
    spinlock_t lock;            /* one caller at a time per target */
    cpu_call_fn volatile fn;
    void *volatile arg;
    volatile bool done;
};
static struct call_slot call_slots[MAX_CPUS];
static volatile bool stopping;
static void (*ap_main_fn)(void);
static volatile uint32_t ap_starting;  /* APs start one at a time: this one */

void percpu_activate(struct percpu *cpu)
{
    cpu->self = cpu;
    wrmsr(MSR_GS_BASE, (uint64_t)cpu);
}

static void serve_pending_call(void)
{
    struct call_slot *slot = &call_slots[this_cpu()->index];
    /* Taken in one step: the IPI handler and a CPU's own wait loop both
     * serve calls, and each call must run exactly once. */
    cpu_call_fn fn = __atomic_exchange_n(&slot->fn, NULL, __ATOMIC_ACQ_REL);
    if (!fn)
        return;
    fn(slot->arg);
    __atomic_store_n(&slot->done, true, __ATOMIC_RELEASE);
}

static void call_function_interrupt(struct trap_frame *frame)
{
    (void)frame;
    serve_pending_call();
}

static void nmi_interrupt(struct trap_frame *frame)
{
    (void)frame;
    if (stopping)
        cpu_halt_forever();
}

void smp_init_bsp(const struct host_topology *topo)
{
    uint32_t bsp_apic = lapic_id();
    cpu_count = 1;
    percpu[0].apic_id = bsp_apic;
    for (size_t i = 0; i < topo->cpu_count && cpu_count < MAX_CPUS; i++)
        if (topo->apic_ids[i] != bsp_apic)
            percpu[cpu_count++].apic_id = topo->apic_ids[i];
    for (uint32_t i = 0; i < cpu_count; i++)
        percpu[i].index = i;
    percpu[0].online = true;
    interrupt_register(VECTOR_CALL_FUNCTION, call_function_interrupt);
    interrupt_register(VECTOR_NMI, nmi_interrupt);
}

static void ap_entry(void)
{
    struct percpu *cpu = &percpu[ap_starting];
    percpu_activate(cpu);
    gdt_load(&cpu->tables);
    idt_load();
    cpu_enable_xsave();
    lapic_init_cpu();
    __atomic_store_n(&cpu->online, true, __ATOMIC_RELEASE);
    irq_enable();
    ap_main_fn();
    cpu_halt_forever();
}

static bool start_ap(struct percpu *cpu)
{
    struct ap_trampoline_params *params =
        (void *)(AP_TRAMPOLINE_ADDR + AP_TRAMPOLINE_PARAMS_OFFSET);
    void *stack = page_alloc(CPU_STACK_SIZE / PAGE_SIZE);
    if (!stack)
        return false;
    cpu->stack_top = (uint64_t)stack + CPU_STACK_SIZE;
    /* The APs run on this CPU's page tables, the host's since paging_init_host.
     * Read from CR3 rather than asked of paging.c: paging.c is below this file
     * (its panic() stops the other CPUs through here). */
    params->cr3 = read_cr3();
    params->stack_top = cpu->stack_top;
    params->entry = (uint64_t)ap_entry;
    ap_starting = cpu->index;

    /* INIT, wait 10 ms, SIPI, wait 200 us, second SIPI only if needed. */
    uint32_t sipi = ICR_STARTUP | (AP_TRAMPOLINE_ADDR >> 12);
    lapic_send_ipi(cpu->apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
    udelay(10000);
    lapic_send_ipi(cpu->apic_id, sipi);
    udelay(200);
    if (!cpu->online)
        lapic_send_ipi(cpu->apic_id, sipi);
    uint64_t deadline = rdtsc() + AP_START_TIMEOUT_US * tsc_khz() / 1000;
    while (!__atomic_load_n(&cpu->online, __ATOMIC_ACQUIRE) && rdtsc() < deadline)
        cpu_relax();
    return cpu->online;
}

uint32_t smp_boot_aps(void (*ap_main)(void))
{
    ap_main_fn = ap_main;
    memcpy((void *)AP_TRAMPOLINE_ADDR, __ap_trampoline_start,
           __ap_trampoline_end - __ap_trampoline_start);
    uint32_t online = 1;
    for (uint32_t i = 1; i < cpu_count; i++) {
        if (start_ap(&percpu[i]))
            online++;
        else
            kprintf("smp: cpu %u (apic %u) did not start\n", i, percpu[i].apic_id);
    }
    return online;
}

void smp_call_on(uint32_t cpu, cpu_call_fn fn, void *arg)
{
    if (cpu == this_cpu()->index) {
        fn(arg);
        return;
    }
    struct call_slot *slot = &call_slots[cpu];
    spin_lock(&slot->lock);
    slot->done = false;
    slot->arg = arg;
    __atomic_store_n(&slot->fn, fn, __ATOMIC_RELEASE);
    lapic_send_ipi(percpu[cpu].apic_id, ICR_FIXED | VECTOR_CALL_FUNCTION);
    while (!__atomic_load_n(&slot->done, __ATOMIC_ACQUIRE)) {
        serve_pending_call();   /* the target may be calling us right now */
        cpu_relax();
    }
    spin_unlock(&slot->lock);
}

void smp_stop_other_cpus(void)
{
    if (cpu_count < 2)
        return;
    stopping = true;
    lapic_send_ipi(0, ICR_NMI | ICR_ALL_BUT_SELF);
}
