#!/usr/bin/perl
# The monitor's dirty_rate (virt/dirty_log.h): a guest that writes a known
# number of distinct pages per second (guests/dirty_writer.c, 500 pages/s
# for 6 s) is measured for two periods of 1 s, by PML where the CPU has it
# (Bochs' tigerlake) and by write protection where it has not
# (corei7_haswell_4770); each period's rate must be within 10% of the
# guest's. Bad arguments get a clear answer, and a second measurement is
# refused while one runs.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my $rate = 500;
my $config = "[vm w]\nimage = dirty_writer.elf\nmemory = 32M\ncmdline = $rate 6\n";
# The bad arguments first, while the guest maps its pages and starts; the
# batch run ends with the guest, after 6 s.
my $exec = join('; ', 'dirty_rate nosuch 1', 'dirty_rate w 99', 'dirty_rate w 1 0', 'dirty_rate',
                ('info vms') x 3, 'dirty_rate w 1 2', 'dirty_rate w 2', 'info dirty_rate w');
my %mechanism = (tigerlake => 'PML', corei7_haswell_4770 => 'write protection');
for my $model (sort keys %mechanism) {
    my $how = $mechanism{$model};
    my ($status, $out) = run_vms($config, ['dirty_writer'], '--pcpus', '2', '--cpu-model', $model,
                                 '--exec', $exec);
    is($status, 0, "$model: exit status 0") or diag($out);
    like($out, qr/^vm w: measuring the dirty-page rate for 1 s per period \(\Q$how\E\)$/m,
         "$model: measured by $how");
    for my $period (1, 2) {
        # (printed when the period ends, perhaps amid the echo of a command being typed)
        my ($measured) = $out =~ /vm w: dirty rate (\d+) pages\/s, [\d.]+ MiB\/s \(\d+ pages written in \d+ ms, \Q$how\E, period $period of 2\)$/m;
        ok(defined $measured && abs($measured - $rate) <= $rate / 10,
           "$model: period $period: dirty rate within 10% of $rate pages/s (" . ($measured // 'none') . ')')
            or diag($out);
    }
    like($out, qr/^dirty_rate: vm w: a measurement is under way$/m, "$model: one at a time");
    like($out, qr/^vm w: measuring the dirty-page rate, period [12] of 2$/m,
         "$model: info dirty_rate meanwhile");
    like($out, qr/^dirty_rate: no running VM named 'nosuch'$/m, "$model: unknown VM");
    like($out, qr/^dirty_rate: '99' is not a number of seconds from 1 to 60$/m, "$model: bad period");
    like($out, qr/^dirty_rate: '0' is not a number of periods from 1 to 60$/m, "$model: bad periods");
    like($out, qr/^dirty_rate: which VM\? \(usage: dirty_rate VM \[SECONDS \[PERIODS\]\]\)$/m,
         "$model: usage");
    is_deeply([vm_result($out, 'w')], ['exit hypercall', 0], "$model: the guest ran to its end");
}
done_testing();
