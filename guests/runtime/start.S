/* Guest entry: the hypervisor starts vCPU n in 64-bit mode with RDI = n,
 * RSI = number of vCPUs, RDX = guest-physical address of the command line
 * (kept: the CR4 update below uses RAX only); on bare metal bare_start.S
 * comes here the same way. */
    .section .text.start, "ax"
    .globl _start
_start:
    xor %ebp, %ebp
    /* Enable SSE as an OS would (CR4.OSFXSR, OSXMMEXCPT): some guests use
     * XMM registers from inline assembly. */
    mov %cr4, %rax
    or $0x600, %rax
    mov %rax, %cr4
    call guest_start
1:  cli
    hlt
    jmp 1b
