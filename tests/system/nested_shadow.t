#!/usr/bin/perl
# VMCS shadowing with vmxvisor as its own L1 (nested/shadow_vmcs.h): L2
# (exit_bench) times 2000 CPUIDs, each handled by L1's exit handler, which
# reads the exit reason, instruction length and RIP and writes RIP. With
# shadowing those VMREADs and VMWRITEs reach the hardware shadow VMCS and
# L0's exit table (info exits at the end of the run) has none of them but
# L1's start-up; without (shadow_vmcs = off) each is an exit to L0. With
# vmcs02 as L1's shadow VMCS (vmcs02_shadow, on by default on bare Bochs)
# the same, vmcs02 launched anew after each (nested/vmcs02_as_shadow.h);
# `separate` is a shadow VMCS apart from vmcs02. Three levels: below.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my $config = "[vm exits]\nimage = exit_bench.elf\nmemory = 16M\ncmdline = cpuid_exit\n";

# An outer exit-table row: (count, from L2, to L1), zeros when absent.
sub outer_row {
    my ($out, $reason) = @_;
    my ($count, $from, $to) = $out =~ /^outer:   \Q$reason\E\s+(\d+)\s+(?:\d+|-)\s+(\d+)\s+(\d+)$/m;
    return ($count // 0, $from // 0, $to // 0);
}

my %vmread;
for my $shadow (qw(on separate off vmcs02)) {
    local $ENV{VMXVISOR_SHADOW_VMCS} = $shadow;
    my ($status, $out) = run_vms_in_vmxvisor($config, ['exit_bench']);
    is($status, 0, "shadow_vmcs = $shadow: the inner vmxvisor exits with status 0") or diag($out);
    like($out, qr/^\[exits\] BENCH cpuid_exit \d+ ticks$/m, "shadow_vmcs = $shadow: L2 ran its loop");
    ($vmread{$shadow}) = outer_row($out, 'VMREAD');
    my ($cpuid) = outer_row($out, 'CPUID');
    ok($cpuid >= 2000, "shadow_vmcs = $shadow: L0 saw L2's 2000 CPUIDs ($cpuid)");
    # vmcs02 cleared as L1's shadow VMCS at each exit: the entries launch it.
    my ($launches) = $out =~ /^outer:   vcpu 0: .*, VMLAUNCH (\d+), VMRESUME \d+/m;
    if ($shadow eq 'vmcs02' || $shadow eq 'on') {
        cmp_ok($launches // 0, '>=', 2000, "shadow_vmcs = $shadow, vmcs02 as the shadow VMCS: each nested entry launches vmcs02 ($launches)");
    } else {
        cmp_ok($launches // 99, '<', 10, "shadow_vmcs = $shadow: vmcs02 launched once, then resumed ($launches)");
    }
}
cmp_ok($vmread{off}, '>=', 2000 * 3, 'without shadowing, L1\'s VMREADs exit to L0 (3 or more per L2 exit)');
cmp_ok($vmread{separate}, '<', 100, "with a shadow VMCS apart, L1's VMREADs of the shadowed fields do not exit ($vmread{separate} left)");
cmp_ok($vmread{on}, '<', 100, "with the default shadowing, neither do they ($vmread{on} left)");
cmp_ok($vmread{vmcs02}, '<', 100, "with vmcs02 as the shadow VMCS, neither do those it holds ($vmread{vmcs02} left)");

# Three levels: the middle vmxvisor gives the innermost one VMCS shadowing
# too. With shadowing in L0, the innermost one's VMREADs of the fields L0
# shadows run on L0's shadow VMCS for L2 (nested/shadow_vmcs02.h) and
# reach no level; without, L0 serves them from the middle one's shadow VMCS
# by emulation (exits from L2 that never go to L1).
for my $shadow (qw(on off)) {
    local $ENV{VMXVISOR_LEVELS} = 2;
    local $ENV{VMXVISOR_SHADOW_VMCS} = "$shadow,on";    # L0's, the middle one's
    my ($status, $out) = run_vms_in_vmxvisor($config, ['exit_bench']);
    is($status, 0, "three levels, L0's shadow_vmcs = $shadow: the innermost vmxvisor exits with status 0")
        or diag($out);
    like($out, qr/^\[exits\] BENCH cpuid_exit \d+ ticks$/m, "three levels, L0's shadow_vmcs = $shadow: L3 ran its loop");
    my ($count, $from_l2, $to_l1) = outer_row($out, 'VMREAD');
    if ($shadow eq 'on') {
        cmp_ok($from_l2, '<', 100, "three levels, shadowed: L2's VMREADs do not reach L0 ($from_l2 did)");
        # The middle vmxvisor loads its guest's host state at each of its
        # nested exits, some 45 fields outside the static lists: L0 learns
        # to shadow them (nested/shadow_promote.h), 61 VMWRITE exits per L3
        # CPUID before.
        my ($vmwrites) = outer_row($out, 'VMWRITE');
        cmp_ok($vmwrites, '<', 3 * 2000,
               "three levels, shadowed: L1's VMWRITEs mostly do not exit ($vmwrites for 2000 L3 CPUIDs)");
    } else {
        cmp_ok($from_l2, '>=', 2000, "three levels, emulated: L2's VMREADs reach L0 ($from_l2)");
        # (but for the innermost one's start-up probe of whether the CPU keeps
        # every access-rights bit, a field outside the shadow lists:
        # nested/shadow_vmcs.c)
        cmp_ok($to_l1, '<=', 1, "three levels, emulated: L0 serves them from L1's shadow VMCS ($to_l1 to L1)");
    }
}
done_testing();
