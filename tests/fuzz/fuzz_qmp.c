/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the QMP splitter, parser and dispatcher (monitor/qmp.c):
 * the input is fed to one fake client in chunks whose sizes come from the
 * input itself, against a fake machine. Every server message must be one
 * JSON object followed by CRLF, and the input buffer must stay bounded.
 * Before the input, the client may be negotiated (first byte, bit 0) so
 * that the command handlers are reached.
 */
#include <assert.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool running = true;

static const char *fz_status(void *opaque, bool *r)
{
    (void)opaque;
    *r = running;
    return running ? "running" : "paused";
}
static void fz_stop(void *opaque)
{
    (void)opaque;
    running = false;
}
static void fz_cont(void *opaque)
{
    (void)opaque;
    running = true;
}
static void fz_nop(void *opaque)
{
    (void)opaque;
}
static long fz_tid(void *opaque, unsigned i)
{
    (void)opaque;
    return (long)i + 1;
}

static const struct qmp_machine_ops fz_ops = {
    .status = fz_status,
    .stop = fz_stop,
    .cont = fz_cont,
    .reset = fz_nop,
    .quit = fz_nop,
    .cpu_thread_id = fz_tid,
};

static void fz_out(void *opaque, const char *buf, size_t n)
{
    (void)opaque;
    assert(n >= 3 && buf[n - 2] == '\r' && buf[n - 1] == '\n');
    assert(memchr(buf, '\n', n - 1) == NULL);
    json_t *j = json_loadb(buf, n - 2, 0, NULL);
    assert(json_is_object(j));
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct qmp_server *srv;
    if (!srv) {
        struct qmp_machine_info info = { .name = "fuzz",
                                         .machine = "virt",
                                         .ncpus = 2 };
        srv = qmp_server_new(&fz_ops, NULL, &info);
    }
    if (size == 0) {
        return 0;
    }
    struct qmp_client *c = qmp_client_new(srv, fz_out, NULL);
    if (!c) {
        return 0;
    }
    if (data[0] & 1) {
        static const char caps[] = "{\"execute\":\"qmp_capabilities\"}";
        qmp_client_input(c, (const uint8_t *)caps, sizeof(caps) - 1);
    }
    size_t chunk = (size_t)(data[0] >> 1) + 1;
    data++;
    size--;
    while (size) {
        size_t n = size < chunk ? size : chunk;
        qmp_client_input(c, data, n);
        data += n;
        size -= n;
    }
    qmp_event(srv, "STOP", NULL);
    qmp_client_free(c);
    return 0;
}
