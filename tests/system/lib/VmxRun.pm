package VmxRun;
# Boots the hypervisor in Bochs through tools/vmxrun in batch mode and
# returns what the hypervisor printed and its exit status.
use strict;
use warnings;
use Exporter 'import';
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use File::Temp ();

our @EXPORT = qw(vmxrun run_vms linux_guest expected_capability_line lines_matching vm_result
                 vmx_probe_verdicts);

my $root = abs_path(dirname(__FILE__) . '/../../..');

# vmxrun(@options) -> ($status, $output). Each run keeps its own Bochs log,
# so tests running in parallel do not overwrite each other's.
sub vmxrun {
    my $log_dir = File::Temp::tempdir(CLEANUP => 1);
    my @args = ("$root/tools/vmxrun", '--batch', '--timeout', '300',
                '--bochs-log', "$log_dir/bochs.log", @_);
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open(STDERR, '>&', \*STDOUT) or die;
        open(STDIN, '<', '/dev/null') or die;
        exec(@args) or die "exec $args[0]: $!";
    }
    local $/;
    my $out = <$fh> // '';
    close($fh);
    my $status = $? >> 8;
    return ($status, $out);
}

# run_vms($config_text, [guest names], @options) -> ($status, $output):
# boots with the configuration and the guests (build/guests/NAME.elf, a
# path relative to build/ when the name has a '/', or an absolute path) as
# modules; batch mode ends when every VM has ended.
sub run_vms {
    my ($config, $guests, @options) = @_;
    my $dir = File::Temp::tempdir(CLEANUP => 1);
    open(my $fh, '>', "$dir/vms.cfg") or die $!;
    print $fh $config;
    close($fh);
    my @images = map { m{^/} ? $_ : m{/} ? "$root/build/$_" : "$root/build/guests/$_.elf" }
                 @$guests;
    return vmxrun('--config', "$dir/vms.cfg", @options, @images);
}

# vm_result($output, $name) -> ($reason, $status) from "vm NAME: ended (REASON), status N"
sub vm_result {
    my ($out, $name) = @_;
    return $out =~ /^vm \Q$name\E: ended \((.*)\), status (-?\d+)$/m;
}

# The Linux guest's modules (tools/linux-guest) for run_vms.
sub linux_guest { return ('linux/vmlinuz', 'linux/initramfs.cpio.gz') }

sub expected_capability_line {
    my ($model) = @_;
    my %lines = (
        tigerlake => 'vmx: rev 4, ept 4lvl 2M 1G A/D, vpid, ple, shadow-vmcs, pml, unrestricted, preempt-timer(rate 0)',
        corei7_haswell_4770 => 'vmx: rev 43, ept 4lvl 2M 1G A/D, vpid, ple, shadow-vmcs, unrestricted, preempt-timer(rate 0)',
    );
    return $lines{$model};
}

# vmx_probe_verdicts($output) -> ([CHECK, OUTCOME, VERDICT], ...): the verdict
# lines of guests/vmx_probe ("vmx_probe: CHECK: OUTCOME: PASS", or "FAIL
# (expected ...)" last), in order, whether it ran bare or as a VM (whose
# lines carry "[vm] "), so that two runs compare check by check.
sub vmx_probe_verdicts {
    my ($out) = @_;
    my @verdicts;
    for (split /\n/, $out) {
        push @verdicts, [$1, $2, $3]
            if /^(?:\[[^\]]*\] )?vmx_probe: (.*?): (.*): (PASS|FAIL \(.*\))$/;
    }
    return @verdicts;
}

sub lines_matching {
    my ($out, $re) = @_;
    return grep { /$re/ } split /\n/, $out;
}

1;
