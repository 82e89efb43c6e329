/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for monitor/qmp without a VM: a fake machine and a fake
 * client whose output is collected line by line. Greeting, capabilities
 * negotiation, id echo, unknown commands and arguments, wrong types (no
 * side effect), garbage and oversize input (the client recovers), events
 * only to negotiated clients, -qmp spec checking.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "harness.h"
#include "monitor/hmp.h"
#include "monitor/qmp.h"
#include "ui/console.h"

struct fake_vm {
    bool running;
    int stops, conts, resets, quits, powerdowns;
};

static const char *fake_status(void *opaque, bool *running)
{
    struct fake_vm *vm = opaque;
    *running = vm->running;
    return vm->running ? "running" : "paused";
}
static void fake_stop(void *opaque)
{
    struct fake_vm *vm = opaque;
    vm->stops++;
    vm->running = false;
}
static void fake_cont(void *opaque)
{
    struct fake_vm *vm = opaque;
    vm->conts++;
    vm->running = true;
}
static void fake_reset(void *opaque)
{
    ((struct fake_vm *)opaque)->resets++;
}
static void fake_quit(void *opaque)
{
    ((struct fake_vm *)opaque)->quits++;
}
static long fake_tid(void *opaque, unsigned i)
{
    (void)opaque;
    return 1000 + i;
}

static void fake_powerdown(void *opaque)
{
    ((struct fake_vm *)opaque)->powerdowns++;
}
static void fake_registers(void *opaque, unsigned i, FILE *f)
{
    (void)opaque;
    fprintf(f, " pc       %016x\n", 0x80000000u + i);
}
static void fake_mtree(void *opaque, FILE *f)
{
    (void)opaque;
    fprintf(f, "address-space: memory\n");
}
static json_t *fake_block(void *opaque)
{
    (void)opaque;
    return json_pack("[{s:s,s:s,s:{s:s,s:s,s:s,s:b,s:{s:b,s:b,s:b}}}]",
                     "device", "disk0", "qdev", "/machine/peripheral/vd0",
                     "inserted", "file", "disk.img", "node-name", "#block100",
                     "drv", "raw", "ro", 1, "cache", "writeback", 1, "direct",
                     0, "no-flush", 0);
}
static json_t *fake_chardev(void *opaque)
{
    (void)opaque;
    return json_pack("[{s:s,s:s,s:b}]", "label", "serial0", "filename", "stdio",
                     "frontend-open", 1);
}

static int fake_screendump(void *opaque, const char *device, int64_t head,
                           const char *path, const char *format,
                           struct error *err)
{
    (void)opaque, (void)device, (void)head, (void)path, (void)format;
    return err_set(err, -ENODEV,
                   "There is no console to take a screendump from");
}

static const struct qmp_machine_ops fake_ops = {
    .screendump = fake_screendump,
    .powerdown = fake_powerdown,
    .print_registers = fake_registers,
    .print_mtree = fake_mtree,
    .query_block = fake_block,
    .query_chardev = fake_chardev,
    .status = fake_status,
    .stop = fake_stop,
    .cont = fake_cont,
    .reset = fake_reset,
    .quit = fake_quit,
    .cpu_thread_id = fake_tid,
};

struct sink {
    char data[1 << 20];
    size_t len, pos;
};

static void sink_out(void *opaque, const char *buf, size_t n)
{
    struct sink *k = opaque;
    if (k->len + n < sizeof(k->data)) {
        memcpy(k->data + k->len, buf, n);
        k->len += n;
        k->data[k->len] = '\0';
    }
}

static int crlf_errors;

/* The next message, parsed (caller frees), or NULL when none is left.
 * Every message must end with CRLF. */
static json_t *next_msg(struct sink *k)
{
    if (k->pos >= k->len) {
        return NULL;
    }
    char *end = strstr(k->data + k->pos, "\r\n");
    if (!end) {
        crlf_errors++;
        return NULL;
    }
    json_t *j =
        json_loadb(k->data + k->pos, (size_t)(end - k->data - k->pos), 0, NULL);
    k->pos = (size_t)(end - k->data) + 2;
    return j;
}

static struct fake_vm vm;
static struct qmp_server *srv;

static struct qmp_client *setup(struct sink *k, bool negotiate)
{
    memset(k, 0, sizeof(*k));
    struct qmp_client *c = qmp_client_new(srv, sink_out, k);
    json_t *g = next_msg(k);
    CHECK(g && json_object_get(g, "QMP"));
    json_decref(g);
    if (negotiate) {
        const char *cmd = "{\"execute\": \"qmp_capabilities\"}";
        qmp_client_input(c, (const uint8_t *)cmd, strlen(cmd));
        json_t *r = next_msg(k);
        CHECK(r && json_is_object(json_object_get(r, "return")));
        json_decref(r);
    }
    return c;
}

static void send_str(struct qmp_client *c, const char *s)
{
    qmp_client_input(c, (const uint8_t *)s, strlen(s));
}

/* Check the next message is an error of class cls (desc containing desc
 * when not NULL) and with no id when want_id is NULL. */
static void expect_error(struct sink *k, const char *cls, const char *desc,
                         const char *want_id)
{
    json_t *m = next_msg(k);
    json_t *e = json_object_get(m, "error");
    CHECK(e != NULL);
    const char *c = json_string_value(json_object_get(e, "class"));
    const char *d = json_string_value(json_object_get(e, "desc"));
    CHECK(c && strcmp(c, cls) == 0);
    if (desc) {
        CHECK(d && strstr(d, desc));
        if (!(d && strstr(d, desc))) {
            printf("  desc: %s\n", d ? d : "(none)");
        }
    }
    json_t *id = json_object_get(m, "id");
    if (want_id) {
        CHECK(json_is_string(id) &&
              strcmp(json_string_value(id), want_id) == 0);
    } else {
        CHECK(id == NULL);
    }
    json_decref(m);
}

static json_t *expect_return(struct sink *k)
{
    json_t *m = next_msg(k);
    json_t *r = json_object_get(m, "return");
    CHECK(r != NULL);
    json_incref(r);
    json_decref(m);
    return r;
}

TEST(greeting)
{
    static struct sink k;
    memset(&k, 0, sizeof(k));
    struct qmp_client *c = qmp_client_new(srv, sink_out, &k);
    CHECK(strstr(k.data, "\r\n") == k.data + k.len - 2);
    json_t *g = next_msg(&k);
    json_t *q = json_object_get(g, "QMP");
    CHECK(json_integer_value(json_object_get(
              json_object_get(json_object_get(q, "version"), "qemu"),
              "major")) == 8);
    CHECK(json_array_size(json_object_get(q, "capabilities")) == 1);
    json_decref(g);
    qmp_client_free(c);
}

TEST(negotiation)
{
    static struct sink k;
    struct qmp_client *c = setup(&k, false);
    send_str(c, "{\"execute\": \"query-status\", \"id\": \"a\"}");
    expect_error(&k, "CommandNotFound",
                 "Expecting capabilities negotiation with 'qmp_capabilities'",
                 "a");
    send_str(c, "{\"execute\": \"stop\"}");
    expect_error(&k, "CommandNotFound", "Expecting capabilities", NULL);
    CHECK_EQ(vm.stops, 0);
    /* Events only reach negotiated clients. */
    qmp_event(srv, "STOP", NULL);
    CHECK(next_msg(&k) == NULL);
    send_str(c, "{\"execute\": \"qmp_capabilities\", \"arguments\": "
                "{\"enable\": [\"oob\"]}, \"id\": \"b\"}");
    json_t *r = expect_return(&k);
    CHECK(json_is_object(r) && json_object_size(r) == 0);
    json_decref(r);
    send_str(c, "{\"execute\": \"qmp_capabilities\", \"id\": \"c\"}");
    expect_error(&k, "CommandNotFound", "already complete", "c");
    qmp_event(srv, "STOP", NULL);
    json_t *ev = next_msg(&k);
    CHECK(ev &&
          strcmp(json_string_value(json_object_get(ev, "event")), "STOP") == 0);
    json_t *ts = json_object_get(ev, "timestamp");
    CHECK(json_is_integer(json_object_get(ts, "seconds")));
    CHECK(json_is_integer(json_object_get(ts, "microseconds")));
    CHECK(json_is_object(json_object_get(ev, "data")));
    json_decref(ev);
    qmp_client_free(c);
}

TEST(id_echo_and_queries)
{
    static struct sink k;
    struct qmp_client *c = setup(&k, true);
    send_str(c, "{\"execute\": \"query-target\", \"id\": {\"x\": [1, 2]}}");
    json_t *m = next_msg(&k);
    json_t *idv = json_object_get(m, "id");
    CHECK(json_is_object(idv) &&
          json_array_size(json_object_get(idv, "x")) == 2);
    CHECK(strcmp(json_string_value(
                     json_object_get(json_object_get(m, "return"), "arch")),
                 "riscv64") == 0);
    json_decref(m);
    vm.running = true;
    send_str(c, "{\"execute\":\"query-status\",\"id\":7}");
    m = next_msg(&k);
    CHECK(json_integer_value(json_object_get(m, "id")) == 7);
    json_t *r = json_object_get(m, "return");
    CHECK(json_is_true(json_object_get(r, "running")));
    CHECK(strcmp(json_string_value(json_object_get(r, "status")), "running") ==
          0);
    json_decref(m);
    send_str(c, "{\"execute\":\"query-cpus-fast\"}");
    r = expect_return(&k);
    CHECK_EQ(json_array_size(r), 2);
    CHECK_EQ(
        json_integer_value(json_object_get(json_array_get(r, 1), "thread-id")),
        1001);
    json_decref(r);
    send_str(c, "{\"execute\":\"query-commands\"}");
    r = expect_return(&k);
    CHECK(json_array_size(r) >= 13);
    json_decref(r);
    send_str(c, "{\"execute\":\"query-kvm\"}{\"execute\":\"query-machines\"}"
                "{\"execute\":\"query-name\"}{\"execute\":\"query-version\"}");
    for (int i = 0; i < 4; i++) {
        r = expect_return(&k);
        json_decref(r);
    }
    /* stop/cont reach the machine. */
    send_str(c, "{\"execute\":\"stop\"} {\"execute\":\"cont\"}");
    json_decref(expect_return(&k));
    json_decref(expect_return(&k));
    CHECK_EQ(vm.stops, 1);
    CHECK_EQ(vm.conts, 1);
    qmp_client_free(c);
}

TEST(errors)
{
    static struct sink k;
    struct qmp_client *c = setup(&k, true);
    send_str(c, "{\"execute\": \"no-such\", \"id\": \"x\"}");
    expect_error(&k, "CommandNotFound",
                 "The command no-such has not been found", "x");
    int stops = vm.stops;
    send_str(c, "{\"execute\": \"stop\", \"arguments\": {\"force\": true}, "
                "\"id\": \"y\"}");
    expect_error(&k, "GenericError", "Parameter 'force' is unexpected", "y");
    CHECK_EQ(vm.stops, stops);
    send_str(c, "{\"execute\": \"system_reset\", \"arguments\": {\"a\": 1}}");
    expect_error(&k, "GenericError", "Parameter 'a' is unexpected", NULL);
    CHECK_EQ(vm.resets, 0);
    send_str(c, "{\"execute\": \"quit\", \"arguments\": [], \"id\": \"z\"}");
    expect_error(&k, "GenericError", "'arguments' must be an object", "z");
    CHECK_EQ(vm.quits, 0);
    send_str(c, "{\"execute\": 3}");
    expect_error(&k, "GenericError", "'execute' must be a string", NULL);
    send_str(c, "{\"arguments\": {}}");
    expect_error(&k, "GenericError", "lacks member 'execute'", NULL);
    send_str(c, "{\"execute\": \"stop\", \"bogus\": 1}");
    expect_error(&k, "GenericError", "'bogus' is unexpected", NULL);
    send_str(c, "[1, 2]");
    expect_error(&k, "GenericError", "must be a JSON object", NULL);
    send_str(c, "{\"exec-oob\": \"stop\"}");
    expect_error(&k, "GenericError", "'exec-oob' is unexpected", NULL);
    CHECK_EQ(vm.stops, stops);
    qmp_client_free(c);

    /* Wrong type before negotiation completes: no negotiation happens. */
    c = setup(&k, false);
    send_str(c, "{\"execute\": \"qmp_capabilities\", \"arguments\": "
                "{\"enable\": \"oob\"}}");
    expect_error(&k, "GenericError",
                 "Invalid parameter type for 'enable', expected: array", NULL);
    send_str(c, "{\"execute\": \"qmp_capabilities\", \"arguments\": "
                "{\"enable\": [\"bogus\"]}}");
    expect_error(&k, "GenericError", "does not accept value 'bogus'", NULL);
    send_str(c, "{\"execute\": \"query-status\"}");
    expect_error(&k, "CommandNotFound", "Expecting capabilities", NULL);
    qmp_client_free(c);
}

TEST(garbage_and_recovery)
{
    static struct sink k;
    struct qmp_client *c = setup(&k, true);
    send_str(c, "hello world\n");
    expect_error(&k, "GenericError", "JSON parse error", NULL);
    expect_error(&k, "GenericError", "JSON parse error", NULL);
    send_str(c, "{\"execute\": }");
    expect_error(&k, "GenericError", "JSON parse error", NULL);
    /* Strings with braces and escaped quotes do not confuse the splitter. */
    send_str(c, "{\"execute\": \"x}{\\\"\", \"id\": \"q\"}");
    expect_error(&k, "CommandNotFound", "has not been found", "q");
    /* Binary garbage inside a value: abandoned at the control byte. */
    const uint8_t bin[] = { '{', '"', 0xc3, 0x28, 0x01, 0xff, 0x00, '\n' };
    qmp_client_input(c, bin, sizeof(bin));
    expect_error(&k, "GenericError", "control character", NULL);
    /* Invalid UTF-8 in a string: jansson rejects it. */
    const uint8_t utf[] = "{\"execute\": \"\xc3\x28\"}";
    qmp_client_input(c, utf, sizeof(utf) - 1);
    expect_error(&k, "GenericError", "JSON parse error", NULL);
    /* Split across reads, byte by byte. */
    const char *cmd = "{\"execute\": \"query-name\", \"id\": \"s\"}";
    for (size_t i = 0; cmd[i]; i++) {
        qmp_client_input(c, (const uint8_t *)&cmd[i], 1);
    }
    json_t *m = next_msg(&k);
    CHECK(json_object_get(m, "return") != NULL);
    json_decref(m);
    CHECK(next_msg(&k) == NULL);
    qmp_client_free(c);
}

TEST(oversize_and_depth)
{
    static struct sink k;
    struct qmp_client *c = setup(&k, true);
    size_t n = QMP_MAX_INPUT * 3;
    char *big = malloc(n + 64);
    strcpy(big, "{\"execute\": \"stop\", \"id\": \"");
    size_t l = strlen(big);
    memset(big + l, 'a', n);
    strcpy(big + l + n, "\"}");
    send_str(c, big);
    free(big);
    expect_error(&k, "GenericError", "exceeds", NULL);
    CHECK_EQ(vm.stops, 1);
    char deep[QMP_MAX_DEPTH * 2 + 8];
    memset(deep, '[', QMP_MAX_DEPTH + 1);
    memset(deep + QMP_MAX_DEPTH + 1, ']', QMP_MAX_DEPTH + 1);
    deep[QMP_MAX_DEPTH * 2 + 2] = '\0';
    send_str(c, deep);
    expect_error(&k, "GenericError", "nesting", NULL);
    send_str(c, "{\"execute\":\"query-target\",\"id\":\"after\"}");
    json_t *m = next_msg(&k);
    CHECK(json_object_get(m, "return") != NULL);
    json_decref(m);
    qmp_client_free(c);
}

TEST(spec_check)
{
    struct error err = { 0 };
    CHECK_EQ(
        qmp_check_spec("unix:/tmp/x.sock,server=on,wait=off", "-qmp", &err), 0);
    CHECK_EQ(
        qmp_check_spec("tcp:127.0.0.1:4444,server=on,wait=off", "-qmp", &err),
        0);
    CHECK_EQ(qmp_check_spec("tcp::4444,server=on,wait=off", "-qmp", &err), 0);
    const char *bad[] = { "unix:/tmp/x.sock",
                          "unix:/tmp/x.sock,server=on",
                          "unix:/tmp/x.sock,server=off,wait=off",
                          "stdio",
                          "tcp:4444,server=on,wait=off",
                          "tcp:host:,server=on,wait=off",
                          "unix:,server=on,wait=off",
                          "unix:/x,server=on,wait=off,bogus=1",
                          "unix:/x,server=maybe,wait=off" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct error e = { 0 };
        CHECK(qmp_check_spec(bad[i], "-qmp", &e) < 0);
        CHECK(strncmp(e.msg, "-qmp", 4) == 0);
    }
}

/* The next reply's return value, which must be a string. */
static char *expect_string(struct sink *k)
{
    json_t *r = expect_return(k);
    CHECK(json_is_string(r));
    char *s = strdup(json_is_string(r) ? json_string_value(r) : "");
    json_decref(r);
    return s;
}

TEST(human_monitor_command)
{
    static struct sink k;
    struct qmp_client *c = setup(&k, true);
    vm.running = true;
    send_str(c, "{\"execute\":\"human-monitor-command\",\"arguments\":"
                "{\"command-line\":\"info status\"}}");
    char *out = expect_string(&k);
    CHECK(strcmp(out, "VM status: running\r\n") == 0);
    free(out);
    send_str(c, "{\"execute\":\"human-monitor-command\",\"arguments\":"
                "{\"command-line\":\"  stop  \"}}");
    out = expect_string(&k);
    CHECK(strcmp(out, "") == 0);
    free(out);
    CHECK(!vm.running);
    send_str(c, "{\"execute\":\"human-monitor-command\",\"arguments\":"
                "{\"command-line\":\"info status\"}}");
    out = expect_string(&k);
    CHECK(strcmp(out, "VM status: paused\r\n") == 0);
    free(out);
    send_str(c, "{\"execute\":\"human-monitor-command\",\"arguments\":"
                "{\"command-line\":\"info registers -a\"}}");
    out = expect_string(&k);
    CHECK(strstr(out, "CPU#1\r\n pc       0000000080000001\r\n") != NULL);
    free(out);
    send_str(c, "{\"execute\":\"human-monitor-command\",\"arguments\":"
                "{\"command-line\":\"info block\"}}");
    out = expect_string(&k);
    CHECK(strstr(out, "disk0 (#block100): disk.img (raw, read-only)\r\n") !=
          NULL);
    CHECK(strstr(out, "Attached to:      /machine/peripheral/vd0\r\n") != NULL);
    free(out);
    send_str(c, "{\"execute\":\"human-monitor-command\",\"arguments\":"
                "{\"command-line\":\"info chardev\"}}");
    out = expect_string(&k);
    CHECK(strcmp(out, "serial0: filename=stdio\r\n") == 0);
    free(out);
    send_str(c, "{\"execute\":\"human-monitor-command\",\"arguments\":"
                "{\"command-line\":\"frobnicate\"}}");
    out = expect_string(&k);
    CHECK(strcmp(out, "unknown command: 'frobnicate'\r\n") == 0);
    free(out);
    /* Argument checks come before any side effect. */
    int stops = vm.stops;
    send_str(c, "{\"execute\":\"human-monitor-command\",\"arguments\":"
                "{\"command-line\":\"stop\",\"cpu-index\":9}}");
    expect_error(&k, "GenericError", "cpu-index", NULL);
    send_str(c, "{\"execute\":\"human-monitor-command\",\"arguments\":"
                "{\"command-line\":\"stop\",\"x\":1}}");
    expect_error(&k, "GenericError", "'x' is unexpected", NULL);
    send_str(c, "{\"execute\":\"human-monitor-command\",\"arguments\":"
                "{\"command-line\":7}}");
    expect_error(&k, "GenericError", "expected: string", NULL);
    send_str(c, "{\"execute\":\"human-monitor-command\"}");
    expect_error(&k, "GenericError", "'command-line' is missing", NULL);
    CHECK_EQ(vm.stops, stops);
    qmp_client_free(c);
}

TEST(new_queries_and_powerdown)
{
    static struct sink k;
    struct qmp_client *c = setup(&k, true);
    send_str(c, "{\"execute\":\"query-block\"}");
    json_t *r = expect_return(&k);
    CHECK(json_is_array(r) && json_array_size(r) == 1);
    json_decref(r);
    send_str(c, "{\"execute\":\"query-chardev\"}");
    r = expect_return(&k);
    CHECK(json_is_array(r) && json_array_size(r) == 1);
    json_decref(r);
    send_str(c, "{\"execute\":\"system_powerdown\",\"arguments\":{\"a\":1}}");
    expect_error(&k, "GenericError", "'a' is unexpected", NULL);
    CHECK_EQ(vm.powerdowns, 0);
    send_str(c, "{\"execute\":\"screendump\",\"arguments\":{"
                "\"filename\":\"/tmp/x.ppm\",\"format\":\"bmp\"}}");
    expect_error(&k, "GenericError", "'format' does not accept", NULL);
    send_str(c, "{\"execute\":\"screendump\",\"arguments\":{"
                "\"filename\":\"/tmp/x.ppm\",\"head\":\"0\"}}");
    expect_error(&k, "GenericError", "'head', expected: integer", NULL);
    send_str(c, "{\"execute\":\"screendump\",\"arguments\":{"
                "\"filename\":\"/tmp/x.ppm\"}}");
    expect_error(&k, "GenericError", "no console", NULL);
    send_str(c, "{\"execute\":\"system_powerdown\"}");
    json_decref(expect_return(&k));
    CHECK_EQ(vm.powerdowns, 1);
    qmp_client_free(c);
}

TEST(hmp_line_editor)
{
    static struct sink k;
    memset(&k, 0, sizeof(k));
    struct hmp_client *h = hmp_client_new(srv, sink_out, &k);
    CHECK(h != NULL);
    CHECK_EQ(k.len, 0); /* nothing before the greeting */
    hmp_client_greet(h);
    CHECK(strstr(k.data, "monitor") && strstr(k.data, "(qemu) "));
    vm.running = true;
    /* Backspace, an arrow key's escape sequence, CRLF counted once. */
    k.len = 0;
    const char *typed = "infx\x7fo\x1b[D sta\x1bOAtus\r\n";
    hmp_client_input(h, (const uint8_t *)typed, strlen(typed));
    CHECK(strstr(k.data, "\r\nVM status: running\r\n(qemu) ") != NULL);
    char *p = strstr(k.data, "(qemu) ");
    CHECK(p && strstr(p + 1, "(qemu) ") == NULL); /* one prompt only */
    /* Ctrl-U clears; an over-long line rings the bell and is cut. */
    k.len = 0;
    hmp_client_input(h, (const uint8_t *)"bogus\x15stop\n", 11);
    CHECK(!vm.running);
    k.len = 0;
    static char longline[HMP_MAX_LINE + 100];
    memset(longline, 'x', sizeof(longline) - 1);
    hmp_client_input(h, (const uint8_t *)longline, sizeof(longline) - 1);
    CHECK(strchr(k.data, '\a') != NULL);
    hmp_client_input(h, (const uint8_t *)"\n", 1);
    CHECK(strstr(k.data, "unknown command: 'xxxx") != NULL);
    /* Control bytes other than the editing keys are ignored. */
    k.len = 0;
    hmp_client_input(h, (const uint8_t *)"c\x01\x02\xff\x00ont\r", 9);
    CHECK(vm.running);
    hmp_client_free(h);
}

static uint32_t ev_keys[32], ev_nkeys, ev_ptr[3], ev_nptr;
static void ev_key(void *opaque, uint32_t code, bool down)
{
    (void)opaque;
    if (ev_nkeys < 32) {
        ev_keys[ev_nkeys++] = code << 1 | down;
    }
}
static void ev_pointer(void *opaque, uint32_t x, uint32_t y, uint32_t b)
{
    (void)opaque;
    ev_ptr[0] = x;
    ev_ptr[1] = y;
    ev_ptr[2] = b;
    ev_nptr++;
}

TEST(send_key_and_input_events)
{
    static struct sink k;
    struct qmp_client *c = setup(&k, true);
    ui_input_add_sink(&(struct ui_input_sink){ .key = ev_key });
    ui_input_add_sink(&(struct ui_input_sink){ .pointer = ev_pointer });
    send_str(c, "{\"execute\":\"send-key\",\"arguments\":{\"keys\":["
                "{\"type\":\"qcode\",\"data\":\"ctrl\"},"
                "{\"type\":\"number\",\"data\":30}],\"hold-time\":50}}");
    json_decref(expect_return(&k));
    CHECK_EQ(ev_nkeys, 2);
    CHECK_EQ(ev_keys[0], 29u << 1 | 1); /* KEY_LEFTCTRL down */
    CHECK_EQ(ev_keys[1], 30u << 1 | 1); /* KEY_A down */
    /* The next batch releases the held one first, in reverse order. */
    send_str(c, "{\"execute\":\"send-key\",\"arguments\":{\"keys\":["
                "{\"type\":\"qcode\",\"data\":\"kp_enter\"}]}}");
    json_decref(expect_return(&k));
    CHECK_EQ(ev_nkeys, 5);
    CHECK_EQ(ev_keys[2], 30u << 1);
    CHECK_EQ(ev_keys[3], 29u << 1);
    CHECK_EQ(ev_keys[4], 96u << 1 | 1); /* KEY_KPENTER */
    /* Bad keys: an error and nothing pressed. */
    send_str(c, "{\"execute\":\"send-key\",\"arguments\":{\"keys\":["
                "{\"type\":\"qcode\",\"data\":\"a\"},"
                "{\"type\":\"qcode\",\"data\":\"nosuchkey\"}]}}");
    expect_error(&k, "GenericError", "nosuchkey", NULL);
    send_str(c, "{\"execute\":\"send-key\",\"arguments\":{\"keys\":[]}}");
    expect_error(&k, "GenericError", "1 to", NULL);
    CHECK_EQ(ev_nkeys, 5);
    /* input-send-event: key, button and absolute position. */
    send_str(c, "{\"execute\":\"input-send-event\",\"arguments\":{"
                "\"events\":[{\"type\":\"key\",\"data\":{\"down\":true,"
                "\"key\":{\"type\":\"qcode\",\"data\":\"b\"}}},"
                "{\"type\":\"abs\",\"data\":{\"axis\":\"x\","
                "\"value\":100}},{\"type\":\"abs\",\"data\":{\"axis\":"
                "\"y\",\"value\":200}},{\"type\":\"btn\",\"data\":{"
                "\"down\":true,\"button\":\"left\"}}]}}");
    json_decref(expect_return(&k));
    CHECK_EQ(ev_nkeys, 6);
    CHECK_EQ(ev_keys[5], 48u << 1 | 1); /* KEY_B */
    CHECK_EQ(ev_nptr, 1);
    CHECK(ev_ptr[0] == 100 && ev_ptr[1] == 200 && ev_ptr[2] == UI_BUTTON_LEFT);
    /* One bad event: nothing of the batch is sent. */
    send_str(c, "{\"execute\":\"input-send-event\",\"arguments\":{"
                "\"events\":[{\"type\":\"key\",\"data\":{\"down\":true,"
                "\"key\":{\"type\":\"qcode\",\"data\":\"c\"}}},"
                "{\"type\":\"abs\",\"data\":{\"axis\":\"x\","
                "\"value\":40000}}]}}");
    expect_error(&k, "GenericError", "0..32767", NULL);
    send_str(c, "{\"execute\":\"input-send-event\",\"arguments\":{"
                "\"events\":[{\"type\":\"rel\",\"data\":{\"axis\":"
                "\"x\",\"value\":4}}]}}");
    expect_error(&k, "GenericError", "not supported", NULL);
    CHECK_EQ(ev_nkeys, 6);
    CHECK_EQ(ev_nptr, 1);
    qmp_client_free(c);
}

int main(void)
{
    struct qmp_machine_info info = { .name = NULL,
                                     .machine = "virt",
                                     .ncpus = 2 };
    srv = qmp_server_new(&fake_ops, &vm, &info);
    RUN(greeting);
    RUN(negotiation);
    RUN(id_echo_and_queries);
    RUN(errors);
    RUN(garbage_and_recovery);
    RUN(oversize_and_depth);
    RUN(spec_check);
    RUN(human_monitor_command);
    RUN(new_queries_and_powerdown);
    RUN(hmp_line_editor);
    RUN(send_key_and_input_events);
    CHECK_EQ(crlf_errors, 0);
    qmp_server_free(srv);
    HARNESS_END();
}
