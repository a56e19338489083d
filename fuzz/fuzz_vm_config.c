/* The VM configuration parser (virt/vm_config.c) on any text: every VM it
 * calls valid has values in its documented ranges. */
#include "fuzz/fuzz.h"
#include "virt/vm_config.h"

static void ignore(const char *message) { (void)message; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vm_config_set set;
    vm_config_parse("vms.cfg", (const char *)data, size, &set, ignore);
    FUZZ_ASSERT(set.count <= VM_CONFIG_MAX_VMS);
    for (size_t i = 0; i < set.count; i++) {
        const struct vm_config *vm = &set.vms[i];
        if (!vm->valid)
            continue;
        FUZZ_ASSERT(vm->vcpus >= 1 && vm->vcpus <= VM_MAX_VCPUS);
        FUZZ_ASSERT(vm->memory >= (1ull << 20) && vm->memory <= (64ull << 30));
        FUZZ_ASSERT(vm->weight >= 1 && vm->weight <= 10000);
        FUZZ_ASSERT(vm->image[0] && memchr(vm->image, 0, sizeof(vm->image)));
        FUZZ_ASSERT(memchr(vm->cmdline, 0, sizeof(vm->cmdline)));
        FUZZ_ASSERT(vm->ple_params.window <= vm->ple_params.max);
    }
    return 0;
}
