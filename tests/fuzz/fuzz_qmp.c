/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the QMP splitter, parser and dispatcher (monitor/qmp.c):
 * the input is fed to one fake client in chunks whose sizes come from the
 * input itself, against a fake machine. Every server message must be one
 * JSON object followed by CRLF, and the input buffer must stay bounded.
 * Before the input, the client may be negotiated (first byte, bit 0) so
 * that the command handlers are reached; with bit 1 set the input goes to
 * a human-monitor client (line editor and HMP commands) instead.
 */
#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "monitor/hmp.h"
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

static void fz_print(void *opaque, unsigned i, FILE *f)
{
    (void)opaque;
    assert(i < 2);
    fprintf(f, " pc       %016x\n", i);
}
static void fz_mtree(void *opaque, FILE *f)
{
    (void)opaque;
    fprintf(f, "address-space: memory\n");
}
static json_t *fz_block(void *opaque)
{
    (void)opaque;
    return json_pack("[{s:s,s:{s:s,s:s,s:s,s:b,s:{s:b}}}]", "device", "d0",
                     "inserted", "file", "x.img", "node-name", "#block100",
                     "drv", "raw", "ro", 1, "cache", "writeback", 1);
}
static json_t *fz_chardev(void *opaque)
{
    (void)opaque;
    return json_pack("[{s:s,s:s,s:b}]", "label", "serial0", "filename", "stdio",
                     "frontend-open", 1);
}

static int fz_screendump(void *opaque, const char *device, int64_t head,
                         const char *path, const char *format,
                         struct error *err)
{
    (void)opaque, (void)device, (void)head, (void)path, (void)format;
    return err_set(err, -ENODEV,
                   "There is no console to take a screendump from");
}

static const struct qmp_machine_ops fz_ops = {
    .screendump = fz_screendump,
    .powerdown = fz_nop,
    .print_registers = fz_print,
    .print_mtree = fz_mtree,
    .query_block = fz_block,
    .query_chardev = fz_chardev,
    .status = fz_status,
    .stop = fz_stop,
    .cont = fz_cont,
    .reset = fz_nop,
    .quit = fz_nop,
    .cpu_thread_id = fz_tid,
};

static void fz_hmp_out(void *opaque, const char *buf, size_t n)
{
    (void)opaque, (void)buf, (void)n;
}

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
    size_t chunk = (size_t)(data[0] >> 2) + 1;
    if (data[0] & 2) {
        struct hmp_client *h = hmp_client_new(srv, fz_hmp_out, NULL);
        if (h) {
            hmp_client_greet(h);
            for (size_t off = 1; off < size; off += chunk) {
                size_t n = size - off < chunk ? size - off : chunk;
                hmp_client_input(h, data + off, n);
            }
            hmp_client_prompt(h);
            hmp_client_free(h);
        }
        running = true;
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
