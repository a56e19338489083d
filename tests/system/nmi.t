#!/usr/bin/perl
# NMIs (guests/nmi_probe.c): NMI IPIs to self with IF = 0, from the NMI
# handler (held until its IRET), by physical destination and by the two
# shorthands, into a vCPU halted with IF = 0; in xAPIC mode (3 vCPUs) and
# x2APIC mode (2 vCPUs), on 2 CPUs. And the monitor's `nmi VM`, QEMU's:
# an edge on every vCPU's LINT1, which each LVT passes as NMI or masks.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my $config = <<'CFG';
[vm xapic]
image = nmi_probe.elf
vcpus = 3
memory = 4M

[vm x2apic]
image = nmi_probe.elf
vcpus = 2
memory = 4M
cmdline = x2apic

[vm lint]
image = nmi_probe.elf
vcpus = 2
memory = 4M
cmdline = lint1
CFG

# The NMI goes once the guest says it waits for one (an earlier NMI would
# find no IDT): the launcher's @wait.
my ($status, $out) = run_vms($config, ['nmi_probe'], '--pcpus', '2', '--exec',
                             '@wait waiting for an NMI on LINT1; nmi lint');
is($status, 0, 'hypervisor exit status 0') or diag($out);
my @checks = ('self NMI taken with RFLAGS.IF = 0',
              'an NMI sent from the NMI handler waits for its IRET, then comes',
              'NMI to vCPU 1 by physical destination', 'NMI with the all-but-self shorthand',
              'NMI with the all-including-self shorthand', 'an NMI ends HLT with RFLAGS.IF = 0');
for my $vm ('xapic', 'x2apic') {
    like($out, qr/^\[$vm\] nmi_probe: every vCPU started: ok \(\d of \d vCPUs, $vm mode\)$/m,
         "$vm: vCPUs started in $vm mode");
    for my $check (@checks) {
        like($out, qr/^\[$vm\] nmi_probe: \Q$check\E: ok/m, "$vm: $check")
            or diag(join("\n", $out =~ /^(\[$vm\] nmi_probe: \Q$check\E: .*)$/mg));
    }
    is_deeply([vm_result($out, $vm)], ['exit hypercall', 0], "$vm: no failures");
}
like($out, qr/^vm lint: NMI to 1 of 2 vCPU\(s\) \(LINT1\)$/m,
     'nmi: the monitor says how many vCPUs took it as NMI');
like($out, qr/^\[lint\] nmi_probe: LINT1 NMI as each vCPU's LVT says: ok/m,
     'lint: vCPU 0 (virtual wire) took it, vCPU 1 (masked) did not')
    or diag(join("\n", $out =~ /^(\[lint\] .*)$/mg));
is_deeply([vm_result($out, 'lint')], ['exit hypercall', 0], 'lint: no failures');
unlike($out, qr/SMI IPIs dropped/, 'no IPI dropped');
done_testing();
