#!/usr/bin/perl
# Host memory reserved per VM (virt/mem_reserve.h): on a 128 MiB machine a
# 32 MiB VM that touches its memory late, and a 112 MiB VM that writes all of
# its memory. Without overcommit the second does not fit and is refused,
# naming what is free; with `overcommit = on` it is created with what is
# left reserved and stops when it runs past that, while the first, within
# its reservation, ends normally either way. Before reservations, the big
# VM took every free page and the small one stopped ("out of host memory").
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my $vms = <<'CFG';
[vm small]
image = mem_touch.elf
memory = 32M
cmdline = late
[vm hog]
image = mem_touch.elf
memory = 112M
cmdline = fill 104 hold
CFG

# --unchecked-config: the launcher would refuse VMs that cannot all fit.
my ($status, $out) = run_vms($vms, ['mem_touch'], '--mem', '128', '--pcpus', '2',
                             '--exec', 'info memory', '--unchecked-config');
is($status, 5, 'exit status 5: a VM could not be created') or diag($out);
like($out, qr/^vm hog: cannot create: needs \d+ MiB of host memory \(112 MiB of RAM, \d+ MiB for its tables\), and \d+ MiB are free and unreserved; give it less memory, or set overcommit = on in \[global\]$/m,
     'without overcommit the VM that does not fit is refused, saying what is free');
like($out, qr/^\[small\] mem_touch: 2048 first touches, 0 bad page\(s\)$/m, 'the VM that fits works');
is_deeply([vm_result($out, 'small')], ['exit hypercall', 0], 'and ends normally');
like($out, qr/^host: \d+ MiB free, \d+ MiB of it owed to VMs' reservations, \d+ MiB unreserved$/m,
     'info memory: the host');
like($out, qr/^small\s+32\s+32\s+\d+\s+\d+$/m, 'info memory: the VM reserved its 32 MiB');

($status, $out) = run_vms("[global]\novercommit = on\n$vms", ['mem_touch'], '--mem', '128',
                          '--pcpus', '2', '--unchecked-config');
my ($reserved) = $out =~ /^vm hog: overcommitted: (\d+) of its 112 MiB reserved$/m;
ok(defined $reserved, 'with overcommit the big VM is created with part of its memory reserved')
    or diag($out);
like($out, qr/^vm hog: ended \(out of host memory for guest-physical 0x[0-9a-f]+: (\d+) MiB backed, \1 MiB reserved \(overcommit\)\), status -1$/m,
     'it stops when it runs past its reservation');
like($out, qr/^\[small\] mem_touch: 2048 first touches, 0 bad page\(s\)$/m,
     'the VM within its reservation touches its memory after that');
is_deeply([vm_result($out, 'small')], ['exit hypercall', 0], 'and ends normally');
is($status, 6, 'exit status 6: a VM ended without a status of its own') or diag($out);
done_testing();
