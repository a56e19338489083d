#!/usr/bin/perl
# Debian's stock kernel (tools/linux-guest) boots as a 2-vCPU guest on 2
# physical CPUs to its busybox /init (guests/linux/init), which checks the
# CPUs and the clock from inside, prints a marker and powers off through
# ACPI; then the same next to a second VM running a test guest. Alone, it
# runs lockbench briefly after the marker (guests/linux/lockbench.c: the
# short variant of bench/run's linux_* PLE scenarios).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my $linux = <<'CFG';
[vm linux]
image = vmlinuz
initrd = initramfs.cpio.gz
vcpus = 2
memory = 128M
cmdline = console=ttyS0 loglevel=5 panic=-1 vmxvisor.check
on_reboot = stop
CFG
my $neighbour = <<'CFG';
[vm other]
image = mem_touch.elf
memory = 64M
cmdline = 2m
CFG

# lockbench_at=1 has passed by init: the timetable starts at once.
my $lockbench = 'vmxvisor.lockbench vmxvisor.lockbench_seconds=0.1 vmxvisor.lockbench_rounds=2 ' .
                'vmxvisor.lockbench_at=1';
my %setups = (
    'alone' => [$linux =~ s/vmxvisor\.check$/vmxvisor.check $lockbench/mr, [linux_guest()]],
    'next to a test guest' => ["$linux\n$neighbour", [linux_guest(), 'mem_touch']],
);
for my $setup (sort keys %setups) {
    my ($config, $images) = @{$setups{$setup}};
    my ($status, $out) = run_vms($config, $images, '--pcpus', '2', '--mem', '512',
                                 '--timeout', '1200', '--append', 'console_timestamps');
    is($status, 0, "$setup: hypervisor exit status 0") or diag($out);
    like($out, qr/^\[linux \+[\d.]+\] init: 2 CPUs, online 0-1$/m, "$setup: Linux sees 2 CPUs");
    my ($host_begin, $guest_begin) =
        $out =~ /^\[linux \+([\d.]+)\] init: sleep 1 begins at uptime ([\d.]+)$/m;
    my ($host_end, $guest_end) =
        $out =~ /^\[linux \+([\d.]+)\] init: sleep 1 ended at uptime ([\d.]+)$/m;
    ok(defined $host_end, "$setup: sleep 1 ran") or diag($out);
    if (defined $host_end) {
        # Emulated time as the hypervisor counts it (TSC since the VM was
        # made) and as Linux does: both about one second.
        my ($host, $guest) = ($host_end - $host_begin, $guest_end - $guest_begin);
        ok($host >= 0.95 && $host < 1.5, "$setup: sleep 1 took ${host} s of emulated time");
        ok($guest >= 0.95 && $guest < 1.2, "$setup: Linux counted ${guest} s");
    }
    like($out, qr/^\[linux \+[\d.]+\] init: VMXVISOR-LINUX-INIT-DONE at uptime [\d.]+$/m, "$setup: init marker");
    is_deeply([vm_result($out, 'linux')], ['ACPI power off', 0], "$setup: powered off via ACPI");
    my @warnings = lines_matching($out, qr/^\[linux [^]]*\] .*(WARNING|BUG|Oops|unchecked MSR|panic)/);
    is(scalar @warnings, 0, "$setup: no kernel warnings") or diag(join("\n", @warnings));
    if ($setup eq 'alone') {
        for my $workload (qw(mutex pipe tlb ticket kmutex rusage)) {
            like($out, qr/^\[linux \+[\d.]+\] lockbench: $workload [1-9]\d* ops\/s \(2 threads, rounds \d+ \d+\)$/m,
                 "lockbench: $workload, its median of 2 rounds");
        }
        my ($late) = $out =~ /^\[linux \+[\d.]+\] lockbench: timetable: a round every 0\.125 s from uptime [\d.]+, the latest ([\d.]+) s late$/m;
        ok(defined $late && $late < 0.1, 'lockbench: its rounds kept to the timetable' .
           (defined $late ? " (the latest $late s late)" : '')) or diag($out);
        like($out, qr/^\[linux \+[\d.]+\] init: lockbench exit status 0$/m, 'lockbench: exit status 0');
    }
    if ($setup ne 'alone') {
        like($out, qr/^\[other [^]]*\] mem_touch: 24 first touches, 0 bad page\(s\)$/m,
             "$setup: the other VM worked");
        is_deeply([vm_result($out, 'other')], ['exit hypercall', 0], "$setup: and ended normally");
    }
}
done_testing();
