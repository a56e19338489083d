/* Guest memory by linear address (virt/guest_linear.h). */
#include "virt/guest_linear.h"
#include "virt/event_inject.h"
#include "virt/guest_mem.h"
#include "virt/guest_walk.h"
#include "virt/vm.h"
#include "vmx/vmcs.h"
#include "lib/string.h"

#define VECTOR_PF      14
#define PF_ERROR_WRITE (1u << 1)

static bool read_guest(void *ctx, uint64_t gpa, void *dst, unsigned len)
{
    return guest_mem_read(ctx, gpa, dst, len);
}

bool vcpu_linear_access(struct vcpu *v, uint64_t linear, void *buf, unsigned len, bool write)
{
    struct guest_paging paging = { vmcs_read(GUEST_CR0), vmcs_read(GUEST_CR3), vmcs_read(GUEST_CR4),
                                   vmcs_read(GUEST_IA32_EFER) };
    for (unsigned done = 0; done < len;) {
        uint64_t gpa;
        if (!guest_translate(&paging, linear + done, read_guest, v->vm, &gpa)) {
            v->cr2 = linear + done;
            inject_exception(v, VECTOR_PF, true, write ? PF_ERROR_WRITE : 0);
            return false;
        }
        unsigned chunk = 4096 - (unsigned)(gpa & 4095);
        if (chunk > len - done)
            chunk = len - done;
        uint8_t *bytes = (uint8_t *)buf + done;
        if (write)
            (void)guest_mem_write(v->vm, gpa, bytes, chunk);
        else if (!guest_mem_read(v->vm, gpa, bytes, chunk))
            memset(bytes, 0xff, chunk);
        done += chunk;
    }
    return true;
}
