#ifndef VIRT_VM_CONFIG_H
#define VIRT_VM_CONFIG_H
/*
 * The VM configuration file (packed into the ISO by the launcher as the
 * Multiboot2 module "vms.cfg"). INI-like:
 *
 *   # comment                a '#' at the start of a line or after a blank
 *                            begins a comment, to the end of the line
 *   [global]                 optional, before the VMs: the settings every VM
 *                            starts from (the ple* keys, directed_yield,
 *                            spin_guard, nested, shadow_vmcs, vmcs02_shadow, apicv), and overcommit = on|off:
 *                            create VMs whose memory the host cannot reserve
 *                            (virt/mem_reserve.h), default off
 *   [vm NAME]
 *   image    = MODULE        guest image: the name of another boot module (required):
 *                            a Linux bzImage, a multiboot (v1) kernel, or an ELF
 *                            executable started in 64-bit mode (the test guests)
 *   initrd   = MODULE        initial RAM disk for a Linux kernel
 *   modules  = MODULE ...    boot modules handed to a multiboot kernel, in order
 *   vcpus    = N             1..64, default 1
 *   memory   = SIZE          MiB, or with a K, M or G suffix; 1M..64G, default 64M
 *   cmdline  = TEXT          kernel command line, rest of the line, default empty
 *   affinity = LIST          physical CPUs, e.g. "0-3" or "0,2", default all
 *   ple      = on|off|auto   PAUSE-loop exiting, default auto: on unless every
 *                            vCPU has a physical CPU of its own (pinned)
 *   ple_gap  = N             default 128
 *   ple_window = N           initial and smallest window, default 4096
 *   ple_grow = N             window growth per PLE exit, default 2 (KVM's rules,
 *                            vmx/ple.h: 0 resets, 1 keeps it fixed)
 *   ple_shrink = N           shrink when scheduled in, default 0 (reset)
 *   ple_window_max = N       default 4294967295
 *   directed_yield = on|off  on a PLE exit, boost a preempted vCPU of the VM
 *                            (KVM's kvm_vcpu_on_spin), default on
 *   spin_guard = on|off      with PLE on: do not end a slice while the vCPU spins
 *                            in a loop PLE exits have shown, or has just left it,
 *                            and end a boost once past the lock
 *                            (sched/spin_guard.h), default on; off is KVM's way
 *   nested   = on|off        VMX for the guest: it may run hypervisors of its own
 *                            (nested/nested.h), default on (KVM's nested=1)
 *   shadow_vmcs = on|off     with nested: L1's frequent VMREADs and VMWRITEs go to a
 *                            hardware shadow VMCS without exits where the CPU has
 *                            VMCS shadowing (nested/shadow_vmcs.h), default on
 *                            (KVM's enable_shadow_vmcs)
 *   vmcs02_shadow = on|off|auto  with shadow_vmcs: between a nested exit and the
 *                            next entry vmcs02 itself is L1's shadow VMCS, so that
 *                            L2's state and the exit information are not copied
 *                            (nested/vmcs02_as_shadow.h, ACRN's way), where the CPU
 *                            lets VMWRITE write every field; auto: unless this
 *                            hypervisor is itself a VM, where the VMCLEARs and
 *                            VMPTRLDs it takes exit; default auto
 *   apicv    = on|off        APIC virtualization where the CPU has it: a TPR
 *                            shadow (CR8 accesses without exits), and with
 *                            virtual-interrupt delivery and APIC-register
 *                            virtualization EOIs, register reads and x2APIC
 *                            self-IPIs without exits too (dev/apicv.h), default
 *                            on; off: every APIC access exits (KVM's enable_apicv=0)
 *   hugepages = on|off       back guest RAM with 2M/1G pages where possible, default on
 *   start    = long|real     64-bit flat start (default) or real mode at the entry point
 *   weight   = N             CPU share relative to other VMs, 1..10000, default 100
 *   on_reboot = reset|stop   what a guest-initiated reset (0xcf9, the keyboard
 *                            controller, a triple fault) does: reset the VM and
 *                            boot it again (default, as QEMU), or end the VM
 *                            (QEMU's -no-reboot)
 *
 * A section with an error is reported (file, line, problem) and marked
 * invalid; the other VMs are unaffected.
 */
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "vmx/ple.h"

#define VM_CONFIG_MAX_VMS   16
#define VM_NAME_MAX         32
#define VM_IMAGE_MAX        64
/* A command line of 2 KiB, Linux's COMMAND_LINE_SIZE, with its NUL. */
#define VM_CMDLINE_MAX      2049
#define VM_MODULES_MAX      256
#define VM_MAX_VCPUS        64

enum ple_mode { PLE_AUTO, PLE_ON, PLE_OFF };
enum start_mode { START_LONG, START_REAL };
enum on_reboot { ON_REBOOT_RESET, ON_REBOOT_STOP };
enum vmcs02_shadow_setting { VMCS02_SHADOW_AUTO, VMCS02_SHADOW_ON, VMCS02_SHADOW_OFF };

struct vm_config {
    char name[VM_NAME_MAX];
    char image[VM_IMAGE_MAX];
    char cmdline[VM_CMDLINE_MAX];
    char initrd[VM_IMAGE_MAX];
    char modules[VM_MODULES_MAX];   /* module names separated by spaces */
    uint32_t vcpus;
    uint64_t memory;            /* bytes */
    uint64_t affinity;          /* bit per physical CPU */
    enum ple_mode ple;
    struct ple_params ple_params;
    bool directed_yield;
    bool spin_guard;            /* sched/spin_guard.h */
    bool nested;                /* VMX offered to the guest (nested/nested.h) */
    bool shadow_vmcs;           /* hardware VMCS shadowing for it (nested/shadow_vmcs.h) */
    enum vmcs02_shadow_setting vmcs02_shadow;  /* nested/vmcs02_as_shadow.h */
    bool apicv;                 /* APIC virtualization where the CPU has it (dev/apicv.h) */
    bool hugepages;
    bool overcommit;            /* [global] only: virt/mem_reserve.h */
    enum start_mode start;
    uint32_t weight;
    enum on_reboot on_reboot;
    bool valid;
    unsigned line;              /* of the [vm ...] header */
};

struct vm_config_set {
    struct vm_config global;        /* [global]: the PLE settings VMs start from */
    struct vm_config vms[VM_CONFIG_MAX_VMS];
    size_t count;
    unsigned errors;
};

/* Called once per problem with a complete message "FILE:LINE: PROBLEM". */
typedef void (*vm_config_report_fn)(const char *message);

/* Whether VM `index` of the set has a physical CPU of its own for each vCPU:
 * its affinity (within `online`) counts at least as many CPUs as it has
 * vCPUs, and no other valid VM may use any of them. PLE's "auto" is off for
 * such a VM (KVM's KVM_CAP_X86_DISABLE_EXITS_PAUSE for pinned vCPUs). */
bool vm_config_has_dedicated_cpus(const struct vm_config_set *set, size_t index, uint64_t online);

/* A CPU list such as "0-3,5" (bits 0-3 and 5) in [s, e); false if malformed. */
bool vm_config_parse_cpu_list(const char *s, const char *e, uint64_t *mask);

/* Parses `len` bytes of `text`; never fails as a whole. */
void vm_config_parse(const char *file, const char *text, size_t len, struct vm_config_set *set,
                     vm_config_report_fn report);
#endif
