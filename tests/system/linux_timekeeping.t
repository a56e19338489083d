#!/usr/bin/perl
# Linux keeps time under console load: Debian's kernel with 1 vCPU and
# without `quiet` (every boot message goes through the emulated UART, exit
# by exit) keeps TSC as its clocksource, with no watchdog complaint and no
# error-level line, and its clocks agree with the emulated time the
# hypervisor stamps on its console lines. Once seen: the TSC marked unstable
# ("the skew is too large") and acpi_pm taking over. Booted the way a user
# would, with the launcher's one-VM options (--vm-kernel).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my $root = "$FindBin::Bin/../..";
my ($status, $out) = vmxrun('--vm-kernel', "$root/build/linux/vmlinuz",
                            '--vm-initrd', "$root/build/linux/initramfs.cpio.gz",
                            '--vm-append', 'console=ttyS0 panic=-1 vmxvisor.check',
                            '--append', 'console_timestamps', '--timeout', '1800');
is($status, 0, 'the VM powered off and the run ended with its status 0') or diag($out);
like($out, qr/^vm guest: 1 vCPU\(s\), 256 MiB, image vmlinuz \(Linux \S+\), PLE off, APICv (?:on|TPR shadow|off)$/m,
     'the kernel and its release are announced');
like($out, qr/^vm guest: running for 10 s, \d+ exits, nothing on its console yet/m,
     'the silent decompression is reported');
like($out, qr/^\[guest \+[\d.]+\] \[ *[\d.]+\] clocksource: Switched to clocksource tsc$/m,
     'the kernel switches to the TSC');
like($out, qr/^\[guest \+[\d.]+\] init: clocksource tsc$/m, 'and keeps it to init');
unlike($out, qr/unstable|skew is too large|watchdog: .*(timeout|lockup)|clocksource.*fallback/i,
       'no clocksource watchdog complaint');
unlike($out, qr/^\[guest \+[\d.]+\] \[ *[\d.]+\] .*(Unable to|failed|error)/mi,
       'no error line in the kernel log')
    or diag(join("\n", $out =~ /^(\[guest .*(?:Unable to|failed|error).*)$/mgi));
# `sleep 1` in init, timed by the guest's uptime and by the emulated time
# of the console lines around it.
my ($t0, $u0) = $out =~ /^\[guest \+([\d.]+)\] init: sleep 1 begins at uptime ([\d.]+)$/m;
my ($t1, $u1) = $out =~ /^\[guest \+([\d.]+)\] init: VMXVISOR-LINUX-INIT-DONE at uptime ([\d.]+)$/m;
ok(defined $t1, "init's uptime marks") or diag($out);
if (defined $t1) {
    my ($guest, $emulated) = ($u1 - $u0, $t1 - $t0);
    cmp_ok(abs($guest - $emulated), '<', 0.05 * $emulated + 0.02,
           "the guest's uptime runs with emulated time ($guest s against $emulated s)");
}
done_testing();
