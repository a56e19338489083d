#!/usr/bin/perl
# Bad input is reported with file, line and problem; only the offending VM
# is not started; a bad guest image is refused; the others run; the run's
# status says a VM was not started (5). The launcher's own check of the file
# is skipped (--unchecked-config): this is the hypervisor's handling of what
# GRUB hands it anyway elsewhere (launcher.t tests the launcher's check).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my $config = <<'CFG';
[vm good]
image = cpuid_test.elf
memory = 8M

[vm typo]
image = cpuid_test.elf
vcpu = 2

[vm missing]
image = no_such_guest.elf

[vm notelf]
image = vms.cfg
CFG

my ($status, $out) = run_vms($config, ['cpuid_test'], '--pcpus', '1', '--unchecked-config');
is($status, 5, 'exit status 5: VMs were not started') or diag($out);
like($out, qr/^config: vms\.cfg:7: unknown setting 'vcpu' \(known: /m, 'file, line and problem');
like($out, qr/^vm typo: not started: its configuration has errors$/m, 'the bad VM is not started');
like($out, qr/^vm missing: not started: image 'no_such_guest\.elf' is not among the boot modules$/m,
     'a missing image is named');
like($out, qr/^vm notelf: cannot create: image 'vms\.cfg': not an ELF file$/m, 'a bad image is refused');
is_deeply([vm_result($out, 'good')], ['exit hypercall', 0], 'the good VM ran');
unlike($out, qr/^vm (typo|missing|notelf): ended/m, 'no bad VM ran');

# An error in [global] spoils every VM, and the message says where it is.
($status, $out) = run_vms("[global]\nple = sometimes\n\n[vm g]\nimage = cpuid_test.elf\nmemory = 8M\n",
                          ['cpuid_test'], '--pcpus', '1', '--unchecked-config');
is($status, 5, '[global] error: exit status 5') or diag($out);
like($out, qr/^config: vms\.cfg:2: ple: /m, 'the [global] error is reported with its line');
like($out, qr/^vm g: not started: the \[global\] section has errors$/m,
     'a VM spoiled by [global] says so');
# A kernel command line word the hypervisor cannot read is named, and the
# run goes on without it.
($status, $out) = run_vms("[vm g]\nimage = cpuid_test.elf\nmemory = 8M\n", ['cpuid_test'],
                          '--pcpus', '1', '--append', 'stop_after=soon');
is($status, 0, 'bad stop_after: hypervisor exit status 0') or diag($out);
like($out, qr/^vmxvisor: stop_after=soon: not a number of seconds from 1 to 4294967295; no time limit$/m,
     'bad stop_after: named, and no limit set');
is_deeply([vm_result($out, 'g')], ['exit hypercall', 0], 'bad stop_after: the VM ran');
done_testing();
