/* SPDX-License-Identifier: MIT */
/*
 * The part of the network backends that is not about one host
 * mechanism (see net.h): opening the backend a -netdev names by its
 * type, attaching the one frontend, and the calls a frontend makes, which
 * go through the backend's const ops table. The backends themselves are
 * net_slirp.c (-netdev user) and net_tap.c (-netdev tap).
 */
#include "backend/net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/options.h"

struct net_backend *net_backend_open(const struct opts *o, struct error *err)
{
    const char *type = opts_get(o, "type");
    if (!type) {
        err_set(err, -EINVAL,
                "-netdev: no type (use -netdev user,id=ID or "
                "-netdev tap,id=ID,ifname=NAME)");
        return NULL;
    }
    if (strcmp(type, "user") == 0) {
        return net_slirp_open(o, err);
    }
    if (strcmp(type, "tap") == 0) {
        return net_tap_open(o, err);
    }
    err_set(err, -EINVAL,
            "-netdev %s: unknown network backend (use user or tap)", type);
    return NULL;
}

void net_backend_close(struct net_backend *b)
{
    if (b) {
        b->ops->close(b);
    }
}

void net_backend_attach(struct net_backend *b, net_receive_fn fn, void *opaque)
{
    b->receive = fn;
    b->receive_opaque = opaque;
}

void net_backend_send(struct net_backend *b, const uint8_t *frame, size_t len)
{
    if (len > 0 && len <= NET_FRAME_MAX) {
        b->ops->send(b, frame, len);
    }
}

void net_backend_resume(struct net_backend *b)
{
    if (b->ops->resume) {
        b->ops->resume(b);
    }
}

bool net_backend_deliver(struct net_backend *b, const uint8_t *frame,
                         size_t len)
{
    if (!b->receive) {
        return true; /* no frontend: the wire ends here */
    }
    return b->receive(b->receive_opaque, frame, len);
}
