#!/usr/bin/perl
# An exception in the hypervisor is reported with vector, error code,
# registers and a backtrace, and the hypervisor stops with status 1.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my ($status, $out) = vmxrun('--pcpus', '2', '--exec', 'crash');
is($status, 1, 'exit status 1 (hypervisor fault)') or diag($out);
like($out, qr/^\*\*\* EXCEPTION #UD invalid opcode \(vector 6\) on cpu 0, error code 0x0$/m, 'vector and error code');
like($out, qr/^RIP 0008:[0-9a-f]{16} RFLAGS [0-9a-f]{16} RSP 0010:[0-9a-f]{16}$/m, 'RIP, RFLAGS, RSP');
like($out, qr/^RAX [0-9a-f]{16} RBX/m, 'general registers');
like($out, qr/^CR0 [0-9a-f]{16} CR2/m, 'control registers');
my ($trace) = $out =~ /^backtrace[^\n]*\n((?:  [0-9a-f]{16}\n)+)/m;
ok(defined $trace && scalar(split /\n/, $trace) >= 2, 'backtrace with at least two frames') or diag($out);
like($out, qr/^vmxvisor: exit status 1$/m, 'exit marker');
done_testing();
