/* The VMX instructions a guest executes (SDM Vol. 3C 26.1.2: they always
 * exit): emulated for a VM with nested VMX (nested/vmx_insn.h), #UD for
 * the others, as on a CPU without VMX. */
#include "exits/exits.h"
#include "nested/nested.h"
#include "nested/vmx_insn.h"
#include "virt/event_inject.h"

/* Whether the VM has nested VMX; #UD if not. */
static bool vmx_offered(struct vcpu *vcpu)
{
    if (nested_offered(vcpu))
        return true;
    inject_exception(vcpu, VECTOR_UD, false, 0);
    return false;
}

enum exit_action handle_vmx_instruction(struct vcpu *vcpu, struct vm_exit exit)
{
    if (vmx_offered(vcpu))
        nested_vmx_instruction(vcpu, exit.reason);
    return EXIT_RESUME;
}

enum exit_action handle_vm_entry_instruction(struct vcpu *vcpu, struct vm_exit exit)
{
    if (vmx_offered(vcpu))
        nested_vm_entry_instruction(vcpu, exit.reason == EXIT_REASON_VMRESUME);
    return EXIT_RESUME;
}
