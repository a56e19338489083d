#ifndef MON_CONSOLE_MUX_H
#define MON_CONSOLE_MUX_H
/*
 * The console multiplexer, like QEMU's mux chardev: the one serial console
 * is either the monitor's or one VM's COM1. Ctrl-A c switches to the next
 * running VM, and after the last back to the monitor; Ctrl-A Ctrl-A sends
 * Ctrl-A itself. The hypervisor's command-line word `console=NAME` starts
 * on VM NAME. While a VM has the console its output is passed through
 * unchanged and typed keys go to its COM1; the other VMs' lines still appear
 * with their names in front.
 */
#include <stdbool.h>

struct vm;

#define CONSOLE_MUX_ESCAPE 0x01     /* Ctrl-A */
#define CONSOLE_MUX_SWITCH 'c'

/* Takes the console's input on CPU 0 (before the APs start): keys go to
 * `key` (the monitor's) while no VM has the console; `resume` runs when the
 * console comes back to the monitor. */
void console_mux_attach(void (*key)(char c), void (*resume)(void));
/* Gives the console to the VM named on the command line (`console=NAME`), if any. */
void console_mux_init(void);
#endif
