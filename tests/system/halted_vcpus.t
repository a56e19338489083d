#!/usr/bin/perl
# Halted vCPUs use no CPU time: a 4-vCPU VM on 2 CPUs whose vCPUs 1-3 halt
# at once; vCPU 0 gets a CPU to itself and the halted ones stay near zero.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my $config = "[vm h]\nimage = spin_share.elf\nvcpus = 4\nmemory = 4M\ncmdline = 100 halt-others\n";
my ($status, $out) = run_vms($config, ['spin_share'], '--pcpus', '2');
is($status, 0, 'hypervisor exit status 0') or diag($out);
my %run;
while ($out =~ /^  vcpu (\d+): run (\d+), wait (\d+) cycles;/mg) {
    $run{$1} = $2;
}
is(scalar(keys %run), 4, 'per-vCPU counters for all four') or diag($out);
ok($run{0} >= 100_000_000, "the spinning vCPU ran its whole window ($run{0} cycles)");
for my $v (1 .. 3) {
    ok($run{$v} < $run{0} / 100, "halted vCPU $v used under 1% of that ($run{$v} cycles)");
}
is_deeply([vm_result($out, 'h')], ['exit hypercall', 0], 'VM finished');

# Every vCPU sent INIT (vCPU 0 to all, itself included): all wait for a
# start-up IPI nobody is left to send, and the VM ends as when all halt.
($status, $out) = run_vms("[vm i]\nimage = spin_share.elf\nvcpus = 2\nmemory = 4M\ncmdline = 1 init-all\n",
                          ['spin_share'], '--pcpus', '2');
like($out, qr/^\[i\] spin_share: INIT to every vCPU$/m, 'INIT sent to every vCPU');
is_deeply([vm_result($out, 'i')], ['all vCPUs halted or waiting for SIPI', 0],
          'the VM ends when every vCPU waits for SIPI');
done_testing();
