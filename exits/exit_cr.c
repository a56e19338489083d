/* Control-register accesses that exit: MOV to CR0/CR4 touching bits the
 * host owns (the guest/host masks: the VMX fixed bits), and CR8, which is the
 * virtual APIC's TPR. CLTS and LMSW only touch bits the guest owns, so they
 * never exit. The guest sees its own values through the read shadows; the
 * real registers keep the bits VMX requires (SDM Vol. 3C 26.3, 28.2.1
 * Table 28-3). */
#include "exits/exits.h"
#include "nested/nested.h"
#include "dev/apic_access.h"
#include "virt/event_inject.h"
#include "virt/vcpu_regs.h"
#include "virt/vm.h"
#include "arch/cpu.h"
#include "arch/msr.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_cpu.h"

#define CR_NUMBER(q)    ((unsigned)(q) & 0xf)
#define CR_ACCESS(q)    ((unsigned)((q) >> 4) & 3)
#define CR_GPR(q)       ((unsigned)((q) >> 8) & 0xf)
enum { CR_MOV_TO = 0, CR_MOV_FROM = 1 };

#define CR0_RESERVED_HIGH 0xffffffff00000000ull

static uint64_t with_fixed_bits(uint64_t value, uint64_t fixed0, uint64_t fixed1, uint64_t exempt)
{
    return (value | (fixed0 & ~exempt)) & fixed1;
}

/* Entering or leaving IA-32e mode follows CR0.PG with EFER.LME set
 * (SDM Vol. 3A 10.8.5); the VM-entry control has to follow too. */
static void update_long_mode(uint64_t cr0)
{
    uint64_t efer = vmcs_read(GUEST_IA32_EFER);
    bool active = (cr0 & CR0_PG) && (efer & EFER_LME);
    vmcs_write(GUEST_IA32_EFER, active ? efer | EFER_LMA : efer & ~EFER_LMA);
    if (active)
        vmcs_set_bits(VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
    else
        vmcs_clear_bits(VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
}

static bool set_cr0(const struct vcpu *vcpu, uint64_t cr0)
{
    if (cr0 & CR0_RESERVED_HIGH || ((cr0 & CR0_PG) && !(cr0 & CR0_PE)) ||
        ((cr0 & CR0_NW) && !(cr0 & CR0_CD)) || !nested_cr0_allowed(vcpu, cr0))
        return false;
    vmcs_write(CR0_READ_SHADOW, cr0);
    vmcs_write(GUEST_CR0, with_fixed_bits(cr0, vmcs_config.cr0_fixed0, vmcs_config.cr0_fixed1,
                                          CR0_PE | CR0_PG));   /* unrestricted guest */
    update_long_mode(cr0);
    return true;
}

static bool set_cr4(const struct vcpu *vcpu, uint64_t cr4)
{
    /* The guest may set what the CPU allows and its CPUID shows; VMXE not
     * cleared in VMX operation. */
    if ((cr4 & ~vmcs_config.cr4_fixed1) || (cr4 & guest_cr4_unavailable(vcpu)) ||
        !nested_cr4_allowed(vcpu, cr4))
        return false;
    vmcs_write(CR4_READ_SHADOW, cr4);
    vmcs_write(GUEST_CR4, with_fixed_bits(cr4, vmcs_config.cr4_fixed0, vmcs_config.cr4_fixed1, 0));
    return true;
}

enum exit_action handle_cr_access(struct vcpu *vcpu, struct vm_exit exit)
{
    uint64_t q = exit.qualification;
    unsigned cr = CR_NUMBER(q);
    bool ok = true;
    switch (CR_ACCESS(q)) {
    case CR_MOV_TO: {
        uint64_t value = vcpu_read_gpr(vcpu, CR_GPR(q));
        if (cr == 0)
            ok = set_cr0(vcpu, value);
        else if (cr == 4)
            ok = set_cr4(vcpu, value);
        else if (cr == 8 && !(value & ~0xfull))     /* CR8 holds a 4-bit priority */
            apic_set_cr8(vcpu, value);
        else if (cr == 8)
            ok = false;
        else
            return stop_vm_with_dump(vcpu, "unexpected MOV to control register");
        break;
    }
    case CR_MOV_FROM:
        if (cr != 8)
            return stop_vm_with_dump(vcpu, "unexpected MOV from control register");
        vcpu_write_gpr(vcpu, CR_GPR(q), apic_get_cr8(vcpu));
        break;
    default:
        return stop_vm_with_dump(vcpu, "unexpected CLTS or LMSW exit");
    }
    if (!ok) {
        inject_exception(vcpu, VECTOR_GP, true, 0);
        return EXIT_RESUME;
    }
    skip_instruction(vcpu);
    return EXIT_RESUME;
}
