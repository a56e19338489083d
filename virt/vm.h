#ifndef VIRT_VM_H
#define VIRT_VM_H
/* A virtual machine and its vCPUs (KVM's struct kvm / struct kvm_vcpu). */
#include <stdint.h>
#include <stdbool.h>
#include "lib/spinlock.h"
#include "mmu/ept.h"
#include "virt/vm_config.h"
#include "virt/exit_stats.h"
#include "virt/mem_reserve.h"
#include "virt/vcpu_msrs.h"
#include "virt/boot_state.h"
#include "virt/vcpu_snapshot.h"
#include "virt/cpuid_answers.h"
#include "vmx/guest_regs.h"
#include "vmx/loaded_vmcs.h"
#include "sched/sched.h"
#include "sched/directed_yield.h"
#include "sched/spin_guard.h"

#define MAX_VMS VM_CONFIG_MAX_VMS

/* A vCPU's state, kept in its sched_entity (se.state), whose scheduler
 * reads it through vcpu_state_class (virt/vcpu_state.h). */
enum vcpu_state {
    VCPU_RUNNABLE,      /* waiting for its CPU */
    VCPU_RUNNING,
    VCPU_HALTED,        /* blocked in HLT: waits for an interrupt (or INIT) */
    VCPU_WAIT_SIPI,     /* an AP before its start-up IPI, or after INIT */
    VCPU_STOPPED,       /* for good: the VM ended, or this vCPU failed */
};

/* Work for the vCPU's run loop before its next entry, from other CPUs or
 * its own exit handlers (KVM's vcpu->requests): one word, so the entry path
 * tests a single value. */
enum vcpu_request {
    REQ_EVENT = 1,          /* an interrupt may have become deliverable */
    REQ_TIMER = 2,          /* the APIC timer was reprogrammed */
    REQ_INIT_SIPI = 4,      /* an INIT or start-up IPI arrived */
    REQ_RESCHED = 8,        /* back to the CPU loop: stopped, or its CPU was kicked */
    REQ_DIRTY_LOG = 16,     /* a dirty-page measurement began or ended (virt/dirty_log.h) */
    REQ_SNAPSHOT = 32,      /* the monitor wants its state (virt/vcpu_snapshot.h) */
    REQ_DUMP_VMCS = 64,     /* the monitor's `info vmcs`: print the VMCS from its CPU */
};

struct vm;
struct vlapic;

/* A dirty-page measurement (virt/dirty_log.h). */
enum dirty_log_state { DIRTY_LOG_IDLE, DIRTY_LOG_MEASURING, DIRTY_LOG_DONE };
#define DIRTY_LOG_PERIODS_MAX 60
struct dirty_log {
    volatile enum dirty_log_state state;
    bool pml;                   /* by PML; else by write protection */
    bool allow_2m, allow_1g;    /* the VM's large-page choices, put back at the end */
    uint64_t start, end;        /* TSC: the period under way, and when it ends */
    uint64_t period_cycles;
    uint32_t periods, period;   /* how many, and which one now (from 0) */
    uint64_t ram_pages;         /* bits in each bitmap */
    uint64_t *dirty;            /* one bit per 4 KiB page of RAM: this period's */
    uint64_t *protected;        /* write protection: the pages it took W from */
    struct dirty_period { uint64_t pages, ms; } result[DIRTY_LOG_PERIODS_MAX];
};
/* Pages of the VM's RAM L0 hears the writes of (virt/write_watch.h). */
#define WRITE_WATCH_PAGES 16
struct write_watch {
    uint32_t count;                     /* pages watched: page[0 .. count) */
    uint64_t page[WRITE_WATCH_PAGES];   /* their guest-physical addresses */
    uint64_t generation;                /* bumped when one may have been written */
};
struct vm_devices;
struct nested_vmx;

/* How far a VM's local APICs are virtualised by the processor (dev/apicv.h). */
enum apicv_mode {
    APICV_OFF,          /* every APIC access exits (CR8 too) */
    APICV_TPR_SHADOW,   /* CR8 in the virtual-APIC page, TPR-threshold exits */
    APICV_FULL,         /* and APIC-register virtualization, virtual-interrupt delivery */
};
struct ept02_cache;

struct vcpu {
    struct vm *vm;
    uint32_t id;
    struct guest_regs regs;
    uint64_t cr2;                   /* not in the VMCS: switched by hand */
    uint64_t xcr0;
    struct loaded_vmcs lv;          /* its VMCS, where it is active, launch state */
    struct loaded_vmcs *vmcs;       /* the VMCS it runs on: &lv, or its L2's (nested/) */
    uint16_t vpid;                  /* 0: none (flushed on every transition) */
    uint16_t vpid02;                /* its L2's (nested VMX), 0: none */
    struct sched_entity se;         /* its place in the scheduler and its state,
                                     * se.state (enum vcpu_state; virt/vcpu_state.h) */
    struct exit_stats stats;
    struct vcpu_snapshot snapshot;  /* for the monitor (virt/vcpu_snapshot.h) */
    uint64_t msr_kernel_gs_base, msr_star, msr_lstar, msr_cstar, msr_sfmask, msr_tsc_aux;
    uint64_t pat, mtrr_def_type;
    struct vcpu_msr_state msrs;     /* emulated MSRs (virt/vcpu_msrs.c) */
    struct vlapic *apic;            /* its local APIC (dev/vlapic.h), kept with the VM */
    uint64_t tsc_offset;            /* the VMCS's TSC offset: guest TSC = host + this */
    volatile uint32_t requests;     /* enum vcpu_request bits */
    /* While it runs on a CPU: the TSC by which its guest must be out (slice
     * end, its APIC timer, the PIT; machine/vcpu_run.c), which a nested
     * entry may bring nearer for L1's preemption timer. */
    uint64_t run_stop;
    /* The next entry is to exit at once, after what it injects (the run
     * loop's stop is then the entry's own time; nested/events.c). */
    bool exit_after_entry;
    volatile bool init_pending;
    volatile bool nmi_pending;      /* an NMI latched for it: one, as NMIs do not queue */
    volatile int sipi_vector;       /* -1: none */
    volatile bool waiting_for_sipi;
    bool halt_interruptible;        /* RFLAGS.IF when it halted: interrupts wake it */
    struct vcpu_halt_poll {         /* polling before blocking in HLT (exits/exit_hlt.c) */
        uint64_t window;            /* cycles to poll, adapted to its halts (0: none) */
        uint64_t halted_at;         /* TSC of a halt that blocked, until it runs again */
        volatile bool active;       /* polling now: wakers need not poke its CPU */
        volatile uint32_t wakes;    /* vcpu_wake calls while it runs: when to look */
    } halt_poll;
    /* Its APIC timer wakes it from HLT this many cycles early, and the run
     * loop waits out the rest: the wake-up's cost hidden from the guest
     * (KVM's lapic_timer_advance; machine/vcpu_entity.c, vcpu_run.c). */
    uint32_t timer_advance;
    uint64_t timer_wake_deadline;   /* woken by its APIC timer for this deadline (or 0) */
    bool window_exiting;            /* interrupt-window exiting is on */
    bool nmi_window_exiting;        /* NMI-window exiting is on */
    struct vcpu_apicv {             /* APIC virtualization on its vmcs01 (dev/apicv.c) */
        bool controls_stale;        /* a new VMCS or APIC mode: controls to write */
        uint8_t tpr_threshold;      /* APICV_TPR_SHADOW: what TPR_THRESHOLD holds */
        uint32_t eoi_exit[8];       /* APICV_FULL: the EOI-exit bitmap the TMR asks for */
        bool eoi_guard;             /* APICV_FULL: every EOI exits instead (dev/apicv.c) */
    } apicv;
    void *fpu;                      /* XSAVE/FXSAVE area: x87, SSE, AVX... state */
    struct vcpu_ple {               /* PAUSE-loop exiting (exits/exit_pause.c) */
        uint32_t window, window_min, window_max;    /* now, and the extremes seen */
        uint64_t exits, grows, shrinks;     /* window changes by either rule */
        uint64_t yields, yields_boosted, yields_failed;
        uint64_t held_slices, held_cycles;  /* slice ends the spin guard put off */
        bool preempted_in_kernel;   /* CPL 0 when it last left its CPU */
        bool preempted_spinning;    /* in a loop the spin guard knows, then */
        struct spin_guard guard;    /* this slice's (sched/spin_guard.h) */
    } ple;
    uint64_t dr[4], dr6;            /* debug registers the VMCS does not hold */
    struct nested_vmx *nested;      /* its VMX operation as an L1 (nested/nested.h), or NULL */
    bool in_l2;                     /* nested: it runs L1's guest now (one byte: every exit asks) */
    /* Dirty-page logging (virt/dirty_log.h): its PML buffer, kept once
     * made, and whether its vmcs01 logs now. */
    uint64_t *pml_buffer;
    bool pml_on;
};

enum vm_state { VM_RUNNING, VM_ENDED };

/* Why a VM's vCPUs are kept off the CPUs (bits of vm->sched.hold; none:
 * they run). */
enum vm_hold {
    VM_HOLD_STOP = 1,       /* the monitor's `stop`, until `cont` */
    VM_HOLD_RESET = 2,      /* a machine reset waits for them to leave, or is under way */
};

/* A machine reset's progress (virt/vm_lifecycle.c). */
enum vm_reset_state { VM_RESET_NONE, VM_RESET_PENDING, VM_RESET_RUNNING };

struct vm {
    struct vm_config config;
    uint32_t index;
    volatile enum vm_state state;
    int exit_status;                /* isa-debug-exit or hypercall status */
    /* Why it ended: copied, since the callers' reasons are often built on
     * their stacks ("" while it runs). */
    char end_reason[112];
    spinlock_t lock;                /* guest memory population, state changes */
    struct sched_group sched;       /* its vCPUs; hold: enum vm_hold bits */
    volatile enum vm_reset_state reset_state;   /* changed under `lock` */
    const char *reset_why;          /* the pending reset's cause */
    volatile uint64_t resets;       /* machine resets done */
    struct ept ept;
    struct mem_reservation mem;     /* host memory promised to it (virt/mem_reserve.h) */
    /* Nested VMX: the shadow EPT roots of its L2s (nested/ept02.h), made
     * at the first nested entry with EPT; `ept02_lock` serializes them. */
    struct ept02_cache *ept02;
    spinlock_t ept02_lock;
    struct boot_state boot;         /* how vCPU 0 starts (the image's format decides) */
    uint64_t ram_size;
    bool allow_2m, allow_1g;
    uint64_t *io_bitmaps;           /* two pages: ports 0-0x7fff, 0x8000-0xffff */
    uint64_t *msr_bitmap;
    uint32_t msr_bitmap_changes;    /* changes of msr_bitmap since creation (nested entries merge it) */
    struct vcpu *vcpus;             /* kept with the VM slot: the monitor may look */
    bool ple_enabled;               /* PAUSE-loop exiting on (KVM: !pause_in_guest) */
    enum apicv_mode apicv;          /* its APIC virtualization (dev/apicv.h) */
    void *apic_access_page;         /* APICV_FULL: what EPT maps at the xAPIC page */
    uint64_t *x2apic_msr_bitmap;    /* APICV_FULL: msr_bitmap with the virtualised x2APIC MSRs open */
    uint32_t last_boosted_vcpu;     /* directed yield's round-robin start */
    struct dy_vcpu dy[VM_MAX_VCPUS];     /* directed yield's view of each vCPU */
    struct spin_sites spin_sites;   /* where its vCPUs have PLE-exited */
    struct cpuid_answers cpuid;     /* answers kept by the CPUID exit (virt/cpuid_answers.h) */
    uint32_t vcpu_count;
    volatile uint32_t vcpus_stopped;
    volatile uint64_t wakeups;      /* blocked vCPUs made runnable, ever */
    volatile bool finished;         /* torn down and reported (set last) */
    uint64_t unhandled_reads, unhandled_writes;
    char reset_reason[48];          /* "guest reset via ...": end_reason or reset_why */
    /* Its PC's devices and its vCPUs' local APICs (dev/devices.h): the
     * devices sit above this core and reach it through virt/vcpu_state.h. */
    struct vm_devices *dev;
    struct dirty_log dirty_log;     /* the monitor's dirty-rate measurement (virt/dirty_log.h) */
    struct write_watch write_watch; /* pages whose writes L0 hears of (virt/write_watch.h) */
};

/* State changes race with other CPUs stopping the VM: compare-and-swap. */
static inline bool vcpu_transition(struct vcpu *v, enum vcpu_state from, enum vcpu_state to)
{
    uint32_t expected = from;
    return __atomic_compare_exchange_n(&v->se.state, &expected, to, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

/* The guest is to be out by `tsc` too: run_stop becomes the nearer of the
 * two (machine/vcpu_run.c loads the exit timer from it). */
static inline void vcpu_stop_by(struct vcpu *v, uint64_t tsc)
{
    if ((int64_t)(tsc - v->run_stop) < 0)
        v->run_stop = tsc;
}

static inline void vcpu_request(struct vcpu *v, uint32_t requests)
{
    __atomic_fetch_or(&v->requests, requests, __ATOMIC_SEQ_CST);
}

extern struct vm vms[MAX_VMS];
extern uint32_t vm_count;

/* Ends the VM with `status`; the first end wins. Prints its exit table. */
void vm_end(struct vm *vm, int status, const char *reason);
/* The guest asked the platform for a reset (`how`: the port or device it
 * used): the VM is reset, or ended, as its on_reboot setting says. The vCPU
 * that asked must not resume where it was. */
void vm_guest_reset(struct vm *vm, const char *how);
/* Its exit table: count and average handling cycles per exit reason. */
void vm_print_exits(const struct vm *vm);
/* The average handling cycles of `timed` exits as `info exits` and `top`
 * print it: "-" when none was timed (all completed in the exit fastpath,
 * which counts them only: virt/exit_stats.h). */
#define EXIT_AVERAGE_TEXT 24
void exit_average_text(char text[EXIT_AVERAGE_TEXT], uint64_t cycles, uint64_t timed);
/* The same for one of its vCPUs. */
void vcpu_print_exits(const struct vm *vm, uint32_t vcpu);
/* Whether the VM has ended and been torn down (its slot stays readable). */
static inline bool vm_has_finished(const struct vm *vm)
{
    return __atomic_load_n(&vm->finished, __ATOMIC_ACQUIRE);
}
/* The VM named name[0..len), finished or not, or NULL. */
struct vm *vm_find(const char *name, size_t len);
/* The VM named name[0..len) that has not finished, or NULL. */
struct vm *vm_find_live(const char *name, size_t len);
/* Whether every VM has ended and been torn down. */
bool all_vms_ended(void);
#endif
