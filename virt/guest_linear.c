/* Guest memory by linear address (virt/guest_linear.h). */
#include "virt/guest_linear.h"
#include "virt/event_inject.h"
#include "virt/guest_mem.h"
#include "virt/guest_walk.h"
#include "virt/vm.h"
#include "vmx/vmcs.h"
#include "arch/cpu.h"
#include "lib/string.h"

#define VECTOR_PF      14
#define PF_ERROR_WRITE (1u << 1)

struct mapped_memory {
    struct vm *vm;
    guest_phys_map_fn map;
    void *map_ctx;
};

/* The guest-physical address as the VM's, or false where there is none. */
static bool vm_address(const struct mapped_memory *m, uint64_t gpa, uint64_t *vm_gpa)
{
    if (!m->map) {
        *vm_gpa = gpa;
        return true;
    }
    return m->map(m->map_ctx, gpa, vm_gpa);
}

static bool read_guest(void *ctx, uint64_t gpa, void *dst, unsigned len)
{
    const struct mapped_memory *m = ctx;
    uint64_t vm_gpa;
    return vm_address(m, gpa, &vm_gpa) && guest_mem_read(m->vm, vm_gpa, dst, len);
}

bool vcpu_linear_access_mapped(struct vcpu *v, uint64_t linear, void *buf, unsigned len,
                               bool write, guest_phys_map_fn map, void *map_ctx)
{
    struct mapped_memory memory = { v->vm, map, map_ctx };
    struct guest_paging paging = { vmcs_read(GUEST_CR0), vmcs_read(GUEST_CR3), vmcs_read(GUEST_CR4),
                                   vmcs_read(GUEST_IA32_EFER) };
    for (unsigned done = 0; done < len;) {
        uint64_t gpa, vm_gpa;
        if (!guest_translate(&paging, linear + done, read_guest, &memory, &gpa)) {
            v->cr2 = linear + done;
            write_cr2(v->cr2);      /* the register is the guest's (machine/vcpu_run.c) */
            inject_exception(v, VECTOR_PF, true, write ? PF_ERROR_WRITE : 0);
            return false;
        }
        unsigned chunk = 4096 - (unsigned)(gpa & 4095);
        if (chunk > len - done)
            chunk = len - done;
        uint8_t *bytes = (uint8_t *)buf + done;
        bool mapped = vm_address(&memory, gpa, &vm_gpa);
        if (write) {
            if (mapped)
                (void)guest_mem_write(v->vm, vm_gpa, bytes, chunk);
        } else if (!mapped || !guest_mem_read(v->vm, vm_gpa, bytes, chunk)) {
            memset(bytes, 0xff, chunk);
        }
        done += chunk;
    }
    return true;
}

bool vcpu_linear_access(struct vcpu *v, uint64_t linear, void *buf, unsigned len, bool write)
{
    return vcpu_linear_access_mapped(v, linear, buf, len, write, NULL, NULL);
}
