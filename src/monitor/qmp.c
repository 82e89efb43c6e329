/* SPDX-License-Identifier: MIT */
/*
 * The QMP server (see qmp.h and docs/qmp.md). Input from a client goes
 * through a byte-at-a-time splitter that tracks nesting, strings and
 * escapes to find where each top-level JSON value ends; only then is the
 * value handed to jansson. Bytes outside any value that are not whitespace
 * are one parse error per run; a control byte (other than whitespace) or
 * 0xFF inside a value abandons it (QEMU's recovery rule), so a client that
 * sent garbage recovers by sending a newline or 0xFF. A value longer than
 * QMP_MAX_INPUT is skipped to its end without being stored.
 */
#include "monitor/qmp.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "board/board.h"
#include "core/chardev.h"
#include "core/error.h"
#include "core/loop.h"
#include "core/options.h"
#include "monitor/hmp.h"
#include "ui/console.h"
#include "ui/qcode.h"

#define QMP_MAX_LISTENERS 8
/* Output queued for a slow socket client beyond this: disconnect it. */
#define QMP_MAX_OUTPUT (4 * 1024 * 1024)

struct qmp_client {
    struct qmp_server *s;
    struct qmp_client *next;
    qmp_out_fn out;
    void *opaque;
    bool negotiated, oob;
    /* Splitter state. */
    char *buf;
    size_t len, cap;
    unsigned depth;
    bool in_str, esc, overflow, too_deep, junk;
};

struct qmp_listener {
    int fd;
    char *unix_path; /* unlinked on close */
};

struct qmp_sock {
    struct qmp_server *s;
    struct qmp_sock *next;
    struct qmp_client *c;
    int fd;
    char *out;
    size_t outlen, outcap;
    bool dead;
};

/* A monitor on a chardev: one QMP or HMP client per connection. */
struct qmp_mon {
    struct qmp_server *s;
    struct qmp_mon *next;
    struct chardev *chr;
    bool control;
    bool greeted; /* HMP on a mux: banner printed at the first focus */
    struct qmp_client *qc;
    struct hmp_client *hc;
};

struct qmp_server {
    const struct qmp_machine_ops *ops;
    void *opaque;
    struct qmp_machine_info info;
    struct qmp_client *clients;
    struct qmp_sock *socks;
    struct qmp_listener listeners[QMP_MAX_LISTENERS];
    unsigned nlisteners;
    bool reap_queued;
    struct qmp_mon *mons;
};

/* ---- messages ---- */

struct qmp_err {
    const char *cls;
    char desc[320];
};

static void qmp_send(struct qmp_client *c, json_t *msg)
{
    char *text = json_dumps(msg, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(msg);
    if (!text) {
        return;
    }
    size_t n = strlen(text);
    char *line = realloc(text, n + 3);
    if (!line) {
        free(text);
        return;
    }
    memcpy(line + n, "\r\n", 3);
    c->out(c->opaque, line, n + 2);
    free(line);
}

static void qmp_send_error(struct qmp_client *c, json_t *id, const char *cls,
                           const char *desc)
{
    json_t *msg =
        json_pack("{s:{s:s,s:s}}", "error", "class", cls, "desc", desc);
    if (msg && id) {
        json_object_set(msg, "id", id);
    }
    if (msg) {
        qmp_send(c, msg);
    }
}

static json_t *qmp_version_obj(void)
{
    return json_pack("{s:{s:i,s:i,s:i},s:s}", "qemu", "micro",
                     QMP_VERSION_MICRO, "minor", QMP_VERSION_MINOR, "major",
                     QMP_VERSION_MAJOR, "package", "swede " SWEDE_VERSION);
}

void qmp_event(struct qmp_server *s, const char *name, json_t *data)
{
    if (!data) {
        data = json_object();
    }
    if (!s || !data) {
        json_decref(data);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    for (struct qmp_client *c = s->clients; c; c = c->next) {
        if (!c->negotiated) {
            continue;
        }
        json_t *msg =
            json_pack("{s:s,s:O,s:{s:I,s:I}}", "event", name, "data", data,
                      "timestamp", "seconds", (json_int_t)ts.tv_sec,
                      "microseconds", (json_int_t)(ts.tv_nsec / 1000));
        if (msg) {
            qmp_send(c, msg);
        }
    }
    json_decref(data);
}

/* ---- commands ---- */

enum qmp_type {
    QMP_T_STR,
    QMP_T_INT,
    QMP_T_NUM,
    QMP_T_BOOL,
    QMP_T_OBJ,
    QMP_T_ARRAY,
    QMP_T_ANY,
};

struct qmp_arg {
    const char *name;
    enum qmp_type type;
    bool optional;
};

typedef json_t *(*qmp_handler)(struct qmp_client *c, json_t *args,
                               struct qmp_err *e);

struct qmp_cmd {
    const char *name;
    const struct qmp_arg *args; /* ends with a NULL name; NULL for none */
    qmp_handler fn;
};

static json_t *qmp_fail(struct qmp_err *e, const char *cls, const char *fmt,
                        ...) __attribute__((format(printf, 3, 4)));
static json_t *qmp_fail(struct qmp_err *e, const char *cls, const char *fmt,
                        ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->desc, sizeof(e->desc), fmt, ap);
    va_end(ap);
    e->cls = cls;
    return NULL;
}

static json_t *qmp_cmd_capabilities(struct qmp_client *c, json_t *args,
                                    struct qmp_err *e)
{
    json_t *enable = json_object_get(args, "enable");
    bool oob = false;
    size_t i;
    json_t *v;
    json_array_foreach(enable, i, v)
    {
        if (!json_is_string(v)) {
            return qmp_fail(e, "GenericError",
                            "Invalid parameter type for 'enable[%zu]', "
                            "expected: string",
                            i);
        }
        if (strcmp(json_string_value(v), "oob") != 0) {
            return qmp_fail(e, "GenericError",
                            "Parameter 'enable[%zu]' does not accept value "
                            "'%.100s'",
                            i, json_string_value(v));
        }
        oob = true;
    }
    c->negotiated = true;
    c->oob = oob;
    return json_object();
}

static json_t *qmp_cmd_query_version(struct qmp_client *c, json_t *args,
                                     struct qmp_err *e)
{
    (void)c, (void)args, (void)e;
    return qmp_version_obj();
}

static json_t *qmp_cmd_query_status(struct qmp_client *c, json_t *args,
                                    struct qmp_err *e)
{
    (void)args, (void)e;
    bool running = false;
    const char *st = c->s->ops->status(c->s->opaque, &running);
    return json_pack("{s:b,s:s}", "running", running, "status", st);
}

static json_t *qmp_cmd_query_name(struct qmp_client *c, json_t *args,
                                  struct qmp_err *e)
{
    (void)args, (void)e;
    if (c->s->info.name) {
        return json_pack("{s:s}", "name", c->s->info.name);
    }
    return json_object();
}

static const struct qmp_cmd qmp_cmds[];
static const size_t qmp_ncmds;

static json_t *qmp_cmd_query_commands(struct qmp_client *c, json_t *args,
                                      struct qmp_err *e)
{
    (void)c, (void)args, (void)e;
    json_t *list = json_array();
    for (size_t i = 0; list && i < qmp_ncmds; i++) {
        json_array_append_new(list,
                              json_pack("{s:s}", "name", qmp_cmds[i].name));
    }
    return list;
}

static json_t *qmp_cmd_query_target(struct qmp_client *c, json_t *args,
                                    struct qmp_err *e)
{
    (void)c, (void)args, (void)e;
    return json_pack("{s:s}", "arch", "riscv64");
}

static json_t *qmp_cmd_query_machines(struct qmp_client *c, json_t *args,
                                      struct qmp_err *e)
{
    (void)c, (void)args, (void)e;
    json_t *list = json_array();
    for (unsigned i = 0; list && board_at(i); i++) {
        const struct board_ops *b = board_at(i);
        json_t *m = json_pack(
            "{s:s,s:i,s:b,s:b,s:b,s:s,s:s,s:b}", "name", b->name, "cpu-max",
            (int)b->max_cpus, "hotpluggable-cpus", 0, "numa-mem-supported", 0,
            "deprecated", 0, "default-cpu-type", "rv64-riscv-cpu",
            "default-ram-id", "riscv_virt_board.ram", "acpi", 0);
        if (m && b == board_default()) {
            json_object_set_new(m, "is-default", json_true());
        }
        json_array_append_new(list, m);
    }
    return list;
}

static json_t *qmp_cmd_query_kvm(struct qmp_client *c, json_t *args,
                                 struct qmp_err *e)
{
    (void)c, (void)args, (void)e;
    return json_pack("{s:b,s:b}", "enabled", 0, "present",
                     access("/dev/kvm", F_OK) == 0);
}

static json_t *qmp_cmd_query_cpus_fast(struct qmp_client *c, json_t *args,
                                       struct qmp_err *e)
{
    (void)args, (void)e;
    json_t *list = json_array();
    for (unsigned i = 0; list && i < c->s->info.ncpus; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/machine/soc0/harts[%u]", i);
        long tid = c->s->ops->cpu_thread_id(c->s->opaque, i);
        json_array_append_new(
            list,
            json_pack("{s:i,s:s,s:I,s:s,s:{s:i,s:i}}", "cpu-index", (int)i,
                      "qom-path", path, "thread-id", (json_int_t)tid, "target",
                      "riscv64", "props", "core-id", (int)i, "socket-id", 0));
    }
    return list;
}

static json_t *qmp_cmd_stop(struct qmp_client *c, json_t *args,
                            struct qmp_err *e)
{
    (void)args, (void)e;
    c->s->ops->stop(c->s->opaque);
    return json_object();
}

static json_t *qmp_cmd_cont(struct qmp_client *c, json_t *args,
                            struct qmp_err *e)
{
    (void)args, (void)e;
    c->s->ops->cont(c->s->opaque);
    return json_object();
}

static json_t *qmp_cmd_system_reset(struct qmp_client *c, json_t *args,
                                    struct qmp_err *e)
{
    (void)args, (void)e;
    c->s->ops->reset(c->s->opaque);
    return json_object();
}

static json_t *qmp_cmd_quit(struct qmp_client *c, json_t *args,
                            struct qmp_err *e)
{
    (void)args, (void)e;
    c->s->ops->quit(c->s->opaque);
    return json_object();
}

static json_t *qmp_cmd_system_powerdown(struct qmp_client *c, json_t *args,
                                        struct qmp_err *e)
{
    (void)args, (void)e;
    c->s->ops->powerdown(c->s->opaque);
    return json_object();
}

static json_t *qmp_cmd_query_block(struct qmp_client *c, json_t *args,
                                   struct qmp_err *e)
{
    (void)args, (void)e;
    return c->s->ops->query_block(c->s->opaque);
}

static json_t *qmp_cmd_query_chardev(struct qmp_client *c, json_t *args,
                                     struct qmp_err *e)
{
    (void)args, (void)e;
    return c->s->ops->query_chardev(c->s->opaque);
}

static json_t *qmp_cmd_human_monitor_command(struct qmp_client *c, json_t *args,
                                             struct qmp_err *e)
{
    json_t *cpu = json_object_get(args, "cpu-index");
    if (cpu && (json_integer_value(cpu) < 0 ||
                json_integer_value(cpu) >= (json_int_t)c->s->info.ncpus)) {
        return qmp_fail(e, "GenericError",
                        "Parameter 'cpu-index' expects "
                        "a CPU number");
    }
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    if (!f) {
        return NULL;
    }
    hmp_execute(c->s, json_string_value(json_object_get(args, "command-line")),
                f);
    fclose(f);
    /* As QEMU's monitor: every "\n" goes out as "\r\n". */
    size_t lf = 0;
    for (size_t i = 0; i < n; i++) {
        lf += text[i] == '\n';
    }
    char *crlf = malloc(n + lf + 1);
    json_t *ret = NULL;
    if (crlf) {
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            if (text[i] == '\n') {
                crlf[o++] = '\r';
            }
            crlf[o++] = text[i];
        }
        ret = json_stringn(crlf, o);
        if (!ret) {
            /* Not valid UTF-8 (a guest-chosen name, say): escape it. */
            for (size_t i = 0; i < o; i++) {
                if ((unsigned char)crlf[i] >= 0x80) {
                    crlf[i] = '?';
                }
            }
            ret = json_stringn(crlf, o);
        }
    }
    free(crlf);
    free(text);
    return ret;
}

static json_t *qmp_cmd_screendump(struct qmp_client *c, json_t *args,
                                  struct qmp_err *e)
{
    json_t *head = json_object_get(args, "head");
    const char *fmt = json_string_value(json_object_get(args, "format"));
    struct error err = { 0 };
    if (fmt && strcmp(fmt, "ppm") != 0 && strcmp(fmt, "png") != 0) {
        return qmp_fail(e, "GenericError",
                        "Parameter 'format' does not accept value '%.100s'",
                        fmt);
    }
    if (c->s->ops->screendump(
            c->s->opaque, json_string_value(json_object_get(args, "device")),
            head ? json_integer_value(head) : -1,
            json_string_value(json_object_get(args, "filename")),
            fmt ? fmt : "ppm", &err) < 0) {
        return qmp_fail(e, "GenericError", "%s", err.msg);
    }
    return json_object();
}

/* A KeyValue ({"type": "qcode"|"number", "data": ...}) as a Linux key
 * code; 0 with e filled in when it is not one. */
static uint32_t qmp_key_value(json_t *kv, const char *where, struct qmp_err *e)
{
    const char *type = json_string_value(json_object_get(kv, "type"));
    json_t *data = json_object_get(kv, "data");
    uint32_t code = 0;
    if (type && strcmp(type, "qcode") == 0 && json_is_string(data)) {
        code = qcode_to_linux(json_string_value(data));
        if (!code) {
            qmp_fail(e, "GenericError",
                     "Parameter '%s.data' does not accept value '%.60s'", where,
                     json_string_value(data));
        }
    } else if (type && strcmp(type, "number") == 0 && json_is_integer(data)) {
        code = qnum_to_linux(json_integer_value(data));
        if (!code) {
            qmp_fail(e, "GenericError", "%s: key number %lld has no key", where,
                     (long long)json_integer_value(data));
        }
    } else {
        qmp_fail(e, "GenericError",
                 "Invalid parameter '%s': expected {\"type\": \"qcode\", "
                 "\"data\": NAME} or {\"type\": \"number\", \"data\": N}",
                 where);
    }
    return code;
}

static json_t *qmp_cmd_send_key(struct qmp_client *c, json_t *args,
                                struct qmp_err *e)
{
    (void)c;
    json_t *keys = json_object_get(args, "keys");
    json_t *hold = json_object_get(args, "hold-time");
    uint32_t codes[UI_MAX_HELD_KEYS];
    size_t n = json_array_size(keys);
    if (n == 0 || n > UI_MAX_HELD_KEYS) {
        return qmp_fail(e, "GenericError",
                        "Parameter 'keys' needs 1 to %d keys",
                        UI_MAX_HELD_KEYS);
    }
    if (hold &&
        (json_integer_value(hold) < 0 || json_integer_value(hold) > 10000)) {
        return qmp_fail(e, "GenericError",
                        "Parameter 'hold-time' must be 0..10000 (ms)");
    }
    for (size_t i = 0; i < n; i++) {
        char where[32];
        snprintf(where, sizeof(where), "keys[%zu]", i);
        codes[i] = qmp_key_value(json_array_get(keys, i), where, e);
        if (!codes[i]) {
            return NULL;
        }
    }
    ui_input_send_keys(codes, (unsigned)n,
                       hold ? (unsigned)json_integer_value(hold) : 100);
    return json_object();
}

static const struct {
    const char *name;
    uint32_t bit;
} qmp_buttons[] = {
    { "left", UI_BUTTON_LEFT },
    { "middle", UI_BUTTON_MIDDLE },
    { "right", UI_BUTTON_RIGHT },
    { "wheel-up", UI_BUTTON_WHEEL_UP },
    { "wheel-down", UI_BUTTON_WHEEL_DOWN },
};

/* The absolute pointer as input-send-event last left it. */
static uint32_t qmp_abs[2], qmp_btns;

static json_t *qmp_cmd_input_send_event(struct qmp_client *c, json_t *args,
                                        struct qmp_err *e)
{
    (void)c;
    json_t *events = json_object_get(args, "events");
    size_t n = json_array_size(events);
    enum {
        EV_K,
        EV_B,
        EV_A
    } kind[64];
    uint32_t val[64];
    bool down[64];
    if (n == 0 || n > 64) {
        return qmp_fail(e, "GenericError",
                        "Parameter 'events' needs 1 to 64 events");
    }
    /* Everything is checked before anything is sent. */
    for (size_t i = 0; i < n; i++) {
        json_t *ev = json_array_get(events, i);
        const char *type = json_string_value(json_object_get(ev, "type"));
        json_t *d = json_object_get(ev, "data");
        char where[48];
        snprintf(where, sizeof(where), "events[%zu]", i);
        if (!type || !json_is_object(d)) {
            return qmp_fail(e, "GenericError",
                            "Invalid parameter '%s': expected {\"type\": "
                            "..., \"data\": {...}}",
                            where);
        }
        if (strcmp(type, "key") == 0) {
            kind[i] = EV_K;
            down[i] = json_is_true(json_object_get(d, "down"));
            snprintf(where, sizeof(where), "events[%zu].data.key", i);
            val[i] = qmp_key_value(json_object_get(d, "key"), where, e);
            if (!val[i]) {
                return NULL;
            }
        } else if (strcmp(type, "btn") == 0) {
            const char *b = json_string_value(json_object_get(d, "button"));
            kind[i] = EV_B;
            down[i] = json_is_true(json_object_get(d, "down"));
            val[i] = 0;
            for (size_t k = 0;
                 b && k < sizeof(qmp_buttons) / sizeof(qmp_buttons[0]); k++) {
                if (strcmp(b, qmp_buttons[k].name) == 0) {
                    val[i] = qmp_buttons[k].bit;
                }
            }
            if (!val[i]) {
                return qmp_fail(e, "GenericError",
                                "%s: button must be left, middle, right, "
                                "wheel-up or wheel-down",
                                where);
            }
        } else if (strcmp(type, "abs") == 0) {
            const char *axis = json_string_value(json_object_get(d, "axis"));
            json_t *v = json_object_get(d, "value");
            kind[i] = EV_A;
            if (!axis || (strcmp(axis, "x") != 0 && strcmp(axis, "y") != 0) ||
                !json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > 0x7fff) {
                return qmp_fail(e, "GenericError",
                                "%s: abs needs axis x or y and a value "
                                "0..32767",
                                where);
            }
            down[i] = strcmp(axis, "y") == 0; /* which axis */
            val[i] = (uint32_t)json_integer_value(v);
        } else {
            return qmp_fail(e, "GenericError",
                            "%s: event type '%.20s' is not supported (key, "
                            "btn and abs are; relative motion needs a "
                            "virtio mouse, which has no input path yet)",
                            where, type);
        }
    }
    bool pointer = false;
    for (size_t i = 0; i < n; i++) {
        switch (kind[i]) {
        case EV_K:
            ui_input_key(val[i], down[i]);
            break;
        case EV_B:
            qmp_btns = down[i] ? (qmp_btns | val[i]) : (qmp_btns & ~val[i]);
            pointer = true;
            break;
        case EV_A:
            qmp_abs[down[i]] = val[i];
            pointer = true;
            break;
        }
    }
    if (pointer) {
        ui_input_pointer_abs(qmp_abs[0], qmp_abs[1], qmp_btns);
        /* Wheel "buttons" are notches, not held. */
        qmp_btns &= ~(uint32_t)(UI_BUTTON_WHEEL_UP | UI_BUTTON_WHEEL_DOWN);
    }
    return json_object();
}

static const struct qmp_arg qmp_args_send_key[] = {
    { "keys", QMP_T_ARRAY, false },
    { "hold-time", QMP_T_INT, true },
    { NULL, QMP_T_ANY, false },
};

static const struct qmp_arg qmp_args_input_send_event[] = {
    { "events", QMP_T_ARRAY, false },
    { "device", QMP_T_STR, true },
    { "head", QMP_T_INT, true },
    { NULL, QMP_T_ANY, false },
};

static const struct qmp_arg qmp_args_screendump[] = {
    { "filename", QMP_T_STR, false }, { "device", QMP_T_STR, true },
    { "head", QMP_T_INT, true },      { "format", QMP_T_STR, true },
    { NULL, QMP_T_ANY, false },
};

static const struct qmp_arg qmp_args_hmp[] = {
    { "command-line", QMP_T_STR, false },
    { "cpu-index", QMP_T_INT, true },
    { NULL, QMP_T_ANY, false },
};

static const struct qmp_arg qmp_args_capabilities[] = {
    { "enable", QMP_T_ARRAY, true },
    { NULL, QMP_T_ANY, false },
};

/* The command table: name, argument spec, handler. */
static const struct qmp_cmd qmp_cmds[] = {
    { "qmp_capabilities", qmp_args_capabilities, qmp_cmd_capabilities },
    { "query-version", NULL, qmp_cmd_query_version },
    { "query-status", NULL, qmp_cmd_query_status },
    { "query-name", NULL, qmp_cmd_query_name },
    { "query-commands", NULL, qmp_cmd_query_commands },
    { "query-target", NULL, qmp_cmd_query_target },
    { "query-machines", NULL, qmp_cmd_query_machines },
    { "query-kvm", NULL, qmp_cmd_query_kvm },
    { "query-cpus-fast", NULL, qmp_cmd_query_cpus_fast },
    { "query-block", NULL, qmp_cmd_query_block },
    { "query-chardev", NULL, qmp_cmd_query_chardev },
    { "stop", NULL, qmp_cmd_stop },
    { "cont", NULL, qmp_cmd_cont },
    { "system_reset", NULL, qmp_cmd_system_reset },
    { "system_powerdown", NULL, qmp_cmd_system_powerdown },
    { "quit", NULL, qmp_cmd_quit },
    { "human-monitor-command", qmp_args_hmp, qmp_cmd_human_monitor_command },
    { "screendump", qmp_args_screendump, qmp_cmd_screendump },
    { "send-key", qmp_args_send_key, qmp_cmd_send_key },
    { "input-send-event", qmp_args_input_send_event, qmp_cmd_input_send_event },
};
static const size_t qmp_ncmds = sizeof(qmp_cmds) / sizeof(qmp_cmds[0]);

static const char *qmp_type_name(enum qmp_type t)
{
    switch (t) {
    case QMP_T_STR:
        return "string";
    case QMP_T_INT:
        return "integer";
    case QMP_T_NUM:
        return "number";
    case QMP_T_BOOL:
        return "boolean";
    case QMP_T_OBJ:
        return "object";
    case QMP_T_ARRAY:
        return "array";
    case QMP_T_ANY:
        break;
    }
    return "any";
}

static bool qmp_type_ok(enum qmp_type t, const json_t *v)
{
    switch (t) {
    case QMP_T_STR:
        return json_is_string(v);
    case QMP_T_INT:
        return json_is_integer(v);
    case QMP_T_NUM:
        return json_is_number(v);
    case QMP_T_BOOL:
        return json_is_boolean(v);
    case QMP_T_OBJ:
        return json_is_object(v);
    case QMP_T_ARRAY:
        return json_is_array(v);
    case QMP_T_ANY:
        break;
    }
    return true;
}

/* Check args against the spec before the handler runs (no side effect
 * happens for a rejected command). */
static bool qmp_check_args(const struct qmp_cmd *cmd, json_t *args,
                           struct qmp_err *e)
{
    const struct qmp_arg *spec = cmd->args;
    for (unsigned i = 0; spec && spec[i].name; i++) {
        json_t *v = json_object_get(args, spec[i].name);
        if (!v && !spec[i].optional) {
            qmp_fail(e, "GenericError", "Parameter '%s' is missing",
                     spec[i].name);
            return false;
        }
        if (v && !qmp_type_ok(spec[i].type, v)) {
            qmp_fail(e, "GenericError",
                     "Invalid parameter type for '%s', expected: %s",
                     spec[i].name, qmp_type_name(spec[i].type));
            return false;
        }
    }
    const char *key;
    json_t *v;
    json_object_foreach(args, key, v)
    {
        bool known = false;
        for (unsigned i = 0; spec && spec[i].name && !known; i++) {
            known = strcmp(spec[i].name, key) == 0;
        }
        if (!known) {
            qmp_fail(e, "GenericError", "Parameter '%.100s' is unexpected",
                     key);
            return false;
        }
    }
    return true;
}

static void qmp_dispatch(struct qmp_client *c, json_t *req)
{
    struct qmp_err e = { .cls = NULL };
    if (!json_is_object(req)) {
        qmp_send_error(c, NULL, "GenericError",
                       "QMP input must be a JSON object");
        return;
    }
    json_t *id = json_object_get(req, "id");
    const char *key;
    json_t *v;
    json_object_foreach(req, key, v)
    {
        if (strcmp(key, "execute") != 0 && strcmp(key, "exec-oob") != 0 &&
            strcmp(key, "arguments") != 0 && strcmp(key, "id") != 0) {
            snprintf(e.desc, sizeof(e.desc),
                     "QMP input member '%.100s' is unexpected", key);
            qmp_send_error(c, id, "GenericError", e.desc);
            return;
        }
    }
    json_t *exec = json_object_get(req, "execute");
    json_t *oob = json_object_get(req, "exec-oob");
    const char *member = oob ? "exec-oob" : "execute";
    if (exec && oob) {
        qmp_send_error(c, id, "GenericError",
                       "QMP input member 'exec-oob' is unexpected");
        return;
    }
    if (!exec && !oob) {
        qmp_send_error(c, id, "GenericError",
                       "QMP input lacks member 'execute'");
        return;
    }
    if (!json_is_string(exec ? exec : oob)) {
        snprintf(e.desc, sizeof(e.desc),
                 "QMP input member '%s' must be a string", member);
        qmp_send_error(c, id, "GenericError", e.desc);
        return;
    }
    json_t *args = json_object_get(req, "arguments");
    if (args && !json_is_object(args)) {
        qmp_send_error(c, id, "GenericError",
                       "QMP input member 'arguments' must be an object");
        return;
    }
    const char *name = json_string_value(exec ? exec : oob);
    bool is_caps = strcmp(name, "qmp_capabilities") == 0;
    if (!c->negotiated && !is_caps) {
        qmp_send_error(c, id, "CommandNotFound",
                       "Expecting capabilities negotiation with "
                       "'qmp_capabilities'");
        return;
    }
    if (c->negotiated && is_caps) {
        qmp_send_error(c, id, "CommandNotFound",
                       "Capabilities negotiation is already complete, "
                       "command ignored");
        return;
    }
    if (oob && !c->oob) {
        qmp_send_error(c, id, "GenericError",
                       "QMP input member 'exec-oob' is unexpected");
        return;
    }
    const struct qmp_cmd *cmd = NULL;
    for (size_t i = 0; i < qmp_ncmds && !cmd; i++) {
        if (strcmp(qmp_cmds[i].name, name) == 0) {
            cmd = &qmp_cmds[i];
        }
    }
    if (!cmd) {
        snprintf(e.desc, sizeof(e.desc),
                 "The command %.100s has not been found", name);
        qmp_send_error(c, id, "CommandNotFound", e.desc);
        return;
    }
    if (oob) {
        snprintf(e.desc, sizeof(e.desc), "The command %s does not support OOB",
                 cmd->name);
        qmp_send_error(c, id, "GenericError", e.desc);
        return;
    }
    json_t *empty = NULL;
    if (!args) {
        args = empty = json_object();
    }
    json_t *ret = NULL;
    if (args && qmp_check_args(cmd, args, &e)) {
        ret = cmd->fn(c, args, &e);
        if (!ret && !e.cls) {
            qmp_fail(&e, "GenericError", "out of memory");
        }
    } else if (!args) {
        qmp_fail(&e, "GenericError", "out of memory");
    }
    json_decref(empty);
    if (!ret) {
        qmp_send_error(c, id, e.cls, e.desc);
        return;
    }
    json_t *msg = json_object();
    if (!msg) {
        json_decref(ret);
        return;
    }
    json_object_set_new(msg, "return", ret);
    if (id) {
        json_object_set(msg, "id", id);
    }
    qmp_send(c, msg);
}

/* ---- the splitter ---- */

static void qmp_split_reset(struct qmp_client *c)
{
    c->len = 0;
    c->depth = 0;
    c->in_str = c->esc = c->overflow = c->too_deep = false;
}

static void qmp_value_done(struct qmp_client *c)
{
    if (c->overflow) {
        char desc[128];
        snprintf(desc, sizeof(desc), "JSON parse error, input exceeds %u bytes",
                 (unsigned)QMP_MAX_INPUT);
        qmp_send_error(c, NULL, "GenericError", desc);
    } else if (c->too_deep) {
        char desc[128];
        snprintf(desc, sizeof(desc), "JSON parse error, nesting deeper than %u",
                 (unsigned)QMP_MAX_DEPTH);
        qmp_send_error(c, NULL, "GenericError", desc);
    } else {
        json_error_t jerr;
        json_t *req = json_loadb(c->buf, c->len, 0, &jerr);
        if (!req) {
            char desc[300];
            snprintf(desc, sizeof(desc), "JSON parse error, %s", jerr.text);
            qmp_send_error(c, NULL, "GenericError", desc);
        } else {
            qmp_dispatch(c, req);
            json_decref(req);
        }
    }
    qmp_split_reset(c);
}

static void qmp_store(struct qmp_client *c, uint8_t b)
{
    if (c->overflow) {
        return;
    }
    if (c->len == c->cap) {
        if (c->cap >= QMP_MAX_INPUT) {
            c->overflow = true;
            return;
        }
        size_t ncap = c->cap ? c->cap * 2 : 256;
        if (ncap > QMP_MAX_INPUT) {
            ncap = QMP_MAX_INPUT;
        }
        char *nb = realloc(c->buf, ncap);
        if (!nb) {
            c->overflow = true;
            return;
        }
        c->buf = nb;
        c->cap = ncap;
    }
    c->buf[c->len++] = (char)b;
}

static bool qmp_is_space(uint8_t b)
{
    return b == ' ' || b == '\t' || b == '\n' || b == '\r';
}

static void qmp_split_byte(struct qmp_client *c, uint8_t b)
{
    bool ctl = (b < 0x20 && !qmp_is_space(b)) || b == 0xff;
    if (c->depth == 0) {
        if (qmp_is_space(b) || ctl) {
            c->junk = false;
        } else if (b == '{' || b == '[') {
            c->junk = false;
            qmp_split_reset(c);
            qmp_store(c, b);
            c->depth = 1;
        } else if (!c->junk) {
            c->junk = true;
            qmp_send_error(c, NULL, "GenericError",
                           "JSON parse error, invalid input outside a JSON "
                           "object");
        }
        return;
    }
    if (ctl) {
        qmp_send_error(c, NULL, "GenericError",
                       "JSON parse error, control character in input");
        qmp_split_reset(c);
        return;
    }
    qmp_store(c, b);
    if (c->in_str) {
        if (c->esc) {
            c->esc = false;
        } else if (b == '\\') {
            c->esc = true;
        } else if (b == '"') {
            c->in_str = false;
        }
        return;
    }
    if (b == '"') {
        c->in_str = true;
    } else if (b == '{' || b == '[') {
        if (++c->depth > QMP_MAX_DEPTH) {
            c->too_deep = true;
        }
    } else if (b == '}' || b == ']') {
        if (--c->depth == 0) {
            qmp_value_done(c);
        }
    }
}

void qmp_client_input(struct qmp_client *c, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        qmp_split_byte(c, buf[i]);
    }
}

/* ---- clients ---- */

struct qmp_client *qmp_client_new(struct qmp_server *s, qmp_out_fn out,
                                  void *opaque)
{
    struct qmp_client *c = calloc(1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    c->s = s;
    c->out = out;
    c->opaque = opaque;
    c->next = s->clients;
    s->clients = c;
    json_t *greet = json_pack("{s:{s:o,s:[s]}}", "QMP", "version",
                              qmp_version_obj(), "capabilities", "oob");
    if (greet) {
        qmp_send(c, greet);
    }
    return c;
}

void qmp_client_free(struct qmp_client *c)
{
    if (!c) {
        return;
    }
    for (struct qmp_client **pp = &c->s->clients; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    free(c->buf);
    free(c);
}

struct qmp_server *qmp_server_new(const struct qmp_machine_ops *ops,
                                  void *opaque,
                                  const struct qmp_machine_info *info)
{
    struct qmp_server *s = calloc(1, sizeof(*s));
    if (s) {
        s->ops = ops;
        s->opaque = opaque;
        s->info = *info;
    }
    return s;
}

const struct qmp_machine_ops *qmp_server_ops(struct qmp_server *s,
                                             void **opaque)
{
    *opaque = s->opaque;
    return s->ops;
}

const struct qmp_machine_info *qmp_server_info(struct qmp_server *s)
{
    return &s->info;
}

/* ---- monitors on chardevs ---- */

static void qmp_mon_out(void *opaque, const char *buf, size_t n)
{
    struct qmp_mon *m = opaque;
    chardev_write(m->chr, (const uint8_t *)buf, n);
}

static size_t qmp_mon_can_read(void *opaque)
{
    (void)opaque;
    return 4096;
}

static void qmp_mon_read(void *opaque, const uint8_t *buf, size_t n)
{
    struct qmp_mon *m = opaque;
    if (m->qc) {
        qmp_client_input(m->qc, buf, n);
    } else if (m->hc) {
        hmp_client_input(m->hc, buf, n);
    }
}

static void qmp_mon_close(struct qmp_mon *m)
{
    qmp_client_free(m->qc);
    hmp_client_free(m->hc);
    m->qc = NULL;
    m->hc = NULL;
    m->greeted = false;
}

static void qmp_mon_event(void *opaque, enum chardev_event ev)
{
    struct qmp_mon *m = opaque;
    switch (ev) {
    case CHARDEV_OPENED:
        qmp_mon_close(m);
        if (m->control) {
            m->qc = qmp_client_new(m->s, qmp_mon_out, m);
            break;
        }
        m->hc = hmp_client_new(m->s, qmp_mon_out, m);
        /* On a mux the terminal belongs to the console until Ctrl-A c. */
        if (m->hc && !chardev_is_mux(m->chr)) {
            hmp_client_greet(m->hc);
            m->greeted = true;
        }
        break;
    case CHARDEV_CLOSED:
        qmp_mon_close(m);
        break;
    case CHARDEV_FOCUS_IN:
        if (m->hc && !m->greeted) {
            chardev_write(m->chr, (const uint8_t *)"\r\n", 2);
            hmp_client_greet(m->hc);
            m->greeted = true;
        } else if (m->hc) {
            hmp_client_prompt(m->hc);
        }
        break;
    }
}

int qmp_monitor_attach(struct qmp_server *s, struct chardev *chr, bool control,
                       struct error *err)
{
    struct qmp_mon *m = calloc(1, sizeof(*m));
    if (!m) {
        return err_set(err, -ENOMEM, "monitor: out of memory");
    }
    m->s = s;
    m->chr = chr;
    m->control = control;
    m->next = s->mons;
    s->mons = m;
    const struct chardev_receiver rx = {
        .can_read = qmp_mon_can_read,
        .read = qmp_mon_read,
        .event = qmp_mon_event,
        .opaque = m,
    };
    int r = chardev_add_frontend(chr, &rx);
    if (r < 0) {
        return err_set(err, r,
                       "monitor: the character device already has "
                       "%d users",
                       CHARDEV_MAX_FRONTENDS);
    }
    return 0;
}

/* ---- sockets ---- */

static void qmp_sock_close(struct qmp_sock *k)
{
    struct qmp_server *s = k->s;
    for (struct qmp_sock **pp = &s->socks; *pp; pp = &(*pp)->next) {
        if (*pp == k) {
            *pp = k->next;
            break;
        }
    }
    loop_del_fd(k->fd);
    close(k->fd);
    qmp_client_free(k->c);
    free(k->out);
    free(k);
}

static void qmp_reap(void *opaque)
{
    struct qmp_server *s = opaque;
    s->reap_queued = false;
    struct qmp_sock *k = s->socks;
    while (k) {
        struct qmp_sock *next = k->next;
        if (k->dead) {
            qmp_sock_close(k);
        }
        k = next;
    }
}

static void qmp_sock_kill(struct qmp_sock *k)
{
    k->dead = true;
    if (!k->s->reap_queued) {
        k->s->reap_queued = true;
        loop_call(qmp_reap, k->s);
    }
}

static void qmp_sock_flush(struct qmp_sock *k)
{
    size_t off = 0;
    while (off < k->outlen) {
        ssize_t w = send(k->fd, k->out + off, k->outlen - off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }
        if (w <= 0) {
            qmp_sock_kill(k);
            return;
        }
        off += (size_t)w;
    }
    memmove(k->out, k->out + off, k->outlen - off);
    k->outlen -= off;
    loop_mod_fd(k->fd, k->outlen ? (EPOLLIN | EPOLLOUT) : EPOLLIN);
}

static void qmp_sock_out(void *opaque, const char *buf, size_t n)
{
    struct qmp_sock *k = opaque;
    if (k->dead) {
        return;
    }
    if (k->outlen + n > QMP_MAX_OUTPUT) {
        qmp_sock_kill(k);
        return;
    }
    if (k->outlen + n > k->outcap) {
        size_t ncap = (k->outlen + n) * 2;
        char *nb = realloc(k->out, ncap);
        if (!nb) {
            qmp_sock_kill(k);
            return;
        }
        k->out = nb;
        k->outcap = ncap;
    }
    memcpy(k->out + k->outlen, buf, n);
    k->outlen += n;
    qmp_sock_flush(k);
}

static void qmp_sock_event(void *opaque, uint32_t events)
{
    struct qmp_sock *k = opaque;
    if (k->dead) {
        return;
    }
    if (events & EPOLLOUT) {
        qmp_sock_flush(k);
    }
    if (!k->dead && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        uint8_t buf[4096];
        ssize_t r = read(k->fd, buf, sizeof(buf));
        if (r > 0) {
            qmp_client_input(k->c, buf, (size_t)r);
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
            qmp_sock_kill(k);
        }
    }
    if (k->dead) {
        qmp_sock_close(k);
    }
}

static void qmp_accept(void *opaque, uint32_t events)
{
    struct qmp_server *s = opaque;
    (void)events;
    int lfd = -1;
    /* Find which listener fired: try each (they are non-blocking). */
    for (unsigned i = 0; i < s->nlisteners; i++) {
        lfd = s->listeners[i].fd;
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        struct qmp_sock *k = calloc(1, sizeof(*k));
        if (!k) {
            close(fd);
            continue;
        }
        k->s = s;
        k->fd = fd;
        if (loop_add_fd(fd, EPOLLIN, qmp_sock_event, k) < 0) {
            close(fd);
            free(k);
            continue;
        }
        k->next = s->socks;
        s->socks = k;
        k->c = qmp_client_new(s, qmp_sock_out, k);
        if (!k->c) {
            qmp_sock_kill(k);
        }
    }
}

struct qmp_spec {
    bool is_unix;
    char *addr; /* path, or host:port */
};

static int qmp_parse_spec(const char *spec, const char *optname,
                          struct qmp_spec *out, struct error *err)
{
    static const char *const known[] = { "addr", "server", "wait", NULL };
    struct opts o = { 0 };
    int r = opts_parse(&o, spec, "addr", optname, err);
    if (r == 0) {
        r = opts_check_known(&o, known, optname, err);
    }
    bool server = false, wait = true;
    if (r == 0) {
        r = opts_get_bool(&o, "server", false, &server, optname, err);
    }
    if (r == 0) {
        r = opts_get_bool(&o, "wait", true, &wait, optname, err);
    }
    const char *addr = r == 0 ? opts_get(&o, "addr") : NULL;
    if (r == 0 && !addr) {
        r = err_set(err, -EINVAL,
                    "%s %s: no address (use unix:PATH,server=on,wait=off "
                    "or tcp:HOST:PORT,server=on,wait=off)",
                    optname, spec);
    }
    if (r == 0 && strncmp(addr, "unix:", 5) == 0 && addr[5]) {
        out->is_unix = true;
        if (strlen(addr + 5) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            r = err_set(err, -ENAMETOOLONG, "%s %s: socket path too long",
                        optname, spec);
        }
    } else if (r == 0 && strncmp(addr, "tcp:", 4) == 0 &&
               strrchr(addr + 4, ':') && strrchr(addr + 4, ':')[1]) {
        out->is_unix = false;
    } else if (r == 0) {
        r = err_set(err, -EINVAL,
                    "%s %s: unsupported address (use unix:PATH or "
                    "tcp:HOST:PORT)",
                    optname, spec);
    }
    if (r == 0 && !server) {
        r = err_set(err, -EINVAL,
                    "%s %s: only server=on is supported (swede listens, it "
                    "does not connect)",
                    optname, spec);
    }
    if (r == 0 && wait) {
        r = err_set(err, -EINVAL,
                    "%s %s: wait=on is not supported (add "
                    "wait=off)",
                    optname, spec);
    }
    if (r == 0) {
        out->addr = strdup(addr + (out->is_unix ? 5 : 4));
        if (!out->addr) {
            r = err_set(err, -ENOMEM, "%s: out of memory", optname);
        }
    }
    opts_free(&o);
    return r;
}

int qmp_check_spec(const char *spec, const char *optname, struct error *err)
{
    struct qmp_spec sp = { 0 };
    int r = qmp_parse_spec(spec, optname, &sp, err);
    free(sp.addr);
    return r;
}

static int qmp_listen_unix(const char *path, const char *optname,
                           const char *spec, struct error *err)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return err_set(err, -errno, "%s %s: socket: %s", optname, spec,
                       strerror(errno));
    }
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
        int e = errno;
        close(fd);
        return err_set(err, -e, "%s %s: %s", optname, spec, strerror(e));
    }
    return fd;
}

static int qmp_listen_tcp(char *hostport, const char *optname, const char *spec,
                          struct error *err)
{
    char *colon = strrchr(hostport, ':');
    *colon = '\0';
    const char *port = colon + 1;
    char *host = hostport;
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        host++;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE };
    struct addrinfo *res = NULL;
    int g = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (g != 0) {
        return err_set(err, -EINVAL, "%s %s: %s", optname, spec,
                       gai_strerror(g));
    }
    int fd = -1, e = EADDRNOTAVAIL;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family,
                    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 8) < 0) {
            e = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        return err_set(err, -e, "%s %s: %s", optname, spec, strerror(e));
    }
    return fd;
}

int qmp_server_listen(struct qmp_server *s, const char *spec,
                      const char *optname, struct error *err)
{
    struct qmp_spec sp = { 0 };
    int r = qmp_parse_spec(spec, optname, &sp, err);
    if (r < 0) {
        return r;
    }
    if (s->nlisteners == QMP_MAX_LISTENERS) {
        free(sp.addr);
        return err_set(err, -EINVAL, "%s %s: at most %u QMP sockets", optname,
                       spec, QMP_MAX_LISTENERS);
    }
    int fd = sp.is_unix ? qmp_listen_unix(sp.addr, optname, spec, err)
                        : qmp_listen_tcp(sp.addr, optname, spec, err);
    if (fd < 0) {
        free(sp.addr);
        return fd;
    }
    if (loop_add_fd(fd, EPOLLIN, qmp_accept, s) < 0) {
        close(fd);
        free(sp.addr);
        return err_set(err, -EIO, "%s %s: cannot watch the socket", optname,
                       spec);
    }
    struct qmp_listener *l = &s->listeners[s->nlisteners++];
    l->fd = fd;
    if (sp.is_unix) {
        l->unix_path = sp.addr;
    } else {
        free(sp.addr);
    }
    return 0;
}

void qmp_server_free(struct qmp_server *s)
{
    if (!s) {
        return;
    }
    loop_call_cancel(qmp_reap, s);
    while (s->socks) {
        struct qmp_sock *k = s->socks;
        if (k->outlen && !k->dead) {
            /* Best effort: the reply to quit and the SHUTDOWN event. */
            size_t off = 0;
            for (int tries = 0; off < k->outlen && tries < 100; tries++) {
                ssize_t w = send(k->fd, k->out + off, k->outlen - off,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w > 0) {
                    off += (size_t)w;
                } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                    break;
                } else {
                    struct timespec ts = { 0, 10 * 1000 * 1000 };
                    nanosleep(&ts, NULL);
                }
            }
        }
        qmp_sock_close(k);
    }
    for (unsigned i = 0; i < s->nlisteners; i++) {
        loop_del_fd(s->listeners[i].fd);
        close(s->listeners[i].fd);
        if (s->listeners[i].unix_path) {
            unlink(s->listeners[i].unix_path);
            free(s->listeners[i].unix_path);
        }
    }
    while (s->mons) {
        struct qmp_mon *m = s->mons;
        s->mons = m->next;
        qmp_mon_close(m);
        free(m);
    }
    while (s->clients) {
        qmp_client_free(s->clients);
    }
    free(s);
}
