#!/usr/bin/perl
# Two VMs at once on two CPUs: one triple-faults and is stopped with a
# register and VMCS dump; the other finishes; the hypervisor keeps running.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my $config = <<'CFG';
[vm crash]
image = crasher.elf
memory = 8M
affinity = 0
on_reboot = stop

[vm worker]
image = mem_touch.elf
memory = 64M
cmdline = 2m
affinity = 1
CFG

my ($status, $out) = run_vms($config, [qw(crasher mem_touch)], '--pcpus', '2', '--exec', 'info vms');
is($status, 6, 'exit status 6: a VM ended without a status of its own (the triple fault)')
    or diag($out);
like($out, qr/^vm crash: vcpu 0: triple fault; stopping the VM$/m, 'triple fault reported');
like($out, qr/^RAX 000000001badc0de /m, 'register dump shows the guest state');
like($out, qr/^VMCS guest state:$/m, 'VMCS dump');
like($out, qr/ GUEST_RIP\s+0000000000100[0-9a-f]{3}/, 'VMCS dump has the guest RIP');
is_deeply([vm_result($out, 'crash')], ['triple fault', -1], 'crasher ended by the triple fault');
like($out, qr/^\[worker\] mem_touch: 24 first touches, 0 bad page\(s\)$/m, 'the other VM kept working');
is_deeply([vm_result($out, 'worker')], ['exit hypercall', 0], 'the other VM finished normally');
done_testing();
