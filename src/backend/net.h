/* SPDX-License-Identifier: MIT */
/*
 * Network backends: the host side of a -netdev (QEMU's -netdev user,...
 * over libslirp in net_slirp.c, -netdev tap,... in net_tap.c). A backend
 * moves whole Ethernet frames (no virtio header) between one frontend
 * (the device that names it with netdev=ID) and the host. Everything
 * here runs on the main-loop thread: libslirp's fds and timers are main
 * loop fds and timers, and the tap fd is a main-loop fd. Not here: the
 * virtio header, checksum offload or anything else about the guest.
 *
 * Flow control towards the guest: the backend hands each frame to the
 * frontend's receive function; when that answers false (the guest has
 * posted no receive buffers) the backend keeps the frame, stops reading
 * from the host (the tap fd, slirp's sockets) and waits for
 * net_backend_resume(), which the frontend calls when buffers arrive.
 * It neither drops frames while the guest is merely slow nor spins.
 */
#ifndef SWEDE_BACKEND_NET_H
#define SWEDE_BACKEND_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct error;
struct opts;
struct net_backend;

/* Largest frame either way: 64 KiB IP packet + Ethernet and VLAN header. */
#define NET_FRAME_MAX (65535u + 18u)

/* Deliver one frame to the frontend. true: taken (or dropped on purpose,
 * e.g. the driver is not ready); false: no room now, keep it and wait for
 * net_backend_resume(). Main-loop thread, device lock not held. */
typedef bool (*net_receive_fn)(void *opaque, const uint8_t *frame, size_t len);

struct net_backend_ops {
    const char *type; /* "user", "tap" */
    /* Send a frame from the guest to the host; it may be dropped (a full
     * host queue, as a real wire would). */
    void (*send)(struct net_backend *b, const uint8_t *frame, size_t len);
    /* The frontend has room again: deliver what was kept, read again. */
    void (*resume)(struct net_backend *b);
    void (*close)(struct net_backend *b);
};

/* The common head of every backend. */
struct net_backend {
    const struct net_backend_ops *ops;
    char *id;
    /* Frames the backend delivers carry correct checksums (slirp makes
     * them itself), so the device may tell the guest DATA_VALID. */
    bool csum_valid;
    net_receive_fn receive; /* NULL until a frontend attaches */
    void *receive_opaque;
};

/* The -netdev keys accepted per type ("id" included), for messages. */
extern const char *const net_user_keys[];
extern const char *const net_tap_keys[];

/* Open the backend a parsed -netdev describes (key "type" is the backend
 * name; loop_init() must have run). NULL with err set naming the option.
 * Main thread. */
struct net_backend *net_backend_open(const struct opts *o, struct error *err);
struct net_backend *net_slirp_open(const struct opts *o, struct error *err);
struct net_backend *net_tap_open(const struct opts *o, struct error *err);
void net_backend_close(struct net_backend *b);

/* Connect the frontend. Main thread, before the guest runs. */
void net_backend_attach(struct net_backend *b, net_receive_fn fn, void *opaque);

/* Main-loop thread, device lock not held. */
void net_backend_send(struct net_backend *b, const uint8_t *frame, size_t len);
void net_backend_resume(struct net_backend *b);

/* For backends: hand a frame to the frontend (false: keep it). */
bool net_backend_deliver(struct net_backend *b, const uint8_t *frame,
                         size_t len);

#endif
