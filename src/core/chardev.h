/* SPDX-License-Identifier: MIT */
/*
 * Character backends for serial ports and consoles: stdio (raw terminal
 * with QEMU's Ctrl-A escapes: x quits, h helps, Ctrl-A sends Ctrl-A),
 * null, file:PATH, unix:PATH,server=on,wait=off; and -chardev
 * stdio|socket|file|pty|null,id=ID,... with QEMU's option names.
 * The device side gives a receiver; input is delivered on the main-loop
 * thread only while the receiver's can_read() says there is room.
 */
#ifndef SWEDE_CORE_CHARDEV_H
#define SWEDE_CORE_CHARDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct error;
struct chardev;

enum chardev_event {
    CHARDEV_OPENED,   /* a peer is there: socket client accepted, or the
                         backend is ready (stdio, pty, file, null) */
    CHARDEV_CLOSED,   /* the socket client went away */
    CHARDEV_FOCUS_IN, /* mux: Ctrl-A c gave this frontend the input */
};

struct chardev_receiver {
    /* How many bytes the device can take now (main-loop thread). */
    size_t (*can_read)(void *opaque);
    /* Deliver n <= can_read() bytes (main-loop thread). */
    void (*read)(void *opaque, const uint8_t *buf, size_t n);
    /* Optional: connection and focus changes (main-loop thread). */
    void (*event)(void *opaque, enum chardev_event ev);
    void *opaque;
};

/* Frontends one chardev can feed (a serial port and a monitor on a mux). */
#define CHARDEV_MAX_FRONTENDS 4

/* Parse a -serial style spec: "stdio", "null", "file:PATH",
 * "unix:PATH,server=on,wait=off". optname is used in messages. */
struct chardev *chardev_open_serial_spec(const char *spec, const char *optname,
                                         struct error *err);
/* -chardev: o holds "backend" (the implied first element) and "id", plus
 *   stdio: signal=on|off (default on: Ctrl-C stops swede), mux=on|off
 *          (Ctrl-A escapes, default off)
 *   socket: path=PATH,server=on,wait=off (a unix server socket)
 *   file: path=PATH[,append=on]
 *   pty: prints "char device redirected to /dev/pts/N (label ID)"
 *   null
 * Unknown options are errors. Main thread. */
struct opts;
struct chardev *chardev_open(const struct opts *o, struct error *err);
void chardev_close(struct chardev *chr);

/* Must be called on the main-loop thread, after loop_init(). The backend
 * starts watching its fds (accepting socket clients, Ctrl-A escapes) on
 * the first call. rx may be NULL: input is then read and discarded. The
 * receiver's callbacks run without the device lock; they take it. */
void chardev_set_receiver(struct chardev *chr,
                          const struct chardev_receiver *rx);
/* Main-loop thread: attach another frontend (a monitor) to chr. Input
 * goes to one frontend at a time; on a stdio chardev with Ctrl-A escapes
 * (QEMU's mux: -serial mon:stdio, -chardev stdio,mux=on) Ctrl-A c moves
 * it to the next one. Output of every frontend is interleaved. -ENOSPC
 * past CHARDEV_MAX_FRONTENDS. */
int chardev_add_frontend(struct chardev *chr,
                         const struct chardev_receiver *rx);
/* Whether chr has several frontends that Ctrl-A c switches between. */
bool chardev_is_mux(const struct chardev *chr);
/* QEMU's query-chardev "filename": "stdio", "null", "file:PATH",
 * "pty:/dev/pts/N", "unix:PATH,server=on" ("disconnected:..." while no
 * client is connected). Main-loop thread. */
void chardev_filename(struct chardev *chr, char *buf, size_t len);
/* Any thread: the device has room again, try delivering pending input. */
void chardev_accept_input(struct chardev *chr);
/* Any thread. Never blocks the caller for long: output to a slow or gone
 * peer is dropped rather than stalling the guest. */
void chardev_write(struct chardev *chr, const uint8_t *buf, size_t n);
/* Any thread: every byte written to chr is also passed to tap (called
 * under the chardev's output lock; it must not write to chr). */
void chardev_set_output_tap(struct chardev *chr,
                            void (*tap)(void *opaque, const uint8_t *buf,
                                        size_t n),
                            void *opaque);
/* Restore the terminal if stdio put it into raw mode (atexit-safe). */
void chardev_restore_terminal(void);

#endif
