# Shared body of the vmxon_*cpu.t tests: boot with N CPUs and check that
# every CPU came online, executed VMXON, and reports the same configuration.
use strict;
use warnings;
use Test::More;
use VmxRun;

sub check_vmxon_on_all_cpus {
    my ($n) = @_;
    my ($status, $out) = vmxrun('--pcpus', $n, '--exec', 'info cpus');
    is($status, 0, "exit status 0 with $n CPU(s)") or diag($out);
    like($out, qr/^smp: $n of $n CPUs online$/m, "all $n CPUs online");
    for my $cpu (0 .. $n - 1) {
        like($out, qr/^cpu $cpu: apic $cpu, vmxon ok$/m, "cpu $cpu did VMXON");
        like($out, qr/^\s*$cpu\s+$cpu yes\s+on\s+0x[0-9a-f]{16}$/m, "info cpus: cpu $cpu in VMX operation");
    }
    is(scalar(lines_matching($out, qr/vmxon ok/)), $n, "exactly $n VMXON lines");
    unlike($out, qr/FAILED|fatal/, 'no failure reported');
    my @cap = lines_matching($out, qr/^vmx: rev/);
    is_deeply(\@cap, [expected_capability_line('tigerlake')], 'one capability line, as expected');
    like($out, qr/^vmxvisor: exit status 0$/m, 'exit marker');
}

1;
