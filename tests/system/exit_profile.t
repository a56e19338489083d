#!/usr/bin/perl
# bench/run --profile: one exit traced by Bochs and attributed to levels and
# functions (tools/vmxrun --trace, tools/exit-profile). The profile must
# account for the round trip the benchmark measures, at the right levels,
# through the handlers that serve it.
use strict;
use warnings;
use FindBin;
use Test::More;

my $root = "$FindBin::Bin/../..";

# profile(NAME) -> (exit status, the figure, total, {level => ticks}, {"level function" => ticks})
sub profile {
    my ($name) = @_;
    my $out = `'$root/bench/run' --profile $name 2>&1`;
    my $status = $? >> 8;
    my ($figure) = $out =~ /^BENCH \Q$name\E (\d+) ticks/m;
    my ($total) = $out =~ /^exit-profile: (\d+) instructions/m;
    my ($levels) = $out =~ /^level +ticks +share\n(.*?)\n\n/ms;
    my ($functions) = $out =~ /^ +ticks +level +function\n(.*?)\n\n/ms;
    my %level = ($levels // '') =~ /^(\S+) +(\d+) /mg;
    my %function;
    $function{"$2 $3"} = $1 while ($functions // '') =~ /^ *(\d+) +(\S+) +(\S+)$/mg;
    diag($out) unless $status == 0 && $total;
    return ($status, $figure, $total, \%level, \%function);
}

my ($status, $figure, $total, $level, $function) = profile('cpuid_exit');
is($status, 0, 'cpuid_exit: profiled');
is_deeply([sort keys %$level], ['L0', 'guest'], 'cpuid_exit: L0 and the guest, no other level');
ok($function->{'L0 handle_cpuid'}, 'cpuid_exit: L0 handles the CPUID');
my $sum = 0;
$sum += $_ for values %$level;
is($sum, $total, 'cpuid_exit: the levels add up to the total');
# The figure is the median of the loop's round trips (RDTSC to RDTSC), the
# trace one exit between the marks: a few of the guest's own instructions
# differ.
ok(abs($total - $figure) <= 10, "cpuid_exit: the trace ($total) is the round trip ($figure)");

($status, $figure, $total, $level, $function) = profile('nested_cpuid_exit_vmxvisor');
is($status, 0, 'nested_cpuid_exit_vmxvisor: profiled');
is_deeply([sort keys %$level], ['L0', 'L1', 'guest'], 'nested: L0, L1 and the guest');
ok($function->{'L1 handle_cpuid'}, 'nested: L1 handles the CPUID');
ok(!$function->{'L0 handle_cpuid'}, 'nested: L0 does not');
ok($function->{'L0 nested_vm_exit'} && $function->{'L0 nested_vm_entry'},
   "nested: L0 reflects the exit and emulates L1's VMRESUME");
ok(abs($total - $figure) <= 0.02 * $figure, "nested: the trace ($total) is the round trip ($figure)");

my $out = `'$root/bench/run' --profile spinlock_under 2>&1`;
is($? >> 8, 2, 'a figure without a traceable exit is refused');
like($out, qr/--profile takes one of .*cpuid_exit/, '... naming those it takes');

done_testing();
