#!/usr/bin/perl
# Negotiation on a second CPU model (no PML), and the unit tests' recorded
# capability MSRs still match what Bochs reports.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my %fixture_name = (tigerlake => 'bochs_tigerlake', corei7_haswell_4770 => 'bochs_corei7_haswell_4770');
my $fixtures = do {
    local $/;
    open(my $fh, '<', "$FindBin::Bin/../unit/fixtures/bochs_vmx_caps.h") or die $!;
    <$fh>;
};

for my $model (sort keys %fixture_name) {
    my ($status, $out) = vmxrun('--cpu-model', $model, '--exec', 'info vmx msrs');
    is($status, 0, "$model: exit status 0") or diag($out);
    my @cap = lines_matching($out, qr/^vmx: rev/);
    is_deeply(\@cap, [expected_capability_line($model)], "$model: capability line");
    my ($block) = $fixtures =~ /$fixture_name{$model} = \{(.*?)\};/s;
    my %recorded = $block =~ /\.(\w+) = (0x[0-9a-f]+)/g;
    my %reported = $out =~ /^  IA32_VMX_(\w+)\s+(0x[0-9a-f]{16})$/mg;
    ok(scalar(keys %reported) >= 17, "$model: info vmx msrs lists the MSRs");
    my %msr_of = (basic => 'BASIC', pinbased => 'PINBASED_CTLS', procbased => 'PROCBASED_CTLS',
        exit => 'EXIT_CTLS', entry => 'ENTRY_CTLS', misc => 'MISC', cr0_fixed0 => 'CR0_FIXED0',
        cr0_fixed1 => 'CR0_FIXED1', cr4_fixed0 => 'CR4_FIXED0', cr4_fixed1 => 'CR4_FIXED1',
        vmcs_enum => 'VMCS_ENUM', procbased2 => 'PROCBASED_CTLS2', ept_vpid_cap => 'EPT_VPID_CAP',
        true_pinbased => 'TRUE_PINBASED_CTLS', true_procbased => 'TRUE_PROCBASED_CTLS',
        true_exit => 'TRUE_EXIT_CTLS', true_entry => 'TRUE_ENTRY_CTLS', vmfunc => 'VMFUNC');
    for my $field (sort keys %msr_of) {
        is($reported{$msr_of{$field}}, $recorded{$field}, "$model: fixture .$field matches Bochs");
    }
}
done_testing();
