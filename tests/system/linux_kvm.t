#!/usr/bin/perl
# Linux KVM as a guest hypervisor: Debian's kernel boots in a 2-vCPU VM with
# nested VMX and the QEMU initramfs (tools/linux-guest), loads its own kvm
# and kvm_intel modules (guests/linux/init); kvm_client
# (guests/linux/kvm_client.c) runs a VM of its own through /dev/kvm, and
# QEMU runs the multiboot test kernel with 1 and 2 vCPUs: Linux KVM is L1,
# the client's payload and QEMU's guest L2. QEMU's guest must say what the
# same QEMU says on this host without KVM (TCG), and its isa-debug-exit
# status must come back. Once with KVM's EPT (nested EPT here), once with
# ept=0 (KVM's shadow paging: it intercepts L2's page faults, CR3 and
# INVLPG through our merged controls).
use strict;
use warnings;
use FindBin;
use File::Temp;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my $root = "$FindBin::Bin/../..";

# The multiboot test kernel's verdicts (PASS/FAIL and the summary), with
# the counts in parentheses left out: where QEMU's loader writes differs
# between TCG and KVM runs.
sub verdicts {
    my ($text) = @_;
    my @lines = $text =~ /^((?:PASS|FAIL|SUMMARY): .*)$/mg;
    s/ \([^)]*\)//g for @lines;
    return \@lines;
}

# The oracle: QEMU on this host (TCG), as /init runs it.
my %oracle;
my $dir = File::Temp::tempdir(CLEANUP => 1);
open(my $env, '>', "$dir/env.txt") or die $!;
print $env "VMXVISOR_TEST=1\n";
close($env);
for my $cpus (1, 2) {
    my @qemu = ('timeout', '120', 'qemu-system-x86_64', '-nodefaults', '-nographic',
                '-serial', "file:$dir/serial$cpus.log", '-monitor', 'none',
                '-kernel', "$root/build/guests/mb1_test.elf", '-append', "expect_cpus=$cpus",
                '-initrd', "$dir/env.txt", '-smp', $cpus, '-m', '32',
                '-device', 'isa-debug-exit,iobase=0xf4,iosize=4');
    system(@qemu);
    my $status = $? >> 8;
    my $out = do { local $/; open(my $fh, '<', "$dir/serial$cpus.log") or die $!; <$fh> } // '';
    $out =~ s/\r//g;
    $oracle{$cpus} = { status => $status, verdicts => verdicts($out) };
}

for my $ept (1, 0) {
    my $setup = "kvm_intel ept=$ept";
    # What kvm_intel must take from the capabilities we offer; without EPT
    # it turns unrestricted guest and PML off itself (they need EPT).
    my $with_ept = $ept ? 'Y' : 'N';
    my %expected = (nested => 'Y', vpid => 'Y', enable_shadow_vmcs => 'Y', preemption_timer => 'Y',
                    ept => $with_ept, unrestricted_guest => $with_ept, pml => $with_ept);
    my $config = <<"CFG";
[vm linux]
image = vmlinuz
initrd = initramfs-qemu.cpio.gz
vcpus = 2
memory = 384M
nested = on
cmdline = console=ttyS0 loglevel=5 panic=-1 vmxvisor.check vmxvisor.kvm vmxvisor.kvm_client vmxvisor.qemu kvm_intel.ept=$ept
on_reboot = stop
CFG
    my ($status, $out) = run_vms($config, ['linux/vmlinuz', 'linux/initramfs-qemu.cpio.gz'],
                                 '--pcpus', '2', '--mem', '768', '--timeout', '1800');
    is($status, 0, "$setup: hypervisor exit status 0") or diag($out);
    my %parameters = $out =~ /^\[linux\] init: kvm_intel (\w+)=(\S+)$/mg;
    for my $name (sort keys %expected) {
        is($parameters{$name}, $expected{$name}, "$setup: kvm_intel $name=$expected{$name}");
    }
    like($out, qr/^\[linux\] init: \/dev\/kvm ready$/m, "$setup: /dev/kvm");
    like($out, qr/^\[linux\] kvm_client guest: hello from L2$/m, "$setup: L2 printed through a port");
    like($out, qr/^\[linux\] kvm_client: MMIO write of 4 bytes at 0xd0000000: 0x5a$/m,
         "$setup: L2's MMIO write reached the client");
    for my $figure (qw(kvm_l1_cpuid_exit kvm_l1_vmcall_exit kvm_l1_pio_user_exit)) {
        like($out, qr/^\[linux\] kvm_client: BENCH $figure \d+ ticks$/m, "$setup: $figure measured");
    }
    like($out, qr/^\[linux\] init: kvm_client exit status 0$/m, "$setup: L2's status came back")
        or diag($out);
    # QEMU in L1: its L2's verdicts and status as on this host without KVM.
    for my $cpus (1, 2) {
        my ($run) = $out =~ /^\[linux\] init: qemu -smp $cpus\n(.*?)^\[linux\] init: qemu -smp $cpus exit status/ms;
        my ($qemu_status) = $out =~ /^\[linux\] init: qemu -smp $cpus exit status (\d+)$/m;
        $run //= '';
        $run =~ s/^\[linux\] //mg;
        like($run, qr/^boot loader: qemu$/m, "$setup: QEMU -smp $cpus booted its L2");
        is_deeply(verdicts($run), $oracle{$cpus}{verdicts},
                  "$setup: QEMU -smp $cpus: L2's verdicts as under QEMU without KVM")
            or diag($run);
        is($qemu_status, $oracle{$cpus}{status},
           "$setup: QEMU -smp $cpus: isa-debug-exit status came back ($oracle{$cpus}{status})");
    }
    like($out, qr/^\[linux\] init: VMXVISOR-LINUX-INIT-DONE at uptime [\d.]+$/m, "$setup: init marker");
    is_deeply([vm_result($out, 'linux')], ['ACPI power off', 0], "$setup: powered off via ACPI");
    # The kernel's lines (not /init's or the client's): no warning at all,
    # none from kvm or kvm_intel.
    my @warnings = grep { !/^\[linux\] (init|kvm_client|PASS|FAIL)/ }
        lines_matching($out, qr/^\[linux[^]]*\] .*(WARNING|BUG|Oops|unchecked MSR|panic|kvm.*(error|fail|warn)|vmx.*(error|fail|warn))/i);
    is(scalar @warnings, 0, "$setup: no warnings from the kernel, kvm or kvm_intel")
        or diag(join("\n", @warnings));
}
done_testing();
