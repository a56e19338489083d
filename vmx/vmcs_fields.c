#include "vmx/vmcs_fields.h"
#include <stddef.h>

#define VMCS_FIELD_INFO(id, enc, name, shadow) { enc, #id, name, VMCS_SHADOW_##shadow },
const struct vmcs_field_info vmcs_field_table[] = { VMCS_FIELDS(VMCS_FIELD_INFO) };
#undef VMCS_FIELD_INFO
const unsigned vmcs_field_count = sizeof(vmcs_field_table) / sizeof(vmcs_field_table[0]);

const struct vmcs_field_info *vmcs_field_lookup(uint32_t encoding)
{
    for (unsigned i = 0; i < vmcs_field_count; i++)
        if (vmcs_field_table[i].encoding == encoding)
            return &vmcs_field_table[i];
    return NULL;
}
