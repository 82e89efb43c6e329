/* SPDX-License-Identifier: MIT */
/*
 * The human monitor (see hmp.h and docs/qmp.md "Human monitor"). The line
 * editor keeps one line of at most HMP_MAX_LINE bytes: printable bytes are
 * echoed and appended, backspace/DEL erase, Ctrl-U clears, CR or LF (CRLF
 * counted once) runs the line, and terminal escape sequences (arrow keys)
 * are swallowed. Commands are one table; "info" has its own. Every
 * command reaches the machine through struct qmp_machine_ops; none of
 * them touches guest state directly.
 */
#include "monitor/hmp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define HMP_PROMPT   "(qemu) "
#define HMP_MAX_ARGS 8

enum hmp_esc {
    HMP_ESC_NONE,
    HMP_ESC_START, /* got ESC */
    HMP_ESC_CSI,   /* got ESC [ or ESC O: wait for the final byte */
};

struct hmp_client {
    struct qmp_server *s;
    qmp_out_fn out;
    void *opaque;
    char line[HMP_MAX_LINE + 1];
    size_t len;
    enum hmp_esc esc;
    bool last_cr;
};

/* ---- output ---- */

static void hmp_out(struct hmp_client *c, const char *buf, size_t n)
{
    c->out(c->opaque, buf, n);
}

static void hmp_puts(struct hmp_client *c, const char *s)
{
    hmp_out(c, s, strlen(s));
}

/* Send text with its "\n" turned into "\r\n" (QEMU's monitor does the
 * same, and a terminal in raw mode needs it). */
static void hmp_put_text(struct hmp_client *c, const char *text, size_t n)
{
    /* In one piece: one write per line would cost the socket a buffer
     * per line. */
    char *out = n <= SIZE_MAX / 2 ? malloc(2 * n + 1) : NULL;
    size_t o = 0;
    if (!out) {
        hmp_puts(c, "out of memory\r\n");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) {
            out[o++] = '\r';
        }
        out[o++] = text[i];
    }
    hmp_out(c, out, o);
    free(out);
}

/* ---- commands ---- */

struct hmp_cmd {
    const char *name;
    const char *alias;
    const char *args; /* for help */
    const char *help;
    void (*fn)(struct qmp_server *s, int argc, char **argv, FILE *f);
};

static const struct qmp_machine_ops *hmp_ops(struct qmp_server *s,
                                             void **opaque)
{
    return qmp_server_ops(s, opaque);
}

static void hmp_info_status(struct qmp_server *s, int argc, char **argv,
                            FILE *f)
{
    (void)argc, (void)argv;
    void *op;
    bool running = false;
    const char *st = hmp_ops(s, &op)->status(op, &running);
    if (running) {
        fprintf(f, "VM status: running\n");
    } else if (strcmp(st, "paused") == 0) {
        fprintf(f, "VM status: paused\n");
    } else {
        fprintf(f, "VM status: paused (%s)\n", st);
    }
}

static void hmp_info_version(struct qmp_server *s, int argc, char **argv,
                             FILE *f)
{
    (void)s, (void)argc, (void)argv;
    fprintf(f, "%d.%d.%d (swede %s)\n", QMP_VERSION_MAJOR, QMP_VERSION_MINOR,
            QMP_VERSION_MICRO, SWEDE_VERSION);
}

static void hmp_info_name(struct qmp_server *s, int argc, char **argv, FILE *f)
{
    (void)argc, (void)argv;
    const struct qmp_machine_info *info = qmp_server_info(s);
    if (info->name) {
        fprintf(f, "%s\n", info->name);
    }
}

static void hmp_info_cpus(struct qmp_server *s, int argc, char **argv, FILE *f)
{
    (void)argc, (void)argv;
    void *op;
    const struct qmp_machine_ops *ops = hmp_ops(s, &op);
    for (unsigned i = 0; i < qmp_server_info(s)->ncpus; i++) {
        fprintf(f, "%c CPU #%u: thread_id=%ld\n", i == 0 ? '*' : ' ', i,
                ops->cpu_thread_id(op, i));
    }
}

static void hmp_info_kvm(struct qmp_server *s, int argc, char **argv, FILE *f)
{
    (void)s, (void)argc, (void)argv;
    fprintf(f, "kvm support: disabled\n");
}

static void hmp_info_registers(struct qmp_server *s, int argc, char **argv,
                               FILE *f)
{
    void *op;
    const struct qmp_machine_ops *ops = hmp_ops(s, &op);
    bool all = argc > 1 && strcmp(argv[1], "-a") == 0;
    if (argc > 1 && !all) {
        fprintf(f,
                "info registers: unknown argument '%s' (use -a for "
                "every CPU)\n",
                argv[1]);
        return;
    }
    unsigned n = all ? qmp_server_info(s)->ncpus : 1;
    for (unsigned i = 0; i < n; i++) {
        if (all) {
            fprintf(f, "\nCPU#%u\n", i);
        }
        ops->print_registers(op, i, f);
    }
}

static void hmp_info_mtree(struct qmp_server *s, int argc, char **argv, FILE *f)
{
    (void)argc, (void)argv;
    void *op;
    hmp_ops(s, &op)->print_mtree(op, f);
}

static void hmp_info_block(struct qmp_server *s, int argc, char **argv, FILE *f)
{
    (void)argc, (void)argv;
    void *op;
    json_t *list = hmp_ops(s, &op)->query_block(op);
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d)
    {
        json_t *ins = json_object_get(d, "inserted");
        if (i) {
            fprintf(f, "\n");
        }
        fprintf(f, "%s (%s): %s (%s%s)\n",
                json_string_value(json_object_get(d, "device")),
                json_string_value(json_object_get(ins, "node-name")),
                json_string_value(json_object_get(ins, "file")),
                json_string_value(json_object_get(ins, "drv")),
                json_is_true(json_object_get(ins, "ro")) ? ", read-only" : "");
        const char *qdev = json_string_value(json_object_get(d, "qdev"));
        if (qdev) {
            fprintf(f, "    Attached to:      %s\n", qdev);
        }
        json_t *cache = json_object_get(ins, "cache");
        bool wb = json_is_true(json_object_get(cache, "writeback"));
        bool direct = json_is_true(json_object_get(cache, "direct"));
        bool noflush = json_is_true(json_object_get(cache, "no-flush"));
        fprintf(f, "    Cache mode:       %s%s%s\n",
                wb ? "writeback" : "writethrough", direct ? ", direct" : "",
                noflush ? ", ignore flushes" : "");
    }
    json_decref(list);
}

static void hmp_info_chardev(struct qmp_server *s, int argc, char **argv,
                             FILE *f)
{
    (void)argc, (void)argv;
    void *op;
    json_t *list = hmp_ops(s, &op)->query_chardev(op);
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d)
    {
        fprintf(f, "%s: filename=%s\n",
                json_string_value(json_object_get(d, "label")),
                json_string_value(json_object_get(d, "filename")));
    }
    json_decref(list);
}

static const struct hmp_cmd hmp_info_cmds[];
static const struct hmp_cmd hmp_cmds[];

static void hmp_list(const struct hmp_cmd *t, const char *prefix, FILE *f)
{
    for (unsigned i = 0; t[i].name; i++) {
        char head[64];
        snprintf(head, sizeof(head), "%s%s%s%s %s", prefix, t[i].name,
                 t[i].alias ? "|" : "", t[i].alias ? t[i].alias : "",
                 t[i].args);
        fprintf(f, "%-28s -- %s\n", head, t[i].help);
    }
}

static void hmp_info_commands(struct qmp_server *s, int argc, char **argv,
                              FILE *f)
{
    (void)s, (void)argc, (void)argv;
    hmp_list(hmp_info_cmds, "info ", f);
}

static const struct hmp_cmd hmp_info_cmds[] = {
    { "block", NULL, "", "show the block devices", hmp_info_block },
    { "chardev", NULL, "", "show the character devices", hmp_info_chardev },
    { "commands", NULL, "", "list the info subcommands", hmp_info_commands },
    { "cpus", NULL, "", "show the CPUs", hmp_info_cpus },
    { "kvm", NULL, "", "show KVM information", hmp_info_kvm },
    { "mtree", NULL, "", "show the guest physical memory map", hmp_info_mtree },
    { "name", NULL, "", "show the name given with -name", hmp_info_name },
    { "registers", NULL, "[-a]", "show the CPU registers (-a: every CPU)",
      hmp_info_registers },
    { "status", NULL, "", "show the machine's run state", hmp_info_status },
    { "version", NULL, "", "show the version", hmp_info_version },
    { NULL, NULL, NULL, NULL, NULL },
};

static const struct hmp_cmd *hmp_find(const struct hmp_cmd *t, const char *name)
{
    for (unsigned i = 0; t[i].name; i++) {
        if (strcmp(t[i].name, name) == 0 ||
            (t[i].alias && strcmp(t[i].alias, name) == 0)) {
            return &t[i];
        }
    }
    return NULL;
}

static void hmp_info(struct qmp_server *s, int argc, char **argv, FILE *f)
{
    if (argc < 2) {
        hmp_list(hmp_info_cmds, "info ", f);
        return;
    }
    const struct hmp_cmd *c = hmp_find(hmp_info_cmds, argv[1]);
    if (!c) {
        fprintf(f,
                "info: unknown subcommand '%s' (info commands lists "
                "them)\n",
                argv[1]);
        return;
    }
    c->fn(s, argc - 1, argv + 1, f);
}

static void hmp_help(struct qmp_server *s, int argc, char **argv, FILE *f)
{
    (void)s;
    if (argc > 1) {
        const struct hmp_cmd *c = hmp_find(hmp_cmds, argv[1]);
        if (c) {
            hmp_list(
                (const struct hmp_cmd[]){ *c,
                                          { NULL, NULL, NULL, NULL, NULL } },
                "", f);
            return;
        }
    }
    hmp_list(hmp_cmds, "", f);
}

static void hmp_stop(struct qmp_server *s, int argc, char **argv, FILE *f)
{
    (void)argc, (void)argv, (void)f;
    void *op;
    hmp_ops(s, &op)->stop(op);
}

static void hmp_cont(struct qmp_server *s, int argc, char **argv, FILE *f)
{
    (void)argc, (void)argv, (void)f;
    void *op;
    hmp_ops(s, &op)->cont(op);
}

static void hmp_system_reset(struct qmp_server *s, int argc, char **argv,
                             FILE *f)
{
    (void)argc, (void)argv, (void)f;
    void *op;
    hmp_ops(s, &op)->reset(op);
}

static void hmp_system_powerdown(struct qmp_server *s, int argc, char **argv,
                                 FILE *f)
{
    (void)argc, (void)argv, (void)f;
    void *op;
    hmp_ops(s, &op)->powerdown(op);
}

/* screendump [-f ppm|png] FILENAME [DEVICE [HEAD]] */
static void hmp_screendump(struct qmp_server *s, int argc, char **argv, FILE *f)
{
    void *op;
    const char *fmt = "ppm";
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "-f") == 0) {
        fmt = argv[i + 1];
        i += 2;
    }
    if (i >= argc || argc - i > 3) {
        fprintf(f, "screendump: usage: screendump [-f ppm|png] FILENAME "
                   "[DEVICE [HEAD]]\n");
        return;
    }
    if (strcmp(fmt, "ppm") != 0 && strcmp(fmt, "png") != 0) {
        fprintf(f, "screendump: format must be ppm or png\n");
        return;
    }
    char *end = NULL;
    long long head = -1;
    if (argc - i == 3) {
        head = strtoll(argv[i + 2], &end, 10);
        if (*end || head < 0) {
            fprintf(f, "screendump: HEAD must be a number\n");
            return;
        }
    }
    struct error err = { 0 };
    if (hmp_ops(s, &op)->screendump(op, argc - i >= 2 ? argv[i + 1] : NULL,
                                    head, argv[i], fmt, &err) < 0) {
        fprintf(f, "Error: %s\n", err.msg);
    }
}

static void hmp_quit(struct qmp_server *s, int argc, char **argv, FILE *f)
{
    (void)argc, (void)argv, (void)f;
    void *op;
    hmp_ops(s, &op)->quit(op);
}

static const struct hmp_cmd hmp_cmds[] = {
    { "cont", "c", "", "resume emulation", hmp_cont },
    { "help", "?", "[cmd]", "show the help", hmp_help },
    { "info", NULL, "[subcommand]", "show various information", hmp_info },
    { "quit", "q", "", "quit the emulator", hmp_quit },
    { "screendump", NULL, "[-f ppm|png] FILE [DEVICE [HEAD]]",
      "save the display as an image", hmp_screendump },
    { "stop", "s", "", "stop emulation", hmp_stop },
    { "system_powerdown", NULL, "", "send a power-button press",
      hmp_system_powerdown },
    { "system_reset", NULL, "", "reset the system", hmp_system_reset },
    { NULL, NULL, NULL, NULL, NULL },
};

void hmp_execute(struct qmp_server *s, const char *line, FILE *f)
{
    char buf[HMP_MAX_LINE + 1];
    snprintf(buf, sizeof(buf), "%s", line);
    char *argv[HMP_MAX_ARGS];
    int argc = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, " \t\r\n", &save); t && argc < HMP_MAX_ARGS;
         t = strtok_r(NULL, " \t\r\n", &save)) {
        argv[argc++] = t;
    }
    if (argc == 0) {
        return;
    }
    const struct hmp_cmd *c = hmp_find(hmp_cmds, argv[0]);
    if (!c) {
        fprintf(f, "unknown command: '%s'\n", argv[0]);
        return;
    }
    c->fn(s, argc, argv, f);
}

/* ---- the line editor ---- */

struct hmp_client *hmp_client_new(struct qmp_server *s, qmp_out_fn out,
                                  void *opaque)
{
    struct hmp_client *c = calloc(1, sizeof(*c));
    if (c) {
        c->s = s;
        c->out = out;
        c->opaque = opaque;
    }
    return c;
}

void hmp_client_greet(struct hmp_client *c)
{
    char banner[128];
    snprintf(banner, sizeof(banner),
             "QEMU %d.%d.%d monitor (swede %s) - type 'help' for more "
             "information\r\n",
             QMP_VERSION_MAJOR, QMP_VERSION_MINOR, QMP_VERSION_MICRO,
             SWEDE_VERSION);
    hmp_puts(c, banner);
    hmp_puts(c, HMP_PROMPT);
}

void hmp_client_prompt(struct hmp_client *c)
{
    hmp_puts(c, "\r\n" HMP_PROMPT);
    hmp_out(c, c->line, c->len);
}

static void hmp_run_line(struct hmp_client *c)
{
    c->line[c->len] = '\0';
    c->len = 0;
    hmp_puts(c, "\r\n");
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    if (!f) {
        hmp_puts(c, "out of memory\r\n" HMP_PROMPT);
        return;
    }
    hmp_execute(c->s, c->line, f);
    fclose(f);
    hmp_put_text(c, text, n);
    free(text);
    hmp_puts(c, HMP_PROMPT);
}

static void hmp_byte(struct hmp_client *c, uint8_t b)
{
    bool cr = c->last_cr;
    c->last_cr = false;
    switch (c->esc) {
    case HMP_ESC_START:
        c->esc = (b == '[' || b == 'O') ? HMP_ESC_CSI : HMP_ESC_NONE;
        return;
    case HMP_ESC_CSI:
        if (b >= 0x40 && b <= 0x7e) {
            c->esc = HMP_ESC_NONE;
        }
        return;
    case HMP_ESC_NONE:
        break;
    }
    switch (b) {
    case 0x1b:
        c->esc = HMP_ESC_START;
        return;
    case '\r':
        c->last_cr = true;
        hmp_run_line(c);
        return;
    case '\n':
        if (!cr) {
            hmp_run_line(c);
        }
        return;
    case 0x7f:
    case 0x08:
        if (c->len) {
            c->len--;
            hmp_puts(c, "\b \b");
        }
        return;
    case 0x15: /* Ctrl-U */
        while (c->len) {
            c->len--;
            hmp_puts(c, "\b \b");
        }
        return;
    default:
        break;
    }
    if (b < 0x20 || b == 0xff) {
        return; /* other control bytes: ignored */
    }
    if (c->len == HMP_MAX_LINE) {
        hmp_puts(c, "\a");
        return;
    }
    c->line[c->len++] = (char)b;
    hmp_out(c, (const char *)&b, 1);
}

void hmp_client_input(struct hmp_client *c, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hmp_byte(c, buf[i]);
    }
}

void hmp_client_free(struct hmp_client *c)
{
    free(c);
}
