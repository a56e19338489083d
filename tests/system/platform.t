#!/usr/bin/perl
# The PC platform an unmodified guest finds (guests/platform_probe.c): ACPI
# tables found by scanning the BIOS area (RSDP, XSDT, MADT with one local
# APIC per vCPU, FADT, the DSDT's \_S5), QEMU's fw_cfg, the PM timer against
# the TSC, the CMOS clock, the empty PCI configuration space; then ACPI
# power-off through PM1a_CNT. Two probes (1 and 3 vCPUs) power off, two
# more VMs reset themselves through 0xcf9 and the keyboard controller, and
# a busy VM sharing the CPUs keeps running to its own end meanwhile.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my $config = <<'CFG';
[vm p1]
image = platform_probe.elf
vcpus = 1
memory = 32M
cmdline = 32

[vm p3]
image = platform_probe.elf
vcpus = 3
memory = 64M
cmdline = 64

[vm rc]
image = platform_probe.elf
memory = 4M
on_reboot = stop
cmdline = 4 reset-cf9

[vm rk]
image = platform_probe.elf
memory = 4M
on_reboot = stop
cmdline = 4 reset-kbc

[vm s3]
image = platform_probe.elf
memory = 4M
cmdline = 4 sleep

[vm busy]
image = spin_share.elf
memory = 4M
cmdline = 300
CFG

my @checks = (
    'rsdp found by scanning the BIOS area', 'xsdt, madt, fadt and dsdt checksums',
    'madt: one enabled local apic per vcpu, and the ioapic', 'fadt: pm timer, pm1a control, sci',
    'dsdt: \_S5 package', 'fw_cfg signature, id and file directory',
    'fw_cfg cpu count and ram size',
    'pm timer runs at 3.579545 MHz', 'cmos clock advances 1-2 s across 1.1 s',
    'cmos uip rises before an update and falls after', 'cmos register d valid, base memory 640K',
    'pci: 0xcf8 latches, 0xcfc reads all-ones',
);

my ($status, $out) = run_vms($config, [qw(platform_probe spin_share)], '--pcpus', '2');
is($status, 6, 'exit status 6: s3 ended without a status of its own') or diag($out);

my %vcpus = (p1 => 1, p3 => 3);
for my $vm (sort keys %vcpus) {
    for my $check (@checks) {
        # One level down (VMXVISOR_AS_L1) a CMOS read is a nested exit,
        # longer than UIP's 244 us: the probe says it cannot poll it.
        my $outcome = $ENV{VMXVISOR_AS_L1} && $check =~ /^cmos uip/ ? qr/(ok|skipped)/ : qr/ok/;
        like($out, qr/^\[$vm\] platform_probe: \Q$check\E: $outcome/m, "$vm: $check")
            or diag(join("\n", $out =~ /^(\[$vm\] platform_probe: \Q$check\E: .*)$/mg));
    }
    my $n = $vcpus{$vm};
    like($out, qr/^\[$vm\] platform_probe: madt: .*: ok \($n enabled, $n vCPUs\)$/m,
         "$vm: the MADT lists $n local APIC(s)");
    unlike($out, qr/^\[$vm\] .*FAIL/m, "$vm: no failures");
    is_deeply([vm_result($out, $vm)], ['ACPI power off', 0], "$vm: ended by ACPI power off");
    my ($table) = $out =~ /^vm \Q$vm\E: exits per reason:\n((?:  .*\n)+)/m;
    like($table // '', qr/^  unclaimed port\/MMIO reads 0, writes 0$/m,
         "$vm: every port it used was claimed");
}

like($out, qr/^\[rc\] platform_probe: resetting through 0xcf9$/m, 'rc: wrote 0xcf9');
is_deeply([vm_result($out, 'rc')], ['guest reset via 0xcf9', 0], 'rc: ended by the reset');
like($out, qr/^\[rk\] platform_probe: resetting through the keyboard controller$/m,
     'rk: sent the pulse-reset command');
is_deeply([vm_result($out, 'rk')], ['guest reset via keyboard controller', 0],
          'rk: ended by the reset');
unlike($out, qr/^\[r[ck]\] .*FAIL/m, 'the resetting VMs stopped at the reset');
# A sleep state the DSDT does not offer (S3 as QEMU numbers it) ends the VM
# as a failure that says why, instead of leaving the guest waiting.
like($out, qr/^\[s3\] platform_probe: asking for sleep with SLP_TYP (\d)$/m, 's3: asked for sleep');
my ($typ) = $out =~ /^\[s3\] platform_probe: asking for sleep with SLP_TYP (\d)$/m;
is_deeply([vm_result($out, 's3')],
          ["ACPI sleep with SLP_TYP $typ: only soft-off (\\_S5) is offered", -1],
          's3: ended, status -1, saying why');
unlike($out, qr/^\[s3\] .*still running/m, 's3: the guest did not go on');

# The power-offs and resets ended only their own VMs: the busy one was
# running all along and finished on its own afterwards.
is_deeply([vm_result($out, 'busy')], ['exit hypercall', 0], 'busy: finished normally');
my $busy_end = index($out, 'vm busy: ended');
for my $vm (qw(p1 p3 rc rk s3)) {
    my $end = index($out, "vm $vm: ended");
    ok($end >= 0 && $end < $busy_end, "busy was still running when $vm ended");
}
done_testing();
