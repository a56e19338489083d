#!/usr/bin/perl
# Two isolation probes at once: each reads all of its guest-physical RAM and
# samples the rest below 4 GiB; neither may see the other's marker or the
# hypervisor's bytes, and what is not RAM reads as all-ones.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my $config = "[vm probe-a]\nimage = isolation_probe.elf\nmemory = 16M\ncmdline = a\n\n" .
             "[vm probe-b]\nimage = isolation_probe.elf\nmemory = 16M\ncmdline = b\n";
my ($status, $out) = run_vms($config, ['isolation_probe'], '--pcpus', '2');
is($status, 0, 'hypervisor exit status 0') or diag($out);
for my $vm ('a', 'b') {
    like($out, qr/^\[probe-$vm\] isolation_probe $vm: RAM 16 MiB, foreign markers 0, host banner 0, non-all-ones outside RAM 0$/m,
         "probe $vm saw only its own memory");
    is_deeply([vm_result($out, "probe-$vm")], ['exit hypercall', 0], "probe $vm passed");
}
done_testing();
