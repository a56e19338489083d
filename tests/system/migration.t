#!/usr/bin/perl
# A vCPU forced to move between CPUs many times (the monitor's `affinity`
# flipped back and forth) keeps its guest state: the guest checks r8-r15,
# xmm0-7 and a memory pattern every round. Each move shows as a VMCLEAR on
# the old CPU and a VMLAUNCH on the new one.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my $config = "[vm mig]\nimage = migrate_check.elf\nmemory = 4M\ncmdline = 300\n";
my $flips = join '; ', map { ('affinity mig 1', 'affinity mig 0') } 1 .. 10;
my ($status, $out) = run_vms($config, ['migrate_check'], '--pcpus', '2', '--exec', $flips);
is($status, 0, 'hypervisor exit status 0') or diag($out);
is(scalar(() = $out =~ /^vm mig: affinity [01]$/mg), 20, 'all affinity changes accepted');
like($out, qr/^\[mig\] migrate_check: vcpu 0: \d+ rounds, 0 mismatches$/m, 'guest state intact');
my ($migrations, $vmptrld, $vmclear, $launch) =
    $out =~ /^  vcpu 0: .*migrations (\d+), VMPTRLD (\d+), VMCLEAR (\d+), VMLAUNCH (\d+),/m;
ok(defined $migrations && $migrations >= 10, 'moved at least 10 times (' . ($migrations // '?') . ')');
is($vmclear, $migrations + 1, 'a VMCLEAR on the old CPU for every move (and one at the end)');
is($launch, $migrations + 1, 'VMLAUNCH after every move');
ok($vmptrld >= $launch, 'VMPTRLD on every CPU it arrived at');
is_deeply([vm_result($out, 'mig')], ['exit hypercall', 0], 'guest reported success');
done_testing();
