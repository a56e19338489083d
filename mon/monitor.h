#ifndef MON_MONITOR_H
#define MON_MONITOR_H
/* The monitor console on the serial port, like QEMU's monitor: a prompt,
 * one command per line. */

#include <stdbool.h>

#define MONITOR_PROMPT "(vmx) "

struct monitor_command {
    const char *name;
    const char *args;           /* argument synopsis for help, "" if none */
    const char *help;
    void (*run)(const char *args);
};

/* Takes the console's keys through the console multiplexer
 * (mon/console_mux.h), from CPU 0's loop; before the APs start. */
void monitor_init(void);
/* Prints the first prompt. */
void monitor_start(void);

/* Commands acting on VMs (mon/vm_commands.c). */
void cmd_affinity(const char *args);
void cmd_stop(const char *args);
void cmd_cont(const char *args);
void cmd_reset(const char *args);
void cmd_nmi(const char *args);
void cmd_dirty_rate(const char *args);

/* A vCPU's state (mon/inspect.c): info registers, info vmcs, x, xp. */
void cmd_x(const char *args);
void cmd_xp(const char *args);
void info_registers(const char *args);
void info_vmcs(const char *args);
/* Exit counters (mon/exit_rates.c): the live view, and starting over. */
void cmd_top(const char *args);
void cmd_clear_exits(const char *args);

/* `info` subcommands (mon/info.c). */
extern const struct monitor_command info_commands[];
#endif
