#!/usr/bin/perl
# An SMP guest (guests/smp_ipi.c): 4 vCPUs on 2 CPUs. vCPU 0 starts the
# others with INIT-SIPI-SIPI (they wait for it: nothing runs them before),
# then exchanges fixed IPIs with each (they sleep in HLT between them) and
# sends shorthand, broadcast and logical-destination IPIs. Then ("storm")
# the others send it pairs of vectors while it runs mostly with IF clear,
# and no handler may find IF clear in the frame it interrupted (with APIC
# virtualization, Bochs 2.7's erratum in README "Limits" breaks that unless
# vmxvisor works around it). In xAPIC mode
# (emulated MMIO) and in x2APIC mode (MSRs).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my @checks = ('every vCPU started by INIT-SIPI-SIPI', 'ping-pong with every vCPU',
              'all-but-self shorthand', 'broadcast destination reaches all, self included',
              'all-including-self shorthand', 'logical destination selects vCPUs 1 and 3');
for my $mode ('xapic', 'x2apic') {
    my $cmdline = $mode eq 'x2apic' ? "cmdline = x2apic\n" : '';
    my ($status, $out) = run_vms("[vm s]\nimage = smp_ipi.elf\nvcpus = 4\nmemory = 4M\n$cmdline",
                                 ['smp_ipi'], '--pcpus', '2');
    is($status, 0, "$mode: hypervisor exit status 0") or diag($out);
    like($out, qr/^\[s\] smp_ipi: every vCPU started by INIT-SIPI-SIPI: ok \(4 of 4 vCPUs, $mode mode\)/m,
         "$mode: APs started in $mode mode");
    for my $check (@checks) {
        like($out, qr/^\[s\] smp_ipi: \Q$check\E: ok/m, "$mode: $check")
            or diag(join("\n", $out =~ /^(\[s\] smp_ipi: \Q$check\E: .*)$/mg));
    }
    # Each AP was launched once, after its SIPI, and sleeps between IPIs:
    # far less CPU time than vCPU 0, which waits for the answers.
    my %run;
    while ($out =~ /^  vcpu (\d+): run (\d+), wait \d+ cycles;/mg) {
        $run{$1} = $2;
    }
    is(scalar(keys %run), 4, "$mode: counters for 4 vCPUs") or diag($out);
    for my $ap (1 .. 3) {
        ok($run{$ap} < $run{0} / 4, "$mode: vCPU $ap slept between IPIs ($run{$ap} vs $run{0} cycles)");
    }
    is_deeply([vm_result($out, 's')], ['exit hypercall', 0], "$mode: no failures");

    ($status, $out) = run_vms("[vm s]\nimage = smp_ipi.elf\nvcpus = 4\nmemory = 4M\n" .
                              "cmdline = storm" . ($mode eq 'x2apic' ? ' x2apic' : '') . "\n",
                              ['smp_ipi'], '--pcpus', '2');
    like($out, qr/^\[s\] smp_ipi: interrupts only with IF set: ok \([1-9]\d* and [1-9]\d* taken from 3 senders, 0 with IF clear\)/m,
         "$mode: interrupts only with IF set") or diag($out =~ /^(\[s\] smp_ipi: interrupts.*)$/m);
    is($status, 0, "$mode storm: hypervisor exit status 0");
}
# A guest that never sends SIPI (the real-mode test has no AP start-up):
# its second vCPU never runs, and vCPU 0's isa-debug-exit ends the VM.
my ($status, $out) = run_vms("[vm r]\nimage = realmode_test.elf\nstart = real\nvcpus = 2\nmemory = 4M\n",
                             ['realmode_test'], '--pcpus', '2');
is($status, 1, "no SIPI: exit status 1, the VM's own (isa-debug-exit's (0 << 1) | 1)")
    or diag($out);
like($out, qr/^  vcpu 1: run 0, wait \d+ cycles;.* VMLAUNCH 0,/m, 'no SIPI: the AP never ran')
    or diag($out);
is_deeply([vm_result($out, 'r')], ['isa-debug-exit', 1], 'no SIPI: vCPU 0 ran to its end');
done_testing();
