/* VM configuration parsing: defaults, every setting, and clear errors that
 * invalidate only the offending VM. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "virt/vm_config.h"

static char messages[8][384];
static int message_count;

static void collect(const char *message)
{
    if (message_count < 8)
        snprintf(messages[message_count], sizeof(messages[0]), "%s", message);
    message_count++;
}

static struct vm_config_set set;

static void parse(const char *text)
{
    message_count = 0;
    vm_config_parse("vms.cfg", text, strlen(text), &set, collect);
}

static void defaults(void **state)
{
    (void)state;
    parse("[vm a]\nimage = cpuid_loop\n");
    assert_int_equal(message_count, 0);
    assert_int_equal(set.count, 1);
    const struct vm_config *vm = &set.vms[0];
    assert_true(vm->valid);
    assert_string_equal(vm->name, "a");
    assert_string_equal(vm->image, "cpuid_loop");
    assert_string_equal(vm->cmdline, "");
    assert_int_equal(vm->vcpus, 1);
    assert_int_equal(vm->memory, 64ull << 20);
    assert_int_equal(vm->affinity, ~0ull);
    assert_int_equal(vm->ple, PLE_AUTO);
    assert_int_equal(vm->ple_params.gap, 128);
    assert_int_equal(vm->ple_params.window, 4096);
    assert_int_equal(vm->ple_params.grow, 2);
    assert_int_equal(vm->ple_params.shrink, 0);
    assert_int_equal(vm->ple_params.max, UINT32_MAX);
    assert_true(vm->directed_yield);
    assert_true(vm->spin_guard);
    assert_true(vm->nested);      /* KVM's nested=1 */
    assert_true(vm->apicv);     /* where the CPU has it, as KVM's enable_apicv */
    assert_true(vm->shadow_vmcs);
    assert_int_equal(vm->vmcs02_shadow, VMCS02_SHADOW_AUTO);
    assert_int_equal(vm->on_reboot, ON_REBOOT_RESET);
}

static void every_setting(void **state)
{
    (void)state;
    parse("# two VMs\n"
          "[vm web-1]\n"
          "  image = linux   \n"
          "initrd = rootfs.cpio.gz\n"
          "modules = env.txt  extra\n"
          "vcpus=4\n"
          "memory = 1G\n"
          "cmdline = console=ttyS0 quiet\n"
          "affinity = 0-2,5\n"
          "ple = off\n"
          "ple_gap = 64\n"
          "ple_window = 8192\n"
          "hugepages = off\n"
          "apicv = off\n"
          "vmcs02_shadow = auto\n"
          "start = real\n"
          "weight = 300\n"
          "on_reboot = stop\n"
          "\n"
          "[vm db]\r\n"
          "image = t\r\n"
          "memory = 2048k\r\n"
          "ple = on\r\n"
          "vmcs02_shadow = on\r\n");
    assert_int_equal(message_count, 0);
    assert_int_equal(set.count, 2);
    const struct vm_config *a = &set.vms[0], *b = &set.vms[1];
    assert_string_equal(a->name, "web-1");
    assert_string_equal(a->image, "linux");
    assert_string_equal(a->initrd, "rootfs.cpio.gz");
    assert_string_equal(a->modules, "env.txt  extra");
    assert_string_equal(b->initrd, "");
    assert_int_equal(a->vcpus, 4);
    assert_int_equal(a->memory, 1ull << 30);
    assert_string_equal(a->cmdline, "console=ttyS0 quiet");
    assert_int_equal(a->affinity, 0x27);
    assert_int_equal(a->ple, PLE_OFF);
    assert_int_equal(a->ple_params.gap, 64);
    assert_int_equal(a->ple_params.window, 8192);
    assert_false(a->hugepages);
    assert_false(a->apicv);
    assert_true(b->apicv);
    assert_int_equal(a->vmcs02_shadow, VMCS02_SHADOW_AUTO);
    assert_int_equal(b->vmcs02_shadow, VMCS02_SHADOW_ON);
    assert_int_equal(a->start, START_REAL);
    assert_int_equal(a->weight, 300);
    assert_int_equal(set.vms[1].weight, 100);
    assert_int_equal(a->on_reboot, ON_REBOOT_STOP);
    assert_int_equal(b->on_reboot, ON_REBOOT_RESET);
    assert_int_equal(set.vms[1].start, START_LONG);
    assert_true(set.vms[1].hugepages);
    assert_string_equal(b->name, "db");
    assert_int_equal(b->ple, PLE_ON);
    assert_int_equal(b->memory, 2ull << 20);
    assert_true(a->valid && b->valid);
}

/* Comments after a setting, and sizes without a suffix in MiB (QEMU's -m). */
static void inline_comments_and_plain_sizes(void **state)
{
    (void)state;
    parse("[vm a]   # the first VM\n"
          "image = k.elf # the kernel\n"
          "memory = 300\t# MiB\n"
          "cmdline = root=/dev/x a#b # not a#b\n"
          "vcpus = 2#3\n");
    assert_int_equal(message_count, 1);
    assert_string_equal(messages[0], "vms.cfg:5: vcpus: '2#3' is not a number from 1 to 64");
    const struct vm_config *a = &set.vms[0];
    assert_string_equal(a->name, "a");
    assert_string_equal(a->image, "k.elf");
    assert_int_equal(a->memory, 300ull << 20);
    assert_string_equal(a->cmdline, "root=/dev/x a#b");
}

static void errors_name_file_line_and_problem(void **state)
{
    (void)state;
    parse("[vm good]\n"
          "image = x\n"
          "[vm bad]\n"
          "image = y\n"
          "vcpu = 2\n"
          "memory = 12X\n"
          "[vm also-good]\n"
          "image = z\n"
          "affinity = 3-1\n");
    assert_int_equal(message_count, 3);
    assert_string_equal(messages[0], "vms.cfg:5: unknown setting 'vcpu' (known: image, initrd, "
                                     "modules, vcpus, memory, cmdline, affinity, ple, ple_gap, ple_window, ple_grow, ple_shrink, ple_window_max, directed_yield, spin_guard, nested, shadow_vmcs, vmcs02_shadow, apicv, hugepages, start, weight, on_reboot)");
    assert_string_equal(messages[1], "vms.cfg:6: memory: '12X' is not a size from 1M to 64G "
                                     "(e.g. 64M, 1G)");
    assert_string_equal(messages[2], "vms.cfg:9: affinity: '3-1' is not a CPU list such as 0-3 "
                                     "or 0,2");
    assert_true(set.vms[0].valid);
    assert_false(set.vms[1].valid);
    assert_false(set.vms[2].valid);
}

static void structural_errors(void **state)
{
    (void)state;
    parse("vcpus = 2\n[vm ok]\nimage = a\n[vm]\nimage = b\n[host x]\nfoo\n[vm ok]\nimage=c\n"
          "[vm noimage]\n[vm bad name!]\nimage = d\n");
    assert_int_equal(message_count, 7);
    assert_string_equal(messages[0], "vms.cfg:1: setting before the first '[vm NAME]' section");
    assert_string_equal(messages[1], "vms.cfg:4: unknown section '[vm]' (expected '[global]' or '[vm NAME]')");
    assert_string_equal(messages[2], "vms.cfg:6: unknown section '[host x]' (expected '[global]' or '[vm NAME]')");
    assert_string_equal(messages[3], "vms.cfg:7: expected 'key = value', '[vm NAME]' or a '#' "
                                     "comment");
    assert_string_equal(messages[4], "vms.cfg:8: VM name 'ok' is already used on line 2");
    assert_string_equal(messages[5], "vms.cfg:11: bad VM name 'bad name!' (letters, digits, '-' "
                                     "and '_', at most 31)");
    assert_string_equal(messages[6], "vms.cfg:10: VM 'noimage' has no image");
    assert_true(set.vms[0].valid);
}

static void value_ranges(void **state)
{
    (void)state;
    parse("[vm a]\nimage=x\nvcpus = 0\n[vm b]\nimage=x\nvcpus = 65\n[vm c]\nimage=x\n"
          "memory = 128G\n[vm d]\nimage=x\nple = maybe\n[vm e]\nimage=x\nple_gap = 99999999999\n"
          "[vm f]\nimage=x\non_reboot = halt\n[vm g]\nimage=x\nvmcs02_shadow = yes\n");
    assert_int_equal(message_count, 7);
    assert_string_equal(messages[0], "vms.cfg:3: vcpus: '0' is not a number from 1 to 64");
    assert_string_equal(messages[1], "vms.cfg:6: vcpus: '65' is not a number from 1 to 64");
    assert_string_equal(messages[2], "vms.cfg:9: memory: '128G' is not a size from 1M to 64G "
                                     "(e.g. 64M, 1G)");
    assert_string_equal(messages[3], "vms.cfg:12: ple: 'maybe' is not on, off or auto");
    assert_string_equal(messages[4], "vms.cfg:15: ple_gap: '99999999999' is not a 32-bit number");
    assert_string_equal(messages[5], "vms.cfg:18: on_reboot: 'halt' is not reset or stop");
    assert_string_equal(messages[6], "vms.cfg:21: vmcs02_shadow: 'yes' is not on, off or auto");
    for (int i = 0; i < 7; i++)
        assert_false(set.vms[i].valid);
}

static void binary_garbage_is_rejected(void **state)
{
    (void)state;
    const char text[] = "[vm a]\nimage=x\n\x7f" "ELF\0\0\n";
    message_count = 0;
    vm_config_parse("vms.cfg", text, sizeof(text) - 1, &set, collect);
    assert_int_equal(message_count, 1);
    assert_string_equal(messages[0], "vms.cfg:3: contains a NUL byte: not a text file");
    assert_false(set.vms[0].valid);
}

static void too_many_vms(void **state)
{
    (void)state;
    char text[4096] = "";
    for (int i = 0; i < VM_CONFIG_MAX_VMS + 1; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "[vm v%d]\nimage=x\n", i);
    parse(text);
    assert_int_equal(set.count, VM_CONFIG_MAX_VMS);
    assert_int_equal(message_count, 1);
    assert_string_equal(messages[0], "vms.cfg:33: too many VMs (at most 16)");
}

/* [global] sets the PLE settings every VM starts from; a VM may override. */
static void global_ple_defaults(void **state)
{
    (void)state;
    parse("[global]\nple_window = 1000\nple_grow = 1\nple_shrink = 3\nple_window_max = 50000\n"
          "directed_yield = off\nspin_guard = off\nple = on\nnested = on\n"
          "[vm a]\nimage = x\n"
          "[vm b]\nimage = x\nple_grow = 4\ndirected_yield = on\nspin_guard = on\nnested = off\n");
    assert_int_equal(message_count, 0);
    const struct vm_config *a = &set.vms[0], *b = &set.vms[1];
    assert_int_equal(a->ple_params.window, 1000);
    assert_int_equal(a->ple_params.grow, 1);
    assert_int_equal(a->ple_params.shrink, 3);
    assert_int_equal(a->ple_params.max, 50000);
    assert_int_equal(a->ple, PLE_ON);
    assert_false(a->directed_yield);
    assert_false(a->spin_guard);
    assert_true(a->nested);
    assert_false(b->nested);
    assert_int_equal(b->ple_params.grow, 4);
    assert_int_equal(b->ple_params.window, 1000);
    assert_true(b->directed_yield);
    assert_true(b->spin_guard);
    assert_false(a->overcommit);
}

/* overcommit: [global] only, off by default. */
static void global_overcommit(void **state)
{
    (void)state;
    parse("[global]\novercommit = on\n[vm a]\nimage = x\n");
    assert_int_equal(message_count, 0);
    assert_true(set.vms[0].overcommit);
    parse("[global]\novercommit = maybe\n[vm a]\nimage = x\n");
    assert_non_null(strstr(messages[0], "overcommit: 'maybe' is not on or off"));
    parse("[vm a]\nimage = x\novercommit = on\n");
    assert_non_null(strstr(messages[0], "unknown setting 'overcommit'"));
}

static void global_errors(void **state)
{
    (void)state;
    parse("[global]\nimage = x\n[vm a]\nimage = x\n");
    assert_int_equal(message_count, 1);
    assert_non_null(strstr(messages[0], "vms.cfg:2: unknown [global] setting 'image'"));
    assert_false(set.vms[0].valid);     /* a bad [global] stops every VM */
    parse("[vm a]\nimage = x\n[global]\nple_window = 5\n");
    assert_int_equal(message_count, 1);
    assert_non_null(strstr(messages[0], "vms.cfg:3: [global] must come before"));
    assert_true(set.vms[0].valid);
    assert_int_equal(set.vms[0].ple_params.window, 4096);
    parse("[vm a]\nimage = x\nple_window = 9000\nple_window_max = 8000\n");
    assert_int_equal(message_count, 1);
    assert_non_null(strstr(messages[0], "ple_window_max 8000 is below ple_window 9000"));
    assert_false(set.vms[0].valid);
    parse("[vm a]\nimage = x\ndirected_yield = maybe\n");
    assert_non_null(strstr(messages[0], "directed_yield: 'maybe' is not on or off"));
    parse("[vm a]\nimage = x\nspin_guard = 1\n");
    assert_non_null(strstr(messages[0], "spin_guard: '1' is not on or off"));
    parse("[vm a]\nimage = x\nnested = yes\n");
    assert_non_null(strstr(messages[0], "nested: 'yes' is not on or off"));
}

/* A command line of 2 KiB (Linux's COMMAND_LINE_SIZE) is kept whole; one
 * character more is an error naming the limit. */
static void long_command_lines(void **state)
{
    (void)state;
    static char text[4200], expected[2100];
    memset(expected, 'a', 2048);
    expected[2048] = '\0';
    snprintf(text, sizeof(text), "[vm a]\nimage = x\ncmdline = %s\n", expected);
    parse(text);
    assert_int_equal(message_count, 0);
    assert_string_equal(set.vms[0].cmdline, expected);
    snprintf(text, sizeof(text), "[vm a]\nimage = x\ncmdline = %sb\n", expected);
    parse(text);
    assert_int_equal(message_count, 1);
    assert_non_null(strstr(messages[0], "cmdline: longer than 2048 characters"));
}

static void dedicated_cpus(void **state)
{
    (void)state;
    parse("[vm pinned]\nimage = x\nvcpus = 2\naffinity = 2-3\n"
          "[vm free]\nimage = x\nvcpus = 2\naffinity = 0-1\n"
          "[vm crowded]\nimage = x\nvcpus = 3\naffinity = 4-5\n");
    assert_true(vm_config_has_dedicated_cpus(&set, 0, 0x3f));
    assert_true(vm_config_has_dedicated_cpus(&set, 1, 0x3f));
    assert_false(vm_config_has_dedicated_cpus(&set, 2, 0x3f));    /* 3 vCPUs, 2 CPUs */
    assert_false(vm_config_has_dedicated_cpus(&set, 0, 0x07));    /* CPU 3 is offline */
    parse("[vm a]\nimage = x\naffinity = 0\n[vm b]\nimage = x\n");  /* b may use CPU 0 */
    assert_false(vm_config_has_dedicated_cpus(&set, 0, 0x3));
    assert_false(vm_config_has_dedicated_cpus(&set, 1, 0x3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(global_ple_defaults),
        cmocka_unit_test(global_overcommit),
        cmocka_unit_test(global_errors),
        cmocka_unit_test(long_command_lines),
        cmocka_unit_test(dedicated_cpus),
        cmocka_unit_test(defaults),
        cmocka_unit_test(every_setting),
        cmocka_unit_test(inline_comments_and_plain_sizes),
        cmocka_unit_test(errors_name_file_line_and_problem),
        cmocka_unit_test(structural_errors),
        cmocka_unit_test(value_ranges),
        cmocka_unit_test(binary_garbage_is_rejected),
        cmocka_unit_test(too_many_vms),
    };
    return cmocka_run_group_tests_name("vm_config", tests, NULL, NULL);
}
