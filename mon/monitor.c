#include "mon/monitor.h"
#include "mon/console_mux.h"
#include "arch/cpu.h"
#include "arch/platform.h"
#include "mon/monitor_wait.h"
#include "lib/printf.h"
#include "lib/string.h"

#define LINE_MAX 128
#define KEY_BACKSPACE 0x08
#define KEY_DELETE    0x7f

static void cmd_help(const char *args);
static void cmd_info(const char *args);
static void cmd_quit(const char *args);
static void cmd_crash(const char *args);

static const struct monitor_command commands[] = {
    { "help", "", "list commands", cmd_help },
    { "info", "WHAT", "show information: one of the info commands below", cmd_info },
    { "x", "VM VCPU ADDR [LEN]", "guest memory at a virtual address, through the vCPU's "
      "paging (hex and ASCII, LEN bytes, default 128); ADDR may be $REG[+N], e.g. $rsp", cmd_x },
    { "xp", "VM ADDR [LEN]", "guest-physical memory (hex and ASCII, LEN bytes, default 128)",
      cmd_xp },
    { "top", "[VM] [SECONDS]", "live exit rates per VM and reason, every second until a key "
      "(or for SECONDS), as kvm_stat", cmd_top },
    { "clear_exits", "VM", "start a VM's exit counters (info exits, top) from zero",
      cmd_clear_exits },
    { "affinity", "VM CPUS", "set the CPUs a VM's vCPUs may run on (e.g. 0-1 or 2)",
      cmd_affinity },
    { "stop", "VM", "pause every vCPU of a VM (its state and pending events kept)", cmd_stop },
    { "cont", "VM", "resume a stopped VM", cmd_cont },
    { "reset", "VM", "reset a VM as the machine's reset would: it boots again", cmd_reset },
    { "nmi", "VM", "an NMI on every vCPU's LINT1, as QEMU's nmi (the guest's LVT decides)",
      cmd_nmi },
    { "dirty_rate", "VM [SECONDS [PERIODS]]", "measure how fast a VM writes its memory "
      "(QEMU's calc_dirty_rate), PERIODS times; info dirty_rate shows it", cmd_dirty_rate },
    { "quit", "", "end the hypervisor (exit status 0)", cmd_quit },
    { "crash", "", "(debugging) raise #UD in the hypervisor: the fault report, exit status 1",
      cmd_crash },
    { NULL, NULL, NULL, NULL },
};

static const char *skip_spaces(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static const struct monitor_command *monitor_find(const struct monitor_command *table,
                                           const char *line, const char **args)
{
    line = skip_spaces(line);
    size_t n = 0;
    while (line[n] && line[n] != ' ' && line[n] != '\t')
        n++;
    for (const struct monitor_command *c = table; c->name; c++) {
        if (strlen(c->name) == n && !strncmp(c->name, line, n)) {
            *args = skip_spaces(line + n);
            return c;
        }
    }
    return NULL;
}

static void monitor_print_help(const struct monitor_command *table, const char *prefix)
{
    for (const struct monitor_command *c = table; c->name; c++) {
        char synopsis[48];
        snprintf(synopsis, sizeof(synopsis), "%s%s%s%s", prefix, c->name, *c->args ? " " : "",
                 c->args);
        kprintf("  %-24s %s\n", synopsis, c->help);
    }
}

static void cmd_help(const char *args)
{
    (void)args;
    monitor_print_help(commands, "");
    monitor_print_help(info_commands, "info ");
}

static void cmd_info(const char *args)
{
    const char *rest;
    const struct monitor_command *c = monitor_find(info_commands, args, &rest);
    if (!c) {
        kprintf("info: unknown or missing argument '%s'; one of:\n", args);
        monitor_print_help(info_commands, "info ");
        return;
    }
    c->run(rest);
}

static void cmd_quit(const char *args)
{
    (void)args;
    platform_exit(EXIT_OK);
}

static void cmd_crash(const char *args)
{
    (void)args;
    __asm__ volatile("ud2");
}

/* Runs one command line. */
static void monitor_execute(const char *line)
{
    const char *args;
    if (!*skip_spaces(line))
        return;
    const struct monitor_command *c = monitor_find(commands, line, &args);
    if (c)
        c->run(args);
    else
        kprintf("unknown command '%s' (try 'help')\n", skip_spaces(line));
}

static char line[LINE_MAX];
static size_t line_len;
static char last_key;

static void monitor_key(char c);

/* A waiting command is over: its prompt, then the keys typed meanwhile. */
static void resume_after_wait(const char *held_keys, size_t count)
{
    kprintf(MONITOR_PROMPT);
    for (size_t i = 0; i < count; i++)
        monitor_key(held_keys[i]);
}

/* Escape sequences a terminal sends (arrow and function keys, the answer
 * to a cursor-position query that arrives just after Ctrl-A c) are no
 * text for the command line: skipped whole, as ECMA-48 delimits them (ESC
 * then one byte; ESC [ then parameters up to a final byte in 0x40-0x7e;
 * ESC O then one byte). */
static enum { KEYS_TEXT, KEYS_ESC, KEYS_CSI, KEYS_SS3 } key_state;

static bool swallow_escape_sequence(char c)
{
    switch (key_state) {
    case KEYS_TEXT:
        if (c != '\x1b')
            return false;
        key_state = KEYS_ESC;
        return true;
    case KEYS_ESC:
        key_state = c == '[' ? KEYS_CSI : c == 'O' ? KEYS_SS3 : KEYS_TEXT;
        return true;
    case KEYS_CSI:
        if (c < 0x20 || c > 0x3f)
            key_state = KEYS_TEXT;      /* the final byte (or a stray control) */
        return true;
    case KEYS_SS3:
        key_state = KEYS_TEXT;
        return true;
    }
    return false;
}

/* One key typed while the monitor has the console; a complete line runs. */
static void monitor_key(char c)
{
    if (monitor_wait_take_key(c) || swallow_escape_sequence(c))
        return;
    bool after_cr = last_key == '\r';
    last_key = c;
    if (c == '\n' && after_cr)
        return;                     /* CR LF counts as one end of line */
    if (c == '\r' || c == '\n') {
        kprintf("\n");
        line[line_len] = '\0';
        line_len = 0;
        monitor_execute(line);
        if (!monitor_waiting())
            kprintf(MONITOR_PROMPT);
    } else if (c == KEY_BACKSPACE || c == KEY_DELETE) {
        if (line_len) {
            line_len--;
            kprintf("\b \b");
        }
    } else if (c >= ' ' && line_len + 1 < sizeof(line)) {
        line[line_len++] = c;
        kprintf("%c", c);
    }
}

/* The console came back to the monitor: its prompt, unless a command
 * still waits (its end prints the prompt). */
static void print_prompt(void)
{
    if (!monitor_waiting())
        kprintf(MONITOR_PROMPT);
}

void monitor_init(void)
{
    console_mux_attach(monitor_key, print_prompt);
    monitor_wait_init(resume_after_wait);
}

void monitor_start(void)
{
    print_prompt();
}
