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

#include <stddef.h>
#include <stdint.h>

struct error;
struct chardev;

struct chardev_receiver {
    /* How many bytes the device can take now (main-loop thread). */
    size_t (*can_read)(void *opaque);
    /* Deliver n <= can_read() bytes (main-loop thread). */
    void (*read)(void *opaque, const uint8_t *buf, size_t n);
    void *opaque;
};

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
