#include "vmx/vmx_controls.h"
#include <stddef.h>

#define VMX_CONTROL_NAME(id, bit, name) [bit] = name,
static const char *const pin_names[32] = { VMX_PIN_CONTROLS(VMX_CONTROL_NAME) };
static const char *const proc_names[32] = { VMX_PROC_CONTROLS(VMX_CONTROL_NAME) };
static const char *const proc2_names[32] = { VMX_PROC2_CONTROLS(VMX_CONTROL_NAME) };
static const char *const exit_names[32] = { VMX_EXIT_CONTROLS(VMX_CONTROL_NAME) };
static const char *const entry_names[32] = { VMX_ENTRY_CONTROLS(VMX_CONTROL_NAME) };
#undef VMX_CONTROL_NAME

static const struct {
    const char *name;
    const char *const *bits;
} classes[VMX_CTL_CLASSES] = {
    [VMX_CTL_PIN] = { "pin-based", pin_names },
    [VMX_CTL_PROC] = { "primary processor-based", proc_names },
    [VMX_CTL_PROC2] = { "secondary processor-based", proc2_names },
    [VMX_CTL_EXIT] = { "VM-exit", exit_names },
    [VMX_CTL_ENTRY] = { "VM-entry", entry_names },
};

const char *vmx_control_class_name(enum vmx_control_class cls)
{
    return classes[cls].name;
}

const char *vmx_control_name(enum vmx_control_class cls, unsigned bit)
{
    return bit < 32 ? classes[cls].bits[bit] : NULL;
}
