package VmxRun;
# Boots the hypervisor in Bochs through tools/vmxrun in batch mode and
# returns what the hypervisor printed and its exit status.
use strict;
use warnings;
use Exporter 'import';
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use File::Temp ();
use IO::Select;

our @EXPORT = qw(vmxrun run_vms run_vms_in_vmxvisor linux_guest expected_capability_line lines_matching vm_result
                 vmx_probe_verdicts);

my $root = abs_path(dirname(__FILE__) . '/../../..');

# vmxrun(@options) -> ($status, $output). Each run keeps its own Bochs log,
# so tests running in parallel do not overwrite each other's.
# VMXVISOR_SEED=N in the environment runs with vmxrun --seed N (the seed of
# Bochs' RDRAND; vmxrun's default otherwise) unless the options name one.
sub vmxrun {
    my $log_dir = File::Temp::tempdir(CLEANUP => 1);
    my @seed = defined $ENV{VMXVISOR_SEED} && !grep({ $_ eq '--seed' } @_)
             ? ('--seed', $ENV{VMXVISOR_SEED}) : ();
    my @args = ("$root/tools/vmxrun", '--batch', '--timeout', '300',
                '--bochs-log', "$log_dir/bochs.log", @seed, @_);
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open(STDERR, '>&', \*STDOUT) or die;
        open(STDIN, '<', '/dev/null') or die;
        exec(@args) or die "exec $args[0]: $!";
    }
    # A long run says every minute that it goes on (on stderr, which prove
    # shows), so that a suite of Linux boots does not look hung.
    my ($out, $started, $said) = ('', time, time);
    my $select = IO::Select->new($fh);
    for (;;) {
        if ($select->can_read(10)) {
            last unless sysread($fh, my $chunk, 65536);
            $out .= $chunk;
        }
        if (time - $said >= 60) {
            $said = time;
            my $test = (split m{/}, $0)[-1];
            printf STDERR "# %s: Bochs running for %d min\n", $test, ($said - $started) / 60;
        }
    }
    close($fh);
    my $status = $? >> 8;
    return ($status, $out);
}

# run_vms($config_text, [guest names], @options) -> ($status, $output):
# boots with the configuration and the guests (build/guests/NAME.elf, a
# path relative to build/ when the name has a '/', or an absolute path) as
# modules; batch mode ends when every VM has ended.
# VMXVISOR_APICV=on|off sets apicv in every VM's section (tests/system/apicv.t
# runs other tests so).
sub run_vms {
    my ($config, $guests, @options) = @_;
    if ($ENV{VMXVISOR_APICV}) {
        $config =~ s/^(\[vm [^\]]+\]\n)/$1apicv = $ENV{VMXVISOR_APICV}\n/mg;
        print STDERR "# VMXVISOR_APICV=$ENV{VMXVISOR_APICV}: apicv = $ENV{VMXVISOR_APICV} in every VM\n";
    }
    return run_vms_in_vmxvisor($config, $guests, @options) if $ENV{VMXVISOR_AS_L1};
    my $dir = File::Temp::tempdir(CLEANUP => 1);
    open(my $fh, '>', "$dir/vms.cfg") or die $!;
    print $fh $config;
    close($fh);
    my @images = map { m{^/} ? $_ : m{/} ? "$root/build/$_" : "$root/build/guests/$_.elf" }
                 @$guests;
    return vmxrun('--config', "$dir/vms.cfg", @options, @images);
}

# run_vms_in_vmxvisor($config, [guest names], @options) -> ($status, $output):
# the same VMs one level down: vmxvisor boots itself as its only VM ("l1",
# nested VMX, as many vCPUs as --pcpus asks, 1 otherwise), and that vmxvisor
# runs them with $config (module inner.cfg, config= on its command line) in
# batch mode, ending with exit=qemu. The output is the inner vmxvisor's
# console with the outer "[l1] " prefix taken off, so that a test's patterns
# match as at one level; the status is the inner vmxvisor's exit status.
# The outer lines stay in the output too, prefixed "outer: ".
# VMXVISOR_AS_L1=1 in the environment makes run_vms do this for any test;
# VMXVISOR_LEVELS=N (default 1) puts N vmxvisors between Bochs and the VMs;
# VMXVISOR_SHADOW_VMCS=off gives them no VMCS shadowing (shadow_vmcs = off),
# =vmcs02 vmcs02 as L1's shadow VMCS (vmcs02_shadow = on), =separate a
# shadow VMCS apart from vmcs02 whatever the default (vmcs02_shadow = off);
# a list (off,on) says it per level, from the outermost, the last for the
# rest.
sub run_vms_in_vmxvisor {
    my ($config, $guests, @options) = @_;
    my $levels = $ENV{VMXVISOR_LEVELS} // 1;
    my $l1_memory = $ENV{VMXVISOR_L1_MEMORY_MB} // 384;
    my @shadow = split /,/, $ENV{VMXVISOR_SHADOW_VMCS} // 'on';
    # --append is for the vmxvisor that runs the VMs, the innermost; the
    # machine gets room for L1's memory besides L0's own.
    my (@outer, $append, $machine_mb);
    while (@options) {
        my $o = shift @options;
        if ($o eq '--append') { $append = shift @options; }
        elsif ($o eq '--mem') { $machine_mb = shift @options; }
        else { push @outer, $o; }
    }
    $machine_mb = $l1_memory + 128 if !$machine_mb || $machine_mb < $l1_memory + 128;
    push @outer, '--mem', $machine_mb;
    my %opt = @outer;
    my $vcpus = $opt{'--pcpus'} // 1;
    my $dir = File::Temp::tempdir(CLEANUP => 1);
    my @images = map { m{^/} ? $_ : m{/} ? "$root/build/$_" : "$root/build/guests/$_.elf" }
                 @$guests;
    my @names = map { (split m{/})[-1] } @images;
    # Level k's configuration runs level k+1's vmxvisor as VM "l(k+1)";
    # each gets half of the memory of the one above it.
    my $inner = $config;
    my @cfgs;
    for my $level (reverse 1 .. $levels) {
        my $name = "l$level.cfg";
        open(my $fh, '>', "$dir/$name") or die $!;
        print $fh $inner;
        close($fh);
        unshift @cfgs, "$dir/$name";
        my $memory = $l1_memory >> ($level - 1);
        my $modules = join(' ', $name, map({ (split m{/})[-1] } @cfgs[1 .. $#cfgs]),
                           $level < $levels ? 'vmxvisor.elf' : (), @names);
        my $words = $level == $levels && $append ? " $append" : '';
        my $shadow = $shadow[$level - 1] // $shadow[-1];
        my %shadowing = (vmcs02 => "shadow_vmcs = on\nvmcs02_shadow = on\n",
                         separate => "shadow_vmcs = on\nvmcs02_shadow = off\n");
        my $shadowing = $shadowing{$shadow} // "shadow_vmcs = $shadow\n";
        $inner = "[vm l$level]\nimage = vmxvisor.elf\nmodules = $modules\n"
                 . "cmdline = config=$name batch exit=qemu$words\nmemory = ${memory}M\n"
                 . "vcpus = $vcpus\nnested = on\n$shadowing";
    }
    open(my $fh, '>', "$dir/l0.cfg") or die $!;
    print $fh $inner;
    close($fh);
    my ($status, $out) = vmxrun('--config', "$dir/l0.cfg", @outer, "$root/build/vmxvisor.elf",
                                @cfgs, @images);
    my $prefix = join(' ', map { "[l$_]" } 1 .. $levels) . ' ';
    my $result = '';
    for my $line (split /\n/, $out) {
        $result .= $line =~ s/^\Q$prefix\E// ? "$line\n" : "outer: $line\n";
    }
    my ($inner_status) = $result =~ /^vmxvisor: exit status (-?\d+)$/m;
    return ($inner_status // -1, $result);
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
