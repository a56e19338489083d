#!/usr/bin/perl
# Nested VMX under migration: the VMX probe in soak mode (guests/vmx_probe.c,
# `soak SECONDS`: L2 loops on CPUID and on I/O that L0 handles for it, L1
# handles every CPUID exit and checks L2's registers) as a VM with
# `nested = on` on 2 CPUs, while the monitor's `affinity` moves it between
# CPU 0 and CPU 1 again and again, mostly while it runs L2; beside it a
# plain VM (spin_share) that must finish as usual. The soak must end with 0
# errors, `info vcpus` must have shown the vCPU in L2 and on both CPUs, and
# its migrations counter must show the moves.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my $seconds = 10;
my $config = "[vm l1]\nimage = vmx_probe.elf\nmemory = 32M\nnested = on\non_reboot = stop\n"
           . "cmdline = soak $seconds\n"
           . "[vm other]\nimage = spin_share.elf\nmemory = 4M\ncmdline = 200\n";
my $moves = 6;
# `info vcpus` three times after each move: one look finds the vCPU in L2
# or in L1's handling of its exits, about half the time each, and on a
# loaded host the commands come close together in emulated time, the first
# right after the move. `info nested` four times: the soak's L1 reads L2's
# shadow VMCS back at every exit (VMPTRLD of it, VMREAD, VMCLEAR, VMPTRLD of
# L2's VMCS), so one look may find no current VMCS; the checks below need
# one that does not.
my @looks = ('info vcpus') x 3;
my $exec = join '; ', (map { ('affinity l1 1', @looks, 'affinity l1 0', @looks) } 1 .. $moves),
                     map { ('info nested l1', 'info vcpus') } 1 .. 4;
my ($status, $out) = run_vms($config, ['vmx_probe', 'spin_share'], '--pcpus', '2', '--exec', $exec);
is($status, 0, 'hypervisor exit status 0') or diag($out);

my ($exits, $errors) = $out =~ /^\[l1\] vmx_probe: soak: done, (\d+) L2 exits, (\d+) errors$/m;
is($errors, 0, 'the soak ended with 0 errors (' . ($exits // '?') . ' L2 exits)')
    or diag(join "\n", lines_matching($out, qr/soak|l1/));
my @ticks = lines_matching($out, qr/^\[l1\] vmx_probe: soak: \d+ L2 exits, ok$/);
ok(@ticks >= $seconds - 1, scalar(@ticks) . ' progress lines, one per emulated second');
is_deeply([vm_result($out, 'l1')], ['exit hypercall', 0], 'the L1 VM ended normally');

is(scalar(() = $out =~ /^vm l1: affinity [01]$/mg), 2 * $moves, 'every affinity change accepted');
# info vcpus rows: VM, vCPU, CPU, state, ... and " (in L2)" while L2 runs.
my @rows = map { [/^l1\s+0\s+(\d+)\s+(\S+)/, /\(in L2\)$/ ? 1 : 0] }
           lines_matching($out, qr/^l1\s+0\s+\d+\s/);
ok((grep { $_->[2] } @rows), 'info vcpus showed the vCPU in L2 (' .
   scalar(grep { $_->[2] } @rows) . ' of ' . scalar(@rows) . ' rows)');
for my $cpu (0, 1) {
    ok((grep { $_->[0] == $cpu && $_->[2] } @rows), "info vcpus showed the vCPU in L2 on CPU $cpu")
        or diag(join "\n", lines_matching($out, qr/^l1\s+0\s/));
}
my ($report) = $out =~ /^vm l1: exits per reason:\n(.*?)^vm l1: ended/ms;
my ($migrations) = ($report // '') =~ /^  vcpu 0: .*migrations (\d+),/m;
ok(defined $migrations && $migrations >= $moves,
   'the vCPU migrated at least ' . $moves . ' times (' . ($migrations // '?') . ')');
my ($from_l2) = ($report // '') =~ /^  CPUID\s+\d+\s+(?:\d+|-)\s+(\d+)\s+\d+$/m;
ok(defined $from_l2 && $from_l2 >= $exits, 'L0 saw the L2 CPUID exits it reflected to L1');

# info nested: the L1's VMX operation and its current vmcs12, decoded.
like($out, qr/^vcpu 0: VMX operation, VMXON region 0x[0-9a-f]+, running L[12]$/m,
     'info nested shows the vCPU in VMX operation');
like($out, qr/^  VMCS shadowing: vmcs01 links (?:a shadow VMCS|vmcs02 as its shadow VMCS); \d+ field\(s\) learnt/m,
     'info nested shows the VMCS shadowing in use');
# The soak's L1 writes no control between its entries: after the first
# entries, none checks the controls or the guest state in full again.
my ($entries, $full_controls, $full_guest, $msr_merges) =
    $out =~ /^  VMLAUNCH\/VMRESUME (\d+) in all; since VMXON the entry checked in full the controls and host state (\d+), the guest state (\d+) times, alone the event windows \d+, an event to inject \d+ times, wrote vmcs02's entry state \d+ times, merged L1's MSR bitmap (\d+) times$/m;
ok(defined $entries && $full_controls < $entries / 100 && $full_guest < $entries / 100,
   'info nested: few entries check everything (' . join('/', map { $_ // '?' } $full_controls, $full_guest, $entries) . ')');
# Nor does it write its MSR bitmap: watched for writes (virt/write_watch.h),
# the bitmap is merged into vmcs02's again only after one.
ok(defined $msr_merges && $msr_merges < $entries / 100,
   'info nested: few entries merge the MSR bitmap (' . join('/', map { $_ // '?' } $msr_merges, $entries) . ')');
# The soak's L1 switches between L2's VMCS and L2's shadow VMCS with
# VMPTRLD: L2's VMCS comes back from the cache with its shadow VMCS parked,
# which is relinked without loading its fields. The shadow VMCS, named as
# the link pointer at each entry, goes back to L1's memory, where L2 writes
# it: its VMPTRLD compares the region with L0's copy and loads the fields
# L2 changed, not every field.
my ($attaches, $loads) = $out =~ /^  L1's shadow VMCSs: linked at (\d+) VMPTRLDs, (\d+) of them loading every field /m;
ok(defined $attaches && $attaches > 100 && $loads < 0.05 * $attaches,
   'info nested: VMPTRLDs relink parked shadow VMCSs (' . join('/', map { $_ // '?' } $loads, $attaches) . ' loaded)');
my ($compared) = $out =~ /^  L1's VMCSs L0 wrote back: (\d+) VMPTRLDs compared one's region with L0's copy, \d+ of them finding it unchanged$/m;
ok(defined $compared && defined $attaches && $compared > 0.4 * $attaches,
   'info nested: VMPTRLDs of the shadow VMCS compare its region with a copy (' . join('/', map { $_ // '?' } $compared, $attaches) . ')');
like($out, qr/^\[l1\] vmx_probe: soak: L2 with VMCS shadowing$/m,
     'the soak\'s L2 writes its shadow VMCS, which L1 reads back at each exit');
like($out, qr/^  L2's shadow VMCS: (?:holds none|holds L1's at 0x[0-9a-f]+), (?:not linked|linked from vmcs02)$/m,
     'info nested shows L2\'s shadow VMCS');
like($out, qr/^  current vmcs12 0x[0-9a-f]+, launch state launched, VM-instruction error \d+$/m,
     'info nested shows the current vmcs12 launched');
like($out, qr/^  VM-exit controls 0x[0-9a-f]{8}:.*\[host address-space size\]/m,
     'info nested decodes the controls');
like($out, qr/^  last exit to L1: reason 10 \(CPUID\), qualification 0x0$/m,
     'info nested shows the last exit to L1');

like($out, qr/^\[other\] spin_share: vcpu 0 iterations \d+$/m, 'the other VM computed');
is_deeply([vm_result($out, 'other')], ['exit hypercall', 0], 'the other VM ended normally');
done_testing();
