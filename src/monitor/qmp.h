/* SPDX-License-Identifier: MIT */
/*
 * The QMP server (docs/qmp.md): unix and tcp listening sockets on the main
 * loop, several clients at once, each with its own bounded input buffer
 * and a streaming splitter that finds JSON object boundaries; objects are
 * parsed with jansson and dispatched through one command table (name,
 * argument spec, handler). Everything runs on the main-loop thread; the
 * machine is reached only through struct qmp_machine_ops, so tests and
 * fuzz targets drive the server without a VM through qmp_client_new().
 */
#ifndef SWEDE_MONITOR_QMP_H
#define SWEDE_MONITOR_QMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct chardev;
struct error;
struct qmp_server;
struct qmp_client;

/* The QEMU version swede's QMP speaks for (docs/qmp.md). */
#define QMP_VERSION_MAJOR 8
#define QMP_VERSION_MINOR 2
#define QMP_VERSION_MICRO 0

/* Largest JSON object a client may send; a larger one is skipped to its
 * end and answered with one GenericError. */
#define QMP_MAX_INPUT (64 * 1024)
/* Deepest nesting of objects and arrays accepted. */
#define QMP_MAX_DEPTH 128

/* The machine as the commands see it. Main-loop thread. */
struct qmp_machine_ops {
    /* QEMU's run-state name ("running", "paused", "prelaunch",
     * "shutdown"); *running is whether the vCPUs run. */
    const char *(*status)(void *opaque, bool *running);
    /* The handlers run after the reply to the command is queued or before:
     * either way the events they emit (qmp_event) go to every client. */
    void (*stop)(void *opaque);
    void (*cont)(void *opaque);
    void (*reset)(void *opaque);
    void (*quit)(void *opaque);
    /* Host thread id running CPU index i. */
    long (*cpu_thread_id)(void *opaque, unsigned i);
    /* A power-button press (emits POWERDOWN; on virt, KEY_POWER on the
     * first virtio-keyboard-device, see docs/qmp.md). */
    void (*powerdown)(void *opaque);
    /* HMP "info registers": CPU i's state, QEMU's layout, to f. */
    void (*print_registers)(void *opaque, unsigned i, FILE *f);
    /* HMP "info mtree": the guest physical address map, to f. */
    void (*print_mtree)(void *opaque, FILE *f);
    /* query-block / query-chardev replies (new references). */
    json_t *(*query_block)(void *opaque);
    json_t *(*query_chardev)(void *opaque);
    /* screendump: device (NULL: the first display) head (-1: 0) to path
     * as "ppm" or "png"; 0 or a negative errno with err set. */
    int (*screendump)(void *opaque, const char *device, int64_t head,
                      const char *path, const char *format, struct error *err);
};

struct qmp_machine_info {
    const char *name;    /* -name, or NULL */
    const char *machine; /* board name, "virt" */
    unsigned ncpus;
};

struct qmp_server *qmp_server_new(const struct qmp_machine_ops *ops,
                                  void *opaque,
                                  const struct qmp_machine_info *info);
/* Close every client and listening socket (unlinking unix socket paths)
 * after a last best-effort flush of pending output. NULL is allowed. */
void qmp_server_free(struct qmp_server *s);

/* Check a -qmp spec without opening anything: "unix:PATH,server=on,
 * wait=off" or "tcp:HOST:PORT,server=on,wait=off" (server defaults to on,
 * wait must be off). Errors name optname. */
int qmp_check_spec(const char *spec, const char *optname, struct error *err);
/* Open a listening socket for spec on the main loop (after loop_init). */
int qmp_server_listen(struct qmp_server *s, const char *spec,
                      const char *optname, struct error *err);

/* Send an event to every negotiated client; data (may be NULL for {}) is
 * taken over. s may be NULL (no monitor): data is freed. */
void qmp_event(struct qmp_server *s, const char *name, json_t *data);

/* A client not backed by a socket (tests, fuzzing): out receives every
 * server message, CRLF included. The greeting is sent at once. */
typedef void (*qmp_out_fn)(void *opaque, const char *buf, size_t n);
struct qmp_client *qmp_client_new(struct qmp_server *s, qmp_out_fn out,
                                  void *opaque);
/* Feed bytes received from the client; replies go to out. */
void qmp_client_input(struct qmp_client *c, const uint8_t *buf, size_t n);
void qmp_client_free(struct qmp_client *c);

/* The machine behind s, for the human monitor (hmp.c). */
const struct qmp_machine_ops *qmp_server_ops(struct qmp_server *s,
                                             void **opaque);
const struct qmp_machine_info *qmp_server_info(struct qmp_server *s);

/* A monitor on a character device (-mon chardev=ID,mode=control|readline,
 * -monitor SPEC, -serial mon:stdio): a QMP client (control) or a human
 * monitor (readline) is created each time a peer connects, and dropped
 * when it goes. The chardev stays owned by the caller; it must outlive
 * the monitor (qmp_server_free drops monitors first). Main thread. */
int qmp_monitor_attach(struct qmp_server *s, struct chardev *chr, bool control,
                       struct error *err);

#endif
