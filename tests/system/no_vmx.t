#!/usr/bin/perl
# A CPU without VMX: the hypervisor says so and exits non-zero, never hangs.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my ($status, $out) = vmxrun('--cpu-model', 'p4_prescott_celeron_336', '--pcpus', '2');
is($status, 3, 'exit status 3 (unsupported CPU)') or diag($out);
like($out, qr/^vmxvisor: fatal: this CPU does not support VMX \(CPUID\.1:ECX\.VMX = 0\)$/m,
     'names the missing feature');
unlike($out, qr/vmxon ok|\(vmx\) /, 'no VMXON and no monitor prompt');
like($out, qr/^vmxvisor: exit status 3$/m, 'exit marker');
done_testing();
