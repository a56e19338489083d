#!/usr/bin/perl
# A VM's life from the monitor and from the guest (guests/reboot_probe.c,
# which counts its boots in a CMOS NVRAM byte that resets keep): `stop`
# takes a VM off the CPUs (its run time stands still while another VM's
# goes on), `cont` resumes it, `reset` boots it again (a new VMLAUNCH); a
# guest's reset through 0xcf9 or a triple fault boots it again with
# on_reboot = reset, and ends it with on_reboot = stop; a guest that resets
# for ever keeps resetting and can be stopped.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my $config = <<'CFG';
[vm a]
image = reboot_probe.elf
memory = 4M
cmdline = 200
affinity = 0

[vm b]
image = reboot_probe.elf
memory = 4M
cmdline = 200
affinity = 1

[vm rs]
image = reboot_probe.elf
memory = 4M
cmdline = 10 cf9

[vm st]
image = reboot_probe.elf
memory = 4M
cmdline = 10 cf9
on_reboot = stop

[vm tf]
image = reboot_probe.elf
memory = 4M
cmdline = 10 triple
CFG

my $exec = 'stop a; info vms; info vcpus; stop a; info vcpus; cont a; cont a; info vms; '
         . 'reset a; info vms; info vcpus; reset nosuch; stop; reset st; cont st';
my ($status, $out) = run_vms($config, [qw(reboot_probe)], '--pcpus', '2', '--exec', $exec);
is($status, 0, 'hypervisor exit status 0') or diag($out);

# info vcpus rows of a VM's vCPU 0, in order: [state, run cycles, launches]
sub vcpu_rows {
    my ($vm) = @_;
    return map { [ (split ' ')[3, 5, 11] ] } lines_matching($out, qr/^\Q$vm\E\s+0\s+\d+\s+[a-z-]+\s+\d+\s+\d+\s+\d+/);
}
sub vms_row {
    my ($n, $vm) = @_;
    my @rows = lines_matching($out, qr/^\Q$vm\E\s+\d+\s+\d+ MiB /);
    return $rows[$n] // '';
}

# stop and cont
like($out, qr/^vm a: stopped$/m, 'stop a');
like(vms_row(0, 'a'), qr/ stopped\s+0 /, 'info vms: a stopped');
like(vms_row(0, 'b'), qr/ running\s+0 /, 'info vms: b running');
my @a = vcpu_rows('a');
my @b = vcpu_rows('b');
is(scalar(@a), 3, 'three info vcpus rows for a') or diag($out);
is($a[0][0], 'stopped', 'info vcpus: a stopped');
is($a[1][1], $a[0][1], "a's run time stands still while stopped");
cmp_ok($b[1][1], '>', $b[0][1], "b's run time goes on meanwhile");
like($out, qr/^stop: vm a is already stopped$/m, 'a second stop is refused');
like($out, qr/^vm a: running$/m, 'cont a');
like($out, qr/^cont: vm a is not stopped$/m, 'a second cont is refused');
like(vms_row(1, 'a'), qr/ running\s+0 /, 'info vms: a running again');

# reset from the monitor
like($out, qr/^vm a: reset #1 \(monitor\)$/m, 'reset a');
like($out, qr/^vm a: reset done$/m, 'reset a: done');
is(scalar(lines_matching($out, qr/^\[a\] reboot_probe: boot 1$/)), 1, 'a booted once before the reset');
is(scalar(lines_matching($out, qr/^\[a\] reboot_probe: boot 2$/)), 1, 'and again after it (NVRAM kept)');
like(vms_row(2, 'a'), qr/ running\s+1 /, 'info vms: one reset');
cmp_ok($a[2][2], '>', $a[0][2], 'a new VMLAUNCH after the reset');
is_deeply([vm_result($out, 'a')], ['exit hypercall', 0], 'a: the second boot finished');
is_deeply([vm_result($out, 'b')], ['exit hypercall', 0], 'b: finished, never reset');
unlike($out, qr/^\[b\] reboot_probe: boot 2$/m, 'b booted once');

# errors
like($out, qr/^reset: no VM named 'nosuch'$/m, 'unknown VM');
like($out, qr/^stop: which VM\? \(usage: stop VM\)$/m, 'no VM named');
like($out, qr/^reset: vm st has ended$/m, 'an ended VM is not reset');
like($out, qr/^cont: vm st has ended$/m, 'nor continued');

# the guest's resets
like($out, qr/^\[rs\] reboot_probe: resetting through 0xcf9$/m, 'rs: wrote 0xcf9');
like($out, qr/^vm rs: reset #1 \(guest reset via 0xcf9\)$/m, 'rs: reset (on_reboot = reset)');
like($out, qr/^\[rs\] reboot_probe: done after 2 boot\(s\)$/m, 'rs: booted again and finished');
is_deeply([vm_result($out, 'rs')], ['exit hypercall', 0], 'rs: ended normally');
is_deeply([vm_result($out, 'st')], ['guest reset via 0xcf9', 0], 'st: ended by the reset (on_reboot = stop)');
unlike($out, qr/^\[st\] reboot_probe: boot 2$/m, 'st: did not boot again');
like($out, qr/^vm tf: vcpu 0: triple fault; resetting the VM$/m, 'tf: triple fault reported');
like($out, qr/^vm tf: reset #1 \(triple fault\)$/m, 'tf: reset');
like($out, qr/^\[tf\] reboot_probe: done after 2 boot\(s\)$/m, 'tf: booted again and finished');
is_deeply([vm_result($out, 'tf')], ['exit hypercall', 0], 'tf: ended normally');
unlike($out, qr/FAIL/, 'no guest failures');

# A guest that resets for ever (the crasher triple-faults at once, every
# boot): it keeps resetting, the console is spared most of it, and the
# monitor can still stop it.
($status, $out) = run_vms("[vm loop]\nimage = crasher.elf\nmemory = 4M\n", [qw(crasher)],
                          '--exec', join('; ', ('info vms') x 16, 'stop loop', 'info vms',
                                               'info vms', 'quit'));
is($status, 0, 'reset loop: hypervisor exit status 0') or diag($out);
like($out, qr/^vm loop: reset #8 \(triple fault\); further resets shown at powers of two$/m,
     'reset loop: the first resets shown');
unlike($out, qr/^vm loop: reset #9 /m, 'then fewer');
like($out, qr/^vm loop: stopped$/m, 'reset loop: stopped');
my @loop = map { /\s(\d+) crasher\.elf/ ? $1 : -1 } lines_matching($out, qr/^loop\s+\d+\s+\d+ MiB /);
is(scalar(@loop), 18, 'eighteen info vms rows') or diag($out);
cmp_ok($loop[15], '>', $loop[0], 'it keeps resetting');
like((lines_matching($out, qr/^loop\s+\d+\s+\d+ MiB /))[16] // '', qr/ stopped /, 'info vms: stopped');
is($loop[17], $loop[16], 'no more resets once stopped');
done_testing();
