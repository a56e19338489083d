/*
 * kvm_client: a small user of the KVM API, run inside the Linux guest when
 * that guest is a KVM host (initramfs-kvm.cpio.gz, vmxvisor.kvm): Linux KVM
 * is then L1 and vmxvisor L0. It makes a VM with one vCPU and 2 MiB of
 * memory, gives it the CPUID KVM supports, loads the payload below at
 * PAYLOAD_GPA in 32-bit protected mode and runs it (L2), serving its port
 * I/O and MMIO exits. The payload greets through a console port, makes an
 * MMIO write, and times three round trips with RDTSC, 1000 times each
 * (or as the first argument says): CPUID (an exit KVM handles in the kernel), VMCALL (a hypercall
 * KVM answers "no such call" in the kernel) and OUT to a port that exits
 * to this program. The medians are printed as BENCH lines, in guest TSC
 * ticks. The exit status is the payload's (its last OUT), or 1 if KVM
 * refused something, with the reason.
 *
 * Built static (no libraries in the initramfs) by the Makefile; the
 * payload is 32-bit code assembled here, position independent.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUEST_MEMORY   (2u << 20)
#define PAYLOAD_GPA    0x1000u
#define STACK_TOP      0x80000u
#define SAMPLES_GPA    0x100000u
#define MMIO_GPA       0xd0000000u     /* no memory slot: an MMIO exit */
#define PARAMETERS_GPA 0x800u          /* the payload's iteration count (32 bits) */
#define ITERATIONS_DEFAULT 1000
#define ITERATIONS_MAX ((GUEST_MEMORY - SAMPLES_GPA) / 4)
#define PORT_CONSOLE   0xe9            /* a byte to print */
#define PORT_MEASURED  0x510           /* EAX: which measurement is in the samples */
#define PORT_TIMED     0x511           /* the OUT that is timed: nothing to do */
#define PORT_EXIT      0x512           /* EAX: the payload's exit status */
#define CPUID_ENTRIES  100

/* What the payload says it measured, at PORT_MEASURED. */
#define MEASURED_CPUID  1
#define MEASURED_VMCALL 2
#define MEASURED_OUT    3

#define STR_(x) #x
#define STR(x) STR_(x)      /* the numbers above into the payload's text */

/* The payload (L2), 32-bit protected mode with flat segments and no paging. */
extern const unsigned char payload_start[], payload_end[];
__asm__(".pushsection .rodata.payload, \"a\"\n"
        ".code32\n"
        "payload_start:\n"
        /* the greeting, found PC-relative */
        "    call 1f\n"
        "1:  pop %esi\n"
        "    add $(greeting - 1b), %esi\n"
        "    mov $" STR(PORT_CONSOLE) ", %dx\n"
        "2:  lodsb\n"
        "    test %al, %al\n"
        "    jz 3f\n"
        "    outb %al, %dx\n"
        "    jmp 2b\n"
        /* an MMIO write: 0x5a at MMIO_GPA */
        "3:  movl $0x5a, " STR(MMIO_GPA) "\n"
        /* CPUID leaf 0, timed */
        "    xor %edi, %edi\n"
        "4:  rdtsc\n"
        "    mov %eax, %ebp\n"
        "    xor %eax, %eax\n"
        "    xor %ecx, %ecx\n"
        "    cpuid\n"
        "    rdtsc\n"
        "    sub %ebp, %eax\n"
        "    mov %eax, " STR(SAMPLES_GPA) "(,%edi,4)\n"
        "    inc %edi\n"
        "    cmp " STR(PARAMETERS_GPA) ", %edi\n"
        "    jb 4b\n"
        "    mov $" STR(MEASURED_CPUID) ", %eax\n"
        "    mov $" STR(PORT_MEASURED) ", %dx\n"
        "    outl %eax, %dx\n"
        /* VMCALL with a hypercall number KVM does not know, timed */
        "    xor %edi, %edi\n"
        "5:  rdtsc\n"
        "    mov %eax, %ebp\n"
        "    mov $0x7fff0000, %eax\n"
        "    xor %ebx, %ebx\n"
        "    xor %ecx, %ecx\n"
        "    xor %edx, %edx\n"
        "    xor %esi, %esi\n"
        "    vmcall\n"
        "    rdtsc\n"
        "    sub %ebp, %eax\n"
        "    mov %eax, " STR(SAMPLES_GPA) "(,%edi,4)\n"
        "    inc %edi\n"
        "    cmp " STR(PARAMETERS_GPA) ", %edi\n"
        "    jb 5b\n"
        "    mov $" STR(MEASURED_VMCALL) ", %eax\n"
        "    mov $" STR(PORT_MEASURED) ", %dx\n"
        "    outl %eax, %dx\n"
        /* OUT to a port this program serves, timed */
        "    xor %edi, %edi\n"
        "6:  rdtsc\n"
        "    mov %eax, %ebp\n"
        "    mov $" STR(PORT_TIMED) ", %dx\n"
        "    outb %al, %dx\n"
        "    rdtsc\n"
        "    sub %ebp, %eax\n"
        "    mov %eax, " STR(SAMPLES_GPA) "(,%edi,4)\n"
        "    inc %edi\n"
        "    cmp " STR(PARAMETERS_GPA) ", %edi\n"
        "    jb 6b\n"
        "    mov $" STR(MEASURED_OUT) ", %eax\n"
        "    mov $" STR(PORT_MEASURED) ", %dx\n"
        "    outl %eax, %dx\n"
        /* done: status 0 */
        "    xor %eax, %eax\n"
        "    mov $" STR(PORT_EXIT) ", %dx\n"
        "    outl %eax, %dx\n"
        "7:  hlt\n"
        "    jmp 7b\n"
        "greeting: .asciz \"kvm_client guest: hello from L2\\n\"\n"
        "payload_end:\n"
        ".code64\n"
        ".popsection\n");

static void fail(const char *what)
{
    printf("kvm_client: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t median(const uint8_t *memory, uint32_t iterations)
{
    static uint32_t samples[ITERATIONS_MAX];
    memcpy(samples, memory + SAMPLES_GPA, iterations * sizeof(samples[0]));
    qsort(samples, iterations, sizeof(samples[0]), compare_u32);
    return samples[iterations / 2];
}

static void report(uint32_t which, const uint8_t *memory, uint32_t iterations)
{
    static const char *const names[] = {
        [MEASURED_CPUID] = "kvm_l1_cpuid_exit",
        [MEASURED_VMCALL] = "kvm_l1_vmcall_exit",
        [MEASURED_OUT] = "kvm_l1_pio_user_exit",
    };
    if (which < MEASURED_CPUID || which > MEASURED_OUT) {
        printf("kvm_client: the guest reported measurement %u, which there is not\n", which);
        return;
    }
    printf("kvm_client: BENCH %s %u ticks\n", names[which], median(memory, iterations));
}

static void set_flat_segments(struct kvm_sregs *s)
{
    struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = 8, .type = 11,
                                .present = 1, .dpl = 0, .db = 1, .s = 1, .g = 1 };
    struct kvm_segment data = code;
    data.selector = 16;
    data.type = 3;
    s->cs = code;
    s->ds = s->es = s->fs = s->gs = s->ss = data;
    s->cr0 |= 1;        /* PE, no paging */
}

int main(int argc, char **argv)
{
    /* Iterations of each timed loop: ITERATIONS_DEFAULT, or the first
     * argument (the benchmark compares two counts). */
    uint32_t iterations = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : ITERATIONS_DEFAULT;
    if (iterations < 1 || iterations > ITERATIONS_MAX) {
        printf("kvm_client: iterations must be 1 to %u\n", (unsigned)ITERATIONS_MAX);
        return 2;
    }
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        fail("open /dev/kvm");
    if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
        printf("kvm_client: unexpected KVM API version\n");
        return 1;
    }
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        fail("KVM_CREATE_VM");
    uint8_t *memory = mmap(NULL, GUEST_MEMORY, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (memory == MAP_FAILED)
        fail("mmap");
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = GUEST_MEMORY,
        .userspace_addr = (uint64_t)(uintptr_t)memory,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        fail("KVM_SET_USER_MEMORY_REGION");
    memcpy(memory + PAYLOAD_GPA, payload_start, (size_t)(payload_end - payload_start));
    memcpy(memory + PARAMETERS_GPA, &iterations, sizeof(iterations));

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        fail("KVM_CREATE_VCPU");
    /* The CPUID KVM supports, as a VMM sets it. */
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + CPUID_ENTRIES * sizeof(cpuid->entries[0]));
    if (!cpuid)
        fail("calloc");
    cpuid->nent = CPUID_ENTRIES;
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
        fail("KVM_GET_SUPPORTED_CPUID");
    if (ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0)
        fail("KVM_SET_CPUID2");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < (int)sizeof(struct kvm_run))
        fail("KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        fail("mmap of kvm_run");

    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        fail("KVM_GET_SREGS");
    set_flat_segments(&sregs);
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        fail("KVM_SET_SREGS");
    struct kvm_regs regs = { .rip = PAYLOAD_GPA, .rsp = STACK_TOP, .rflags = 2 };
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        fail("KVM_SET_REGS");

    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR)
                continue;
            fail("KVM_RUN");
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO: {
            const uint8_t *data = (const uint8_t *)run + run->io.data_offset;
            uint32_t value = 0;
            memcpy(&value, data, run->io.size < 4 ? run->io.size : 4);
            if (run->io.direction != KVM_EXIT_IO_OUT)
                break;      /* reads see what KVM put there: zeros */
            if (run->io.port == PORT_CONSOLE) {
                fwrite(data, 1, run->io.count * run->io.size, stdout);
                fflush(stdout);
            } else if (run->io.port == PORT_MEASURED) {
                report(value, memory, iterations);
            } else if (run->io.port == PORT_EXIT) {
                printf("kvm_client: the guest ended with status %u\n", value);
                return (int)value;
            } else if (run->io.port != PORT_TIMED) {
                printf("kvm_client: OUT to port 0x%x that nothing serves\n", run->io.port);
            }
            break;
        }
        case KVM_EXIT_MMIO:
            if (run->mmio.is_write) {
                uint32_t value = 0;
                memcpy(&value, run->mmio.data, run->mmio.len < 4 ? run->mmio.len : 4);
                printf("kvm_client: MMIO write of %u bytes at 0x%llx: 0x%x\n", run->mmio.len,
                       (unsigned long long)run->mmio.phys_addr, value);
            }
            break;
        case KVM_EXIT_HLT:
            printf("kvm_client: the guest halted\n");
            return 0;
        case KVM_EXIT_FAIL_ENTRY:
            printf("kvm_client: VM entry failed, hardware reason 0x%llx\n",
                   (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
            return 1;
        case KVM_EXIT_INTERNAL_ERROR:
            printf("kvm_client: KVM internal error, suberror %u\n", run->internal.suberror);
            return 1;
        case KVM_EXIT_SHUTDOWN:
            printf("kvm_client: the guest shut down (triple fault)\n");
            return 1;
        default:
            printf("kvm_client: exit reason %u not served\n", run->exit_reason);
            return 1;
        }
    }
}
