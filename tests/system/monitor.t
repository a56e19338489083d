#!/usr/bin/perl
# The monitor console: help, info vmx, and clear answers to bad commands.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my ($status, $out) = vmxrun('--exec', 'help; info vmx; info bogus; frobnicate');
is($status, 0, 'exit status 0') or diag($out);
for my $cmd ('help', 'info WHAT', 'quit', 'info cpus', 'info vmx \[msrs\]') {
    like($out, qr/^  $cmd\s+\S/m, "help lists '$cmd'");
}
like($out, qr/^  VMCS revision 4, region size 4096 bytes$/m, 'info vmx: VMCS revision');
like($out, qr/^  secondary processor-based controls 0x[0-9a-f]{8}:.*\[enable EPT\].*\[unrestricted guest\]/m,
     'info vmx: negotiated secondary controls by name');
like($out, qr/^  VM-exit controls 0x[0-9a-f]{8}:.*\[host address-space size\]/m, 'info vmx: exit controls');
like($out, qr/^  EPT: 4-level walk, WB, 2M pages, 1G pages, accessed\/dirty/m, 'info vmx: EPT');
like($out, qr/^info: unknown or missing argument 'bogus'/m, 'unknown info argument');
like($out, qr/^unknown command 'frobnicate' \(try 'help'\)$/m, 'unknown command');
done_testing();
