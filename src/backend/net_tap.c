/* SPDX-License-Identifier: MIT */
/*
 * -netdev tap,id=ID[,ifname=NAME][,script=no][,downscript=no]: frames go
 * to and from a Linux tap device (/dev/net/tun, IFF_TAP | IFF_NO_PI, no
 * virtio header: the device completes partial checksums before sending
 * and the kernel sends complete ones). The interface must exist or be
 * creatable by this process (CAP_NET_ADMIN); swede runs no ifup/ifdown
 * scripts, so script= and downscript= other than "no" are refused.
 *
 * The fd is a non-blocking main-loop fd. Reading stops while the
 * frontend has no room (the one frame it refused is kept, the fd's
 * events are cleared) and starts again on net_backend_resume(); a frame
 * the host cannot take now (EAGAIN on write) is dropped, as on a wire.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "backend/net.h"
#include "core/error.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/options.h"

#define TAP_BUDGET 64 /* frames read per wakeup before others get a turn */

const char *const net_tap_keys[] = {
    "type", "id", "ifname", "script", "downscript", NULL,
};

struct net_tap {
    struct net_backend nb;
    int fd;
    bool blocked;
    size_t held_len; /* a frame in buf the frontend refused */
    uint8_t buf[NET_FRAME_MAX];
};

static struct net_tap *tap_of(struct net_backend *b)
{
    return (struct net_tap *)b;
}

static void tap_read(void *opaque, uint32_t events)
{
    struct net_tap *t = opaque;
    (void)events;
    for (unsigned i = 0; i < TAP_BUDGET && !t->blocked; i++) {
        ssize_t n = read(t->fd, t->buf, sizeof(t->buf));
        if (n <= 0) {
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                log_msg("netdev tap %s: read: %s", t->nb.id, strerror(errno));
            }
            return;
        }
        if (!net_backend_deliver(&t->nb, t->buf, (size_t)n)) {
            t->blocked = true;
            t->held_len = (size_t)n;
            loop_mod_fd(t->fd, 0);
        }
    }
}

static void tap_send(struct net_backend *b, const uint8_t *frame, size_t len)
{
    struct net_tap *t = tap_of(b);
    ssize_t n;
    do {
        n = write(t->fd, frame, len);
    } while (n < 0 && errno == EINTR);
}

static void tap_resume(struct net_backend *b)
{
    struct net_tap *t = tap_of(b);
    if (!t->blocked) {
        return;
    }
    if (!net_backend_deliver(&t->nb, t->buf, t->held_len)) {
        return;
    }
    t->blocked = false;
    t->held_len = 0;
    loop_mod_fd(t->fd, EPOLLIN);
    tap_read(t, EPOLLIN);
}

static void tap_close(struct net_backend *b)
{
    struct net_tap *t = tap_of(b);
    loop_del_fd(t->fd);
    close(t->fd);
    free(t->nb.id);
    free(t);
}

static const struct net_backend_ops tap_ops = {
    .type = "tap",
    .send = tap_send,
    .resume = tap_resume,
    .close = tap_close,
};

struct net_backend *net_tap_open(const struct opts *o, struct error *err)
{
    const char *on = "-netdev tap";
    const char *ifname = opts_get(o, "ifname");
    const char *keys[] = { "script", "downscript" };

    if (opts_check_known(o, net_tap_keys, on, err) < 0) {
        return NULL;
    }
    for (unsigned i = 0; i < 2; i++) {
        const char *v = opts_get(o, keys[i]);
        if (v && strcmp(v, "no") != 0 && *v) {
            err_set(err, -EINVAL,
                    "%s: %s=%s: swede runs no interface scripts (set the "
                    "interface up yourself and use %s=no)",
                    on, keys[i], v, keys[i]);
            return NULL;
        }
    }
    struct ifreq ifr = { 0 };
    if (ifname) {
        if (strlen(ifname) >= sizeof(ifr.ifr_name)) {
            err_set(err, -EINVAL, "%s: ifname=%s: longer than %zu bytes", on,
                    ifname, sizeof(ifr.ifr_name) - 1);
            return NULL;
        }
        memcpy(ifr.ifr_name, ifname, strlen(ifname));
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        err_set(err, -errno, "%s: cannot open /dev/net/tun: %s", on,
                strerror(errno));
        return NULL;
    }
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        err_set(err, -e, "%s: ifname=%s: cannot attach to the tap device: %s%s",
                on, ifname ? ifname : "", strerror(e),
                e == EPERM ? " (needs CAP_NET_ADMIN, or a tap device "
                             "owned by this user)"
                           : "");
        return NULL;
    }
    struct net_tap *t = calloc(1, sizeof(*t));
    if (!t ||
        !(t->nb.id = strdup(opts_get(o, "id") ? opts_get(o, "id") : ""))) {
        free(t);
        close(fd);
        err_set(err, -ENOMEM, "%s: out of memory", on);
        return NULL;
    }
    t->nb.ops = &tap_ops;
    t->fd = fd;
    if (loop_add_fd(fd, EPOLLIN, tap_read, t) < 0) {
        free(t->nb.id);
        free(t);
        close(fd);
        err_set(err, -EIO, "%s: cannot watch the tap fd", on);
        return NULL;
    }
    return &t->nb;
}
