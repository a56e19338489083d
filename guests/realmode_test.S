/*
 * A real-mode guest (config: start = real). Linked at 0x20000, so it runs
 * at CS:IP = 2000:0000. It checks it really is in real mode (CR0.PE = 0,
 * segment arithmetic), prints through COM1 and ends through QEMU's
 * isa-debug-exit with 0 (status 1) on success, 1 (status 3) on failure.
 */
#define COM1 0x3f8
#define DEBUG_EXIT 0xf4
#define REL(x) ((x) - _start)

    .code16
    .text
    .globl _start
_start:
    cli
    mov %cs, %ax
    mov %ax, %ds
    mov $REL(hello), %si
    call print
    smsw %ax                    /* CR0 low word: PE must be clear */
    test $1, %al
    jnz fail
    /* In real mode, 0x2000:0x0010 and 0x2001:0x0000 are the same byte. */
    movb $0x5a, %ds:REL(probe)
    mov %ds, %ax
    add $1, %ax
    mov %ax, %es
    mov %es:REL(probe) - 16, %cl
    cmp $0x5a, %cl
    jne fail
    mov $REL(ok), %si
    call print
    mov $0, %al
    jmp finish
fail:
    mov $REL(bad), %si
    call print
    mov $1, %al
finish:
    mov $DEBUG_EXIT, %dx
    out %al, %dx
1:  hlt
    jmp 1b

print:
    mov $COM1, %dx
2:  lodsb
    test %al, %al
    jz 3f
    out %al, %dx
    jmp 2b
3:  ret

hello: .asciz "realmode_test: running in real mode at CS=2000\n"
ok:    .asciz "realmode_test: ok: CR0.PE = 0 and segment arithmetic\n"
bad:   .asciz "realmode_test: FAIL\n"
    .balign 16
    .skip 16
probe: .byte 0
