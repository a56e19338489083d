#include "virt/vm_config.h"
#include "lib/printf.h"
#include "lib/string.h"
#include <stdarg.h>

#define DEFAULT_MEMORY      (64ull << 20)
#define MIN_MEMORY          (1ull << 20)
#define MAX_MEMORY          (64ull << 30)
#define DEFAULT_PLE_GAP     128         /* KVM's defaults */
#define DEFAULT_PLE_WINDOW  4096
#define DEFAULT_PLE_GROW    2
#define DEFAULT_PLE_SHRINK  0
#define DEFAULT_PLE_MAX     UINT32_MAX

struct parser {
    const char *file;
    unsigned line;
    struct vm_config_set *set;
    struct vm_config *vm;       /* current section, NULL before the first */
    bool in_global;             /* it is [global] */
    bool in_bad_section;        /* its header was reported; skip its settings */
    vm_config_report_fn report;
};

static void problem(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct parser *p, const char *fmt, ...)
{
    char what[320], message[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(message, sizeof(message), "%s:%u: %s", p->file, p->line, what);
    p->report(message);
    p->set->errors++;
    if (p->vm)
        p->vm->valid = false;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Trims [*s, *e) of surrounding blanks. */
static void trim(const char **s, const char **e)
{
    while (*s < *e && is_space(**s))
        (*s)++;
    while (*e > *s && is_space((*e)[-1]))
        (*e)--;
}

static bool equals(const char *s, const char *e, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(e - s) == n && !strncmp(s, word, n);
}

static bool parse_uint(const char *s, const char *e, uint64_t *out)
{
    uint64_t v = 0;
    if (s == e)
        return false;
    for (; s < e; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

/* A size with a K, M or G suffix; a plain number is MiB, as QEMU's -m. */
static bool parse_size(const char *s, const char *e, uint64_t *out)
{
    unsigned shift = 20;
    if (e > s) {
        switch (e[-1]) {
        case 'K': case 'k': shift = 10; e--; break;
        case 'M': case 'm': shift = 20; e--; break;
        case 'G': case 'g': shift = 30; e--; break;
        }
    }
    uint64_t v;
    if (!parse_uint(s, e, &v) || v > (UINT64_MAX >> shift))
        return false;
    *out = v << shift;
    return true;
}

bool vm_config_parse_cpu_list(const char *s, const char *e, uint64_t *mask)
{
    *mask = 0;
    while (s < e) {
        const char *item_end = s;
        while (item_end < e && *item_end != ',')
            item_end++;
        const char *dash = s;
        while (dash < item_end && *dash != '-')
            dash++;
        uint64_t first, last;
        if (!parse_uint(s, dash, &first))
            return false;
        last = first;
        if (dash < item_end && !parse_uint(dash + 1, item_end, &last))
            return false;
        if (first > last || last >= 64)
            return false;
        for (uint64_t cpu = first; cpu <= last; cpu++)
            *mask |= 1ull << cpu;
        s = item_end < e ? item_end + 1 : e;
    }
    return *mask != 0;
}

static bool copy_text(const char *s, const char *e, char *dst, size_t size)
{
    if ((size_t)(e - s) >= size)
        return false;
    memcpy(dst, s, (size_t)(e - s));
    dst[e - s] = '\0';
    return true;
}

static void begin_section(struct parser *p, const char *s, const char *e)
{
    p->vm = NULL;
    p->in_bad_section = true;
    p->in_global = false;
    if (equals(s, e, "global")) {
        if (p->set->count) {
            problem(p, "[global] must come before the first [vm NAME] section");
            return;
        }
        p->vm = &p->set->global;
        p->in_global = true;
        p->in_bad_section = false;
        return;
    }
    if (!(e - s > 3 && !strncmp(s, "vm", 2) && is_space(s[2]))) {
        problem(p, "unknown section '[%.*s]' (expected '[global]' or '[vm NAME]')", (int)(e - s),
                s);
        return;
    }
    s += 3;
    trim(&s, &e);
    if (p->set->count == VM_CONFIG_MAX_VMS) {
        problem(p, "too many VMs (at most %d)", VM_CONFIG_MAX_VMS);
        return;
    }
    struct vm_config *vm = &p->set->vms[p->set->count++];
    *vm = (struct vm_config){ .vcpus = 1, .memory = DEFAULT_MEMORY, .affinity = ~0ull,
                              .ple = p->set->global.ple, .ple_params = p->set->global.ple_params,
                              .directed_yield = p->set->global.directed_yield,
                              .spin_guard = p->set->global.spin_guard,
                              .nested = p->set->global.nested,
                              .shadow_vmcs = p->set->global.shadow_vmcs,
                              .vmcs02_shadow = p->set->global.vmcs02_shadow,
                              .apicv = p->set->global.apicv,
                              .overcommit = p->set->global.overcommit,
                              .hugepages = true, .weight = 100,
                              .valid = p->set->global.valid,   /* a bad [global] spoils all */
                              .line = p->line };
    p->vm = vm;
    p->in_bad_section = false;
    bool name_ok = s < e && copy_text(s, e, vm->name, sizeof(vm->name));
    for (const char *c = s; name_ok && c < e; c++)
        name_ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '-' || *c == '_';
    if (!name_ok) {
        snprintf(vm->name, sizeof(vm->name), "#%zu", p->set->count);
        problem(p, "bad VM name '%.*s' (letters, digits, '-' and '_', at most %d)",
                (int)(e - s), s, VM_NAME_MAX - 1);
        return;
    }
    for (size_t i = 0; i + 1 < p->set->count; i++)
        if (!strcmp(p->set->vms[i].name, vm->name))
            problem(p, "VM name '%s' is already used on line %u", vm->name,
                    p->set->vms[i].line);
}

/* The settings allowed in [global] and in [vm NAME]; false if `k` is not
 * one of them. */
static bool set_shared_key(struct parser *p, const char *k, const char *ke, const char *v,
                        const char *ve)
{
    struct vm_config *vm = p->vm;
    struct ple_params *ple = &vm->ple_params;
    uint32_t *number = equals(k, ke, "ple_gap") ? &ple->gap
                       : equals(k, ke, "ple_window") ? &ple->window
                       : equals(k, ke, "ple_grow") ? &ple->grow
                       : equals(k, ke, "ple_shrink") ? &ple->shrink
                       : equals(k, ke, "ple_window_max") ? &ple->max : NULL;
    uint64_t n;
    if (number) {
        if (!parse_uint(v, ve, &n) || n > UINT32_MAX)
            problem(p, "%.*s: '%.*s' is not a 32-bit number", (int)(ke - k), k, (int)(ve - v), v);
        else
            *number = (uint32_t)n;
    } else if (equals(k, ke, "ple") || equals(k, ke, "vmcs02_shadow")) {
        /* on, off, auto, in that order in each setting's values */
        static const enum ple_mode ple_modes[] = { PLE_ON, PLE_OFF, PLE_AUTO };
        static const enum vmcs02_shadow_setting vmcs02_shadows[] = {
            VMCS02_SHADOW_ON, VMCS02_SHADOW_OFF, VMCS02_SHADOW_AUTO };
        int choice = equals(v, ve, "on")     ? 0
                     : equals(v, ve, "off")  ? 1
                     : equals(v, ve, "auto") ? 2
                                             : -1;
        if (choice < 0)
            problem(p, "%.*s: '%.*s' is not on, off or auto", (int)(ke - k), k, (int)(ve - v), v);
        else if (equals(k, ke, "ple"))
            vm->ple = ple_modes[choice];
        else
            vm->vmcs02_shadow = vmcs02_shadows[choice];
    } else if (equals(k, ke, "directed_yield") || equals(k, ke, "spin_guard") ||
               equals(k, ke, "nested") || equals(k, ke, "shadow_vmcs") ||
               equals(k, ke, "apicv")) {
        bool *flag = equals(k, ke, "spin_guard")    ? &vm->spin_guard
                     : equals(k, ke, "nested")      ? &vm->nested
                     : equals(k, ke, "shadow_vmcs") ? &vm->shadow_vmcs
                     : equals(k, ke, "apicv")       ? &vm->apicv
                                                    : &vm->directed_yield;
        if (equals(v, ve, "on") || equals(v, ve, "off"))
            *flag = equals(v, ve, "on");
        else
            problem(p, "%.*s: '%.*s' is not on or off", (int)(ke - k), k, (int)(ve - v), v);
    } else {
        return false;
    }
    return true;
}

static void set_key(struct parser *p, const char *k, const char *ke, const char *v, const char *ve)
{
    struct vm_config *vm = p->vm;
    uint64_t n;
    if (set_shared_key(p, k, ke, v, ve))
        return;
    if (p->in_global && equals(k, ke, "overcommit")) {
        if (equals(v, ve, "on") || equals(v, ve, "off"))
            vm->overcommit = equals(v, ve, "on");
        else
            problem(p, "overcommit: '%.*s' is not on or off", (int)(ve - v), v);
        return;
    }
    if (p->in_global) {
        problem(p, "unknown [global] setting '%.*s' (known: ple, ple_gap, ple_window, ple_grow, "
                   "ple_shrink, ple_window_max, directed_yield, spin_guard, nested, shadow_vmcs, "
                   "vmcs02_shadow, apicv, overcommit)",
                (int)(ke - k), k);
        return;
    }
    if (equals(k, ke, "image")) {
        if (v == ve || !copy_text(v, ve, vm->image, sizeof(vm->image)))
            problem(p, "image: expected a module name of 1 to %d characters", VM_IMAGE_MAX - 1);
    } else if (equals(k, ke, "initrd")) {
        if (v == ve || !copy_text(v, ve, vm->initrd, sizeof(vm->initrd)))
            problem(p, "initrd: expected a module name of 1 to %d characters", VM_IMAGE_MAX - 1);
    } else if (equals(k, ke, "modules")) {
        if (v == ve || !copy_text(v, ve, vm->modules, sizeof(vm->modules)))
            problem(p, "modules: expected module names, at most %d characters in all",
                    VM_MODULES_MAX - 1);
    } else if (equals(k, ke, "cmdline")) {
        if (!copy_text(v, ve, vm->cmdline, sizeof(vm->cmdline)))
            problem(p, "cmdline: longer than %d characters", VM_CMDLINE_MAX - 1);
    } else if (equals(k, ke, "vcpus")) {
        if (!parse_uint(v, ve, &n) || n < 1 || n > VM_MAX_VCPUS)
            problem(p, "vcpus: '%.*s' is not a number from 1 to %d", (int)(ve - v), v,
                    VM_MAX_VCPUS);
        else
            vm->vcpus = (uint32_t)n;
    } else if (equals(k, ke, "memory")) {
        if (!parse_size(v, ve, &n) || n < MIN_MEMORY || n > MAX_MEMORY || n % 4096)
            problem(p, "memory: '%.*s' is not a size from 1M to 64G (e.g. 64M, 1G)",
                    (int)(ve - v), v);
        else
            vm->memory = n;
    } else if (equals(k, ke, "affinity")) {
        if (!vm_config_parse_cpu_list(v, ve, &vm->affinity))
            problem(p, "affinity: '%.*s' is not a CPU list such as 0-3 or 0,2", (int)(ve - v), v);
    } else if (equals(k, ke, "hugepages")) {
        if (equals(v, ve, "on") || equals(v, ve, "off"))
            vm->hugepages = equals(v, ve, "on");
        else
            problem(p, "hugepages: '%.*s' is not on or off", (int)(ve - v), v);
    } else if (equals(k, ke, "weight")) {
        if (!parse_uint(v, ve, &n) || n < 1 || n > 10000)
            problem(p, "weight: '%.*s' is not a number from 1 to 10000", (int)(ve - v), v);
        else
            vm->weight = (uint32_t)n;
    } else if (equals(k, ke, "start")) {
        if (equals(v, ve, "long") || equals(v, ve, "real"))
            vm->start = equals(v, ve, "real") ? START_REAL : START_LONG;
        else
            problem(p, "start: '%.*s' is not long or real", (int)(ve - v), v);
    } else if (equals(k, ke, "on_reboot")) {
        if (equals(v, ve, "reset") || equals(v, ve, "stop"))
            vm->on_reboot = equals(v, ve, "stop") ? ON_REBOOT_STOP : ON_REBOOT_RESET;
        else
            problem(p, "on_reboot: '%.*s' is not reset or stop", (int)(ve - v), v);
    } else {
        problem(p, "unknown setting '%.*s' (known: image, initrd, modules, vcpus, memory, "
                   "cmdline, affinity, "
                   "ple, ple_gap, ple_window, ple_grow, ple_shrink, ple_window_max, "
                   "directed_yield, spin_guard, nested, shadow_vmcs, vmcs02_shadow, apicv, "
                   "hugepages, start, weight, "
                   "on_reboot)",
                (int)(ke - k), k);
    }
}

/* A '#' at the start of a line or after a blank begins a comment, which
 * runs to the end of the line; one inside a word (a cmdline's "a#b") does not. */
static const char *comment_start(const char *s, const char *e)
{
    for (const char *c = s; c < e; c++)
        if (*c == '#' && (c == s || is_space(c[-1])))
            return c;
    return e;
}

static void parse_line(struct parser *p, const char *s, const char *e)
{
    e = comment_start(s, e);
    trim(&s, &e);
    if (s == e)
        return;
    if (*s == '[') {
        if (e[-1] != ']') {
            p->vm = NULL;
            p->in_bad_section = true;
            problem(p, "section header without closing ']'");
            return;
        }
        const char *in = s + 1, *in_end = e - 1;
        trim(&in, &in_end);
        begin_section(p, in, in_end);
        return;
    }
    const char *eq = s;
    while (eq < e && *eq != '=')
        eq++;
    if (eq == e) {
        problem(p, "expected 'key = value', '[vm NAME]' or a '#' comment");
        return;
    }
    if (!p->vm) {
        if (!p->in_bad_section)
            problem(p, "setting before the first '[vm NAME]' section");
        return;
    }
    const char *k = s, *ke = eq, *v = eq + 1, *ve = e;
    trim(&k, &ke);
    trim(&v, &ve);
    set_key(p, k, ke, v, ve);
}

void vm_config_parse(const char *file, const char *text, size_t len, struct vm_config_set *set,
                     vm_config_report_fn report)
{
    memset(set, 0, sizeof(*set));
    set->global = (struct vm_config){
        .ple = PLE_AUTO, .directed_yield = true, .spin_guard = true, .nested = true,
        .shadow_vmcs = true, .vmcs02_shadow = VMCS02_SHADOW_AUTO, .apicv = true,
        .valid = true,
        .ple_params = { .gap = DEFAULT_PLE_GAP, .window = DEFAULT_PLE_WINDOW,
                        .grow = DEFAULT_PLE_GROW, .shrink = DEFAULT_PLE_SHRINK,
                        .max = DEFAULT_PLE_MAX },
    };
    struct parser p = { .file = file, .line = 0, .set = set, .vm = NULL, .report = report };
    const char *end = text + len;
    for (const char *s = text; s < end;) {
        const char *e = s;
        while (e < end && *e != '\n')
            e++;
        p.line++;
        bool binary = false;
        for (const char *c = s; c < e; c++)
            binary |= *c == '\0';
        if (binary)
            problem(&p, "contains a NUL byte: not a text file");
        else
            parse_line(&p, s, e);
        s = e < end ? e + 1 : end;
    }
    for (size_t i = 0; i < set->count; i++) {
        struct vm_config *vm = &set->vms[i];
        p.line = vm->line;
        p.vm = vm;
        if (vm->valid && !vm->image[0])
            problem(&p, "VM '%s' has no image", vm->name);
        if (vm->valid && vm->ple_params.max < vm->ple_params.window)
            problem(&p, "VM '%s': ple_window_max %u is below ple_window %u", vm->name,
                    vm->ple_params.max, vm->ple_params.window);
    }
}

bool vm_config_has_dedicated_cpus(const struct vm_config_set *set, size_t index, uint64_t online)
{
    const struct vm_config *vm = &set->vms[index];
    uint64_t mine = vm->affinity & online;
    if ((uint32_t)__builtin_popcountll(mine) < vm->vcpus)
        return false;
    for (size_t i = 0; i < set->count; i++)
        if (i != index && set->vms[i].valid && (set->vms[i].affinity & mine))
            return false;
    return true;
}
