/* VMCS dump and VM-instruction error texts, both driven by tables. */
#include "vmx/vmcs.h"
#include "arch/platform.h"
#include "lib/printf.h"
#include <stdbool.h>

static const char *const instruction_errors[] = {
    [1] = "VMCALL executed in VMX root operation",
    [2] = "VMCLEAR with invalid physical address",
    [3] = "VMCLEAR with VMXON pointer",
    [4] = "VMLAUNCH with non-clear VMCS",
    [5] = "VMRESUME with non-launched VMCS",
    [6] = "VMRESUME after VMXOFF",
    [7] = "VM entry with invalid control field(s)",
    [8] = "VM entry with invalid host-state field(s)",
    [9] = "VMPTRLD with invalid physical address",
    [10] = "VMPTRLD with VMXON pointer",
    [11] = "VMPTRLD with incorrect VMCS revision identifier",
    [12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
    [13] = "VMWRITE to read-only VMCS component",
    [15] = "VMXON executed in VMX root operation",
    [16] = "VM entry with invalid executive-VMCS pointer",
    [17] = "VM entry with non-launched executive VMCS",
    [18] = "VM entry with executive-VMCS pointer not VMXON pointer",
    [19] = "VMCALL with non-clear VMCS",
    [20] = "VMCALL with invalid VM-exit control fields",
    [22] = "VMCALL with incorrect MSEG revision identifier",
    [23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
    [24] = "VMCALL with invalid SMM-monitor features",
    [25] = "VM entry with invalid VM-execution control fields in executive VMCS",
    [26] = "VM entry with events blocked by MOV SS",
    [28] = "invalid operand to INVEPT/INVVPID",
};

const char *vmx_instruction_error_text(uint32_t error)
{
    if (error < sizeof(instruction_errors) / sizeof(instruction_errors[0]) &&
        instruction_errors[error])
        return instruction_errors[error];
    return "unknown VM-instruction error";
}

/* A failed VMREAD/VMWRITE left its reason in the VM-instruction error
 * field, unless there is no current VMCS at all (VMfailInvalid). */
static __attribute__((noreturn)) void access_failed(const char *op, uint32_t field)
{
    const struct vmcs_field_info *f = vmcs_field_lookup(field);
    uint64_t error;
    bool have_vmcs = vmread_checked(VM_INSTRUCTION_ERROR, &error) == VMX_SUCCEED;
    panic("%s of %s (0x%04x) failed: %s", op, f ? f->id : "?", field,
          have_vmcs ? vmx_instruction_error_text((uint32_t)error) : "no current VMCS");
}

void vmcs_read_failed(uint32_t field)
{
    access_failed("VMREAD", field);
}

void vmcs_write_failed(uint32_t field)
{
    access_failed("VMWRITE", field);
}

void vmcs_dump(void)
{
    static const char *const kinds[] = { "control", "read-only data", "guest state", "host state" };
    for (int kind = VMCS_TYPE_CONTROL; kind <= VMCS_TYPE_HOST; kind++) {
        kprintf("VMCS %s:\n", kinds[kind]);
        unsigned column = 0;
        for (unsigned i = 0; i < vmcs_field_count; i++) {
            const struct vmcs_field_info *f = &vmcs_field_table[i];
            uint64_t v;
            if (vmcs_field_type(f->encoding) != (enum vmcs_field_type)kind ||
                vmread_checked(f->encoding, &v) != VMX_SUCCEED)
                continue;   /* a field this CPU does not have */
            kprintf("  %-30s %016lx%s", f->id, v, ++column % 2 ? "" : "\n");
        }
        if (column % 2)
            kprintf("\n");
    }
}
