/* Per-CPU VMX enablement (SDM Vol. 3C 24.7 "Enabling and Entering VMX
 * Operation", 24.8 "Restrictions on VMX Operation"). */
#include "vmx/vmx_cpu.h"
#include "arch/bootinfo.h"
#include "vmx/vmx_insn.h"
#include "arch/cpu.h"
#include "arch/msr.h"
#include "arch/percpu.h"
#include "arch/platform.h"
#include "lib/page_alloc.h"
#include "lib/printf.h"
#include "lib/string.h"
#include <stdarg.h>

#define CPUID_1_ECX_VMX (1u << 5)

struct vmcs_config vmcs_config;
static struct vmx_cpu_state cpu_state[MAX_CPUS];

static bool cpu_has_vmx(void)
{
    return cpuid(1, 0).ecx & CPUID_1_ECX_VMX;
}

void vmx_read_capability_msrs(struct vmx_capability_msrs *c)
{
    memset(c, 0, sizeof(*c));
    c->basic = rdmsr(MSR_IA32_VMX_BASIC);
    c->pinbased = rdmsr(MSR_IA32_VMX_PINBASED_CTLS);
    c->procbased = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS);
    c->exit = rdmsr(MSR_IA32_VMX_EXIT_CTLS);
    c->entry = rdmsr(MSR_IA32_VMX_ENTRY_CTLS);
    c->misc = rdmsr(MSR_IA32_VMX_MISC);
    c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
    c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
    c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
    c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
    c->vmcs_enum = rdmsr(MSR_IA32_VMX_VMCS_ENUM);
    /* The MSRs below exist only when the ones above say so (SDM Vol. 3D A.3.3,
     * A.10, A.11); reading them otherwise would #GP on real hardware. */
    bool secondary = (c->procbased >> 32) & PROC_ACTIVATE_SECONDARY;
    if (secondary)
        c->procbased2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
    uint32_t proc2_allowed1 = (uint32_t)(c->procbased2 >> 32);
    if (proc2_allowed1 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID))
        c->ept_vpid_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
    if (c->basic & VMX_BASIC_TRUE_CONTROLS) {
        c->true_pinbased = rdmsr(MSR_IA32_VMX_TRUE_PINBASED_CTLS);
        c->true_procbased = rdmsr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
        c->true_exit = rdmsr(MSR_IA32_VMX_TRUE_EXIT_CTLS);
        c->true_entry = rdmsr(MSR_IA32_VMX_TRUE_ENTRY_CTLS);
    }
    if (proc2_allowed1 & PROC2_ENABLE_VMFUNC)
        c->vmfunc = rdmsr(MSR_IA32_VMX_VMFUNC);
}

/* The configuration every CPU must arrive at. The command-line word
 * "nopreempt" leaves the VMX-preemption timer unused, so time slices and
 * guest timers fall back on the host LAPIC timer (machine/vcpu_run.c): the path
 * for CPUs without the timer, testable on those with it. */
static bool negotiate(const struct vmx_capability_msrs *caps, struct vmcs_config *cfg, char *why,
                      size_t size)
{
    if (!vmcs_config_negotiate(caps, cfg, why, size))
        return false;
    if (bootinfo_cmdline_flag("nopreempt"))
        vmcs_config_drop_preemption_timer(cfg);
    return true;
}

void vmx_setup_global(void)
{
    if (!cpu_has_vmx())
        panic_status(EXIT_UNSUPPORTED_CPU, "this CPU does not support VMX (CPUID.1:ECX.VMX = 0)");
    struct vmx_capability_msrs caps;
    char why[160];
    vmx_read_capability_msrs(&caps);
    if (!negotiate(&caps, &vmcs_config, why, sizeof(why)))
        panic_status(EXIT_UNSUPPORTED_CPU, "cannot run on this CPU: %s", why);
}

static bool set_error(struct vmx_cpu_state *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static bool set_error(struct vmx_cpu_state *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error_buf, sizeof(s->error_buf), fmt, ap);
    va_end(ap);
    s->error = s->error_buf;
    return false;
}

/* Firmware may lock IA32_FEATURE_CONTROL; if it did so with VMXON outside SMX
 * disabled, VMX is off until the next reset (SDM Vol. 3C 24.7). */
static bool enable_feature_control(struct vmx_cpu_state *s)
{
    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
    if (fc & FEATURE_CONTROL_LOCKED) {
        if (!(fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX))
            return set_error(s, "VMX is disabled by firmware (IA32_FEATURE_CONTROL locked "
                                "without VMXON outside SMX); enable VT-x in the firmware setup");
        return true;
    }
    wrmsr(MSR_IA32_FEATURE_CONTROL,
          fc | FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMXON_OUTSIDE_SMX);
    return true;
}

/* CR0 and CR4 must respect the VMX fixed bits in VMX operation (SDM Vol. 3D
 * A.7, A.8): a bit set in FIXED0 must be 1, a bit clear in FIXED1 must be 0. */
static bool apply_fixed_bits(struct vmx_cpu_state *s)
{
    uint64_t cr0 = (read_cr0() | vmcs_config.cr0_fixed0) & vmcs_config.cr0_fixed1;
    uint64_t cr4 = (read_cr4() | CR4_VMXE | vmcs_config.cr4_fixed0) & vmcs_config.cr4_fixed1;
    if (!(cr4 & CR4_VMXE))
        return set_error(s, "IA32_VMX_CR4_FIXED1 does not allow CR4.VMXE");
    write_cr0(cr0);
    write_cr4(cr4);
    return true;
}

static bool enter_vmx_operation(struct vmx_cpu_state *s)
{
    uint32_t *region = page_alloc(1);
    if (!region)
        return set_error(s, "out of memory for the VMXON region");
    /* The region starts with the VMCS revision identifier, bit 31 clear
     * (SDM Vol. 3C 25.11.5 "VMXON Region"). */
    region[0] = vmcs_config.revision_id;
    s->vmxon_region = (uint64_t)region;
    enum vmx_result r = vmxon(s->vmxon_region);
    if (r != VMX_SUCCEED) {
        page_free(region, 1);
        s->vmxon_region = 0;
        return set_error(s, "VMXON failed (%s)",
                         r == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid");
    }
    s->vmxon = true;
    return true;
}

void vmx_enable_this_cpu(void *unused)
{
    (void)unused;
    struct vmx_cpu_state *s = &cpu_state[this_cpu()->index];
    if (s->vmxon)
        return;
    if (!cpu_has_vmx()) {
        set_error(s, "no VMX (CPUID.1:ECX.VMX = 0)");
        return;
    }
    struct vmx_capability_msrs caps;
    struct vmcs_config mine;
    char why[120];
    vmx_read_capability_msrs(&caps);
    if (!negotiate(&caps, &mine, why, sizeof(why))) {
        set_error(s, "%s", why);
        return;
    }
    if (!vmcs_config_same(&vmcs_config, &mine, why, sizeof(why))) {
        set_error(s, "VMX configuration differs from cpu 0: %s", why);
        return;
    }
    if (enable_feature_control(s) && apply_fixed_bits(s))
        enter_vmx_operation(s);
}

const struct vmx_cpu_state *vmx_cpu_state(uint32_t cpu)
{
    return &cpu_state[cpu];
}
