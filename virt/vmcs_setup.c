#include "virt/vmcs_setup.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_cpu.h"
#include "arch/cpu.h"
#include "arch/msr.h"
#include "arch/gdt.h"
#include "arch/percpu.h"
#include "virt/vm.h"
#include "virt/guest_layout.h"

/* Segment access rights (SDM Vol. 3C 25.4.1, Table 25-2). */
#define AR_CODE64       0xa09b  /* execute/read, accessed, S, DPL 0, P, L, G */
#define AR_CODE32       0xc09b  /* execute/read, accessed, S, DPL 0, P, D/B, G */
#define AR_DATA         0xc093  /* read/write, accessed, S, DPL 0, P, D/B, G */
#define AR_CODE16       0x009b  /* execute/read, accessed, S, P: real-mode code */
#define AR_DATA16       0x0093  /* read/write, accessed, S, P: real-mode data */
#define AR_TSS64_BUSY   0x008b
#define AR_LDT          0x0082
#define AR_UNUSABLE     0x10000
#define RFLAGS_RESERVED 0x2
#define DR7_INIT        0x400
#define PAT_POWER_ON    0x0007040600070406ull
#define CR0_ET          (1ull << 4)

_Static_assert(VMCS_HOST_RSP_ENCODING == HOST_RSP, "vmenter.S writes HOST_RSP by number");

void vmcs_write_host_per_cpu_state(void)
{
    struct percpu *cpu = this_cpu();
    vmcs_write(HOST_GS_BASE, (uint64_t)cpu);
    vmcs_write(HOST_TR_BASE, (uint64_t)&cpu->tables.tss);
    vmcs_write(HOST_GDTR_BASE, (uint64_t)cpu->tables.gdt);
    vmcs_write(HOST_IA32_SYSENTER_ESP, 0);
}

void vmcs_write_host_state(void)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    vmcs_write(HOST_CR0, read_cr0());
    vmcs_write(HOST_CR3, read_cr3());
    vmcs_write(HOST_CR4, read_cr4());
    vmcs_write(HOST_CS_SELECTOR, SEL_KERNEL_CODE);
    vmcs_write(HOST_SS_SELECTOR, SEL_KERNEL_DATA);
    vmcs_write(HOST_DS_SELECTOR, SEL_KERNEL_DATA);
    vmcs_write(HOST_ES_SELECTOR, SEL_KERNEL_DATA);
    vmcs_write(HOST_FS_SELECTOR, 0);
    vmcs_write(HOST_GS_SELECTOR, 0);
    vmcs_write(HOST_TR_SELECTOR, SEL_TSS);
    vmcs_write(HOST_FS_BASE, 0);
    vmcs_write(HOST_IDTR_BASE, idtr.base);
    vmcs_write(HOST_IA32_SYSENTER_CS, 0);
    vmcs_write(HOST_IA32_SYSENTER_EIP, 0);
    vmcs_write(HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
    if (vmcs_config.ctl[VMX_CTL_EXIT] & EXIT_LOAD_PAT)
        vmcs_write(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
    vmcs_write(HOST_RIP, (uint64_t)vmx_exit_entry);
    vmcs_write_host_per_cpu_state();
}

static void write_controls(struct vcpu *vcpu)
{
    struct vm *vm = vcpu->vm;
    const uint32_t *ctl = vmcs_config.ctl;
    /* Controls turned on per vCPU when needed start off: event windows
     * (virt/event_inject.c). No TPR shadow: CR8 accesses exit to the
     * virtual APIC (dev/apic_access.c); the negotiation made sure the CPU
     * allows that. The preemption timer ends time slices (machine/vcpu_run.c). */
    const uint32_t cr8_exits = PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING;
    struct vmcs_controls c = {
        .pin = ctl[VMX_CTL_PIN],
        .proc = (ctl[VMX_CTL_PROC] & ~(PROC_INTERRUPT_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING |
                                      PROC_MONITOR_TRAP_FLAG | PROC_USE_TPR_SHADOW)) |
                cr8_exits,
        .proc2 = ctl[VMX_CTL_PROC2] & (PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST |
                                       PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID |
                                       PROC2_ENABLE_XSAVES),
        .exit = ctl[VMX_CTL_EXIT],
        .entry = vm->boot.mode == BOOT_CPU_LONG ? ctl[VMX_CTL_ENTRY] | ENTRY_IA32E_MODE_GUEST
                                                : ctl[VMX_CTL_ENTRY],
        .exception_bitmap = 0,
    };
    if (vcpu->vpid)
        c.proc2 |= PROC2_ENABLE_VPID;
    if (vm->ple_enabled) {
        c.proc2 |= PROC2_PAUSE_LOOP_EXITING;
        vmcs_write(PLE_GAP, vm->config.ple_params.gap);
        vmcs_write(PLE_WINDOW, vcpu->ple.window);
    }
    vmcs_write(PAGE_FAULT_ERROR_CODE_MASK, 0);
    vmcs_write(PAGE_FAULT_ERROR_CODE_MATCH, 0);
    vmcs_write(CR3_TARGET_COUNT, 0);
    vmcs_write(VM_EXIT_MSR_STORE_COUNT, 0);
    vmcs_write(VM_EXIT_MSR_LOAD_COUNT, 0);
    vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
    vmcs_write(IO_BITMAP_A, (uint64_t)vm->io_bitmaps);
    vmcs_write(IO_BITMAP_B, (uint64_t)vm->io_bitmaps + 4096);
    vmcs_write(MSR_BITMAP, (uint64_t)vm->msr_bitmap);
    vmcs_write(TSC_OFFSET, 0);
    vmcs_write(EPT_POINTER, ept_pointer(&vm->ept));
    if (vcpu->vpid)
        vmcs_write(VIRTUAL_PROCESSOR_ID, vcpu->vpid);
    if (c.proc2 & PROC2_ENABLE_XSAVES)
        vmcs_write(XSS_EXIT_BITMAP, 0);
    /* The guest owns CR0 but for the bits VMX needs fixed, and of CR4 only
     * the bits of features every VT-x processor has that guests toggle
     * (KVM's possible guest-owned CR4 bits): writes to the others exit, so
     * that a feature bit its CPUID does not show raises #GP
     * (exits/exit_cr.c). The guest reads its own values from the shadows. */
    const uint64_t cr4_guest_owned = CR4_TSD | CR4_DE | CR4_PGE | CR4_PCE | CR4_OSFXSR |
                                     CR4_OSXMMEXCPT | CR4_FSGSBASE;
    c.cr0_mask = vmcs_config.cr0_fixed0 & ~(CR0_PE | CR0_PG);
    c.cr4_mask = vmcs_config.cr4_fixed0 | ~vmcs_config.cr4_fixed1 | ~cr4_guest_owned;
    loaded_vmcs_write_controls(vcpu->vmcs, &c);
    vmcs_write(VMCS_LINK_POINTER, ~0ull);
    /* The APIC virtualization controls follow the vCPU's APIC mode; they
     * are written before the first entry (dev/apicv.c). */
    vcpu->apicv.controls_stale = vm->apicv != APICV_OFF;
}

static void write_segment(enum vmcs_field selector, uint16_t sel, uint64_t base, uint32_t limit,
                          uint32_t ar)
{
    /* The selector, base, limit and access-rights fields of one segment lie
     * at fixed distances from the selector's encoding (SDM Appendix B). */
    unsigned index = (selector - GUEST_ES_SELECTOR) / 2;
    vmcs_write(selector, sel);
    vmcs_write(GUEST_ES_BASE + 2 * index, base);
    vmcs_write(GUEST_ES_LIMIT + 2 * index, limit);
    vmcs_write(GUEST_ES_AR_BYTES + 2 * index, ar);
}

uint64_t vmcs_guest_cr0(uint64_t cr0)
{
    /* With unrestricted guest, PE and PG need not follow CR0_FIXED0 (SDM
     * Vol. 3C 27.3.1.1). */
    return (cr0 | vmcs_config.cr0_fixed0) & vmcs_config.cr0_fixed1 & ~((CR0_PE | CR0_PG) & ~cr0);
}

uint64_t vmcs_guest_cr4(uint64_t cr4)
{
    return (cr4 | vmcs_config.cr4_fixed0) & vmcs_config.cr4_fixed1;
}

void vmcs_write_control_registers(uint64_t cr0, uint64_t cr4)
{
    vmcs_write_base(GUEST_CR0, vmcs_guest_cr0(cr0));
    vmcs_write_base(CR0_READ_SHADOW, cr0);
    vmcs_write_base(GUEST_CR4, vmcs_guest_cr4(cr4));
    vmcs_write_base(CR4_READ_SHADOW, cr4);
}

static void write_flat_segments(uint16_t code_selector, uint32_t code_ar)
{
    write_segment(GUEST_CS_SELECTOR, code_selector, 0, 0xffffffff, code_ar);
    for (enum vmcs_field s = GUEST_ES_SELECTOR; s <= GUEST_GS_SELECTOR; s += 2)
        if (s != GUEST_CS_SELECTOR)
            write_segment(s, GUEST_SEL_DATA, 0, 0xffffffff, AR_DATA);
    vmcs_write(GUEST_GDTR_BASE, GUEST_GDT_GPA);
    vmcs_write(GUEST_GDTR_LIMIT, GUEST_GDT_SIZE - 1);
    vmcs_write(GUEST_IDTR_BASE, 0);
    vmcs_write(GUEST_IDTR_LIMIT, 0);
}

/* A 64-bit flat start: paging with the hypervisor-built identity map, long
 * mode active, flat code and data segments (SDM Vol. 3C 27.3.1 checks). */
static void write_guest_state_long_mode(const struct boot_state *boot)
{
    vmcs_write_control_registers(CR0_PE | CR0_ET | CR0_NE | CR0_PG, CR4_PAE);
    vmcs_write(GUEST_CR3, GUEST_PML4_GPA);
    vmcs_write(GUEST_IA32_EFER, EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE);
    write_flat_segments(boot->code_selector, AR_CODE64);
}

/* 32-bit protected mode, paging off, flat 4 GiB segments: the state a
 * multiboot kernel is entered in (Multiboot 0.6.96 section 3.2). */
static void write_guest_state_protected_mode(const struct boot_state *boot)
{
    vmcs_write_control_registers(CR0_PE | CR0_ET | CR0_NE, 0);
    vmcs_write(GUEST_CR3, 0);
    vmcs_write(GUEST_IA32_EFER, 0);
    write_flat_segments(boot->code_selector, AR_CODE32);
}

/* Real mode, possible only with unrestricted guest: paging and protection
 * off, segments as real mode sets them (base = selector << 4, 64 KiB
 * limits), the IVT at 0. Used for a `start = real` VM and for a start-up
 * IPI, which starts at vector:0000 (SDM Vol. 3A 9.4.4). */
static void write_guest_state_real_mode(uint16_t cs, uint64_t ip, uint64_t sp)
{
    vmcs_write_control_registers(CR0_ET | CR0_NE, 0);
    vmcs_write(GUEST_CR3, 0);
    vmcs_write(GUEST_IA32_EFER, 0);
    vmcs_clear_bits(VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
    write_segment(GUEST_CS_SELECTOR, cs, (uint64_t)cs << 4, 0xffff, AR_CODE16);
    for (enum vmcs_field s = GUEST_ES_SELECTOR; s <= GUEST_GS_SELECTOR; s += 2)
        if (s != GUEST_CS_SELECTOR)
            write_segment(s, 0, 0, 0xffff, AR_DATA16);
    vmcs_write(GUEST_GDTR_BASE, 0);
    vmcs_write(GUEST_GDTR_LIMIT, 0xffff);
    vmcs_write(GUEST_IDTR_BASE, 0);
    vmcs_write(GUEST_IDTR_LIMIT, 0x3ff);
    vmcs_write(GUEST_RIP, ip);
    vmcs_write(GUEST_RSP, sp);
}

static void write_guest_state_common(struct vcpu *vcpu)
{
    write_segment(GUEST_LDTR_SELECTOR, 0, 0, 0, AR_UNUSABLE);
    /* TR must be a busy TSS even where nothing uses it (SDM 27.3.1.2). */
    write_segment(GUEST_TR_SELECTOR, 0, 0, 0x67, AR_TSS64_BUSY);
    vmcs_write(GUEST_RFLAGS, RFLAGS_RESERVED);
    vmcs_write(GUEST_DR7, DR7_INIT);
    vmcs_write(GUEST_IA32_DEBUGCTL, 0);
    vmcs_write(GUEST_SYSENTER_CS, 0);
    vmcs_write(GUEST_SYSENTER_ESP, 0);
    vmcs_write(GUEST_SYSENTER_EIP, 0);
    vcpu->pat = PAT_POWER_ON;
    if (vmcs_config.ctl[VMX_CTL_ENTRY] & ENTRY_LOAD_PAT)
        vmcs_write(GUEST_IA32_PAT, PAT_POWER_ON);
    vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
    vmcs_write(GUEST_ACTIVITY_STATE, 0);
    vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
    vmcs_write(VM_ENTRY_INTR_INFO, 0);
}

void vmcs_init(struct vcpu *vcpu)
{
    write_controls(vcpu);
    vmcs_write_host_state();
    /* vCPU 0 starts as the loader says; the others are overwritten by their
     * start-up IPI (vmcs_enter_startup_state) before they first run. */
    const struct boot_state *boot = &vcpu->vm->boot;
    switch (boot->mode) {
    case BOOT_CPU_REAL:
        write_guest_state_real_mode((uint16_t)(boot->rip >> 4), boot->rip & 0xf, boot->rsp);
        break;
    case BOOT_CPU_PROTECTED:
        write_guest_state_protected_mode(boot);
        break;
    case BOOT_CPU_LONG:
        write_guest_state_long_mode(boot);
        break;
    }
    if (boot->mode != BOOT_CPU_REAL) {
        vmcs_write(GUEST_RIP, boot->rip);
        vmcs_write(GUEST_RSP, boot->rsp);
    }
    write_guest_state_common(vcpu);
    vcpu->regs.rax = boot->rax;
    vcpu->regs.rbx = boot->rbx;
    vcpu->regs.rdx = boot->rdx;
    vcpu->regs.rsi = boot->rsi;
    vcpu->regs.rdi = boot->rdi;
}

void vmcs_enter_startup_state(struct vcpu *vcpu, uint8_t vector)
{
    write_guest_state_real_mode((uint16_t)(vector << 8), 0, 0);
    write_guest_state_common(vcpu);
    vcpu->regs = (struct guest_regs){ 0 };
    vcpu->cr2 = 0;
    vcpu->xcr0 = 1;     /* x87 only, as after INIT */
}
