#!/usr/bin/perl
# tools/vmxrun as a user meets it: one VM from QEMU-style options without a
# configuration file; the configuration checked on the host before the
# emulator starts (status 2, the file's own name); the README's
# configuration example run exactly as printed; exit statuses a script can
# trust (each way a VM can fail, and --ignore-vm-status); the console going
# back to the monitor, and saying so, when the VM it shows ends.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp ();
use Time::HiRes qw(time);
use VmxRun;

my $root = "$FindBin::Bin/../..";
my $guests = "$root/build/guests";

# --- one VM without a configuration file --------------------------------
my ($status, $out) = vmxrun('--vm-kernel', "$guests/cpuid_test.elf", '--vm-vcpus', '2',
                            '--vm-mem', '48');
like($out, qr/^vm guest: 2 vCPU\(s\), 48 MiB, image cpuid_test\.elf/m,
     '--vm-kernel: one VM, --vm-vcpus and --vm-mem (MiB without a suffix)');
like($out, qr/^smp: 2 of 2 CPUs online$/m, 'the machine gets a CPU per vCPU') or diag($out);
is_deeply([vm_result($out, 'guest')], ['exit hypercall', 0], '--vm-kernel: the VM ran');
is($status, 0, '--vm-kernel: the run ends with the VM, status 0');

($status, $out) = vmxrun('--vm-kernel', "$guests/mb1_test.elf", '--vm-append', 'argv1 x#y');
like($out, qr/^\[guest\] .*argv1 x#y/m, '--vm-append reaches the multiboot kernel whole');
is($status, 3, "a VM's own status is the run's: isa-debug-exit's (1 << 1) | 1")
    or diag($out);

# --- reproducible runs: the seed of Bochs' RDRAND (--seed) ----------------
my %rdrand;
for my $seed (qw(1 1 2)) {
    ($status, $out) = vmxrun('--vm-kernel', "$guests/cpuid_test.elf", '--vm-append', 'rdrand',
                             '--seed', $seed);
    my ($values) = $out =~ /^\[guest\] cpuid_test: rdrand ([0-9a-f]+ [0-9a-f]+)$/m;
    ok($values, "--seed $seed: the guest read RDRAND") or diag($out);
    push @{ $rdrand{$seed} }, $values // '';
}
is($rdrand{1}[0], $rdrand{1}[1], '--seed: the same seed, the same random numbers');
isnt($rdrand{1}[0], $rdrand{2}[0], '--seed: another seed, other numbers');
($status, $out) = vmxrun('--vm-kernel', "$guests/cpuid_test.elf", '--seed', 'x');
is($status, 2, '--seed takes a number or "clock"');

# --- the configuration checked on the host ------------------------------
my $dir = File::Temp::tempdir(CLEANUP => 1);
sub config_file {
    my ($name, $text) = @_;
    open(my $fh, '>', "$dir/$name") or die $!;
    print $fh $text;
    close($fh);
    return "$dir/$name";
}

my $bad = config_file('web-vms.cfg', <<'CFG');
[vm a]            # comments after a header
image = build/guests/cpuid_test.elf
memory = 300
affinity = 3
[vm b]
image = nope.elf
[vm a]
vcpu = 2
CFG
my $start = time;
($status, $out) = vmxrun('--config', $bad, "$guests/cpuid_test.elf");
my $took = time - $start;
is($status, 2, 'a bad configuration: status 2');
cmp_ok($took, '<', 10, 'before the emulator starts') or diag($out);
unlike($out, qr/vmxvisor/, 'nothing booted');
like($out, qr{^vmxrun: \Q$bad\E:7: VM name 'a' is already used on line 1$}m,
     "the file's real name; a duplicate VM name said once");
is(scalar(() = $out =~ /already used/g), 1, 'and only once');
like($out, qr{^vmxrun: \Q$bad\E:8: unknown setting 'vcpu'}m, "the parser's own messages");
like($out, qr{^vmxrun: \Q$bad\E:1: vm a: image 'build/guests/cpuid_test\.elf': name the file, not a path .*'cpuid_test\.elf'}m,
     'an image given as a path: the rule');
like($out, qr{^vmxrun: \Q$bad\E:5: vm b: image 'nope\.elf' is not among the guest images given \(cpuid_test\.elf\)$}m,
     'an image not given: what was given') or diag($out);
like($out, qr{^vmxrun: \Q$bad\E:1: vm a: affinity names CPU 3, but the machine has 1 CPU\(s\) \(--pcpus\)$}m,
     'affinity against the CPUs');
like($out, qr{^vmxrun: \Q$bad\E:1: vm a: memory 300 MiB does not fit in the machine's 256 MiB \(--mem\)$}m,
     'memory against the machine');

# Inline comments and plain sizes, on the host and in the hypervisor.
my $commented = config_file('commented.cfg', <<'CFG');
[vm c]        # the VM
image = cpuid_test.elf   # the guest
memory = 8    # MiB
CFG
($status, $out) = vmxrun('--config', $commented, "$guests/cpuid_test.elf");
like($out, qr/^vm c: 1 vCPU\(s\), 8 MiB, image cpuid_test\.elf/m, 'inline comments; 8 means 8 MiB');
is($status, 0, 'a VM that ends with status 0: status 0') or diag($out);

# --- exit statuses --------------------------------------------------------
my $two = config_file('two.cfg', "[vm ok]\nimage = cpuid_test.elf\nmemory = 8\n"
                                 . "[vm gone]\nimage = missing.elf\nmemory = 8\n");
($status, $out) = vmxrun('--unchecked-config', '--config', $two, "$guests/cpuid_test.elf");
like($out, qr/^vm gone: not started: image 'missing\.elf' is not among the boot modules$/m,
     '--unchecked-config: the hypervisor sees the bad file');
is($status, 5, 'a VM not started: status 5');
($status, $out) = vmxrun('--unchecked-config', '--ignore-vm-status', '--config', $two,
                         "$guests/cpuid_test.elf");
is($status, 0, '--ignore-vm-status: status 0 all the same') or diag($out);

my $uncreatable = config_file('uncreatable.cfg', "[vm bad]\nimage = commented.cfg\nmemory = 8\n");
($status, $out) = vmxrun('--config', $uncreatable, $commented);
like($out, qr/^vm bad: cannot create: image 'commented\.cfg'/m, 'an image its loader refuses');
is($status, 5, 'a VM that could not be created: status 5');

my $crash = config_file('crash.cfg', "[vm ok]\nimage = cpuid_test.elf\nmemory = 8\n"
                                   . "[vm crash]\nimage = crasher.elf\nmemory = 8\non_reboot = stop\n");
($status, $out) = vmxrun('--config', $crash, "$guests/cpuid_test.elf", "$guests/crasher.elf");
is_deeply([vm_result($out, 'crash')], ['triple fault', -1], 'a VM stopped by its triple fault');
is($status, 6, 'a VM that ended without a status of its own: status 6') or diag($out);

# --- the console back at the monitor when its VM ends -----------------------
my $pair = config_file('pair.cfg', "[vm quick]\nimage = cpuid_test.elf\nmemory = 8\n"
                                  . "[vm slow]\nimage = spin_share.elf\nmemory = 4\ncmdline = 300\n");
($status, $out) = vmxrun('--config', $pair, "$guests/cpuid_test.elf", "$guests/spin_share.elf",
                         '--append', 'console=quick');
like($out, qr/^console: vm quick has ended\nconsole: monitor\n\(vmx\) /m,
     'the console says its VM ended and shows the monitor prompt') or diag($out);
is($status, 0, 'both VMs ended with 0: status 0');

# --- feedback while a VM says nothing --------------------------------------
my $quiet = config_file('quiet.cfg', "[vm quiet]\nimage = spin_share.elf\nmemory = 4\ncmdline = 600\n");
($status, $out) = vmxrun('--config', $quiet, "$guests/spin_share.elf");
like($out, qr/^vm quiet: 1 vCPU\(s\), 4 MiB, image spin_share\.elf \(ELF\), PLE off, APICv (?:on|TPR shadow|off)$/m,
     'the image is announced with what it is');
like($out, qr/^vm quiet: running for 10 s, \d+ exits, nothing on its console yet$/m,
     'a silent VM is reported every 10 s until it prints') or diag($out);
is(scalar(() = $out =~ /nothing on its console yet/g), 1, 'and no more once it has printed');

# --- the README's configuration example, exactly as printed ---------------
open(my $readme, '<', "$root/README.md") or die $!;
my $text = do { local $/; <$readme> };
my ($example, $command) = $text =~ /^## VMs: the configuration file\n.*?^```ini\n(.*?)^```\n\n^```sh\n(.*?)\n^```/ms;
ok(defined $command, "the README's example and its command") or BAIL_OUT('README changed');
my $run_dir = File::Temp::tempdir(CLEANUP => 1);
symlink("$root/$_", "$run_dir/$_") or die $! for qw(tools build);
open(my $cfg, '>', "$run_dir/vms.cfg") or die $!;
print $cfg $example;
close($cfg);
$out = `cd '$run_dir' && $command 2>&1`;
$status = $? >> 8;
is($status, 0, "the README's example runs as printed, status 0") or diag($out);
is_deeply([vm_result($out, 'web')], ['exit hypercall', 0], 'its VM web ran');
is_deeply([vm_result($out, 'probe')], ['exit hypercall', 0], 'its VM probe ran');
done_testing();
