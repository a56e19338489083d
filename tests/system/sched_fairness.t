#!/usr/bin/perl
# Overcommit: 3 VMs x 2 vCPUs on 2 physical CPUs all make progress, and over
# a fixed window each vCPU's CPU share is within 10% of its fair share; the
# VMCS counters agree with the moves (each migration: VMCLEAR on the old CPU,
# VMLAUNCH on the new one); a pinned VM never migrates. Then the same shares
# without the VMX-preemption timer ("nopreempt"): slices end by the host
# LAPIC timer, whose interrupt makes the guest exit (the guests keep
# interrupts enabled: Bochs does not exit on them otherwise).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my $config = join '', map { "[vm $_]\nimage = spin_share.elf\nvcpus = 2\nmemory = 4M\ncmdline = 100\n\n" } qw(a b);
$config .= "[vm pinned]\nimage = spin_share.elf\nvcpus = 2\nmemory = 4M\ncmdline = 100\naffinity = 1\n";
my ($status, $out) = run_vms($config, ['spin_share'], '--pcpus', '2');
is($status, 0, 'hypervisor exit status 0') or diag($out);

sub check_shares {
    my ($out, $label) = @_;
    my %count;
    while ($out =~ /^\[(\w+)\] spin_share: vcpu (\d+) iterations (\d+)$/mg) {
        $count{"$1/$2"} = $3;
    }
    is(scalar(keys %count), 6, "$label: all six vCPUs made progress and reported") or diag($out);
    my $total = 0;
    $total += $_ for values %count;
    my $fair = $total / 6;
    for my $v (sort keys %count) {
        my $dev = abs($count{$v} - $fair) / $fair * 100;
        ok($dev <= 10, sprintf("%s: %s share within 10%% of fair (%.1f%%)", $label, $v, $dev));
    }
}
check_shares($out, 'preemption timer');

for my $vm (qw(a b pinned)) {
    my ($block) = $out =~ /^vm $vm: exits per reason:\n(.*?)^vm $vm: ended/ms;
    ok(defined $block, "$vm: per-vCPU counters printed") or next;
    while ($block =~ /^  vcpu (\d+): .*migrations (\d+), VMPTRLD (\d+), VMCLEAR (\d+), VMLAUNCH (\d+),/mg) {
        my ($id, $migrations, $vmptrld, $vmclear, $launch) = ($1, $2, $3, $4, $5);
        is($launch, $migrations + 1, "$vm/$id: one VMLAUNCH per CPU it ran on");
        is($vmclear, $migrations + 1, "$vm/$id: VMCLEAR on the old CPU per move, and at the end");
        ok($vmptrld >= $launch, "$vm/$id: VMPTRLD at least once per CPU");
        is($migrations, 0, "$vm/$id: a pinned vCPU never migrates") if $vm eq 'pinned';
    }
}
my $sti_config = join '', map { "[vm $_]\nimage = spin_share.elf\nvcpus = 2\nmemory = 4M\ncmdline = 100 sti\n\n" } qw(a b c);
my ($sti_status, $sti_out) = run_vms($sti_config, ['spin_share'], '--pcpus', '2', '--append', 'nopreempt');
is($sti_status, 0, 'nopreempt: hypervisor exit status 0') or diag($sti_out);
unlike($sti_out, qr/^vmx: .*preempt-timer/m, 'nopreempt: the preemption timer is not used');
check_shares($sti_out, 'LAPIC timer');
done_testing();
