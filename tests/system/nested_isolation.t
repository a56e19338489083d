#!/usr/bin/perl
# A VM whose L1 runs L2s that misbehave, beside two VMs that must not notice:
# the VMX probe as L1 with nested VMX (its L2s triple-fault, fault with
# exceptions L1 does not intercept, fail their VM entries with garbage guest
# state and MSR lists, and L1 provokes every VMfail) on 2 CPUs together with
# two isolation probes, which read all of their RAM and sample the rest:
# everyone ends normally, and none sees another's memory or the
# hypervisor's.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my $config = "[vm l1]\nimage = vmx_probe.elf\nmemory = 32M\nnested = on\n\n" .
             "[vm probe-a]\nimage = isolation_probe.elf\nmemory = 16M\ncmdline = a\n\n" .
             "[vm probe-b]\nimage = isolation_probe.elf\nmemory = 16M\ncmdline = b\n";
my ($status, $out) = run_vms($config, ['vmx_probe', 'isolation_probe'], '--pcpus', '2');
is($status, 0, 'hypervisor exit status 0') or diag($out);
like($out, qr/^\[l1\] vmx_probe: \d+ checks, 0 failed$/m, 'the L1 passed every check');
like($out, qr/^\[l1\] vmx_probe: triple fault in L2: exit reason 2: PASS$/m,
     'its L2 triple-faulted into an exit to L1, not a reset');
is_deeply([vm_result($out, 'l1')], ['exit hypercall', 0], 'the L1 VM ended normally');
unlike($out, qr/^vm l1: reset/m, 'nothing L1 or its L2s did reset the L1 VM');
for my $vm ('a', 'b') {
    like($out, qr/^\[probe-$vm\] isolation_probe $vm: RAM 16 MiB, foreign markers 0, host banner 0, non-all-ones outside RAM 0$/m,
         "probe $vm saw only its own memory");
    is_deeply([vm_result($out, "probe-$vm")], ['exit hypercall', 0], "probe $vm passed");
}
done_testing();
