#!/usr/bin/perl
# The same image on a second machine: QEMU (TCG, software emulation) with
# SeaBIOS, its own ACPI tables and no VMX. Boot, SMP bring-up and the serial
# console must work, and the missing VMX must end the run through QEMU's
# isa-debug-exit: status 3 becomes QEMU's (3 << 1) | 1 = 7. Guards against
# depending on Bochs quirks (it caught an AP starting before the scheduler).
use strict;
use warnings;
use FindBin;
use File::Temp ();
use Test::More;

my $root = "$FindBin::Bin/../..";
my $dir = File::Temp::tempdir(CLEANUP => 1);
system("$root/tools/vmxrun", '--iso-only', "$dir/vmxvisor.iso", '--exit', 'qemu') == 0
    or BAIL_OUT('could not build the ISO');
my @qemu = ('timeout', '120', 'qemu-system-x86_64', '-machine', 'pc', '-cpu', 'max', '-smp', '2',
            '-m', '256', '-cdrom', "$dir/vmxvisor.iso", '-serial', "file:$dir/serial.log",
            '-display', 'none', '-monitor', 'none', '-no-reboot',
            '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04');
system(@qemu);
my $status = $? >> 8;
my $out = do { local $/; open(my $fh, '<', "$dir/serial.log") or die $!; <$fh> } // '';
$out =~ s/\r//g;
is($status, 7, 'QEMU exit status (3 << 1) | 1 from isa-debug-exit') or diag($out);
like($out, qr/^command line: exit=qemu$/m, 'Multiboot2 command line from GRUB');
like($out, qr/^smp: 2 of 2 CPUs online$/m, 'both CPUs started (INIT-SIPI-SIPI on QEMU)');
like($out, qr/^vmxvisor: fatal: this CPU does not support VMX \(CPUID\.1:ECX\.VMX = 0\)$/m,
     'missing VMX named');
unlike($out, qr/EXCEPTION/, 'no exception in the hypervisor');
like($out, qr/^vmxvisor: exit status 3$/m, 'exit marker');
done_testing();
