#include "arch/traps.h"
#include "arch/cpu.h"
#include "arch/percpu.h"
#include "arch/platform.h"
#include "arch/serial.h"
#include "lib/printf.h"

extern const char __image_start[], __image_end[];

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available", "#DF double fault",
    "coprocessor segment overrun", "#TS invalid TSS", "#NP segment not present",
    "#SS stack fault", "#GP general protection", "#PF page fault", "reserved",
    "#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
    "#VE virtualization exception", "#CP control protection",
};

static bool is_text_address(uint64_t a)
{
    return a >= (uint64_t)__image_start && a < (uint64_t)__image_end;
}

/* Walks the frame-pointer chain (the hypervisor is built with
 * -fno-omit-frame-pointer); stops at the boot stack's zero RBP or garbage. */
static void print_backtrace(uint64_t rip, uint64_t rbp)
{
    kprintf("backtrace (addr2line -e build/vmxvisor.elf):\n  %016lx\n", rip);
    for (int depth = 0; depth < 32 && rbp && !(rbp & 7) && rbp >= 0x1000; depth++) {
        const uint64_t *frame = (const uint64_t *)rbp;
        uint64_t ret = frame[1];
        if (!is_text_address(ret))
            break;
        kprintf("  %016lx\n", ret);
        if (frame[0] <= rbp)
            break;
        rbp = frame[0];
    }
}

void trap_fatal(struct trap_frame *f)
{
    console_hold();
    const char *name = f->vector < 32 && exception_names[f->vector] ? exception_names[f->vector]
                                                                    : "exception";
    kprintf("\n*** EXCEPTION %s (vector %lu) on cpu %u, error code 0x%lx\n", name, f->vector,
            this_cpu()->index, f->error_code);
    kprintf("RIP %04lx:%016lx RFLAGS %016lx RSP %04lx:%016lx\n", f->cs, f->rip, f->rflags,
            f->ss, f->rsp);
    kprintf("RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
    kprintf("RSI %016lx RDI %016lx RBP %016lx R8  %016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
    kprintf("R9  %016lx R10 %016lx R11 %016lx R12 %016lx\n", f->r9, f->r10, f->r11, f->r12);
    kprintf("R13 %016lx R14 %016lx R15 %016lx\n", f->r13, f->r14, f->r15);
    kprintf("CR0 %016lx CR2 %016lx CR3 %016lx CR4 %016lx\n", read_cr0(), read_cr2(),
            read_cr3(), read_cr4());
    print_backtrace(f->rip, f->rbp);
    console_unhold();
    platform_fatal_stop();
}
