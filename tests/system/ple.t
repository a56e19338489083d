#!/usr/bin/perl
# PAUSE-loop exiting (guests/spinlock.c: vCPUs contending on a ticket
# spinlock, waiting with PAUSE):
#   - 4 vCPUs on 2 CPUs with KVM's defaults: PLE exits happen, the window
#     grows on them and is reset when the vCPU is scheduled in again,
#     directed yields boost other vCPUs;
#   - a window larger than any wait: no PLE exits;
#   - a fixed window (grow 1) never changes;
#   - a VM whose vCPUs have CPUs of their own gets PLE off by default and sees
#     no PLE exits, while an overcommitted VM beside it has it on;
#   - mutual exclusion holds and every vCPU gets the lock in each setup.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

sub vm { my ($name, $vcpus, $extra) = @_;
         "[vm $name]\nimage = spinlock.elf\nvcpus = $vcpus\nmemory = 8M\ncmdline = 10 100\n$extra" }

# PLE counters per vCPU from the end-of-VM lines: [exits, min, max, grew, shrank, yields, boosted]
sub ple_counters {
    my ($out, $vm) = @_;
    my ($block) = $out =~ /^vm \Q$vm\E: exits per reason:\n(.*?)^vm \Q$vm\E: ended/ms;
    my @rows;
    while (($block // '') =~ /^  vcpu \d+: .*; PLE exits (\d+), window (\d+)-(\d+) \(grew (\d+), shrank (\d+)\), yields (\d+) \(boosted (\d+)\)$/mg) {
        push @rows, [$1, $2, $3, $4, $5, $6, $7];
    }
    return @rows;
}

sub check_spinlock {
    my ($out, $vm, $label) = @_;
    like($out, qr/^\[\Q$vm\E\] spinlock: mutual exclusion held/m, "$label: mutual exclusion held");
    is_deeply([vm_result($out, $vm)], ['exit hypercall', 0], "$label: every vCPU got the lock")
        or diag(join "\n", $out =~ /^(\[\Q$vm\E\] spinlock: .*)$/mg);
}

my ($status, $out) = run_vms(vm('adaptive', 4, "ple = on\n") . vm('wide', 4, "ple = on\nple_window = 2000000000\n") .
                             vm('fixed', 4, "ple = on\nple_grow = 1\nple_shrink = 1\n"),
                             ['spinlock'], '--pcpus', '2');
is($status, 0, 'hypervisor exit status 0') or diag($out);

my @adaptive = ple_counters($out, 'adaptive');
is(scalar(@adaptive), 4, 'adaptive: PLE counters for 4 vCPUs') or diag($out);
my ($exits, $grew, $shrank, $boosted) = (0, 0, 0, 0);
for (@adaptive) { $exits += $_->[0]; $grew += $_->[3]; $shrank += $_->[4]; $boosted += $_->[6]; }
ok($exits > 0, "adaptive: PAUSE loops exit ($exits PLE exits)");
ok($grew > 0 && (grep { $_->[1] == 4096 && $_->[2] > 4096 } @adaptive),
   "adaptive: the window grows from 4096 on PLE exits ($grew times)");
ok($shrank > 0, "adaptive: and is reset when scheduled in again ($shrank times)");
ok($boosted > 0, "adaptive: directed yield boosted preempted vCPUs ($boosted times)");
check_spinlock($out, 'adaptive', 'adaptive');

my @wide = ple_counters($out, 'wide');
is(scalar(@wide), 4, 'wide window: PLE counters for 4 vCPUs');
is((grep { $_->[0] != 0 } @wide), 0, 'wide window: no PAUSE loop runs that long, no PLE exits');
check_spinlock($out, 'wide', 'wide window');

my @fixed = ple_counters($out, 'fixed');
ok((grep { $_->[0] > 0 } @fixed), 'fixed window: PLE exits happen');
is((grep { $_->[1] != 4096 || $_->[2] != 4096 || $_->[3] || $_->[4] } @fixed), 0,
   'fixed window: the window stays at 4096');
check_spinlock($out, 'fixed', 'fixed window');

# Dedicated CPUs: "pinned" has CPUs 0-1 to itself; "crowd" shares CPU 2.
($status, $out) = run_vms(vm('pinned', 2, "affinity = 0-1\n") . vm('crowd', 3, "affinity = 2\n"),
                          ['spinlock'], '--pcpus', '3');
is($status, 0, 'pinned: hypervisor exit status 0') or diag($out);
like($out, qr/^vm pinned: 2 vCPU\(s\), 8 MiB, image spinlock\.elf, PLE off$/m, 'pinned: PLE off by default');
like($out, qr/^vm crowd: 3 vCPU\(s\), 8 MiB, image spinlock\.elf, PLE on$/m, 'crowd: PLE on');
my ($pinned_block) = $out =~ /^vm pinned: exits per reason:\n(.*?)^vm pinned: ended/ms;
unlike($pinned_block // '', qr/^\s+PAUSE\s/m, 'pinned: no PAUSE exits at all');
ok((grep { $_->[0] > 0 } ple_counters($out, 'crowd')), 'crowd: PLE exits');
check_spinlock($out, 'pinned', 'pinned');
check_spinlock($out, 'crowd', 'crowd');
done_testing();
