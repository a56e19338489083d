#!/usr/bin/perl
# The virtual local APIC seen from a guest (guests/apic_timer.c): xAPIC and
# x2APIC register access, periodic / one-shot / TSC-deadline interrupts at
# the programmed times, TPR, self-IPIs, invalid mode changes, and disabling
# and re-enabling the APIC through IA32_APIC_BASE. Run alone, then sharing
# one CPU with a VM that never stops computing, so the timer has to preempt it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my @checks = (
    'xapic version and id', 'xapic current count counts down', 'xapic periodic timer',
    'xapic one-shot timer wakes HLT once',
    'xapic one-shot to periodic keeps the count and then repeats', 'cpuid shows x2apic and tsc-deadline',
    'x2apic mode: id and logical id', 'tsc-deadline interrupts at the deadline',
    'tsc-deadline 0 disarms', 'self-ipi waits for TPR', 'x2apic to xapic directly is #GP',
    'disabled apic: no registers, no cpuid bit, no timer', 're-enabled apic is in its reset state',
);

# The timer VM gets a larger weight: a fair scheduler serves a vCPU's timer
# at once only while it has used less than its share (CFS's sleeper rule).
# Ten times the computing VM's: one level down (tests/system/vmxvisor_as_l1.t)
# every exit the timer VM makes costs some ten times more, and 4 times was
# measured too little there (its TSC deadlines served a slice late).
# Without the VMX-preemption timer ("nopreempt") the host LAPIC timer ends
# slices and brings the guest out for its timer; the busy VM then keeps
# interrupts enabled (Bochs does not exit on them otherwise).
my $timer_vm = "[vm t]\nimage = apic_timer.elf\nvcpus = 1\nmemory = 4M\n";
my $busy_vm = "[vm busy]\nimage = spin_share.elf\nvcpus = 1\nmemory = 4M\ncmdline = 150";
my %setups = (
    alone => [$timer_vm, ['apic_timer']],
    'sharing a CPU' => ["${timer_vm}weight = 1000\n$busy_vm\n", ['apic_timer', 'spin_share']],
    'sharing, no preemption timer' => ["${timer_vm}weight = 1000\n$busy_vm sti\n",
                                       ['apic_timer', 'spin_share'], '--append', 'nopreempt'],
);
for my $setup (sort keys %setups) {
    my ($config, $images, @options) = @{$setups{$setup}};
    my ($status, $out) = run_vms($config, $images, '--pcpus', '1', @options);
    is($status, 0, "$setup: hypervisor exit status 0") or diag($out);
    for my $check (@checks) {
        like($out, qr/^\[t\] apic_timer: \Q$check\E: ok/m, "$setup: $check")
            or diag(join("\n", $out =~ /^(\[t\] apic_timer: \Q$check\E: .*)$/mg));
    }
    is_deeply([vm_result($out, 't')], ['exit hypercall', 0], "$setup: no failures");
}
done_testing();
