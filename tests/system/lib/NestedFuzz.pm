package NestedFuzz;
# The differential vmcs12 fuzzer (guests/vmx_probe.c, `fuzz SEED COUNT`)
# bare on Bochs, whose VMX is the oracle, against the same seed as a VM of
# vmxvisor with nested VMX, case by case. Used by tests/system/nested_fuzz.t
# (few cases) and tests/nested_fuzz_compare (`make fuzz-nested`, many).
#
# Both runs are `verbose`: before its verdict each case shows the VMWRITEs
# of its mutations, whose fields must be the same on both sides (the same
# seed fuzzed the same space; values taken from L1's own state may differ). A case whose verdicts differ is looked up in
# @known below: a deviation of Bochs from the SDM, or a vmxvisor defect,
# each with its SDM section and a predicate on the case's mutations and
# verdicts. A vmxvisor run with `isolated` (VMXOFF and VMXON between cases)
# tells whether a verdict depends on what earlier cases left behind in L0.
use strict;
use warnings;
no warnings "portable";     # 64-bit field values through hex()
use Exporter 'import';
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use VmxRun;

our @EXPORT = qw(fuzz_compare fuzz_known fuzz_explained);

my $root = abs_path(dirname(__FILE__) . '/../../..');

# VMCS field encodings the predicates look at (vmx/vmcs_fields.h).
my %field = (
    VMCS_LINK_POINTER => 0x2800, GUEST_IA32_DEBUGCTL => 0x2802, VM_ENTRY_CONTROLS => 0x4012,
    VM_ENTRY_MSR_LOAD_COUNT => 0x4014, VM_ENTRY_INTR_INFO => 0x4016, GUEST_RIP => 0x681e,
);

sub writes_of {
    my ($case, $name) = @_;
    my $f = $field{$name};
    return map { $_->[1] } grep { $_->[0] == $f } @{ $case->{writes} };
}

# Known differences: who deviates from the SDM, where, and how to recognise
# the case. `who` is 'bochs' (the oracle is wrong: vmxvisor must give the
# SDM's outcome) or 'vmxvisor' (a defect to fix; a TODO test meanwhile).
# `match` gets the case (mutations), the bare verdict, vmxvisor's, and
# vmxvisor's in an isolated run.
my @known = (
    {   id => 'bochs-debugctl-reserved',
        who => 'bochs',
        sdm => 'SDM Vol. 3C 27.3.1.1: with "load debug controls", bits reserved in IA32_DEBUGCTL '
             . 'must be 0 in its guest field (the fuzzer sets bits 2-5 and 63, reserved on every '
             . 'model, Vol. 4 Table 2-2); Bochs 2.7 does not check them and enters L2',
        match => sub {
            my ($c, $bare, $nested) = @_;
            return (grep { hex($_) & ~3 } writes_of($c, 'GUEST_IA32_DEBUGCTL'))
                && $nested eq 'entry failure 0x80000021 0x0';
        },
    },
    {   id => 'bochs-rip-not-canonical',
        who => 'bochs',
        sdm => 'SDM Vol. 3C 27.3.1.4: in IA-32e mode with CS.L = 1, bits 63:N of the guest RIP '
             . '(N the linear-address width) must be identical; Bochs 2.7 checks only bits 63:32 '
             . 'outside 64-bit mode (cpu/vmx.cc) and enters L2, which then faults on its first fetch',
        match => sub {
            my ($c, $bare, $nested) = @_;
            return (grep { my $v = hex($_); my $top = $v >> 47; $top != 0 && $top != 0x1ffff }
                    writes_of($c, 'GUEST_RIP'))
                && $nested eq 'entry failure 0x80000021 0x0' && $bare =~ /^L2 ran: /;
        },
    },
    {   id => 'bochs-error-code-non-exception',
        who => 'bochs',
        sdm => 'SDM Vol. 3C 27.2.1.3: the deliver-error-code bit of the VM-entry interruption '
             . 'information must be 0 unless the type is hardware exception (VMfailValid 7); '
             . 'Bochs 2.7 accepts it for other types and goes on',
        match => sub {
            my ($c, $bare, $nested) = @_;
            return (grep { my $v = hex($_); ($v >> 31) && ($v & 0x800) && (($v >> 8) & 7) != 3 }
                    writes_of($c, 'VM_ENTRY_INTR_INFO'))
                && $nested eq 'VMfailValid 7';
        },
    },
);

sub fuzz_known { return @known }

# Whether a compared case is accounted for: the same verdict, or a known
# difference.
sub fuzz_explained {
    my ($c) = @_;
    return $c->{bare} eq $c->{nested} || defined $c->{known};
}

# The cases of one run: [{ n, verdict, writes => [[field, value]...],
# link_region, msr_entries }], from the first "vmx_fuzz: seed" line to the
# summary (the console may be repeated after it).
sub parse_cases {
    my ($out) = @_;
    my (@cases, $pending, $done);
    $pending = { writes => [] };
    my $started;
    for (split /\n/, $out) {
        s/^\[[^\]]*\] //;
        next unless /^vmx_fuzz: /;
        if (/^vmx_fuzz: seed /) { $started = 1; next }
        next unless $started;
        last if /^vmx_fuzz: \d+ cases$/ && ($done = 1);
        if (/^vmx_fuzz:   field (0x[0-9a-f]+) = (0x[0-9a-f]+)$/) {
            push @{ $pending->{writes} }, [hex($1), $2];
        } elsif (/^vmx_fuzz:   link region: (.*)$/) {
            $pending->{link_region} = $1;
        } elsif (/^vmx_fuzz:   MSR list 0 /) {
            $pending->{msr_entries}++;
        } elsif (/^vmx_fuzz: case (\d+): (.*)$/) {
            push @cases, { %$pending, n => $1, verdict => $2 };
            $pending = { writes => [] };
        }
    }
    return { cases => \@cases, complete => $done, output => $out };
}

sub run_bare {
    my ($cmdline) = @_;
    my ($status, $out) = vmxrun('--bare-multiboot', $cmdline, "$root/build/guests/vmx_probe_bare.elf");
    return parse_cases($out);
}

sub run_nested {
    my ($cmdline) = @_;
    my ($status, $out) = run_vms("[vm l1]\nimage = vmx_probe.elf\nmemory = 32M\nnested = on\n"
                                 . "on_reboot = stop\ncmdline = $cmdline\n", ['vmx_probe']);
    return parse_cases($out);
}

# fuzz_compare($seed, $count) -> { bare, nested, isolated (if needed),
# cases => [{ n, bare, nested, isolated, same_mutations, known => entry or
# undef }] (every case), problems => [text] (runs that did not complete or
# disagree on their mutations) }. Where verdicts differ, an isolated
# vmxvisor run shows whether a case's verdict depends on earlier cases.
sub fuzz_compare {
    my ($seed, $count) = @_;
    my %r = (problems => []);
    $r{bare} = run_bare("fuzz $seed $count verbose");
    $r{nested} = run_nested("fuzz $seed $count verbose");
    for my $side (qw(bare nested)) {
        push @{ $r{problems} }, "seed $seed: the $side run did not reach its summary"
            unless $r{$side}{complete};
    }
    my @b = @{ $r{bare}{cases} };
    my @n = @{ $r{nested}{cases} };
    my $differs = grep { $n[$_] && $b[$_]{verdict} ne $n[$_]{verdict} } 0 .. $#b;
    if ($differs) {
        $r{isolated} = run_nested("fuzz $seed $count verbose isolated");
        push @{ $r{problems} }, "seed $seed: the isolated vmxvisor run did not reach its summary"
            unless $r{isolated}{complete};
    }
    my @iso = $r{isolated} ? @{ $r{isolated}{cases} } : ();
    for my $i (0 .. $#b) {
        my ($bc, $nc) = ($b[$i], $n[$i]);
        my %c = (n => $bc->{n}, bare => $bc->{verdict}, nested => $nc ? $nc->{verdict} : '(none)');
        $c{isolated} = $iso[$i]{verdict} if $iso[$i];
        # The fields, not their values: those derived from L1's own state
        # (CR0, CR4, EFER, PAT, addresses) may differ between the two.
        $c{same_mutations} = $nc && join(',', map { $_->[0] } @{ $bc->{writes} })
                                 eq join(',', map { $_->[0] } @{ $nc->{writes} });
        push @{ $r{problems} }, "seed $seed case $c{n}: the two runs mutated differently"
            if $nc && !$c{same_mutations};
        if ($c{bare} ne $c{nested}) {
            # What the isolated run shows is what the case itself comes to.
            ($c{known}) = grep { $_->{match}->($bc, $c{bare}, $c{nested}, $c{isolated}) } @known;
        }
        push @{ $r{cases} }, \%c;
    }
    return \%r;
}

1;
