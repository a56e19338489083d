#!/usr/bin/perl
# Multiboot (v1) kernels loaded as QEMU's -kernel does, checked by an
# unmodified-style test kernel (guests/mb1/): the command line with argv[0],
# an environment file passed as a module, the memory map, fw_cfg's CPU
# count, INIT-SIPI-SIPI of its APs, and its verdict through isa-debug-exit
# (status (value << 1) | 1: 1 = pass). A VM expecting more CPUs than fw_cfg
# reports must fail with another status; a missing module is refused with a
# reason while the other VMs run. A damaged header checksum makes the image
# no multiboot kernel (as in GRUB and QEMU), so it starts as a plain ELF test
# guest: its 32-bit entry code then faults in 64-bit mode, and the VM ends
# without passing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp ();
use VmxRun;

my $dir = File::Temp::tempdir(CLEANUP => 1);
my $env = "# kvm-unit-tests style environment\nTESTNAME=multiboot\nGREETING=hello from env.txt\n";
open(my $fh, '>', "$dir/env.txt") or die $!;
print $fh $env;
close($fh);

# The test kernel with one bit of its header checksum flipped.
my $root = "$FindBin::Bin/../..";
open($fh, '<:raw', "$root/build/guests/mb1_test.elf") or die "mb1_test.elf: $!";
my $image = do { local $/; <$fh> };
close($fh);
my ($header) = grep { unpack('V', substr($image, $_, 4)) == 0x1badb002 } map { $_ * 4 } 0 .. 2047;
die 'no multiboot header in mb1_test.elf' unless defined $header;
substr($image, $header + 8, 1) = chr(ord(substr($image, $header + 8, 1)) ^ 1);
open($fh, '>:raw', "$dir/mb1_bad.elf") or die $!;
print $fh $image;
close($fh);

# A 2 KiB command line (Linux's COMMAND_LINE_SIZE), whole: 2048 characters.
my $long_cmdline = 'expect_cpus=1 pad=' . ('a' x 2023) . ' end=ok';
my $config = <<"CFG";
[vm mblong]
image = mb1_test.elf
memory = 16M
modules = env.txt
cmdline = $long_cmdline

[vm mb1]
image = mb1_test.elf
vcpus = 1
memory = 16M
modules = env.txt
cmdline = expect_cpus=1 hello world

[vm mb3]
image = mb1_test.elf
vcpus = 3
memory = 32M
modules = env.txt
cmdline = expect_cpus=3

[vm mbfail]
image = mb1_test.elf
vcpus = 1
memory = 16M
modules = env.txt
cmdline = expect_cpus=2

[vm bad]
image = mb1_bad.elf
memory = 16M
on_reboot = stop

[vm nomod]
image = mb1_test.elf
memory = 16M
modules = env.txt missing.txt

[vm modelf]
image = mb1_bad.elf
memory = 16M
modules = env.txt
CFG

# --unchecked-config: the launcher would refuse the missing module itself;
# here the hypervisor's loader does.
my ($status, $out) = run_vms($config, ['mb1_test', "$dir/env.txt", "$dir/mb1_bad.elf"],
                             '--pcpus', '2', '--unchecked-config');
is($status, 5, 'exit status 5: VMs could not be created') or diag($out);
is(length($long_cmdline), 2048, 'the long command line has 2048 characters');
like($out, qr/^\[mblong\] command line length: ${\(length('mb1_test.elf ') + 2048)}$/m,
     'mblong: the whole 2 KiB command line arrives (after argv[0])');
like($out, qr/^\[mblong\] argv\[3\] = end=ok$/m, 'mblong: its last word too');

my %memory_kib = (mb1 => 16384, mb3 => 32768);
for my $vm (qw(mb1 mb3)) {
    my ($n) = $vm =~ /(\d)/;
    my $args = $vm eq 'mb1' ? "expect_cpus=1 hello world" : "expect_cpus=3";
    like($out, qr/^\[$vm\] command line: 'mb1_test\.elf \Q$args\E'$/m,
         "$vm: the command line is argv[0] then the VM's cmdline");
    like($out, qr/^\[$vm\] argv\[0\] = mb1_test\.elf$/m, "$vm: argv[0] is the kernel's name");
    like($out, qr/^\[$vm\] argv\[1\] = expect_cpus=$n$/m, "$vm: argv[1]");
    like($out, qr/^\[$vm\] boot loader: vmxvisor$/m, "$vm: boot loader name");
    like($out, qr/^\[$vm\] PASS: low memory 0x1000-0xb000 untouched by the loader \(0 words written\)$/m,
         "$vm: no page tables or GDT of the loader's in low memory");
    # RAM: the 639 KiB below the EBDA, and all from 1 MiB up.
    my $upper = $memory_kib{$vm} - 1024;
    my $ram = 639 + $upper;
    like($out, qr/^\[$vm\] PASS: memory map: 4 entries, $ram KiB RAM = mem_lower 639 \+ mem_upper $upper KiB$/m,
         "$vm: memory map and sizes agree");
    like($out, qr/^\[$vm\] module 0: 'env\.txt' at 0x[0-9a-f]+000, ${\length($env)} bytes$/m,
         "$vm: the environment module, page-aligned");
    like($out, qr/^\[$vm\] env: TESTNAME = multiboot$/m, "$vm: env TESTNAME");
    like($out, qr/^\[$vm\] env: GREETING = hello from env\.txt$/m, "$vm: env GREETING");
    like($out, qr/^\[$vm\] PASS: environment: 2 variables, 0 malformed lines$/m,
         "$vm: environment parsed");
    like($out, qr/^\[$vm\] PASS: fw_cfg signature 'QEMU'$/m, "$vm: fw_cfg signature");
    like($out, qr/^\[$vm\] fw_cfg: $n cpus$/m, "$vm: fw_cfg reports $n CPUs");
    like($out, qr/^\[$vm\] PASS: fw_cfg cpu count $n, expect_cpus=$n$/m,
         "$vm: the CPU count matches the configuration");
    my $aps = $n - 1;
    like($out, qr/^\[$vm\] PASS: all APs up \($aps of $aps\)$/m, "$vm: all $aps APs up");
    unlike($out, qr/^\[$vm\] FAIL/m, "$vm: no failures");
    like($out, qr/^\[$vm\] SUMMARY: \d+ tests, 0 unexpected failures$/m, "$vm: summary");
    is_deeply([vm_result($out, $vm)], ['isa-debug-exit', 1], "$vm: isa-debug-exit status 1 (pass)");
}

like($out, qr/^\[mbfail\] FAIL: fw_cfg cpu count 1, expect_cpus=2$/m,
     'mbfail: the kernel notices fw_cfg reports fewer CPUs than expected');
like($out, qr/^\[mbfail\] SUMMARY: \d+ tests, 1 unexpected failures$/m, 'mbfail: one failure');
is_deeply([vm_result($out, 'mbfail')], ['isa-debug-exit', 3],
          'mbfail: isa-debug-exit status 3 (failure), not the pass value');

unlike($out, qr/^vm bad: cannot create/m,
       'a damaged multiboot header is no header: the image is an ELF guest');
is_deeply([vm_result($out, 'bad')], ['triple fault', -1],
          'bad: its 32-bit multiboot entry faults in 64-bit mode; the VM ends without passing')
    or diag(join("\n", lines_matching($out, qr/\bbad\b/)));
like($out, qr/^vm nomod: cannot create: image 'mb1_test\.elf': module 'missing\.txt' is not among the boot modules$/m,
     'a missing module is named');
unlike($out, qr/^vm nomod: ended/m, 'the refused VM did not run');
like($out, qr/^vm modelf: cannot create: image 'mb1_bad\.elf': modules given, but the image is not a multiboot kernel$/m,
     'modules for an image that is not a multiboot kernel are refused, not ignored');
done_testing();
