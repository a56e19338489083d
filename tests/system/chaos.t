#!/usr/bin/perl
# An adversarial guest (guests/chaos.c: random port I/O, MSRs, CR and XCR0
# writes, VMX instructions, MMIO to its APICs (IPIs, INIT and NMI among
# them) and far outside its RAM; with "bytes", random code) beside a
# well-behaved VM on 2 CPUs, for several seeds, with 1 and 2 vCPUs: the
# hypervisor survives, the other VM's result is exact, the monitor answers
# meanwhile, and the chaos VM runs to its end or stops with a reason.
# `make chaos` runs it longer.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my @runs = ([1, 1, ''], [2, 2, ''], [3, 2, ''], [4, 1, 'bytes'], [5, 2, 'bytes']);
for my $run (@runs) {
    my ($seed, $vcpus, $mode) = @$run;
    my $name = "seed $seed, $vcpus vCPU(s)" . ($mode ? ", $mode" : '');
    # on_reboot = stop: a chaos VM that triple-faults ends (with the same seed
    # it would fault again after every reset).
    my $config = "[vm chaos]\nimage = chaos.elf\nvcpus = $vcpus\nmemory = 16M\non_reboot = stop\n"
                 . "cmdline = $seed 3000 $mode\n[vm good]\nimage = cpuid_test.elf\nmemory = 16M\n";
    # --ignore-vm-status: how the chaos VM ends depends on the seed; the
    # status is 0 unless the hypervisor itself failed.
    my ($status, $out) = run_vms($config, [qw(chaos cpuid_test)], '--pcpus', '2',
                                 '--exec', 'info vms', '--ignore-vm-status');
    is($status, 0, "$name: the hypervisor survives (exit status 0)") or diag($out);
    unlike($out, qr/^vmxvisor: fatal/m, "$name: no hypervisor fault");
    like($out, qr/^\[good\] cpuid_test: 0 failure\(s\)$/m, "$name: the other VM's checks pass");
    is_deeply([vm_result($out, 'good')], ['exit hypercall', 0], "$name: and it ends normally");
    my ($reason) = vm_result($out, 'chaos');
    ok(defined $reason && length $reason, "$name: the chaos VM ends with a reason ("
       . ($reason // 'none') . ')');
    like($out, qr/^vm\s+vcpus\s/m, "$name: the monitor answered info vms during the run")
        or diag($out);
    note($_) for $out =~ /^(\[chaos\] chaos: .*)$/mg;
}
done_testing();
