/* Guest entry: the hypervisor starts vCPU n in 64-bit mode with RDI = n,
 * RSI = number of vCPUs, RDX = guest-physical address of the command line. */
    .section .text.start, "ax"
    .globl _start
_start:
    xor %ebp, %ebp
    call guest_start
1:  cli
    hlt
    jmp 1b
