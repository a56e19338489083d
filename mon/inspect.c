/* A vCPU's state and its VM's memory, as QEMU's monitor shows them:
 * `info registers`, `info vmcs`, `x` and `xp`. A vCPU's registers live in
 * its VMCS, which only the CPU where it is active can read: the vCPU is
 * asked for a copy (virt/vcpu_snapshot.h; served by the vCPU itself if it
 * runs, else by that CPU: machine/vcpu_inspect.h) and the command waits for
 * it (monitor_defer). */
#include "mon/monitor.h"
#include "mon/monitor_wait.h"
#include "virt/vm.h"
#include "machine/vcpu_inspect.h"
#include "virt/guest_mem.h"
#include "virt/guest_walk.h"
#include "sched/sched.h"
#include "arch/tsc.h"
#include "arch/cpu.h"
#include "arch/serial.h"
#include "lib/printf.h"
#include "lib/string.h"

#define ANSWER_TIMEOUT_MS 1000
#define DUMP_DEFAULT_LEN 128
#define DUMP_MAX_LEN 4096

/* The words of a command line: at most `max`, each NUL-terminated in `buf`. */
static unsigned split_words(const char *args, char *buf, size_t size, const char **words,
                            unsigned max)
{
    unsigned n = 0;
    size_t at = 0;
    while (n < max && at < size) {
        while (*args == ' ' || *args == '\t')
            args++;
        if (!*args)
            break;
        words[n++] = buf + at;
        for (; *args && *args != ' ' && *args != '\t'; args++)
            if (at + 1 < size)
                buf[at++] = *args;
        buf[at++] = '\0';
    }
    return n;
}

static bool parse_number(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned d = *s >= '0' && *s <= '9' ? (unsigned)(*s - '0')
                     : *s >= 'a' && *s <= 'f' ? (unsigned)(*s - 'a' + 10)
                     : *s >= 'A' && *s <= 'F' ? (unsigned)(*s - 'A' + 10) : 99;
        if (d >= base || v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

static struct vm *live_vm(const char *command, const char *name)
{
    struct vm *vm = name ? vm_find_live(name, strlen(name)) : NULL;
    if (!vm)
        kprintf("%s: no running VM named '%s'\n", command, name ? name : "");
    return vm;
}

/* vCPU `word` of the VM, or NULL after saying why not. */
static struct vcpu *vcpu_named(const char *command, struct vm *vm, const char *word)
{
    uint64_t id;
    if (!word || !parse_number(word, &id) || id >= vm->vcpu_count) {
        kprintf("%s: vm %s has vCPUs 0 to %u, not '%s'\n", command, vm->config.name,
                vm->vcpu_count - 1, word ? word : "");
        return NULL;
    }
    return &vm->vcpus[id];
}

#define COMMAND_WORDS 4

/* A command line's words: VM, then its own arguments. */
struct command_words {
    char buf[128];
    const char *w[COMMAND_WORDS];
    unsigned n;
};

/* The VM its first word names and, if the second word is there (or
 * `vcpu_required`), that vCPU of it; NULL after saying what is wrong. */
static struct vm *command_target(const char *command, const char *args, struct command_words *c,
                                 bool vcpu_required, struct vcpu **vcpu)
{
    c->n = split_words(args, c->buf, sizeof(c->buf), c->w, COMMAND_WORDS);
    *vcpu = NULL;
    struct vm *vm = live_vm(command, c->n ? c->w[0] : NULL);
    if (!vm || (c->n < 2 && !vcpu_required))
        return vm;
    *vcpu = vcpu_named(command, vm, c->n > 1 ? c->w[1] : NULL);
    return *vcpu ? vm : NULL;
}

/* --- fresh snapshots: asked for, then waited for ------------------------ */

static struct {
    struct vm *vm;
    uint32_t first, end;            /* the vCPUs asked */
    uint64_t seq[VM_MAX_VCPUS];     /* their snapshots' numbers when asked */
    bool asked[VM_MAX_VCPUS];
    void (*show)(struct vcpu *v, bool fresh);
} asking;

static bool snapshot_newer(const struct vcpu *v, uint64_t than)
{
    uint64_t seq = __atomic_load_n(&v->snapshot.seq, __ATOMIC_ACQUIRE);
    return seq != than && !(seq & 1);
}

static bool all_answered(void)
{
    for (uint32_t i = asking.first; i < asking.end; i++)
        if (asking.asked[i] && !snapshot_newer(&asking.vm->vcpus[i], asking.seq[i]))
            return false;
    return true;
}

static void show_answers(enum monitor_wait_end end)
{
    (void)end;
    vcpu_inspect_done();
    for (uint32_t i = asking.first; i < asking.end; i++) {
        struct vcpu *v = &asking.vm->vcpus[i];
        asking.show(v, asking.asked[i] && snapshot_newer(v, asking.seq[i]));
    }
}

/* Asks vCPUs [first, end) for their state (REQ_SNAPSHOT, or REQ_DUMP_VMCS
 * which takes one too), then shows each with `show`, fresh or not. */
static void ask_vcpus(struct vm *vm, uint32_t first, uint32_t end, uint32_t request,
                      void (*show)(struct vcpu *v, bool fresh))
{
    asking.vm = vm;
    asking.first = first;
    asking.end = end;
    asking.show = show;
    for (uint32_t i = first; i < end; i++) {
        struct vcpu *v = &vm->vcpus[i];
        asking.seq[i] = __atomic_load_n(&v->snapshot.seq, __ATOMIC_ACQUIRE);
        /* A vCPU that has never run (an AP before its SIPI) has no VMCS yet. */
        asking.asked[i] = v->vmcs->vmcs != 0;
        if (asking.asked[i])
            vcpu_inspect_ask(v, request);
    }
    monitor_defer(all_answered, show_answers, ANSWER_TIMEOUT_MS, false);
}

/* A consistent copy of the vCPU's snapshot; false if it never left one. */
static bool copy_snapshot(const struct vcpu *v, struct vcpu_snapshot *out)
{
    for (;;) {
        uint64_t seq = __atomic_load_n(&v->snapshot.seq, __ATOMIC_ACQUIRE);
        if (!seq)
            return false;
        if (seq & 1)
            continue;
        *out = v->snapshot;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);    /* the data before the re-check */
        if (__atomic_load_n(&v->snapshot.seq, __ATOMIC_RELAXED) == seq)
            return true;
    }
}

static const char *off_cpu_state(const struct vcpu *v)
{
    if (v->vm->sched.hold & VM_HOLD_STOP)
        return "off its CPU, stopped";
    switch (v->se.state) {
    case VCPU_HALTED: return "off its CPU, halted";
    case VCPU_WAIT_SIPI: return "off its CPU, waiting for SIPI";
    default: return "off its CPU, waiting for one";
    }
}

/* Where a shown state comes from. */
static void print_provenance(const struct vcpu *v, const struct vcpu_snapshot *s, bool fresh)
{
    uint64_t age_us = (rdtsc() - s->tsc) * 1000 / tsc_khz();
    const char *how = !fresh ? "no answer within a second: an older copy"
                      : s->in_run_loop ? "at an exit for this command" : off_cpu_state(v);
    kprintf("vm %s vcpu %u: %s, %lu.%03lu ms ago%s\n", v->vm->config.name, v->id, how,
            age_us / 1000, age_us % 1000, s->in_l2 ? "; L2's state (the vCPU runs its "
                                                     "guest's guest)" : "");
}

/* --- info registers ---------------------------------------------------- */

static void print_segment(const char *name, const struct vcpu_snapshot *s, unsigned at)
{
    kprintf("%-4s %04lx %016lx %08lx %05lx\n", name, s->field[at], s->field[at + 1],
            s->field[at + 2], s->field[at + 3]);
}

static void show_registers(struct vcpu *v, bool fresh)
{
    struct vcpu_snapshot s;
    if (!copy_snapshot(v, &s)) {
        kprintf("vm %s vcpu %u: has not run yet\n", v->vm->config.name, v->id);
        return;
    }
    console_hold();
    print_provenance(v, &s, fresh);
    const struct guest_regs *r = &s.regs;
    kprintf("RAX=%016lx RBX=%016lx RCX=%016lx RDX=%016lx\n", r->rax, r->rbx, r->rcx, r->rdx);
    kprintf("RSI=%016lx RDI=%016lx RBP=%016lx RSP=%016lx\n", r->rsi, r->rdi, r->rbp,
            s.field[SNAP_GUEST_RSP]);
    kprintf("R8 =%016lx R9 =%016lx R10=%016lx R11=%016lx\n", r->r8, r->r9, r->r10, r->r11);
    kprintf("R12=%016lx R13=%016lx R14=%016lx R15=%016lx\n", r->r12, r->r13, r->r14, r->r15);
    kprintf("RIP=%016lx RFL=%08lx activity %lu interruptibility %lx\n", s.field[SNAP_GUEST_RIP],
            s.field[SNAP_GUEST_RFLAGS], s.field[SNAP_GUEST_ACTIVITY_STATE],
            s.field[SNAP_GUEST_INTERRUPTIBILITY_INFO]);
    kprintf("seg  sel  base             limit    access\n");
    print_segment("ES", &s, SNAP_GUEST_ES_SELECTOR);
    print_segment("CS", &s, SNAP_GUEST_CS_SELECTOR);
    print_segment("SS", &s, SNAP_GUEST_SS_SELECTOR);
    print_segment("DS", &s, SNAP_GUEST_DS_SELECTOR);
    print_segment("FS", &s, SNAP_GUEST_FS_SELECTOR);
    print_segment("GS", &s, SNAP_GUEST_GS_SELECTOR);
    print_segment("LDT", &s, SNAP_GUEST_LDTR_SELECTOR);
    print_segment("TR", &s, SNAP_GUEST_TR_SELECTOR);
    kprintf("GDT=     %016lx %08lx\n", s.field[SNAP_GUEST_GDTR_BASE], s.field[SNAP_GUEST_GDTR_LIMIT]);
    kprintf("IDT=     %016lx %08lx\n", s.field[SNAP_GUEST_IDTR_BASE], s.field[SNAP_GUEST_IDTR_LIMIT]);
    kprintf("CR0=%08lx CR2=%016lx CR3=%016lx CR4=%08lx\n", snapshot_guest_cr0(&s), s.cr2,
            s.field[SNAP_GUEST_CR3], snapshot_guest_cr4(&s));
    kprintf("EFER=%016lx DR7=%016lx\n", s.field[SNAP_GUEST_IA32_EFER], s.field[SNAP_GUEST_DR7]);
    console_unhold();
}

void info_registers(const char *args)
{
    struct command_words c;
    struct vcpu *v;
    struct vm *vm = command_target("info registers", args, &c, false, &v);
    if (vm)
        ask_vcpus(vm, v ? v->id : 0, v ? v->id + 1 : vm->vcpu_count, REQ_SNAPSHOT,
                  show_registers);
}

/* --- info vmcs ------------------------------------------------------- */

/* The dump itself is printed by the vCPU's CPU (REQ_DUMP_VMCS); here only
 * what became of the request. */
static void show_vmcs_outcome(struct vcpu *v, bool fresh)
{
    if (fresh)
        return;
    kprintf("vm %s vcpu %u: %s: its VMCS is printed when it answers\n", v->vm->config.name,
            v->id, v->snapshot.seq ? "no answer within a second" : "it has not run yet");
}

void info_vmcs(const char *args)
{
    struct command_words c;
    struct vcpu *v;
    struct vm *vm = command_target("info vmcs", args, &c, true, &v);
    if (vm)
        ask_vcpus(vm, v->id, v->id + 1, REQ_DUMP_VMCS, show_vmcs_outcome);
}

/* --- x and xp ---------------------------------------------------------- */

/* The monitor only looks: nothing is backed by its reads (guest_mem_peek). */
static bool read_physical(void *vm, uint64_t gpa, void *dst, unsigned len)
{
    return guest_mem_peek(vm, gpa, dst, len);
}

/* n bytes at `addr`, through `paging` if given (page by page), else physical. */
static bool read_guest(struct vm *vm, const struct guest_paging *paging, uint64_t addr,
                       uint8_t *dst, unsigned n)
{
    if (!paging)
        return guest_mem_peek(vm, addr, dst, n);
    while (n) {
        unsigned chunk = 4096 - (unsigned)(addr & 4095);
        if (chunk > n)
            chunk = n;
        uint64_t gpa;
        if (!guest_translate(paging, addr, read_physical, vm, &gpa) ||
            !guest_mem_peek(vm, gpa, dst, chunk))
            return false;
        addr += chunk;
        dst += chunk;
        n -= chunk;
    }
    return true;
}

/* LEN bytes from ADDR, 16 to a line with their characters; virtual through
 * `paging` if given (an unmapped line is said to be), else physical. */
static void dump_memory(struct vm *vm, uint64_t addr, uint64_t len, const struct guest_paging *paging)
{
    console_hold();
    for (uint64_t line = 0; line < len; line += 16) {
        uint8_t bytes[16];
        unsigned n = len - line < 16 ? (unsigned)(len - line) : 16;
        kprintf("%016lx:", addr + line);
        if (!read_guest(vm, paging, addr + line, bytes, n)) {
            kprintf(" %s\n", paging ? "not mapped" : "not RAM");
            continue;
        }
        for (unsigned i = 0; i < 16; i++) {
            if (i < n)
                kprintf(" %02x", bytes[i]);
            else
                kprintf("   ");
        }
        kprintf("  ");
        for (unsigned i = 0; i < n; i++)
            kprintf("%c", bytes[i] >= ' ' && bytes[i] <= '~' ? bytes[i] : '.');
        kprintf("\n");
    }
    console_unhold();
}

static bool dump_length(const char *command, const char *word, uint64_t *len)
{
    *len = DUMP_DEFAULT_LEN;
    if (word && (!parse_number(word, len) || !*len || *len > DUMP_MAX_LEN)) {
        kprintf("%s: LEN is a number of bytes from 1 to %u, not '%s'\n", command, DUMP_MAX_LEN,
                word);
        return false;
    }
    return true;
}

void cmd_xp(const char *args)
{
    struct command_words c;
    c.n = split_words(args, c.buf, sizeof(c.buf), c.w, COMMAND_WORDS);
    struct vm *vm = live_vm("xp", c.n ? c.w[0] : NULL);
    uint64_t addr, len;
    if (!vm)
        return;
    if (c.n < 2 || !parse_number(c.w[1], &addr)) {
        kprintf("xp: usage: xp VM ADDR [LEN] (ADDR guest-physical, e.g. 0x100000)\n");
        return;
    }
    if (dump_length("xp", c.n > 2 ? c.w[2] : NULL, &len))
        dump_memory(vm, addr, len, NULL);
}

static struct {
    struct vm *vm;
    uint64_t addr, len;
    int reg;                /* ADDR is $REG[+N]: the register (REG_RIP, else a GPR), or -1 */
} x_pending;

/* The registers ADDR may name, as QEMU's monitor takes $rsp: the GPRs in
 * the encoding's order (guest_regs_array, RSP from the snapshot), then RIP. */
enum { REG_RSP = 4, REG_RIP = 16 };
static const char *const register_names[] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi",
                                              "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
                                              "r14", "r15", "rip" };

/* ADDR: a number, or $REG or $REG+N (N a number): *reg the register, -1 if none. */
static bool parse_address(const char *word, int *reg, uint64_t *offset)
{
    *reg = -1;
    if (word[0] != '$')
        return parse_number(word, offset);
    char name[8];
    size_t n = 0;
    for (word++; *word && *word != '+' && n + 1 < sizeof(name); word++)
        name[n++] = *word;
    name[n] = '\0';
    *offset = 0;
    if (*word == '+' && !parse_number(word + 1, offset))
        return false;
    if (*word && *word != '+')
        return false;
    for (unsigned i = 0; i < sizeof(register_names) / sizeof(register_names[0]); i++)
        if (!strcmp(name, register_names[i]))
            *reg = (int)i;
    return *reg >= 0;
}

static uint64_t register_value(struct vcpu_snapshot *s, int reg)
{
    return reg == REG_RIP ? s->field[SNAP_GUEST_RIP]
           : reg == REG_RSP ? s->field[SNAP_GUEST_RSP]
                            : guest_regs_array(&s->regs)[reg];
}

/* The vCPU's paging as its snapshot has it, then the dump. */
static void show_virtual(struct vcpu *v, bool fresh)
{
    struct vcpu_snapshot s;
    if (!copy_snapshot(v, &s)) {
        kprintf("vm %s vcpu %u: has not run yet\n", v->vm->config.name, v->id);
        return;
    }
    print_provenance(v, &s, fresh);
    struct guest_paging paging = { .cr0 = snapshot_guest_cr0(&s), .cr3 = s.field[SNAP_GUEST_CR3],
                                   .cr4 = snapshot_guest_cr4(&s),
                                   .efer = s.field[SNAP_GUEST_IA32_EFER] };
    if (s.in_l2) {
        kprintf("x: the vCPU runs L2, whose physical addresses are L1's; xp with L1's "
                "addresses instead\n");
        return;
    }
    if (vm_has_finished(x_pending.vm)) {
        kprintf("x: vm %s has ended meanwhile\n", x_pending.vm->config.name);
        return;
    }
    uint64_t addr = x_pending.addr + (x_pending.reg < 0 ? 0 : register_value(&s, x_pending.reg));
    dump_memory(x_pending.vm, addr, x_pending.len, &paging);
}

void cmd_x(const char *args)
{
    struct command_words c;
    struct vcpu *v;
    struct vm *vm = command_target("x", args, &c, true, &v);
    if (!vm)
        return;
    if (c.n < 3 || !parse_address(c.w[2], &x_pending.reg, &x_pending.addr)) {
        kprintf("x: usage: x VM VCPU ADDR [LEN] (ADDR virtual, through the vCPU's paging: a "
                "number, $REG or $REG+N, e.g. $rsp)\n");
        return;
    }
    if (!dump_length("x", c.n > 3 ? c.w[3] : NULL, &x_pending.len))
        return;
    x_pending.vm = vm;
    ask_vcpus(vm, v->id, v->id + 1, REQ_SNAPSHOT, show_virtual);
}
