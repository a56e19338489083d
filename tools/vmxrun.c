/*
 * vmxrun: boots the vmxvisor hypervisor in the Bochs emulator and relays its
 * serial console (COM1) to this terminal, or drives it unattended (--batch).
 *
 * Shape of a run:
 *   1. a private temporary directory holds everything the run creates;
 *   2. a GRUB rescue ISO is built there with the kernel, the VM config and the
 *      guest images as multiboot2 modules;
 *   3. Bochs is started headless with the `term` display on pseudo-terminals
 *      of its own (it never touches the user's terminal), COM1 on a further
 *      pseudo-terminal that this program relays;
 *   4. the run ends when the hypervisor prints "vmxvisor: exit status N" and
 *      Bochs quits; N becomes our exit status.
 *
 * Nothing here opens a network listener. See docs/launcher.md.
 */
#define _XOPEN_SOURCE 700 /* posix_openpt, grantpt, unlockpt, ptsname, nftw */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* cfmakeraw, TIOCSCTTY */
#endif

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "virt/vm_config.h" /* the hypervisor's own parser, to check --config early */

/* ------------------------------------------------------------------------ */
/* Fixed facts about the host tools and the hypervisor's console contract.  */

#define BOCHS_PROGRAM "bochs-bin" /* not the /usr/bin/bochs wrapper: we pass -q ourselves */
#define BOCHS_BIOS "/usr/share/bochs/BIOS-bochs-latest"
#define BOCHS_VGA_BIOS "/usr/share/bochs/VGABIOS-lgpl-latest"
#define GRUB_PLATFORM_DIR "/usr/lib/grub/i386-pc"
#define GRUB_MODULES_FOR_BOCHS "normal multiboot2 linux iso9660 biosdisk"
#define BOCHS_TERMINAL_TYPE "vt100" /* any terminfo entry that ncurses-base always ships */

/* Emulated instructions per emulated second: only relates timers to instructions. */
#define EMULATED_IPS 50000000
/* RTC start (2000-01-01 00:00:00 UTC), so that runs are identical run to run. */
#define FIXED_TIME0 946684800

#define MONITOR_PROMPT "(vmx) "
#define EXIT_STATUS_MARK "vmxvisor: exit status "
#define QUIT_COMMAND "quit"
#define SCREEN_NOTICE "Bochs connected to screen \""

#define ESCAPE_KEY 0x01 /* Ctrl-A, as in QEMU */

#define DEFAULT_PCPUS 1
/* Debian's Bochs 2.7 has room for 64 timers; from 16 CPUs on it stops at
 * start with "register_timer: too many registered timers" (measured). */
#define MAX_PCPUS 15
#define DEFAULT_MEM_MB 256
#define MIN_MEM_MB 16
#define MAX_MEM_MB 4096
/* Bochs allocates at most 2048 MB of host memory; beyond that it pages guest
 * memory through that much (memory: guest > host). */
#define MAX_BOCHS_HOST_MB 2048
#define DEFAULT_CPU_MODEL "tigerlake"
#define DEFAULT_BATCH_TIMEOUT_S 600
/* The seed of Bochs' random numbers (its RDRAND and RDSEED) unless --seed
 * says otherwise: the same every run, so that runs repeat exactly. */
#define DEFAULT_SEED 1
#define SEED_PRELOAD "build/host/bochs_seed.so"
/* --vm-kernel's VM: its name on the console, its default memory (more than
 * QEMU's 128 MiB: Debian's kernel with our initramfs needs it), and what the
 * emulated machine gets besides the VM's memory when --mem is not given. */
#define ONE_VM_NAME "guest"
#define DEFAULT_VM_MEM_MB 256
#define HYPERVISOR_MEM_MB 128
#define MAX_VM_VCPUS 64

/* Pacing of typed input (see struct pacer): how long to wait for the echo of a
 * character, and for the prompt after an end of line, before typing on. Batch
 * runs wait longer as nobody watches; interactive typing must stay snappy
 * where the console does not echo. */
#define BATCH_ECHO_WAIT_MS 1000
#define BATCH_PROMPT_WAIT_MS 1000
#define INTERACTIVE_ECHO_WAIT_MS 150
#define INTERACTIVE_PROMPT_WAIT_MS 1000
/* After the exit-status line the hypervisor asks Bochs to quit at once; if it
 * does not, we stop Bochs ourselves after this long. */
#define SHUTDOWN_GRACE_MS 5000
/* Bochs flushes its log when it quits on SIGHUP; SIGKILL after this long. */
#define HANGUP_GRACE_MS 2000

/* Exit statuses of the launcher itself (the hypervisor's N passes through). */
enum {
    STATUS_USAGE = 2,
    STATUS_TIMEOUT = 124,
    STATUS_NO_EXIT_STATUS = 125,
    STATUS_SETUP_FAILED = 126,
    STATUS_USER_QUIT = 130,
    STATUS_SIGNAL_BASE = 128,
};

/* ------------------------------------------------------------------------ */
/* Options.                                                                 */

enum exit_method { EXIT_BOCHS, EXIT_QEMU, EXIT_HALT };

struct options {
    bool batch;
    unsigned pcpus;
    unsigned mem_mb;
    const char *cpu_model;
    const char *config_file;   /* packed as /boot/vms.cfg */
    const char *exec_commands; /* "CMD; CMD" typed at the prompts */
    long timeout_s;            /* 0: no timeout */
    const char *iso_only;      /* write the ISO here and stop */
    enum exit_method exit_method;
    bool exit_method_given;
    const char *bochs_log;
    const char *trace;         /* Bochs' instruction trace between two magic breakpoints */
    bool clock_seed;           /* --seed clock: Bochs seeds its generator from the clock */
    unsigned long seed;        /* otherwise this seed (bochs_seed.so) */
    const char *hypervisor;    /* the hypervisor image to boot */
    const char *append;        /* more hypervisor command-line words */
    bool ignore_vm_status;     /* the run's status does not depend on the VMs' */
    bool unchecked_config;     /* hand --config to the hypervisor unchecked */
    /* One VM without a configuration file, as QEMU's -kernel/-initrd/-append/
     * -smp/-m: the launcher writes its configuration (one_vm_config). */
    const char *vm_kernel;
    const char *vm_initrd;
    const char *vm_append;
    unsigned vm_vcpus;
    unsigned vm_mem_mb;
    bool pcpus_given, mem_given;
    const char *bare_linux;    /* no hypervisor: GRUB boots modules[0] as Linux with
                                  this command line, modules[1] as its initrd */
    const char *bare_multiboot; /* no hypervisor: GRUB boots modules[0] with multiboot2
                                   and this command line, the others as its modules */
    bool keep;
    char **modules; /* guest images, packed under their basenames */
    int module_count;
};

/* ------------------------------------------------------------------------ */
/* What must be undone on every way out, including fatal errors and signals. */

static struct {
    char *private_dir;
    bool keep_private_dir;
    pid_t emulator_pid; /* 0 when none is running */
    bool terminal_is_raw;
    struct termios saved_terminal;
    char *bochs_log_source; /* Bochs writes its log here ...             */
    char *bochs_log_copy;   /* ... and it is kept here for the user */
    char *trace_source;     /* the same for --trace */
    char *trace_copy;
} g_undo;

/* What exec_bochs puts in Bochs' environment for --seed (no preload:
 * --seed clock). */
static struct {
    char *preload;
    char *value;
} g_seed;

/* Signals are turned into bytes on this pipe so that the main loop's poll()
 * sees them; no work is done in signal handlers. */
static int g_signal_pipe[2] = { -1, -1 };

static void restore_terminal(void)
{
    if (!g_undo.terminal_is_raw)
        return;
    tcsetattr(STDIN_FILENO, TCSADRAIN, &g_undo.saved_terminal);
    g_undo.terminal_is_raw = false;
}

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    va_list ap;

    restore_terminal(); /* so that the message is readable */
    fputs("vmxrun: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(STATUS_SETUP_FAILED);
}

static void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("vmxrun: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nUsage: vmxrun [OPTION]... [GUEST-IMAGE]...   (vmxrun --help for more)\n", stderr);
    exit(STATUS_USAGE);
}

/* ------------------------------------------------------------------------ */
/* Small helpers.                                                           */

static char *format_string(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *base_name(const char *path);
static char *format_string(const char *fmt, ...)
{
    va_list ap;
    int len;
    char *text;

    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0 || !(text = malloc((size_t)len + 1)))
        die("out of memory");
    va_start(ap, fmt);
    vsnprintf(text, (size_t)len + 1, fmt, ap);
    va_end(ap);
    return text;
}

static long long monotonic_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Writes all of buf, retrying short writes; false on error. */
static bool write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd wait_writable = { .fd = fd, .events = POLLOUT };

                poll(&wait_writable, 1, 100);
                continue;
            }
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static void write_text_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0 || !write_all(fd, text, strlen(text)) || close(fd) != 0)
        die("cannot write %s: %s", path, strerror(errno));
}

static bool copy_file(const char *from, const char *to)
{
    char buf[65536];
    ssize_t n;
    bool ok = true;
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = in < 0 ? -1 : open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (in < 0 || out < 0) {
        if (in >= 0)
            close(in);
        return false;
    }
    while ((n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || !write_all(out, buf, (size_t)n)) {
            ok = false;
            break;
        }
    }
    close(in);
    return close(out) == 0 && ok;
}

static void set_close_on_exec(int fd)
{
    fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
}

static void set_nonblocking(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void make_directories(const char *path)
{
    char *partial = format_string("%s", path);

    for (char *slash = strchr(partial + 1, '/');; slash = strchr(slash + 1, '/')) {
        if (slash)
            *slash = '\0';
        if (mkdir(partial, 0755) != 0 && errno != EEXIST)
            die("cannot create %s: %s", partial, strerror(errno));
        if (!slash)
            break;
        *slash = '/';
    }
    free(partial);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

static char *directory_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        return format_string(".");
    if (slash == path)
        return format_string("/");
    return format_string("%.*s", (int)(slash - path), path);
}

/* ------------------------------------------------------------------------ */
/* Signals.                                                                 */

static void on_signal(int sig)
{
    int saved_errno = errno;
    unsigned char byte = (unsigned char)sig;

    if (write(g_signal_pipe[1], &byte, 1) < 0) {
        /* the pipe is full: a wake-up is already pending */
    }
    errno = saved_errno;
}

static void install_signal_handlers(void)
{
    static const int caught[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD };
    struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

    if (pipe(g_signal_pipe) != 0)
        die("pipe: %s", strerror(errno));
    for (int i = 0; i < 2; i++) {
        set_close_on_exec(g_signal_pipe[i]);
        set_nonblocking(g_signal_pipe[i]);
    }
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof caught / sizeof caught[0]; i++)
        sigaction(caught[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed stdout shows up as EPIPE instead */
}

/* A signal that arrived while we were setting up ends the run before Bochs starts. */
static void exit_if_signalled(void)
{
    unsigned char sig;

    while (read(g_signal_pipe[0], &sig, 1) == 1)
        if (sig != SIGCHLD)
            exit(STATUS_SIGNAL_BASE + sig);
}

/* ------------------------------------------------------------------------ */
/* Command line.                                                            */

static void print_help(void)
{
    printf(
"Usage: vmxrun [OPTION]... [GUEST-IMAGE]...\n"
"Boot the vmxvisor hypervisor in Bochs and connect this terminal to its serial\n"
"console. Each GUEST-IMAGE is packed into the boot ISO as a multiboot2 module\n"
"named after its file name.\n"
"\n"
"  --batch               run unattended: stdin is not read, output is plain\n"
"                        text (CRLF turned into LF); types `quit` at the first\n"
"                        monitor prompt unless --exec says otherwise; with\n"
"                        --config, ends when every VM has ended instead\n"
"  --exec 'CMD; CMD'     with --batch: type each command at a prompt, then quit;\n"
"                        a step '@wait TEXT' waits until the console shows TEXT\n"
"                        (with --config: no quit; the VMs ending ends the run)\n"
"  --timeout SECONDS     stop the emulator after SECONDS (default %d with\n"
"                        --batch, none otherwise; 0: none)\n"
"  --pcpus N             emulated CPUs, 1..%d (Bochs' limit; default %d)\n"
"  --mem MB              emulated memory in MiB, %d..%d (default %d)\n"
"  --cpu-model NAME      Bochs CPU model (default %s; bochs-bin --help cpu)\n"
"  --config FILE         VM configuration, packed as the module vms.cfg; the\n"
"                        run ends when every VM has ended (docs/launcher.md)\n"
"  --vm-kernel FILE      one VM without --config (QEMU's -kernel): this kernel\n"
"                        (bzImage or multiboot ELF); it gets the console\n"
"  --vm-initrd FILE      its initrd (QEMU's -initrd)\n"
"  --vm-append 'CMDLINE' its command line (QEMU's -append)\n"
"  --vm-vcpus N          its vCPUs, 1..%d (QEMU's -smp; default 1); also\n"
"                        the emulated CPUs unless --pcpus says otherwise\n"
"  --vm-mem SIZE         its memory, MiB or with a K/M/G suffix (QEMU's -m;\n"
"                        default %d); the machine gets %d MiB more unless\n"
"                        --mem says otherwise\n"
"  --unchecked-config    do not check --config before the emulator starts (to\n"
"                        see what the hypervisor makes of a bad one)\n"
"  --ignore-vm-status    with --config or --vm-kernel: end with status 0 however\n"
"                        the VMs ended (by default a VM that failed does not)\n"
"  --hypervisor ELF      hypervisor image (default build/vmxvisor.elf)\n"
"  --append 'WORDS'      add WORDS to the hypervisor's command line\n"
"  --bare-linux 'CMDLINE'  no hypervisor: boot GUEST-IMAGE (a bzImage, then an\n"
"                        optional initrd) directly with that command line\n"
"  --bare-multiboot 'CMDLINE'  no hypervisor: boot the first GUEST-IMAGE as a\n"
"                        Multiboot2 kernel with that command line, the others\n"
"                        as its modules (e.g. build/guests/vmx_probe_bare.elf)\n"
"  --bochs-log PATH      keep Bochs' log at PATH (default build/run/bochs.log);\n"
"                        Bochs' terminal output goes beside it (*-term.log)\n"
"  --seed N|clock        the seed of Bochs' random numbers, which its RDRAND and\n"
"                        RDSEED return (default %d: every run the same; clock:\n"
"                        Bochs' own, from the time the run starts)\n"
"  --trace FILE          write to FILE every instruction Bochs runs between the\n"
"                        first two magic breakpoints (XCHG BX,BX) a guest\n"
"                        executes (exit_bench's `trace` word sets them;\n"
"                        tools/exit-profile reads the file)\n"
"  --keep                keep the private temporary directory, print its path\n"
"  --iso-only OUT.iso    only build the bootable ISO at OUT.iso (for QEMU/KVM\n"
"                        or real hardware), do not run anything\n"
"  --exit bochs|qemu|halt  with --iso-only: how the hypervisor ends the machine\n"
"                        (default halt)\n"
"  -h, --help            show this help\n"
"\n"
"Interactive keys: Ctrl-A x kills the emulator, Ctrl-A Ctrl-A sends Ctrl-A,\n"
"Ctrl-A h lists these keys.\n"
"\n"
"Exit status: the N of the hypervisor's `vmxvisor: exit status N` line (with\n"
"VMs: 0 if every VM started and ended with 0, else a failed VM's status, 5 if\n"
"one was not started, 6 if one ended without a status);\n"
"%d usage error; %d timeout; %d the emulator ended without an exit status;\n"
"%d the run could not be set up; %d killed with Ctrl-A x; 128+S on signal S.\n"
"Documentation: docs/launcher.md\n",
        DEFAULT_BATCH_TIMEOUT_S, MAX_PCPUS, DEFAULT_PCPUS, MIN_MEM_MB, MAX_MEM_MB,
        DEFAULT_MEM_MB, DEFAULT_CPU_MODEL, MAX_VM_VCPUS, DEFAULT_VM_MEM_MB, HYPERVISOR_MEM_MB,
        DEFAULT_SEED,
        STATUS_USAGE, STATUS_TIMEOUT,
        STATUS_NO_EXIT_STATUS, STATUS_SETUP_FAILED, STATUS_USER_QUIT);
}

static unsigned long parse_number(const char *option, const char *text, unsigned long min,
                                  unsigned long max)
{
    char *end;
    unsigned long value;

    errno = 0;
    value = strtoul(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || value < min || value > max)
        usage_error("%s wants a number from %lu to %lu, not '%s'", option, min, max, text);
    return value;
}

static enum exit_method parse_exit_method(const char *text)
{
    if (!strcmp(text, "bochs"))
        return EXIT_BOCHS;
    if (!strcmp(text, "qemu"))
        return EXIT_QEMU;
    if (!strcmp(text, "halt"))
        return EXIT_HALT;
    usage_error("--exit wants bochs, qemu or halt, not '%s'", text);
}

static void require_readable_file(const char *what, const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || access(path, R_OK) != 0)
        usage_error("%s '%s' is not a readable file", what, path);
}

/* Module names end up in grub.cfg and in the ISO's /boot: keep them plain. */
static bool is_plain_file_name(const char *name)
{
    if (!name[0] || name[0] == '.')
        return false;
    for (const char *p = name; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-", *p))
            return false;
    return true;
}

static void check_module_names(const struct options *opt)
{
    for (int i = 0; i < opt->module_count; i++) {
        const char *name = base_name(opt->modules[i]);

        require_readable_file("guest image", opt->modules[i]);
        if (!is_plain_file_name(name))
            usage_error("guest image name '%s' may only use letters, digits and . _ + -", name);
        /* vmxvisor.elf may be the hypervisor itself, as a guest (checked
         * when the ISO is laid out, stage_iso_tree). */
        if (!strcmp(name, "vms.cfg") || !strcmp(name, "grub"))
            usage_error("guest image name '%s' is reserved in the ISO's /boot", name);
        for (int j = 0; j < i; j++)
            if (!strcmp(name, base_name(opt->modules[j])))
                usage_error("two guest images are named '%s'", name);
    }
}

/* CPU model names are words; anything else could not be one and would garble
 * the bochsrc line it goes into. */
static bool is_word(const char *text)
{
    if (!text[0])
        return false;
    for (const char *p = text; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", *p))
            return false;
    return true;
}

/* "256", "256M", "1G", "512K": MiB without a suffix, as QEMU's -m. */
static unsigned parse_vm_mem(const char *text)
{
    char *end;
    unsigned long long value;

    errno = 0;
    value = strtoull(text, &end, 10);
    if (value > (unsigned long long)MAX_MEM_MB << 10)
        value = 0;      /* too large in any unit: refused below */
    unsigned long long kib = !*end || !strcmp(end, "M") || !strcmp(end, "m") ? value << 10
                             : !strcmp(end, "G") || !strcmp(end, "g")      ? value << 20
                             : !strcmp(end, "K") || !strcmp(end, "k")      ? value
                                                                           : 0;
    if (errno || end == text || text[0] == '-' || kib % 1024 || kib < 1024 ||
        kib > (unsigned long long)MAX_MEM_MB << 10)
        usage_error("--vm-mem wants a size from 1M to %uM (a number is MiB; K, M, G suffixes), "
                    "not '%s'", MAX_MEM_MB, text);
    return (unsigned)(kib >> 10);
}

/* --vm-kernel: the kernel and the initrd become the images, and the machine
 * fits the VM unless told otherwise. */
static void take_one_vm(struct options *opt)
{
    if (opt->config_file || opt->bare_linux || opt->bare_multiboot)
        usage_error("--vm-kernel describes the one VM itself: no --config, --bare-linux or "
                    "--bare-multiboot with it");
    if (opt->module_count)
        usage_error("--vm-kernel takes no further GUEST-IMAGE ('%s'); use --config for more",
                    opt->modules[0]);
    if (opt->vm_append && strchr(opt->vm_append, '\n'))
        usage_error("--vm-append: the command line is one line");
    /* It becomes a configuration line, where that starts a comment. */
    if (opt->vm_append && (opt->vm_append[0] == '#' || strstr(opt->vm_append, " #") ||
                           strstr(opt->vm_append, "\t#")))
        usage_error("--vm-append: a '#' after a blank would start a comment; write it "
                    "inside a word");
    if (!opt->vm_vcpus)
        opt->vm_vcpus = 1;
    if (!opt->vm_mem_mb)
        opt->vm_mem_mb = DEFAULT_VM_MEM_MB;
    if (!opt->pcpus_given)
        opt->pcpus = opt->vm_vcpus < MAX_PCPUS ? opt->vm_vcpus : MAX_PCPUS;
    if (!opt->mem_given) {
        unsigned need = opt->vm_mem_mb + HYPERVISOR_MEM_MB;
        opt->mem_mb = need > MAX_MEM_MB ? MAX_MEM_MB : need > DEFAULT_MEM_MB ? need : DEFAULT_MEM_MB;
    }
    static char *images[2];
    images[0] = (char *)opt->vm_kernel;
    images[1] = (char *)opt->vm_initrd;
    opt->modules = images;
    opt->module_count = opt->vm_initrd ? 2 : 1;
}

/* The configuration --vm-kernel stands for (docs/launcher.md). */
static char *one_vm_config(const struct options *opt)
{
    return format_string("# written by vmxrun for --vm-kernel\n[vm " ONE_VM_NAME "]\n"
                         "image = %s\n%s%s%svcpus = %u\nmemory = %uM\ncmdline = %s\n",
                         base_name(opt->vm_kernel), opt->vm_initrd ? "initrd = " : "",
                         opt->vm_initrd ? base_name(opt->vm_initrd) : "",
                         opt->vm_initrd ? "\n" : "", opt->vm_vcpus, opt->vm_mem_mb,
                         opt->vm_append ? opt->vm_append : "");
}

static void check_option_combinations(struct options *opt, bool timeout_given)
{
    if (!is_word(opt->cpu_model))
        usage_error("Bochs has no CPU model '%s' (see: bochs-bin --help cpu)", opt->cpu_model);
    if (opt->exec_commands && !opt->batch)
        usage_error("--exec needs --batch");
    if (opt->exit_method_given && !opt->iso_only)
        usage_error("--exit only applies to --iso-only (Bochs runs always use exit=bochs)");
    if (opt->trace && opt->iso_only)
        usage_error("--trace traces a Bochs run; --iso-only runs nothing");
    if (!opt->iso_only)
        opt->exit_method = EXIT_BOCHS;
    if (!timeout_given)
        opt->timeout_s = opt->batch ? DEFAULT_BATCH_TIMEOUT_S : 0;
    if (opt->config_file)
        require_readable_file("--config", opt->config_file);
    if (opt->hypervisor)
        require_readable_file("--hypervisor", opt->hypervisor);
    if (opt->bare_linux && (opt->module_count < 1 || opt->module_count > 2 || opt->config_file))
        usage_error("--bare-linux takes a kernel and optionally an initrd, and no --config");
    if (opt->bare_multiboot && (opt->module_count < 1 || opt->config_file || opt->bare_linux))
        usage_error("--bare-multiboot takes a kernel and optionally modules, and no --config "
                    "or --bare-linux");
    if ((opt->vm_initrd || opt->vm_append || opt->vm_vcpus || opt->vm_mem_mb) && !opt->vm_kernel)
        usage_error("--vm-initrd, --vm-append, --vm-vcpus and --vm-mem need --vm-kernel");
    if (opt->vm_kernel)
        take_one_vm(opt);
    if (opt->ignore_vm_status && !opt->config_file && !opt->vm_kernel)
        usage_error("--ignore-vm-status needs --config or --vm-kernel");
    check_module_names(opt);
}

/* Command-line words land in GRUB's configuration: nothing GRUB would interpret. */
static void check_grub_safe(const char *option, const char *words)
{
    for (const char *ch = words; *ch; ch++)
        if (!isalnum((unsigned char)*ch) && !strchr(" =,._-", *ch))
            usage_error("%s: only letters, digits, spaces and =,._- are allowed", option);
}

static void parse_options(int argc, char **argv, struct options *opt)
{
    enum { OPT_BATCH = 256, OPT_PCPUS, OPT_MEM, OPT_CPU_MODEL, OPT_CONFIG, OPT_EXEC,
           OPT_TIMEOUT, OPT_ISO_ONLY, OPT_EXIT, OPT_BOCHS_LOG, OPT_HYPERVISOR, OPT_KEEP,
           OPT_APPEND, OPT_BARE_LINUX, OPT_BARE_MULTIBOOT, OPT_VM_KERNEL, OPT_VM_INITRD,
           OPT_VM_APPEND, OPT_VM_VCPUS, OPT_VM_MEM, OPT_IGNORE_VM_STATUS, OPT_UNCHECKED_CONFIG,
           OPT_TRACE, OPT_SEED };
    static const struct option long_options[] = {
        { "batch", no_argument, NULL, OPT_BATCH },
        { "pcpus", required_argument, NULL, OPT_PCPUS },
        { "mem", required_argument, NULL, OPT_MEM },
        { "cpu-model", required_argument, NULL, OPT_CPU_MODEL },
        { "config", required_argument, NULL, OPT_CONFIG },
        { "exec", required_argument, NULL, OPT_EXEC },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "iso-only", required_argument, NULL, OPT_ISO_ONLY },
        { "exit", required_argument, NULL, OPT_EXIT },
        { "bochs-log", required_argument, NULL, OPT_BOCHS_LOG },
        { "trace", required_argument, NULL, OPT_TRACE },
        { "seed", required_argument, NULL, OPT_SEED },
        { "hypervisor", required_argument, NULL, OPT_HYPERVISOR },
        { "vm-kernel", required_argument, NULL, OPT_VM_KERNEL },
        { "vm-initrd", required_argument, NULL, OPT_VM_INITRD },
        { "vm-append", required_argument, NULL, OPT_VM_APPEND },
        { "vm-vcpus", required_argument, NULL, OPT_VM_VCPUS },
        { "vm-mem", required_argument, NULL, OPT_VM_MEM },
        { "ignore-vm-status", no_argument, NULL, OPT_IGNORE_VM_STATUS },
        { "unchecked-config", no_argument, NULL, OPT_UNCHECKED_CONFIG },
        { "append", required_argument, NULL, OPT_APPEND },
        { "bare-linux", required_argument, NULL, OPT_BARE_LINUX },
        { "bare-multiboot", required_argument, NULL, OPT_BARE_MULTIBOOT },
        { "keep", no_argument, NULL, OPT_KEEP },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool timeout_given = false;
    int c;

    *opt = (struct options){
        .pcpus = DEFAULT_PCPUS,
        .mem_mb = DEFAULT_MEM_MB,
        .cpu_model = DEFAULT_CPU_MODEL,
        .exit_method = EXIT_HALT,
        .seed = DEFAULT_SEED,
    };
    opterr = 0; /* we word the errors ourselves */
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_BATCH: opt->batch = true; break;
        case OPT_PCPUS:
            opt->pcpus = (unsigned)parse_number("--pcpus", optarg, 1, MAX_PCPUS);
            opt->pcpus_given = true;
            break;
        case OPT_MEM:
            opt->mem_mb = (unsigned)parse_number("--mem", optarg, MIN_MEM_MB, MAX_MEM_MB);
            opt->mem_given = true;
            break;
        case OPT_VM_KERNEL: opt->vm_kernel = optarg; break;
        case OPT_VM_INITRD: opt->vm_initrd = optarg; break;
        case OPT_VM_APPEND: opt->vm_append = optarg; break;
        case OPT_VM_VCPUS:
            opt->vm_vcpus = (unsigned)parse_number("--vm-vcpus", optarg, 1, MAX_VM_VCPUS);
            break;
        case OPT_VM_MEM: opt->vm_mem_mb = parse_vm_mem(optarg); break;
        case OPT_IGNORE_VM_STATUS: opt->ignore_vm_status = true; break;
        case OPT_UNCHECKED_CONFIG: opt->unchecked_config = true; break;
        case OPT_CPU_MODEL: opt->cpu_model = optarg; break;
        case OPT_CONFIG: opt->config_file = optarg; break;
        case OPT_EXEC: opt->exec_commands = optarg; break;
        case OPT_TIMEOUT:
            opt->timeout_s = (long)parse_number("--timeout", optarg, 0, 100000000);
            timeout_given = true;
            break;
        case OPT_ISO_ONLY: opt->iso_only = optarg; break;
        case OPT_APPEND:
            check_grub_safe("--append", optarg);
            opt->append = optarg;
            break;
        case OPT_BARE_LINUX:
            check_grub_safe("--bare-linux", optarg);
            opt->bare_linux = optarg;
            break;
        case OPT_BARE_MULTIBOOT:
            check_grub_safe("--bare-multiboot", optarg);
            opt->bare_multiboot = optarg;
            break;
        case OPT_EXIT:
            opt->exit_method = parse_exit_method(optarg);
            opt->exit_method_given = true;
            break;
        case OPT_BOCHS_LOG: opt->bochs_log = optarg; break;
        case OPT_TRACE: opt->trace = optarg; break;
        case OPT_SEED:
            opt->clock_seed = !strcmp(optarg, "clock");
            if (!opt->clock_seed)
                opt->seed = parse_number("--seed", optarg, 0, UINT32_MAX);
            break;
        case OPT_HYPERVISOR: opt->hypervisor = optarg; break;
        case OPT_KEEP: opt->keep = true; break;
        case 'h': print_help(); exit(0);
        case ':': usage_error("option '%s' needs an argument", argv[optind - 1]);
        default: usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    opt->modules = argv + optind;
    opt->module_count = argc - optind;
    check_option_combinations(opt, timeout_given);
}

/* ------------------------------------------------------------------------ */
/* The configuration, checked before the emulator starts.                   */

static unsigned config_problems;

static void report_config_problem(const char *message)
{
    fprintf(stderr, "vmxrun: %s\n", message);
    config_problems++;
}

static void config_problem(const char *file, const struct vm_config *vm, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void config_problem(const char *file, const struct vm_config *vm, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "vmxrun: %s:%u: vm %s: ", file, vm->line, vm->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    config_problems++;
}

static bool is_given_image(const struct options *opt, const char *name)
{
    for (int i = 0; i < opt->module_count; i++)
        if (!strcmp(name, base_name(opt->modules[i])))
            return true;
    return false;
}

/* A VM's image, initrd or module names a file given on the command line, by
 * its file name: the name it has in the ISO and among the boot modules. */
static void check_image_name(const struct options *opt, const char *file,
                             const struct vm_config *vm, const char *key, const char *name)
{
    if (is_given_image(opt, name))
        return;
    if (strchr(name, '/')) {
        config_problem(file, vm, "%s '%s': name the file, not a path (give the file after the "
                       "options, and here its name '%s')", key, name, base_name(name));
        return;
    }
    char given[1024] = "";
    for (int i = 0; i < opt->module_count; i++)
        snprintf(given + strlen(given), sizeof given - strlen(given), "%s%s", i ? ", " : "",
                 base_name(opt->modules[i]));
    config_problem(file, vm, "%s '%s' is not among the guest images given (%s)", key, name,
                   opt->module_count ? given : "none: give the files after the options");
}

/* --iso-only: the ISO boots elsewhere, on a machine --pcpus and --mem do
 * not describe; overcommit: the hypervisor takes a VM larger than what it
 * can reserve. */
static void check_vm_against_machine(const struct options *opt, const char *file,
                                     const struct vm_config *vm, bool overcommit)
{
    check_image_name(opt, file, vm, "image", vm->image);
    if (vm->initrd[0])
        check_image_name(opt, file, vm, "initrd", vm->initrd);
    char modules[VM_MODULES_MAX];
    snprintf(modules, sizeof modules, "%s", vm->modules);
    for (char *save, *m = strtok_r(modules, " \t", &save); m; m = strtok_r(NULL, " \t", &save))
        check_image_name(opt, file, vm, "modules", m);
    if (opt->iso_only)
        return;
    uint64_t cpus = (1ull << opt->pcpus) - 1;
    if (vm->affinity != ~0ull && (vm->affinity & ~cpus))
        config_problem(file, vm, "affinity names CPU %d, but the machine has %u CPU(s) "
                       "(--pcpus)", 63 - __builtin_clzll(vm->affinity), opt->pcpus);
    if (!overcommit && vm->memory >= (uint64_t)opt->mem_mb << 20)
        config_problem(file, vm, "memory %llu MiB does not fit in the machine's %u MiB (--mem)",
                       (unsigned long long)(vm->memory >> 20), opt->mem_mb);
}

/* The hypervisor's parser on the host: a configuration it would refuse in
 * part, or one that cannot fit the machine given, stops the run here, with
 * the file's own name, before a minute of emulation shows the same. */
static void check_config(const struct options *opt, const char *shown_name)
{
    static struct vm_config_set set;
    FILE *f = fopen(opt->config_file, "rb");
    char *text = malloc(1 << 20);
    size_t len = 0;

    if (!f || !text)
        usage_error("--config '%s': %s", opt->config_file, strerror(errno));
    len = fread(text, 1, 1 << 20, f);
    fclose(f);
    vm_config_parse(shown_name, text, len, &set, report_config_problem);
    free(text);
    uint64_t total_mb = 0;
    for (size_t i = 0; i < set.count; i++) {
        if (set.vms[i].valid)
            check_vm_against_machine(opt, shown_name, &set.vms[i], set.global.overcommit);
        total_mb += set.vms[i].memory >> 20;
    }
    if (!set.global.overcommit && !opt->iso_only && total_mb >= opt->mem_mb)
        report_config_problem(format_string("%s: the VMs' memory, %llu MiB in all, does not fit in "
                                            "the machine's %u MiB (--mem; or overcommit = on in "
                                            "[global])", shown_name,
                                            (unsigned long long)total_mb, opt->mem_mb));
    if (config_problems) {
        fprintf(stderr, "vmxrun: %s: %u problem(s); nothing started (--unchecked-config passes "
                "it on as it is)\n", shown_name, config_problems);
        exit(STATUS_USAGE);
    }
}

/* ------------------------------------------------------------------------ */
/* Running helper programs.                                                 */

/* Runs argv with stdin from /dev/null and stdout+stderr into output_path;
 * returns its wait status. */
static int run_capturing_output(char *const argv[], const char *output_path)
{
    int status;
    pid_t pid = fork();

    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        int out = open(output_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int null = open("/dev/null", O_RDONLY);

        if (out < 0 || null < 0)
            _exit(127);
        dup2(null, STDIN_FILENO);
        dup2(out, STDOUT_FILENO);
        dup2(out, STDERR_FILENO);
        signal(SIGPIPE, SIG_DFL);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid: %s", strerror(errno));
    return status;
}

static bool exited_successfully(int wait_status)
{
    return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
}

static void print_file_to_stderr(const char *path)
{
    char buf[4096];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        if (!write_all(STDERR_FILENO, buf, (size_t)n))
            break;
    close(fd);
}

/* Asks Bochs for its CPU models (one per line in `--help cpu`). */
static bool bochs_knows_cpu_model(const char *model, const char *private_dir)
{
    char *list_path = format_string("%s/cpu-models", private_dir);
    char *const argv[] = { BOCHS_PROGRAM, "--help", "cpu", NULL };
    char line[256];
    bool known = false;
    FILE *list;
    int status = run_capturing_output(argv, list_path);

    list = fopen(list_path, "r");
    while (list && fgets(line, sizeof line, list)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!strcmp(line, model))
            known = true;
    }
    if (list)
        fclose(list);
    free(list_path);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        die("cannot run %s: install Bochs with tools/install-deps", BOCHS_PROGRAM);
    return known;
}

/* ------------------------------------------------------------------------ */
/* The private directory.                                                   */

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *make_private_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = format_string("%s/vmxrun.XXXXXX", tmp && *tmp ? tmp : "/tmp");

    if (!mkdtemp(dir))
        die("cannot create a directory in %s: %s", tmp && *tmp ? tmp : "/tmp", strerror(errno));
    /* Paths are written quoted into bochsrc, which has no escapes. */
    if (strpbrk(dir, "\"\n"))
        die("the temporary directory path '%s' contains a quote or newline", dir);
    return dir;
}

/* ------------------------------------------------------------------------ */
/* The bootable ISO.                                                        */

static const char *exit_token(enum exit_method method)
{
    switch (method) {
    case EXIT_BOCHS: return "exit=bochs";
    case EXIT_QEMU: return "exit=qemu";
    case EXIT_HALT: break;
    }
    return "exit=halt";
}

/* The same machine with no hypervisor: GRUB's Linux loader boots the kernel
 * (for comparisons such as the linux_boot_overhead benchmark). */
static char *bare_linux_menu(const struct options *opt)
{
    return format_string("set timeout=0\nset default=0\n\n"
                         "menuentry \"linux\" {\n"
                         "\tlinux /boot/%s %s\n%s%s%s\tboot\n}\n",
                         base_name(opt->modules[0]), opt->bare_linux,
                         opt->module_count > 1 ? "\tinitrd /boot/" : "",
                         opt->module_count > 1 ? base_name(opt->modules[1]) : "",
                         opt->module_count > 1 ? "\n" : "");
}

/* Ends a multiboot2 menu entry: each file as a module named by its file
 * name, then boot. */
static char *finish_multiboot2_menu(char *menu, char *const *modules, int count)
{
    for (int i = 0; i < count; i++) {
        const char *name = base_name(modules[i]);
        char *more = format_string("%s\tmodule2 /boot/%s %s\n", menu, name, name);
        free(menu);
        menu = more;
    }
    char *complete = format_string("%s\tboot\n}\n", menu);
    free(menu);
    return complete;
}

/* The same machine with no hypervisor: GRUB's multiboot2 loader boots the
 * first image, such as a test guest's bare-metal build (guests/runtime/
 * bare_start.S), which ends the run as the hypervisor does. */
static char *bare_multiboot_menu(const struct options *opt)
{
    char *menu = format_string("set timeout=0\nset default=0\n\n"
                               "menuentry \"bare\" {\n"
                               "\tmultiboot2 /boot/%s %s\n",
                               base_name(opt->modules[0]), opt->bare_multiboot);
    return finish_multiboot2_menu(menu, opt->modules + 1, opt->module_count - 1);
}

static char *grub_menu(const struct options *opt)
{
    if (opt->bare_linux)
        return bare_linux_menu(opt);
    if (opt->bare_multiboot)
        return bare_multiboot_menu(opt);
    /* "batch": the hypervisor ends by itself once every configured VM has,
     * as QEMU does when its VM powers off, with a status that says how they
     * ended ("vm_status=ignore": 0 regardless). An ISO for elsewhere keeps
     * its monitor. The one VM of --vm-kernel has the console from the start
     * when someone types (-serial stdio). */
    bool with_vms = opt->config_file && !opt->iso_only;
    char *menu = format_string("set timeout=0\nset default=0\n\n"
                               "menuentry \"vmxvisor\" {\n"
                               "\tmultiboot2 /boot/vmxvisor.elf %s%s%s%s%s%s\n",
                               exit_token(opt->exit_method), with_vms ? " batch" : "",
                               with_vms && opt->ignore_vm_status ? " vm_status=ignore" : "",
                               opt->vm_kernel && !opt->batch ? " console=" ONE_VM_NAME : "",
                               opt->append ? " " : "", opt->append ? opt->append : "");

    if (opt->config_file) {
        char *more = format_string("%s\tmodule2 /boot/vms.cfg vms.cfg\n", menu);
        free(menu);
        menu = more;
    }
    return finish_multiboot2_menu(menu, opt->modules, opt->module_count);
}

static void stage_file(const char *from, const char *iso_boot_dir, const char *name)
{
    char *to = format_string("%s/%s", iso_boot_dir, name);

    if (!copy_file(from, to))
        die("cannot copy %s into the ISO tree: %s", from, strerror(errno));
    free(to);
}

/* Lays out isodir/boot/{vmxvisor.elf, vms.cfg, modules, grub/grub.cfg}. */
static char *stage_iso_tree(const struct options *opt, const char *kernel, const char *private_dir)
{
    char *iso_root = format_string("%s/isodir", private_dir);
    char *boot_dir = format_string("%s/boot", iso_root);
    char *grub_dir = format_string("%s/grub", boot_dir);
    char *grub_cfg = format_string("%s/grub.cfg", grub_dir);
    char *menu = grub_menu(opt);

    make_directories(grub_dir);
    stage_file(kernel, boot_dir, "vmxvisor.elf");
    if (opt->config_file)
        stage_file(opt->config_file, boot_dir, "vms.cfg");
    for (int i = 0; i < opt->module_count; i++) {
        const char *name = base_name(opt->modules[i]);
        if (strcmp(name, "vmxvisor.elf")) {
            stage_file(opt->modules[i], boot_dir, name);
            continue;
        }
        /* The hypervisor as a guest of itself: the same file, already there. */
        struct stat a, b;
        if (stat(kernel, &a) != 0 || stat(opt->modules[i], &b) != 0 || a.st_dev != b.st_dev ||
            a.st_ino != b.st_ino)
            usage_error("guest image '%s' is not the hypervisor being booted (%s): give it "
                        "another name", opt->modules[i], kernel);
    }
    write_text_file(grub_cfg, menu);
    free(menu);
    free(grub_cfg);
    free(grub_dir);
    free(boot_dir);
    return iso_root;
}

/* For Bochs runs the ISO carries only the GRUB modules our menu needs and no
 * fonts, locales or themes: GRUB then reads a 1 MB instead of a 9 MB image,
 * which saves about a second per run. An ISO for other machines keeps
 * grub-mkrescue's full set, as firmware there varies. */
static char *build_iso(const struct options *opt, const char *kernel, const char *private_dir)
{
    char *iso_root = stage_iso_tree(opt, kernel, private_dir);
    char *iso = format_string("%s/vmxvisor.iso", private_dir);
    char *output = format_string("%s/grub-mkrescue.out", private_dir);
    char *const full_argv[] = {
        "grub-mkrescue", "-d", GRUB_PLATFORM_DIR, "-o", iso, iso_root, NULL,
    };
    char *const lean_argv[] = {
        "grub-mkrescue", "-d", GRUB_PLATFORM_DIR, "--install-modules=" GRUB_MODULES_FOR_BOCHS,
        "--locales=", "--fonts=", "--themes=", "-o", iso, iso_root, NULL,
    };
    char *const *argv = opt->iso_only ? full_argv : lean_argv;

    /* grub-mkrescue is chatty even on success: show its words only on failure. */
    if (!exited_successfully(run_capturing_output(argv, output))) {
        exit_if_signalled(); /* Ctrl-C reached grub-mkrescue too: no need to explain */
        print_file_to_stderr(output);
        die("grub-mkrescue failed (tools/install-deps installs grub-pc-bin, xorriso, mtools)");
    }
    free(output);
    free(iso_root);
    return iso;
}

/* ------------------------------------------------------------------------ */
/* Pseudo-terminals.                                                        */

struct pty {
    int master;
    int slave; /* held open so that the master never reads as hung up */
    char *slave_path;
};

static void open_pty(struct pty *pty)
{
    struct termios raw;
    const char *name;

    pty->master = posix_openpt(O_RDWR | O_NOCTTY);
    if (pty->master < 0 || grantpt(pty->master) != 0 || unlockpt(pty->master) != 0 ||
        !(name = ptsname(pty->master)))
        die("cannot create a pseudo-terminal: %s", strerror(errno));
    pty->slave_path = format_string("%s", name);
    pty->slave = open(pty->slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (pty->slave < 0)
        die("cannot open %s: %s", pty->slave_path, strerror(errno));
    /* Bytes pass unchanged both ways: no echo, no CR/LF mapping, no signals. */
    tcgetattr(pty->slave, &raw);
    cfmakeraw(&raw);
    tcsetattr(pty->slave, TCSANOW, &raw);
    set_close_on_exec(pty->master);
    set_nonblocking(pty->master);
}

/* ------------------------------------------------------------------------ */
/* Bochs.                                                                   */

static char *bochsrc_text(const struct options *opt, const char *iso, const char *serial_tty,
                          const char *log)
{
    /* --trace: a guest's XCHG BX,BX (Bochs' magic breakpoint) stops in the
     * debugger, whose output (the trace) goes to its own file. */
    char *trace = opt->trace ? format_string("magic_break: enabled=1\ndebugger_log: \"%s\"\n",
                                             g_undo.trace_source)
                             : format_string("magic_break: enabled=0\n");
    char *text = format_string(
        "# Written by tools/vmxrun for one run.\n"
        "plugin_ctrl: speaker=0, gameport=0, parallel=0\n"
        "config_interface: textconfig\n"
        "display_library: term\n"
        "cpu: model=%s, count=%u, ips=%d, reset_on_triple_fault=0\n"
        "memory: guest=%u, host=%u\n"
        "romimage: file=\"%s\", options=fastboot\n"
        "vgaromimage: file=\"%s\"\n"
        "ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14\n"
        "ata0-master: type=cdrom, path=\"%s\", status=inserted\n"
        "boot: cdrom\n"
        "clock: sync=none, time0=%d\n"
        "com1: enabled=1, mode=term, dev=\"%s\"\n"
        "mouse: enabled=0\n"
        "%s"
        "log: \"%s\"\n"
        "panic: action=fatal\n"
        "error: action=report\n"
        "info: action=ignore\n"
        "debug: action=ignore\n",
        opt->cpu_model, opt->pcpus, EMULATED_IPS, opt->mem_mb,
        opt->mem_mb < MAX_BOCHS_HOST_MB ? opt->mem_mb : MAX_BOCHS_HOST_MB, BOCHS_BIOS,
        BOCHS_VGA_BIOS, iso, FIXED_TIME0, serial_tty, trace, log);
    free(trace);
    return text;
}

/* Runs in the child: Bochs gets a session of its own whose controlling
 * terminal is stdio_tty, so that it never reads or draws on the user's
 * terminal and dies when we do. */
static void exec_bochs(const char *work_dir, const char *bochsrc, const char *debugger_rc,
                       int stdio_tty, int error_fd, pid_t launcher) __attribute__((noreturn));
static void exec_bochs(const char *work_dir, const char *bochsrc, const char *debugger_rc,
                       int stdio_tty, int error_fd, pid_t launcher)
{
    /* --seed: bochs_seed.so (tools/bochs_seed.c) gives Bochs' srand the
     * seed; the path is absolute (Bochs runs in the private directory). */
    if (g_seed.preload) {
        const char *preload = getenv("LD_PRELOAD");
        char *both = preload && *preload ? format_string("%s:%s", g_seed.preload, preload)
                                         : format_string("%s", g_seed.preload);
        setenv("LD_PRELOAD", both, 1);
        setenv("VMXRUN_BOCHS_SEED", g_seed.value, 1);
    }
    char *const argv[] = {
        BOCHS_PROGRAM, "-q", "-f", (char *)bochsrc, "-rc", (char *)debugger_rc, NULL,
    };
    sigset_t none;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != launcher) /* it died before prctl() took effect */
        _exit(127);
    setsid();
    ioctl(stdio_tty, TIOCSCTTY, 0);
    dup2(stdio_tty, STDIN_FILENO);
    dup2(stdio_tty, STDOUT_FILENO);
    dup2(stdio_tty, STDERR_FILENO);
    signal(SIGPIPE, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setenv("TERM", BOCHS_TERMINAL_TYPE, 1); /* the term display's curses needs one */
    setenv("TZ", "UTC0", 1); /* the RTC shows time0 in local time: make that the same everywhere */
    if (chdir(work_dir) != 0) /* anything Bochs drops lands in the private dir */
        _exit(127);
    execvp(argv[0], argv);
    dprintf(error_fd, "vmxrun: cannot run %s: %s (tools/install-deps installs it)\n", argv[0],
            strerror(errno));
    _exit(127);
}

static pid_t spawn_bochs(const char *work_dir, const char *bochsrc, const char *debugger_rc,
                         const struct pty *stdio)
{
    int error_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    pid_t launcher = getpid();
    pid_t pid = fork();

    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0)
        exec_bochs(work_dir, bochsrc, debugger_rc, stdio->slave, error_fd, launcher);
    close(error_fd);
    return pid;
}

static void signal_emulator(pid_t pid, int sig)
{
    if (kill(-pid, sig) != 0) /* it may not have called setsid() yet */
        kill(pid, sig);
}

static bool emulator_exited(pid_t pid);
static void reap_emulator(pid_t pid);

/* Asks Bochs to quit (SIGHUP: its term display turns that into a clean stop
 * that flushes the log), then kills its whole session if it lingers. */
static void stop_emulator(void)
{
    pid_t pid = g_undo.emulator_pid;
    long long give_up = monotonic_ms() + HANGUP_GRACE_MS;

    if (pid <= 0)
        return;
    signal_emulator(pid, SIGHUP);
    while (!emulator_exited(pid)) {
        if (monotonic_ms() >= give_up) {
            signal_emulator(pid, SIGKILL);
            break;
        }
        poll(NULL, 0, 20);
    }
    reap_emulator(pid);
}

/* ------------------------------------------------------------------------ */
/* Console output: newline normalisation and what the hypervisor says.      */

/* Turns CRLF (and LFCR) into LF for plain-text consumers. */
struct newline_filter {
    bool active;
    bool held_cr;  /* a CR waits to see whether an LF follows */
    bool after_lf; /* a CR right after an LF is dropped too */
};

static size_t filter_newlines(struct newline_filter *f, const char *in, size_t len, char *out)
{
    size_t n = 0;

    if (!f->active) {
        memcpy(out, in, len);
        return len;
    }
    for (size_t i = 0; i < len; i++) {
        char c = in[i];

        if (c == '\r') {
            if (f->after_lf)
                f->after_lf = false;
            else if (f->held_cr)
                out[n++] = '\r';
            else
                f->held_cr = true;
            continue;
        }
        if (f->held_cr && c != '\n')
            out[n++] = '\r';
        f->held_cr = false;
        f->after_lf = c == '\n';
        out[n++] = c;
    }
    return n;
}

struct console_watch {
    char tail[sizeof MONITOR_PROMPT - 1]; /* last bytes seen, to spot the prompt */
    char line[512];                       /* current line, to spot the exit status */
    size_t line_len;
    bool exit_status_seen;
    int exit_status;
};

/* Parses "...vmxvisor: exit status N" with N in 0..255 and nothing after. */
/* The mark counts only at the start of a line: guest output is printed as
 * "[vm] ..." and cannot start a line of its own, so it cannot fake it. */
static bool parse_exit_status_line(const char *line, int *status)
{
    const char *p;
    int value = 0;

    while (*line == '\r')
        line++;
    if (strncmp(line, EXIT_STATUS_MARK, strlen(EXIT_STATUS_MARK)))
        return false;
    p = line + strlen(EXIT_STATUS_MARK);
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        value = value * 10 + (*p - '0');
        if (value > 255)
            return false;
    }
    while (*p == ' ' || *p == '\t' || *p == '\r')
        p++;
    if (*p)
        return false;
    *status = value;
    return true;
}

static void watch_end_of_line(struct console_watch *w)
{
    w->line[w->line_len] = '\0';
    if (!w->exit_status_seen && parse_exit_status_line(w->line, &w->exit_status))
        w->exit_status_seen = true;
    w->line_len = 0;
}

/* Feeds one console byte; returns true when it completes a monitor prompt. */
static bool watch_console_byte(struct console_watch *w, char c)
{
    const size_t tail_len = sizeof w->tail;

    memmove(w->tail, w->tail + 1, tail_len - 1);
    w->tail[tail_len - 1] = c;
    if (c == '\n')
        watch_end_of_line(w);
    else if (w->line_len < sizeof w->line - 1)
        w->line[w->line_len++] = c;
    return !memcmp(w->tail, MONITOR_PROMPT, tail_len);
}

/* The console's last line may lack its newline: the UART still held it
 * when the hypervisor made Bochs quit. */
static void watch_end_of_output(struct console_watch *w)
{
    if (w->line_len > 0)
        watch_end_of_line(w);
}

/* ------------------------------------------------------------------------ */
/* Typing into the console at a pace it can take.                           */

/*
 * Bochs moves a byte from the pty into the UART's 16-byte receive FIFO every
 * byte time whether or not the FIFO has room; bytes typed far ahead of the
 * hypervisor's reading are lost (measured: pasting three commands lost
 * characters of the third). The pacer therefore types at most a FIFO's worth
 * at a time and waits for its echo, and after an end of line for the next
 * prompt, typing on anyway after a while so that a console that does not
 * echo still gets its input. What the terminal sent at once stays together
 * within that limit: an escape sequence (an arrow key, the terminal's answer
 * to a cursor-position query) split over two waits would reach a line
 * editor as separate keys.
 */
#define PACER_CHUNK 16
struct pacer {
    char *queue; /* bytes waiting to be typed */
    size_t head, tail, size;
    /* WAIT_OUTPUT: after an escape sequence or a control key, whose answer
     * (a redrawn line, or nothing) is no echo of it */
    enum { WAIT_NOTHING, WAIT_ECHO, WAIT_OUTPUT, WAIT_PROMPT } waiting;
    /* WAIT_ECHO: the piece's printable bytes, to be seen echoed in order
     * (other output may come between them) */
    char echo[PACER_CHUNK];
    size_t echo_len, echoed;
    long long wait_deadline_ms;
    int echo_wait_ms;   /* how long to wait for an echo */
    int prompt_wait_ms; /* how long to wait for a prompt after CR/LF */
    unsigned missed_echoes;
};

static void pacer_init(struct pacer *p, int echo_wait_ms, int prompt_wait_ms)
{
    *p = (struct pacer){ .echo_wait_ms = echo_wait_ms, .prompt_wait_ms = prompt_wait_ms };
}

static bool pacer_idle(const struct pacer *p)
{
    return p->waiting == WAIT_NOTHING && p->head == p->tail;
}

/* Length of the escape sequence at bytes[0] (ECMA-48: ESC [ or ESC O, then
 * parameters, up to a final byte 0x40..0x7e; ESC and one byte otherwise),
 * or 0 if len bytes do not hold all of it. */
static size_t escape_sequence_length(const char *bytes, size_t len)
{
    if (len < 2)
        return 0;
    if (bytes[1] != '[' && bytes[1] != 'O')
        return 2;
    for (size_t i = 2; i < len; i++)
        if (bytes[i] >= 0x40 && bytes[i] <= 0x7e)
            return i + 1;
    return 0;
}

/* How many of the len queued bytes go in one write: at most a FIFO's worth,
 * up to and including an end of line (the prompt comes next), and no escape
 * sequence cut in two unless it is longer than the FIFO. */
static size_t pacer_chunk_length(const char *bytes, size_t len)
{
    size_t n = len < PACER_CHUNK ? len : PACER_CHUNK;

    for (size_t i = 0; i < n; i++) {
        if (bytes[i] == '\r' || bytes[i] == '\n')
            return i + 1;
        if (bytes[i] == '\033') {
            size_t seq = escape_sequence_length(bytes + i, len - i);
            if (seq && i + seq > n)
                return i ? i : n;   /* it goes first in the next write */
            if (seq)
                i += seq - 1;
        }
    }
    return n;
}

/* Types the next chunk of queued bytes once the last one was answered. */
static void pacer_pump(struct pacer *p, int serial_fd)
{
    if (p->waiting == WAIT_NOTHING && p->head < p->tail) {
        const char *chunk = p->queue + p->head;
        size_t n = pacer_chunk_length(chunk, p->tail - p->head);
        char last = chunk[n - 1];
        bool end_of_line = last == '\r' || last == '\n';

        if (!write_all(serial_fd, chunk, n))
            die("cannot write to the serial console: %s", strerror(errno));
        p->head += n;
        p->waiting = end_of_line ? WAIT_PROMPT
                     : last >= ' ' && last <= '~' && !memchr(chunk, '\033', n) ? WAIT_ECHO
                                                                            : WAIT_OUTPUT;
        p->echo_len = p->echoed = 0;
        for (size_t i = 0; i < n; i++)
            if (chunk[i] >= ' ' && chunk[i] <= '~')
                p->echo[p->echo_len++] = chunk[i];
        p->wait_deadline_ms = monotonic_ms() + (end_of_line ? p->prompt_wait_ms : p->echo_wait_ms);
    }
    if (p->head == p->tail)
        p->head = p->tail = 0;
}

static void pacer_type(struct pacer *p, const char *bytes, size_t len, int serial_fd)
{
    if (p->tail + len > p->size) {
        size_t size = p->size ? p->size : 256;

        while (p->tail + len > size)
            size *= 2;
        if (!(p->queue = realloc(p->queue, size)))
            die("out of memory");
        p->size = size;
    }
    memcpy(p->queue + p->tail, bytes, len);
    p->tail += len;
    pacer_pump(p, serial_fd);
}

static void pacer_on_output(struct pacer *p, char c, bool prompt_completed, int serial_fd)
{
    if (p->waiting == WAIT_ECHO && c == p->echo[p->echoed])
        p->echoed++;
    if ((p->waiting == WAIT_ECHO && p->echoed == p->echo_len) || p->waiting == WAIT_OUTPUT ||
        (p->waiting == WAIT_PROMPT && prompt_completed)) {
        p->waiting = WAIT_NOTHING;
        pacer_pump(p, serial_fd);
    }
}

static void pacer_on_clock(struct pacer *p, long long now_ms, int serial_fd)
{
    if (p->waiting == WAIT_NOTHING || now_ms < p->wait_deadline_ms)
        return;
    if (p->waiting == WAIT_ECHO)
        p->missed_echoes++;
    p->waiting = WAIT_NOTHING;
    pacer_pump(p, serial_fd);
}

/* ------------------------------------------------------------------------ */
/* Batch mode's script: one command per monitor prompt, then quit (unless   */
/* VMs are configured: then the hypervisor ends when they have).            */

/* A step "@wait TEXT" is the launcher's own: nothing is typed until the
 * console has printed TEXT (a guest saying it is ready for what comes
 * next), and then the next command is typed at once. */
#define SCRIPT_WAIT "@wait "
struct script {
    char **commands; /* the --exec commands, then "quit" without VMs */
    size_t count;
    size_t next;
    const char *waiting_for;  /* an @wait's TEXT, until the console shows it */
    char seen[512];           /* the console's output since the last command was typed */
    size_t seen_len;
};

static char *trimmed_copy(const char *start, size_t len)
{
    while (len > 0 && (*start == ' ' || *start == '\t')) {
        start++;
        len--;
    }
    while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
        len--;
    return format_string("%.*s", (int)len, start);
}

/* Splits "CMD; CMD" at the semicolons, dropping empty commands. */
static void script_init(struct script *sc, const char *exec_commands, bool then_quit)
{
    const char *p = exec_commands ? exec_commands : "";

    *sc = (struct script){ .commands = calloc(strlen(p) + 2, sizeof *sc->commands) };
    if (!sc->commands)
        die("out of memory");
    for (;;) {
        size_t len = strcspn(p, ";");
        char *command = trimmed_copy(p, len);

        if (!strncmp(command, SCRIPT_WAIT, strlen(SCRIPT_WAIT)) &&
            strlen(command + strlen(SCRIPT_WAIT)) >= sizeof sc->seen / 2)
            usage_error("--exec: '@wait TEXT' with TEXT of at most %zu characters",
                        sizeof sc->seen / 2 - 1);
        if (*command)
            sc->commands[sc->count++] = command;
        else
            free(command);
        if (!p[len])
            break;
        p += len + 1;
    }
    if (then_quit)
        sc->commands[sc->count++] = format_string("%s", QUIT_COMMAND);
}

/* The next step: an @wait begins, or the next command is typed with CR (the
 * monitor takes CR or LF). */
static void script_step(struct script *sc, struct pacer *pacer, int serial_fd)
{
    const char *command;

    if (sc->next >= sc->count)
        return;
    command = sc->commands[sc->next++];
    if (!strncmp(command, SCRIPT_WAIT, strlen(SCRIPT_WAIT))) {
        sc->waiting_for = command + strlen(SCRIPT_WAIT);
        if (strstr(sc->seen, sc->waiting_for)) {     /* it came already */
            sc->waiting_for = NULL;
            script_step(sc, pacer, serial_fd);
        }
        return;
    }
    sc->seen_len = 0;
    sc->seen[0] = '\0';
    pacer_type(pacer, command, strlen(command), serial_fd);
    pacer_type(pacer, "\r", 1, serial_fd);
}

/* At a prompt: the next step, unless an @wait holds it back. */
static void script_on_prompt(struct script *sc, struct pacer *pacer, int serial_fd)
{
    if (!sc->waiting_for && pacer_idle(pacer))
        script_step(sc, pacer, serial_fd);
}

/* Console output, kept since the last command for an @wait: its TEXT ends
 * the wait. */
static void script_on_output(struct script *sc, char c, struct pacer *pacer, int serial_fd)
{
    if (!c)
        return;
    if (sc->seen_len == sizeof sc->seen - 1) {
        memmove(sc->seen, sc->seen + sizeof sc->seen / 2, sizeof sc->seen / 2 - 1);
        sc->seen_len = sizeof sc->seen / 2 - 1;
    }
    sc->seen[sc->seen_len++] = c;
    sc->seen[sc->seen_len] = '\0';
    if (sc->waiting_for && strstr(sc->seen, sc->waiting_for)) {
        sc->waiting_for = NULL;
        script_step(sc, pacer, serial_fd);
    }
}

/* ------------------------------------------------------------------------ */
/* The user's terminal (interactive mode).                                  */

static void make_terminal_raw(void)
{
    struct termios raw;

    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &g_undo.saved_terminal) != 0)
        return;
    raw = g_undo.saved_terminal;
    cfmakeraw(&raw);
    /* Output keeps its processing (LF as CR LF), as QEMU's stdio keeps it:
     * text arriving with bare LFs, through `| tee` or from us, must not
     * come out as a staircase. */
    raw.c_oflag |= OPOST;
    g_undo.terminal_is_raw = true;
    tcsetattr(STDIN_FILENO, TCSADRAIN, &raw);
}

static void say_to_user(const char *text)
{
    write_all(STDERR_FILENO, text, strlen(text));
}

/* ------------------------------------------------------------------------ */
/* The session: relay loop between Bochs, the hypervisor and the user.      */

enum end_reason {
    END_NOT_YET,
    END_EMULATOR_EXITED,
    END_SHUTDOWN_STALLED, /* exit status printed, Bochs did not quit */
    END_TIMEOUT,
    END_USER_QUIT,
    END_SIGNAL,
};

struct session {
    const struct options *opt;
    struct pty serial;    /* COM1 */
    struct pty bochs_tty; /* Bochs' stdin/stdout/stderr and controlling tty */
    int screen_fd;        /* the term display's own pty, once Bochs names it */
    char *term_log_path;  /* where Bochs' terminal output goes */
    int term_log_fd;
    char control_line[512];
    size_t control_line_len;
    bool stdin_open;
    bool escape_pending; /* Ctrl-A typed, waiting for the command key */
    struct newline_filter newlines;
    char last_output; /* last byte written to stdout */
    struct console_watch watch;
    struct pacer pacer;
    struct script script;
    long long deadline_ms; /* 0: none */
    long long shutdown_deadline_ms;
    enum end_reason end;
    int end_signal;
};

/* The term display draws into a pty that Bochs creates itself and names on
 * its stderr; nobody reads that pty, so once its buffer filled up Bochs would
 * block. We open its other end and drain it. */
static void attach_screen(struct session *s, const char *line)
{
    const char *start = strstr(line, SCREEN_NOTICE);
    char *path;
    size_t len;

    if (!start || s->screen_fd >= 0)
        return;
    start += strlen(SCREEN_NOTICE);
    len = strcspn(start, "\"");
    path = format_string("%.*s", (int)len, start);
    s->screen_fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    free(path);
}

static void scan_control_output(struct session *s, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];

        if (c == '\n' || c == '\r') {
            s->control_line[s->control_line_len] = '\0';
            attach_screen(s, s->control_line);
            s->control_line_len = 0;
        } else if (s->control_line_len < sizeof s->control_line - 1) {
            s->control_line[s->control_line_len++] = c;
        }
    }
}

/* Reads what is there now: returns the byte count, 0 when nothing is waiting,
 * -1 once the fd is finished (end of file, or EIO: the other side is closed). */
static ssize_t read_available(int fd, char *buf, size_t size)
{
    ssize_t n;

    do
        n = read(fd, buf, size);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN)
        return 0;
    return n > 0 ? n : -1;
}

static ssize_t relay_control_output(struct session *s)
{
    char buf[4096];
    ssize_t len = read_available(s->bochs_tty.master, buf, sizeof buf);

    if (len < 0) {
        close(s->bochs_tty.master);
        s->bochs_tty.master = -1;
        return len;
    }
    if (s->term_log_fd >= 0)
        write_all(s->term_log_fd, buf, (size_t)len);
    scan_control_output(s, buf, (size_t)len);
    return len;
}

static void drain_screen(struct session *s)
{
    char buf[4096];

    if (read_available(s->screen_fd, buf, sizeof buf) < 0) {
        close(s->screen_fd);
        s->screen_fd = -1;
    }
}

static void note_console_byte(struct session *s, char c)
{
    bool had_exit_status = s->watch.exit_status_seen;
    bool prompt = watch_console_byte(&s->watch, c);

    if (s->watch.exit_status_seen && !had_exit_status)
        s->shutdown_deadline_ms = monotonic_ms() + SHUTDOWN_GRACE_MS;
    if (s->watch.exit_status_seen)
        return;
    pacer_on_output(&s->pacer, c, prompt, s->serial.master);
    if (s->opt->batch)
        script_on_output(&s->script, c, &s->pacer, s->serial.master);
    if (prompt && s->opt->batch)
        script_on_prompt(&s->script, &s->pacer, s->serial.master);
}

/* We hold COM1's slave open, so its master never reads as finished. */
static ssize_t relay_console_output(struct session *s)
{
    char buf[4096], out[sizeof buf + 1];
    ssize_t len = read_available(s->serial.master, buf, sizeof buf);
    size_t out_len;

    if (len <= 0)
        return len;
    out_len = filter_newlines(&s->newlines, buf, (size_t)len, out);
    if (out_len > 0) {
        write_all(STDOUT_FILENO, out, out_len); /* a closed stdout must not stop the run */
        s->last_output = out[out_len - 1];
    }
    for (ssize_t i = 0; i < len; i++)
        note_console_byte(s, buf[i]);
    return len;
}

static void show_escape_help(void)
{
    say_to_user("\nvmxrun keys: Ctrl-A x  kill the emulator and exit\n"
            "             Ctrl-A Ctrl-A  send Ctrl-A\n"
            "             Ctrl-A h  this help\n"
            "             Ctrl-A c  (the hypervisor's) console to the monitor / the next VM\n");
}

/* Interprets Ctrl-A sequences; every other key is added to out[*n], for
 * COM1. */
static void handle_user_key(struct session *s, char key, char *out, size_t *n)
{
    if (!s->escape_pending) {
        if (key == ESCAPE_KEY)
            s->escape_pending = true;
        else
            out[(*n)++] = key;
        return;
    }
    s->escape_pending = false;
    switch (key) {
    case 'x': case 'X':
        s->end = END_USER_QUIT;
        break;
    case 'h': case 'H': case '?':
        show_escape_help();
        break;
    case ESCAPE_KEY:
        out[(*n)++] = key;
        break;
    default: /* not ours: pass both on unchanged */
        out[(*n)++] = ESCAPE_KEY;
        out[(*n)++] = key;
        break;
    }
}

/* What one read brings (a key, an escape sequence, a paste) is typed as one
 * piece (see struct pacer). */
static void relay_user_input(struct session *s)
{
    char buf[256], keys[2 * sizeof buf];
    ssize_t len = read_available(STDIN_FILENO, buf, sizeof buf);
    size_t n = 0;

    s->stdin_open = len >= 0;
    for (ssize_t i = 0; i < len && s->end == END_NOT_YET; i++)
        handle_user_key(s, buf[i], keys, &n);
    if (n)
        pacer_type(&s->pacer, keys, n, s->serial.master);
}

static void handle_signals(struct session *s)
{
    unsigned char sig;

    while (read(g_signal_pipe[0], &sig, 1) == 1) {
        if (sig != SIGCHLD && s->end == END_NOT_YET) {
            s->end = END_SIGNAL;
            s->end_signal = sig;
        }
    }
}

/* The transcript ends with a newline even when the console's last line lost
 * its own, so that a shell prompt or the next message starts on a new line. */
static void finish_output_line(struct session *s)
{
    const char *newline = s->newlines.active ? "\n" : "\r\n";

    if (s->last_output && s->last_output != '\n') {
        write_all(STDOUT_FILENO, newline, strlen(newline));
        s->last_output = '\n';
    }
}

/* Once Bochs is gone, collects what it wrote last. */
static void drain_after_exit(struct session *s)
{
    while (relay_console_output(s) > 0)
        ;
    while (s->bochs_tty.master >= 0 && relay_control_output(s) > 0)
        ;
    watch_end_of_output(&s->watch);
    finish_output_line(s);
}

/* True once the emulator has exited; it stays a zombie (not reaped) so that
 * its process group id cannot be reused before we have cleared that group. */
static bool emulator_exited(pid_t pid)
{
    siginfo_t info = { .si_pid = 0 };

    return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

/* Kills whatever is left in the exited emulator's group, then reaps it. */
static void reap_emulator(pid_t pid)
{
    kill(-pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    g_undo.emulator_pid = 0;
}

static void check_emulator(struct session *s)
{
    if (!emulator_exited(g_undo.emulator_pid))
        return;
    reap_emulator(g_undo.emulator_pid);
    if (s->end == END_NOT_YET)
        s->end = END_EMULATOR_EXITED;
}

static void check_clocks(struct session *s)
{
    long long now = monotonic_ms();

    if (!s->watch.exit_status_seen)
        pacer_on_clock(&s->pacer, now, s->serial.master);
    if (s->watch.exit_status_seen && now >= s->shutdown_deadline_ms)
        s->end = END_SHUTDOWN_STALLED;
    else if (s->deadline_ms && now >= s->deadline_ms)
        s->end = END_TIMEOUT;
}

static int poll_timeout_ms(const struct session *s)
{
    long long now = monotonic_ms(), next = now + 1000;

    if (s->deadline_ms && s->deadline_ms < next)
        next = s->deadline_ms;
    if (s->watch.exit_status_seen && s->shutdown_deadline_ms < next)
        next = s->shutdown_deadline_ms;
    if (s->pacer.waiting != WAIT_NOTHING && s->pacer.wait_deadline_ms < next)
        next = s->pacer.wait_deadline_ms;
    return next > now ? (int)(next - now) : 0;
}

enum { WATCH_SIGNALS, WATCH_CONSOLE, WATCH_CONTROL, WATCH_SCREEN, WATCH_USER, WATCH_COUNT };

static void wait_for_events(struct session *s)
{
    struct pollfd fds[WATCH_COUNT] = {
        [WATCH_SIGNALS] = { .fd = g_signal_pipe[0], .events = POLLIN },
        [WATCH_CONSOLE] = { .fd = s->serial.master, .events = POLLIN },
        [WATCH_CONTROL] = { .fd = s->bochs_tty.master, .events = POLLIN },
        [WATCH_SCREEN] = { .fd = s->screen_fd, .events = POLLIN },
        [WATCH_USER] = { .fd = s->stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
    };

    if (poll(fds, WATCH_COUNT, poll_timeout_ms(s)) < 0) {
        if (errno != EINTR)
            die("poll: %s", strerror(errno));
        return;
    }
    if (fds[WATCH_SIGNALS].revents)
        handle_signals(s);
    if (fds[WATCH_CONSOLE].revents)
        relay_console_output(s);
    if (fds[WATCH_CONTROL].revents)
        relay_control_output(s);
    if (fds[WATCH_SCREEN].revents)
        drain_screen(s);
    if (fds[WATCH_USER].revents && s->end == END_NOT_YET)
        relay_user_input(s);
}

static int session_exit_status(const struct session *s)
{
    switch (s->end) {
    case END_TIMEOUT:
        fprintf(stderr, "vmxrun: timeout after %ld s\n", s->opt->timeout_s);
        return STATUS_TIMEOUT;
    case END_SIGNAL:
        fprintf(stderr, "vmxrun: stopped by signal %d (%s)\n", s->end_signal,
                strsignal(s->end_signal));
        return STATUS_SIGNAL_BASE + s->end_signal;
    case END_USER_QUIT:
        if (s->watch.exit_status_seen)
            return s->watch.exit_status;
        fprintf(stderr, "vmxrun: emulator killed (Ctrl-A x)\n");
        return STATUS_USER_QUIT;
    case END_EMULATOR_EXITED:
    case END_SHUTDOWN_STALLED:
    case END_NOT_YET:
        break;
    }
    if (s->watch.exit_status_seen)
        return s->watch.exit_status;
    fprintf(stderr, "vmxrun: emulator ended without an exit status (see %s and %s)\n",
            g_undo.bochs_log_copy, s->term_log_path);
    return STATUS_NO_EXIT_STATUS;
}

static int run_session(struct session *s)
{
    while (s->end == END_NOT_YET) {
        wait_for_events(s);
        if (g_undo.emulator_pid)
            check_emulator(s);
        if (s->end == END_NOT_YET)
            check_clocks(s);
    }
    stop_emulator();
    drain_after_exit(s);
    restore_terminal();
    if (s->opt->batch && s->pacer.missed_echoes)
        fprintf(stderr, "vmxrun: warning: %u typed pieces were not echoed\n",
                s->pacer.missed_echoes);
    return session_exit_status(s);
}

/* ------------------------------------------------------------------------ */
/* Putting it together.                                                     */

static void undo_everything(void)
{
    stop_emulator();
    restore_terminal();
    if (g_undo.bochs_log_source && g_undo.bochs_log_copy)
        copy_file(g_undo.bochs_log_source, g_undo.bochs_log_copy);
    if (g_undo.trace_source && g_undo.trace_copy)
        copy_file(g_undo.trace_source, g_undo.trace_copy);
    if (g_undo.private_dir && !g_undo.keep_private_dir)
        remove_tree(g_undo.private_dir);
}

/* The repository root is three levels above build/host/vmxrun. */
static char *repository_root(void)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *dir, *landmark;

    if (len < 0)
        die("cannot find my own path: %s", strerror(errno));
    exe[len] = '\0';
    dir = format_string("%s", exe);
    for (int i = 0; i < 3; i++) {
        char *up = directory_name(dir);
        free(dir);
        dir = up;
    }
    landmark = format_string("%s/tools/vmxrun.c", dir);
    if (access(landmark, F_OK) != 0)
        die("%s is not in build/host/ of a vmxvisor tree", exe);
    free(landmark);
    return dir;
}

static char *default_kernel(const char *root)
{
    char *kernel = format_string("%s/build/vmxvisor.elf", root);

    if (access(kernel, R_OK) != 0)
        die("no hypervisor image at %s (build it with: make kernel)", kernel);
    return kernel;
}

/* build/run/bochs.log -> build/run/bochs-term.log */
static char *term_log_path(const char *bochs_log)
{
    size_t len = strlen(bochs_log);

    if (len > 4 && !strcmp(bochs_log + len - 4, ".log"))
        return format_string("%.*s-term.log", (int)(len - 4), bochs_log);
    return format_string("%s-term.log", bochs_log);
}

static void prepare_log_paths(const struct options *opt, const char *root, const char *private_dir)
{
    char *dir;

    g_undo.bochs_log_source = format_string("%s/bochs.log", private_dir);
    g_undo.bochs_log_copy = opt->bochs_log ? format_string("%s", opt->bochs_log)
                                           : format_string("%s/build/run/bochs.log", root);
    dir = directory_name(g_undo.bochs_log_copy);
    make_directories(dir);
    free(dir);
    unlink(g_undo.bochs_log_copy); /* a failed start must not leave the last run's log */
    if (opt->trace) {
        g_undo.trace_source = format_string("%s/trace.txt", private_dir);
        g_undo.trace_copy = format_string("%s", opt->trace);
        unlink(g_undo.trace_copy);
    }
}

static void write_iso_only(const char *iso, const char *destination)
{
    if (!copy_file(iso, destination))
        die("cannot write %s: %s", destination, strerror(errno));
    fprintf(stderr, "vmxrun: wrote %s\n", destination);
}

static int run_bochs(const struct options *opt, const char *iso, const char *private_dir)
{
    struct session s = { .opt = opt, .screen_fd = -1, .stdin_open = !opt->batch };
    char *bochsrc = format_string("%s/bochsrc", private_dir);
    char *debugger_rc = format_string("%s/debugger.rc", private_dir);

    open_pty(&s.serial);
    open_pty(&s.bochs_tty);
    write_text_file(bochsrc, bochsrc_text(opt, iso, s.serial.slave_path, g_undo.bochs_log_source));
    /* The Debian build stops in its debugger before the first instruction.
     * With --trace it traces from the first magic breakpoint to the second;
     * later ones only stop it (the continues that follow). */
    write_text_file(debugger_rc, opt->trace ? "continue\ntrace on\ncontinue\ntrace off\n"
                                              "continue\ncontinue\ncontinue\ncontinue\n"
                                              "continue\ncontinue\ncontinue\ncontinue\n"
                                            : "continue\n");
    s.term_log_path = term_log_path(g_undo.bochs_log_copy);
    s.term_log_fd = open(s.term_log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (opt->batch) {
        pacer_init(&s.pacer, BATCH_ECHO_WAIT_MS, BATCH_PROMPT_WAIT_MS);
        script_init(&s.script, opt->exec_commands, !opt->config_file);
    } else {
        pacer_init(&s.pacer, INTERACTIVE_ECHO_WAIT_MS, INTERACTIVE_PROMPT_WAIT_MS);
    }
    if (!opt->batch)
        make_terminal_raw();
    s.newlines.active = !(g_undo.terminal_is_raw && isatty(STDOUT_FILENO));
    if (opt->timeout_s)
        s.deadline_ms = monotonic_ms() + opt->timeout_s * 1000;

    g_undo.emulator_pid = spawn_bochs(private_dir, bochsrc, debugger_rc, &s.bochs_tty);
    close(s.bochs_tty.slave); /* Bochs holds it now: EOF on the master means it is gone */
    s.bochs_tty.slave = -1;
    if (!opt->batch && g_undo.terminal_is_raw)
        say_to_user("vmxrun: Ctrl-A x kills the emulator, Ctrl-A h lists keys\n");
    return run_session(&s);
}

int main(int argc, char **argv)
{
    struct options opt;
    char *root, *kernel, *iso;

    parse_options(argc, argv, &opt);
    install_signal_handlers();
    atexit(undo_everything);

    root = repository_root();
    kernel = opt.hypervisor ? format_string("%s", opt.hypervisor) : default_kernel(root);
    g_undo.private_dir = make_private_dir();
    if (opt.vm_kernel) {
        char *config = format_string("%s/one-vm.cfg", g_undo.private_dir), *text = one_vm_config(&opt);
        write_text_file(config, text);
        free(text);
        opt.config_file = config;
        check_config(&opt, "--vm-kernel's configuration");
    } else if (opt.config_file && !opt.unchecked_config) {
        check_config(&opt, opt.config_file);
    }
    g_undo.keep_private_dir = opt.keep;
    if (opt.keep)
        fprintf(stderr, "vmxrun: keeping private files in %s\n", g_undo.private_dir);
    /* The model name goes into the bochsrc: it must be one Bochs knows. */
    if (!opt.iso_only && !bochs_knows_cpu_model(opt.cpu_model, g_undo.private_dir))
        usage_error("Bochs has no CPU model '%s' (see: bochs-bin --help cpu)", opt.cpu_model);

    iso = build_iso(&opt, kernel, g_undo.private_dir);
    exit_if_signalled();
    if (opt.iso_only) {
        write_iso_only(iso, opt.iso_only);
        return 0;
    }
    prepare_log_paths(&opt, root, g_undo.private_dir);
    if (!opt.clock_seed) {
        g_seed.preload = format_string("%s/" SEED_PRELOAD, root);
        g_seed.value = format_string("%lu", opt.seed);
        if (access(g_seed.preload, R_OK) != 0)
            die("cannot read %s (make builds it): %s", g_seed.preload, strerror(errno));
    }
    exit_if_signalled();
    return run_bochs(&opt, iso, g_undo.private_dir);
}
