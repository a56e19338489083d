#!/usr/bin/perl
# The PC's legacy interrupt hardware seen from a guest (guests/legacy_irq.c):
# the 8254's channel 0 at 1 kHz through the I/O APIC and through the 8259
# pair (LINT0 in ExtINT mode, and with the local APIC disabled), their
# masks and EOI, and the TSC calibration against channel 2 through port
# 0x61. Run alone, then sharing one CPU with a VM that never stops
# computing, so the PIT's interrupts have to come on time regardless.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my @checks = (
    'pit channel 2 calibrates the tsc', 'ioapic version, entries masked at reset',
    'pit 1 kHz through the ioapic, spinning', 'pit 1 kHz through the ioapic, halted',
    'masked ioapic pin: no interrupts', 'pit 1 kHz through the 8259 (LINT0 ExtINT), halted',
    '8259: no EOI, no further interrupt', '8259 mask: no interrupts',
    'lint0 masked: no 8259 interrupts', 'pit 1 kHz through the 8259, local apic disabled',
);

# As in apic_timer.t, the timer VM gets the larger weight: a fair scheduler
# serves a waking vCPU at once only while it has used less than its share.
my $irq_vm = "[vm l]\nimage = legacy_irq.elf\nvcpus = 1\nmemory = 4M\n";
my $busy_vm = "[vm busy]\nimage = spin_share.elf\nvcpus = 1\nmemory = 4M\ncmdline = 150\n";
my %setups = (
    alone => [$irq_vm, ['legacy_irq']],
    'sharing a CPU' => ["${irq_vm}weight = 400\ncmdline = shared\n$busy_vm",
                        ['legacy_irq', 'spin_share']],
);
for my $setup (sort keys %setups) {
    my ($config, $images) = @{$setups{$setup}};
    my ($status, $out) = run_vms($config, $images, '--pcpus', '1');
    is($status, 0, "$setup: hypervisor exit status 0") or diag($out);
    for my $check (@checks) {
        like($out, qr/^\[l\] legacy_irq: \Q$check\E: ok/m, "$setup: $check")
            or diag(join("\n", $out =~ /^(\[l\] legacy_irq: \Q$check\E: .*)$/mg));
    }
    is_deeply([vm_result($out, 'l')], ['exit hypercall', 0], "$setup: no failures");
}
done_testing();
