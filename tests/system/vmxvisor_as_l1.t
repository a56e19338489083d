#!/usr/bin/perl
# vmxvisor as its own L1 (issue: nested EPT and VPID): the test files below
# run again with their VMs one level down. Bochs boots vmxvisor, whose one
# VM is vmxvisor again (nested VMX, EPT, VPID, unrestricted guest and PLE
# offered), which runs each test's VMs from the test's configuration; the
# tests' own assertions then apply to what the inner vmxvisor printed
# (tests/system/lib/VmxRun.pm run_vms_in_vmxvisor, VMXVISOR_AS_L1).
# Then three levels, an isolation probe at L2, and every level's exit.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

for my $file (qw(vm_exits isolation smp_ipi apic_timer ple platform)) {
    subtest "$file.t one level down" => sub {
        local $ENV{VMXVISOR_AS_L1} = 1;
        my $result = do "$FindBin::Bin/$file.t";
        die $@ if $@;
    };
}

# The outer level saw the inner vmxvisor's nested work as L2 exits, and
# ended when the inner one did: isa-debug-exit with its status 0.
my ($status, $out) = run_vms_in_vmxvisor("[vm l2]\nimage = cpuid_test.elf\nmemory = 16M\n",
                                         ['cpuid_test']);
is($status, 0, 'the inner vmxvisor exits with status 0');
like($out, qr/^\[l2\] cpuid_test: 0 failure\(s\)$/m, 'cpuid_test passes as L2');
like($out, qr/^outer: vm l1: ended \(isa-debug-exit\), status 1$/m,
     'the outer VM ends by the inner one\'s isa-debug-exit (status 0 << 1 | 1)');
like($out, qr/^outer:   VMRESUME\s+\d+/m, 'the outer exit table counts the inner VMRESUMEs');
like($out, qr/^outer:   EPT violation\s+\d+\s+(?:\d+|-)\s+[1-9]\d*\s+\d+$/m,
     'L2\'s memory faults in through the shadow EPT (EPT violations from L2)');

# Three levels: vmxvisor in vmxvisor in vmxvisor runs cpuid_test as L3.
{
    local $ENV{VMXVISOR_LEVELS} = 2;
    ($status, $out) = run_vms_in_vmxvisor("[vm l3]\nimage = cpuid_test.elf\nmemory = 16M\n",
                                          ['cpuid_test']);
    is($status, 0, 'three levels: the innermost vmxvisor exits with status 0');
    like($out, qr/^\[l3\] cpuid_test: 0 failure\(s\)$/m, 'three levels: cpuid_test passes as L3');
    like($out, qr/^outer: \[l1\] vm l2: ended \(isa-debug-exit\), status 1$/m,
         'three levels: the middle level ends when the innermost does');
    # The middle vmxvisor's status is its VM's (1), which reaches the outer
    # level through isa-debug-exit as (1 << 1) | 1.
    like($out, qr/^outer: vm l1: ended \(isa-debug-exit\), status 3$/m,
         'three levels: the outer level ends when the middle one does');
    my ($l0_vmreads) = $out =~ /^outer:   VMREAD\s+(\d+)/m;
    my ($l1_vmreads) = $out =~ /^outer: \[l1\]   VMREAD\s+(\d+)/m;
    ok($l0_vmreads && $l1_vmreads && $l0_vmreads > $l1_vmreads,
       "three levels: L0 handles more VMREADs ($l0_vmreads) than L1 ($l1_vmreads): L1's own "
       . 'VMREADs while it emulates L2\'s');
}
done_testing();
