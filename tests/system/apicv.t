#!/usr/bin/perl
# APIC virtualization off (apicv = off in every VM; by default it is on:
# TPR shadow, APIC-register virtualization, virtual-interrupt delivery): the
# APIC, IPI, timer, legacy-interrupt and NMI tests and the 2-vCPU Linux
# boot pass that way too (with it on, as by default, they run on their
# own). Then what it changes, from the VM's exit table: with it
# on, the timer guest's MOVs to CR8 and its EOIs make no exits; and a CPU
# with the TPR shadow alone.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

for my $test (qw(apic_timer.t smp_ipi.t legacy_irq.t nmi.t linux_boot.t)) {
    local $ENV{VMXVISOR_APICV} = 'off';
    my $out = `$^X $FindBin::Bin/$test 2>&1`;
    my $status = $? >> 8;
    is($status, 0, "$test passes with apicv = off") or diag(join "\n", grep { /^not ok|^#/ } split /\n/, $out);
    like($out, qr/^# VMXVISOR_APICV=off: apicv = off in every VM$/m, "$test ran its VMs so");
}

# apic_timer's bench mode: 501 MOVs to CR8, 501 self-IPIs whose handler
# does two EOIs (its own, the runtime's), 501 more self-IPIs.
my %exits;
for my $apicv (qw(on off)) {
    my ($status, $out) = run_vms("[vm t]\nimage = apic_timer.elf\nmemory = 4M\ncmdline = bench\napicv = $apicv\n",
                                 ['apic_timer']);
    is($status, 0, "apicv = $apicv: the bench guest ran");
    like($out, qr/^vm t: .*, APICv $apicv$/m, "apicv = $apicv: the VM says so");
    my ($table) = $out =~ /^vm t: exits per reason:\n(.*?)^  unclaimed/ms;
    for (split /\n/, $table // '') {
        $exits{$apicv}{$1} = $2 if /^  (.+?)\s+(\d+)\s+(?:\d+|-)/;
    }
    note("apicv = $apicv: " . join(', ', map { "$_ $exits{$apicv}{$_}" } sort keys %{ $exits{$apicv} }));
}
ok(($exits{off}{'control-register access'} // 0) >= 501, 'apicv = off: every MOV to CR8 exits');
ok(!$exits{on}{'control-register access'}, 'apicv = on: no MOV to CR8 exits');
ok(($exits{off}{WRMSR} // 0) >= 4 * 501, 'apicv = off: EOIs and self-IPIs are WRMSR exits');
ok(($exits{on}{WRMSR} // 0) < 501, 'apicv = on: neither is');
ok(!$exits{on}{'interrupt window'}, 'apicv = on: no interrupt-window exits');

# A CPU with the TPR shadow but neither APIC-register virtualization nor
# virtual-interrupt delivery (Bochs' Sandy Bridge): CR8 without exits, and
# the self-IPI held back by TPR leaves with a TPR-below-threshold exit.
my ($status, $out) = run_vms("[vm t]\nimage = apic_timer.elf\nmemory = 4M\napicv = on\n", ['apic_timer'],
                             '--cpu-model', 'corei7_sandy_bridge_2600k');
is($status, 0, 'TPR shadow only: the APIC checks pass') or diag($out);
like($out, qr/^vm t: .*, APICv TPR shadow$/m, 'TPR shadow only: the VM says so');
like($out, qr/^  TPR below threshold\s+[1-9]/m, 'TPR shadow only: lowering CR8 exits below the threshold');
unlike($out, qr/^  control-register access\s+[1-9]/m, 'TPR shadow only: no MOV-CR8 exits');
done_testing();
