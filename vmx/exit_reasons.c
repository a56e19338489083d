#include "vmx/exit_reasons.h"
#include <stddef.h>

#define VMX_EXIT_REASON_NAME(id, n, name) [n] = name,
static const char *const names[] = { VMX_EXIT_REASONS(VMX_EXIT_REASON_NAME) };
#undef VMX_EXIT_REASON_NAME

const char *vmx_exit_reason_name(unsigned reason)
{
    return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : NULL;
}
