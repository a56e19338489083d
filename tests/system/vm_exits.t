#!/usr/bin/perl
# Each exit handler exercised by a guest that checks the result: CPUID values,
# #GP on unknown MSRs, UART output, isa-debug-exit status, hypercalls; the
# exit table is printed when a VM ends.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use VmxRun;

my $config = <<'CFG';
# three VMs on two CPUs
[vm cpuid]
image = cpuid_test.elf
memory = 8M
cmdline = debug-exit

[vm msr]
image = msr_probe.elf
memory = 8M

# nested VMX is on by default; this one has none
[vm msr-novmx]
image = msr_probe.elf
memory = 8M
nested = off
cmdline = novmx

[vm bench]
image = exit_bench.elf
memory = 8M
cmdline = cpuid_exit pio_exit

[vm real]
image = realmode_test.elf
memory = 2M
start = real

[vm insn]
image = insn_probe.elf
memory = 8M
nested = off

[vm debug]
image = debug_probe.elf
memory = 4M
CFG

my ($status, $out) = run_vms($config, [qw(cpuid_test msr_probe exit_bench realmode_test insn_probe debug_probe)], '--pcpus', '2');
is($status, 1, "exit status 1: the first VM's own, isa-debug-exit's (0 << 1) | 1") or diag($out);
like($out, qr/^vm cpuid: 1 vCPU\(s\), 8 MiB, image cpuid_test\.elf \(ELF\), PLE on, APICv (?:on|TPR shadow|off)$/m, 'VM created from the config');

# CPUID: the guest checks the values and ends through isa-debug-exit with 0 failures.
for my $check ("hypervisor signature 'vmxvisor'", 'leaf 1 VMX offered (nested VMX)', 'initial APIC ID is the vCPU number',
               'leaf 0xb topology: one thread per core, one core per vCPU') {
    like($out, qr/^\[cpuid\] ok: \Q$check\E$/m, "cpuid: $check");
}
unlike($out, qr/^\[cpuid\] FAIL/m, 'cpuid: no failed check');
is_deeply([vm_result($out, 'cpuid')], ['isa-debug-exit', 1], 'isa-debug-exit code 0 gives status (0<<1)|1');

# MSRs: unknown ones raise #GP in the guest, emulated ones answer.
like($out, qr/^\[msr\] ok: RDMSR of an unknown MSR raises #GP$/m, 'msr: #GP on unknown RDMSR');
for my $check ('IA32_MISC_ENABLE keeps fast strings cleared', 'CPUID shows MCE and MCA',
               'IA32_MC0_CTL takes all zeros or all ones only', 'IA32_MC0_STATUS can only be cleared',
               'writing IA32_TSC_ADJUST moves the TSC by as much',
               'writing IA32_TSC moves IA32_TSC_ADJUST by as much',
               'IA32_DEBUGCTL keeps BTF, drops LBR', 'IA32_DEBUGCTL reserved bit raises #GP') {
    like($out, qr/^\[msr\] ok: \Q$check\E$/m, "msr: $check");
}
like($out, qr/^\[msr\] msr_probe: 0 failure\(s\), 11 #GP taken$/m, 'msr: all checks pass');
is_deeply([vm_result($out, 'msr')], ['exit hypercall', 0], 'msr: exit hypercall status 0');
like($out, qr/^\[msr\] ok: IA32_FEATURE_CONTROL reads locked, VMX outside SMX on \(nested VMX\)$/m,
     'msr: nested VMX by default: VMXON allowed outside SMX');
like($out, qr/^\[msr-novmx\] ok: IA32_FEATURE_CONTROL reads locked, VMX off \(nested = off\)$/m,
     'msr-novmx: nested = off: VMXON not allowed');
like($out, qr/^\[msr-novmx\] msr_probe: 0 failure\(s\), 11 #GP taken$/m, 'msr-novmx: all checks pass');

# UART output carries the VM's name; the exit table lists what ran.
like($out, qr/^\[bench\] BENCH cpuid_exit \d+ ticks$/m, 'UART lines prefixed with the VM name');
like($out, qr/^vm bench: exits per reason/m, 'exit table printed at the end');
like($out, qr/^  CPUID\s+(\d+)\s+(?:\d+|-)$/m, 'exit table has CPUID');
# The bench guest's CPUIDs complete in the exit fastpath: counted, not timed.
my ($bench_table) = $out =~ /^vm bench: exits per reason:\n(.*?)^vm bench: ended/ms;
my ($cpuid_fast) = ($bench_table // '') =~ /^  completed in the exit fastpath, not timed: .*\bCPUID (\d+)/m;
ok(defined $cpuid_fast && $cpuid_fast >= 2000, 'exit table: the CPUIDs went through the fastpath')
    or diag($bench_table);
my ($io) = $out =~ /^vm bench: exits per reason:\n.*?^  I\/O instruction\s+(\d+)/ms;
ok(defined $io && $io >= 2000, 'exit table counts the port I/O loop') or diag($out);
# A real-mode start through unrestricted guest.
like($out, qr/^\[real\] realmode_test: ok: CR0\.PE = 0 and segment arithmetic$/m, 'real-mode start');
is_deeply([vm_result($out, 'real')], ['isa-debug-exit', 1], 'real-mode guest passed');
# CR4/CR8/CR0 accesses, XSETBV, WBINVD/INVD, VMX instructions, HLT.
for my $check ('CR4.OSXSAVE set and read back', 'XSETBV x87|SSE takes effect',
               'XSETBV without x87 raises #GP', 'setting CR4.VMXE raises #GP',
               'CR4.PKE settable exactly when CPUID shows PKU',
               'CET hidden, and setting CR4.CET raises #GP',
               'REP OUTSB advances RSI, ends RCX', 'REP INSB fills the buffer from the port',
               'REP OUTSD with DF = 1 goes down',
               'MMIO ADD to the TPR', 'MMIO OR, AND, XOR on the TPR', 'MMIO ADC and SBB take the carry',
               'MMIO INC, DEC, NEG, NOT', 'MMIO shifts and rotates', 'MMIO CMP sets ZF', 'MMIO TEST sets ZF',
               'MMIO XCHG swaps', 'MMIO LOCK CMPXCHG when equal writes',
               'MMIO LOCK CMPXCHG when not equal loads RAX', 'MMIO BT, BTS, BTR, BTC',
               'MMIO MOVZX and MOVSX', 'MMIO REP MOVSD from the version register', 'MMIO STOSD to the TPR',
               'CR8 keeps the task priority', 'CLTS clears CR0.TS', 'VMXOFF raises #UD (no nested VMX)') {
    like($out, qr/^\[insn\] ok: \Q$check\E$/m, "insn: $check");
}
unlike($out, qr/^\[insn\] FAIL/m, 'insn: no failed check');
like($out, qr/^\[insn\] insn_probe: rep outsb to COM1$/m, 'insn: REP OUTSB printed its line');
# Faults the hypervisor injects carry RFLAGS.RF as the CPU's own do, and
# single steps over the instructions it emulates trap right after them.
for my $check ('#GP the CPU raises (non-canonical load) has RF set',
               '#GP the hypervisor injects (WRMSR of an unknown MSR) has RF set',
               '#UD the hypervisor injects (MONITOR) has RF set',
               'RDPMC without performance counters raises #GP, RF set',
               'single step over NOP, which the CPU runs',
               'single step over CPUID, which the hypervisor emulates',
               'single step over OUT, which the hypervisor emulates',
               'single step over RDMSR, which the hypervisor emulates',
               'single step over a load from the xAPIC page, which the hypervisor emulates') {
    like($out, qr/^\[debug\] debug_probe: \Q$check\E: ok/m, "debug: $check")
        or diag(join("\n", $out =~ /^(\[debug\] debug_probe: \Q$check\E: .*)$/mg));
}
is_deeply([vm_result($out, 'debug')], ['exit hypercall', 0], 'debug: no failures');
is_deeply([vm_result($out, 'insn')], ['all vCPUs halted', 0], 'HLT with interrupts off ends the VM');
like($out, qr/^vmxvisor: exit status 1$/m, 'ends when every VM has ended');
done_testing();
