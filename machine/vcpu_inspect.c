#include "machine/vcpu_inspect.h"
#include "virt/vm.h"
#include "virt/vcpu_regs.h"
#include "vmx/loaded_vmcs.h"
#include "sched/sched.h"
#include "arch/cpu.h"
#include "arch/percpu.h"

#define INSPECT_REQUESTS (REQ_SNAPSHOT | REQ_DUMP_VMCS)

/* The monitor is asking (it asks one thing at a time, from CPU 0). */
static volatile bool asking;

void vcpu_inspect_ask(struct vcpu *v, uint32_t request)
{
    __atomic_store_n(&asking, true, __ATOMIC_SEQ_CST);
    vcpu_request(v, request);
    uint32_t cpu = v->vmcs->cpu;
    sched_poke(v->se.on_cpu || cpu == VMCS_NOT_LOADED ? v->se.cpu : cpu);
}

void vcpu_inspect_done(void)
{
    __atomic_store_n(&asking, false, __ATOMIC_SEQ_CST);
}

/* A vCPU off every CPU whose VMCS is active here and that the monitor asked
 * about; not while its VM is being reset (its VMCS is being rebuilt). */
static bool waits_here(const struct vcpu *v, uint32_t me)
{
    return (v->requests & INSPECT_REQUESTS) && !v->se.on_cpu && v->vmcs->vmcs &&
           v->vmcs->cpu == me && v->se.state != VCPU_RUNNING &&
           !(v->vm->sched.hold & VM_HOLD_RESET);
}

/* Makes the vCPU's VMCS current here (it is active here already: nothing
 * moves), then copies or prints it. Interrupts stay off meanwhile: a CPU
 * that takes the vCPU now waits to clear its VMCS from here. The register
 * dump shows CR2 from the register: the guest's, for the moment. */
static void serve(struct vcpu *v)
{
    uint64_t flags = irq_save();
    if (v->vmcs->cpu == this_cpu()->index && !v->se.on_cpu) {
        uint32_t requests = __atomic_fetch_and(&v->requests, ~(uint32_t)INSPECT_REQUESTS,
                                               __ATOMIC_SEQ_CST);
        loaded_vmcs_load(v->vmcs);
        if (requests & REQ_DUMP_VMCS) {
            uint64_t host_cr2 = read_cr2();
            write_cr2(v->cr2);
            report_with_dump(v, "info vmcs", "it waits off its CPU");
            write_cr2(host_cr2);
        }
        vcpu_snapshot_take(v, false);
        sched_poke(0);      /* the monitor waits for it there */
    }
    irq_restore(flags);
}

static bool any_waits_here(uint32_t me, bool serve_them)
{
    if (!__atomic_load_n(&asking, __ATOMIC_ACQUIRE))
        return false;
    bool found = false;
    for (uint32_t i = 0; i < vm_count; i++) {
        struct vm *vm = &vms[i];
        if (vm_has_finished(vm) || !vm->vcpus)
            continue;
        for (uint32_t n = 0; n < vm->vcpu_count; n++) {
            if (!waits_here(&vm->vcpus[n], me))
                continue;
            found = true;
            if (serve_them)
                serve(&vm->vcpus[n]);
        }
    }
    return found;
}

static void serve_waiting_vcpus(uint32_t me)
{
    any_waits_here(me, true);
}

static bool requests_waiting(uint32_t me)
{
    return any_waits_here(me, false);
}

void vcpu_inspect_init(void)
{
    sched_add_cpu_work(serve_waiting_vcpus, requests_waiting);
}
