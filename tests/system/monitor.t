#!/usr/bin/perl
# The monitor console: help, info vmx, and clear answers to bad commands;
# then what a KVM/QEMU user inspects a running VM with: info registers (a
# fresh copy from the vCPU's CPU, or the state a stopped vCPU left), x and
# xp (the same bytes through the guest's paging and physically), info vmcs,
# per-vCPU exit tables, the live view (top) and clear_exits.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

# A terminal's escape sequences (an arrow key, a late answer to a cursor
# query) are skipped whole, not taken for the command's text.
my ($status, $out) = vmxrun('--exec', "help; info vmx; info bogus; frobnicate; \e[Ainfo cpus; \e[6Rinfo cpus");
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
is(scalar(() = $out =~ /^\(vmx\) info cpus$/mg), 2, 'escape sequences typed before a command are skipped');
unlike($out, qr/^unknown command '.*info cpus'/m, 'and none is taken for text');

my $config = "[vm spin]\nimage = spin_share.elf\nmemory = 4M\ncmdline = 1500\n";
my $exec = join '; ', 'info registers spin', 'xp spin 0x100000 32', 'x spin 0 0x100000 32',
    'info vmcs spin 0', 'info exits spin 0', 'top spin 2', 'clear_exits spin', 'stop spin',
    'info registers spin 0', 'x spin 0 $rip 16', 'x spin 0 $rsp+0x10 16', 'x spin 0 $rflags',
    'x spin 0 0xdead00000000 16', 'xp spin 0xfff00000000 16',
    'info registers nosuch', 'info registers spin 5', 'x spin 0', 'info lapic spin',
    'info lapic spin 3', 'cont spin';
($status, $out) = run_vms($config, ['spin_share'], '--exec', $exec);
is($status, 0, 'inspection: the VM ran on and ended with status 0') or diag($out);
like($out, qr/^vm spin vcpu 0: (at an exit for this command|off its CPU, waiting for one), [\d.]+ ms ago$/m,
     'info registers: a fresh copy, by the vCPU or by the CPU where its VMCS is');
like($out, qr/^RAX=[0-9a-f]{16} RBX=[0-9a-f]{16} RCX=[0-9a-f]{16} RDX=[0-9a-f]{16}$/m,
     'info registers: general registers');
like($out, qr/^RIP=0000000000100[0-9a-f]{3} RFL=[0-9a-f]{8} activity 0 /m,
     'info registers: RIP in the guest image');
like($out, qr/^CS   0008 0000000000000000 ffffffff 0a09b$/m, 'info registers: 64-bit code segment');
like($out, qr/^CR0=e0000031 CR2=[0-9a-f]{16} CR3=0000000000002000 CR4=[0-9a-f]{8}$/m,
     'info registers: control registers as the guest reads them');
my ($physical) = $out =~ /^\(vmx\) xp spin 0x100000 32\n((?:[0-9a-f]{16}: .*\n){2})/m;
my ($virtual) = $out =~ /^\(vmx\) x spin 0 0x100000 32\n.*\n((?:[0-9a-f]{16}: .*\n){2})/m;
ok(defined $physical && $physical =~ /^0000000000100000: ([0-9a-f]{2} ){16} /, 'xp: a hex and ASCII dump')
    or diag($out);
is($virtual, $physical, 'x: the same bytes through the identity-mapping paging');
like($out, qr/^vm spin: vcpu 0: info vmcs; (the VM runs on|it waits off its CPU)$/m,
     'info vmcs: printed by the vCPU, or by the CPU where its VMCS is');
like($out, qr/^VMCS guest state:$/m, 'info vmcs: the guest-state area');
unlike($out, qr/its VMCS is printed when it next runs/, 'info vmcs: the running vCPU answered');
like($out, qr/^vm spin: vcpu 0: exits per reason:$/m, 'info exits VM VCPU: one vCPU');
like($out, qr/^top: second 2\n  vm spin +\d+ exits\/s\n    VMX-preemption timer expired +\d+ \/s +(?:\d+|-) avg-ticks$/m,
     'top: a frame each second, the busiest reasons with rate and cost');
like($out, qr/^vm spin: exit counters cleared$/m, 'clear_exits');
like($out, qr/^vm spin vcpu 0: off its CPU, stopped, [\d.]+ ms ago$/m,
     'info registers on a stopped VM: copied by the CPU where its VMCS is');
# The stopped vCPU's registers stay as they are: $REG addresses are theirs.
my ($rip, $rsp) = $out =~ /^vm spin vcpu 0: off its CPU, stopped.*\n.*\n.*RSP=([0-9a-f]{16})\n(?:.*\n){2}RIP=([0-9a-f]{16})/m
    ? ($2, $1) : ();
ok(defined $rip, 'info registers of the stopped vCPU: RIP and RSP') or diag($out);
like($out, qr/^\(vmx\) x spin 0 \$rip 16\n.*\n$rip: /m, 'x $rip: the dump starts at RIP');
my $rsp16 = sprintf('%016x', hex($rsp // 0) + 0x10);
like($out, qr/^\(vmx\) x spin 0 \$rsp\+0x10 16\n.*\n$rsp16: /m, 'x $rsp+N: at RSP plus N');
like($out, qr/^\(vmx\) x spin 0 \$rflags\nx: usage: x VM VCPU ADDR \[LEN\].*\$REG/m,
     'x $REG: a register it does not know gets the usage');
like($out, qr/^0000dead00000000: not mapped$/m, 'x: an unmapped address');
like($out, qr/^00000fff00000000: not RAM$/m, 'xp: an address that is not RAM');
like($out, qr/^info registers: no running VM named 'nosuch'$/m, 'a VM that is not there');
like($out, qr/^info registers: vm spin has vCPUs 0 to 0, not '5'$/m, 'a vCPU that is not there');
like($out, qr/^x: usage: x VM VCPU ADDR \[LEN\]/m, 'x without an address: its usage');
like($out, qr/^vcpu 0: [a-z-]+, (xAPIC|x2APIC|disabled), ID 0, TPR 0x[0-9a-f]{2} PPR 0x[0-9a-f]{2} SVR 0x[0-9a-f]{3}; highest IRR -?\d+ ISR -?\d+, pending -?\d+$/m,
     'info lapic: mode, ID, priorities, the highest vectors');
like($out, qr/^  IRR   [0-9a-f]{8}(_[0-9a-f]{8}){7}\n  inbox [0-9a-f]{8}(_[0-9a-f]{8}){7}\n  ISR   [0-9a-f]{8}(_[0-9a-f]{8}){7}\n  TMR   [0-9a-f]{8}(_[0-9a-f]{8}){7}\n  timer: LVT 0x[0-9a-f]{5}, /m,
     'info lapic: IRR, the inbox, ISR and TMR as 256 bits, then the timer');
like($out, qr/^vm spin has vCPUs 0 to 0, not '3'$/m, 'info lapic: a vCPU that is not there');
done_testing();
