/* SPDX-License-Identifier: MIT */
/*
 * -netdev user: user-mode networking over libslirp, run inside swede's
 * main loop (no thread of its own). libslirp is built for poll(): it
 * fills a list of fds and events (slirp_pollfds_fill) and later reads
 * their revents (slirp_pollfds_poll). One "turn" here does both: it
 * polls the last list with a zero timeout, lets slirp act on it, asks
 * for the next list and mirrors it into the epoll set (every wanted fd is
 * a main-loop fd with the wanted events; fds no longer wanted are
 * removed), then arms a main-loop timer for slirp's own timeout. A turn
 * runs when one of those fds fires, when the timer expires, after frames
 * from the guest were fed in (slirp_input may open sockets) and on
 * resume. slirp's timers (timer_new/timer_mod) are main-loop timers.
 *
 * Towards the guest: a frame the frontend cannot take now (no receive
 * buffers) is queued and the backend stops turning slirp (its fds leave
 * the epoll set, so nothing spins and no host socket is read) until
 * net_backend_resume(); the queue is bounded (frames slirp produces while
 * held back are TCP acks and replies to what the guest sends, limited by
 * its windows) and frames beyond the bound are dropped and counted.
 *
 * Options as QEMU's: net=ADDR[/MASK], host=, dhcpstart=, dns=,
 * hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT (repeatable),
 * restrict=on|off, ipv4=on, ipv6=off (IPv6 is not offered). Not here:
 * guestfwd, smb, tftp, bootfile.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/types.h>

#include "backend/net.h"
#include "core/error.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/options.h"

#define SLIRP_HELD_MAX 1024 /* frames queued for a guest without buffers */

const char *const net_user_keys[] = {
    "type",    "id",       "net",  "host", "dhcpstart", "dns",
    "hostfwd", "restrict", "ipv4", "ipv6", NULL,
};

struct held_frame {
    struct held_frame *next;
    size_t len;
    uint8_t data[];
};

struct slirp_fd {
    int fd;
    uint32_t events; /* registered with the loop */
};

struct net_slirp {
    struct net_backend nb;
    Slirp *slirp;
    /* The list of the last fill. */
    struct pollfd *pfds;
    unsigned npfds, cap_pfds;
    /* fds registered with the main loop. */
    struct slirp_fd *regs;
    unsigned nregs, cap_regs;
    struct loop_timer *timeout;
    bool turn_queued;
    bool in_turn;
    bool blocked; /* the frontend refused a frame: wait for resume */
    struct held_frame *held, **held_tail;
    unsigned nheld;
    uint64_t dropped;
    bool closing;
};

static void slirp_turn(struct net_slirp *s);

static void slirp_turn_cb(void *opaque)
{
    struct net_slirp *s = opaque;
    s->turn_queued = false;
    slirp_turn(s);
}

/* A turn soon, from the main loop (not from inside slirp's callbacks). */
static void slirp_queue_turn(struct net_slirp *s)
{
    if (!s->turn_queued) {
        s->turn_queued = true;
        loop_call(slirp_turn_cb, s);
    }
}

static void slirp_hold(struct net_slirp *s, const uint8_t *buf, size_t len)
{
    if (s->nheld >= SLIRP_HELD_MAX) {
        s->dropped++;
        return;
    }
    struct held_frame *h = malloc(sizeof(*h) + len);
    if (!h) {
        s->dropped++;
        return;
    }
    h->next = NULL;
    h->len = len;
    memcpy(h->data, buf, len);
    *s->held_tail = h;
    s->held_tail = &h->next;
    s->nheld++;
}

static ssize_t slirp_send_packet_cb(const void *buf, size_t len, void *opaque)
{
    struct net_slirp *s = opaque;
    if (s->blocked || s->held) {
        slirp_hold(s, buf, len);
    } else if (!net_backend_deliver(&s->nb, buf, len)) {
        s->blocked = true;
        slirp_hold(s, buf, len);
    }
    return (ssize_t)len;
}

static void slirp_guest_error_cb(const char *msg, void *opaque)
{
    (void)opaque;
    log_guest("netdev user: %s", msg);
}

static int64_t slirp_clock_cb(void *opaque)
{
    (void)opaque;
    return (int64_t)loop_now_ns();
}

struct slirp_timer {
    struct net_slirp *s;
    SlirpTimerCb cb;
    void *cb_opaque;
    struct loop_timer *t;
};

static void slirp_timer_fire(void *opaque)
{
    struct slirp_timer *st = opaque;
    st->cb(st->cb_opaque);
    slirp_queue_turn(st->s);
}

static void *slirp_timer_new_cb(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    struct slirp_timer *st = calloc(1, sizeof(*st));
    if (!st) {
        return NULL;
    }
    st->s = opaque;
    st->cb = cb;
    st->cb_opaque = cb_opaque;
    st->t = loop_timer_new(slirp_timer_fire, st);
    if (!st->t) {
        free(st);
        return NULL;
    }
    return st;
}

static void slirp_timer_free_cb(void *timer, void *opaque)
{
    (void)opaque;
    struct slirp_timer *st = timer;
    if (st) {
        loop_timer_free(st->t);
        free(st);
    }
}

static void slirp_timer_mod_cb(void *timer, int64_t expire_ms, void *opaque)
{
    (void)opaque;
    struct slirp_timer *st = timer;
    if (st) {
        loop_timer_arm(st->t,
                       expire_ms < 0 ? 0 : (uint64_t)expire_ms * 1000000u);
    }
}

static void slirp_fd_ready(void *opaque, uint32_t events)
{
    (void)events;
    slirp_turn(opaque);
}

static int slirp_reg_find(struct net_slirp *s, int fd)
{
    for (unsigned i = 0; i < s->nregs; i++) {
        if (s->regs[i].fd == fd) {
            return (int)i;
        }
    }
    return -1;
}

static void slirp_reg_drop(struct net_slirp *s, unsigned i)
{
    loop_del_fd(s->regs[i].fd);
    s->regs[i] = s->regs[--s->nregs];
}

static void slirp_register_cb(int fd, void *opaque)
{
    (void)fd;
    (void)opaque; /* fds are registered from the fill list */
}

static void slirp_unregister_cb(int fd, void *opaque)
{
    struct net_slirp *s = opaque;
    int i = slirp_reg_find(s, fd);
    if (i >= 0) {
        slirp_reg_drop(s, (unsigned)i);
    }
}

static void slirp_notify_cb(void *opaque)
{
    slirp_queue_turn(opaque);
}

static int slirp_add_poll_cb(int fd, int events, void *opaque)
{
    struct net_slirp *s = opaque;
    if (s->npfds == s->cap_pfds) {
        unsigned n = s->cap_pfds ? 2 * s->cap_pfds : 16;
        struct pollfd *p = realloc(s->pfds, n * sizeof(*p));
        if (!p) {
            return -1;
        }
        s->pfds = p;
        s->cap_pfds = n;
    }
    short pe = 0;
    pe |= (events & SLIRP_POLL_IN) ? POLLIN : 0;
    pe |= (events & SLIRP_POLL_OUT) ? POLLOUT : 0;
    pe |= (events & SLIRP_POLL_PRI) ? POLLPRI : 0;
    s->pfds[s->npfds] = (struct pollfd){ .fd = fd, .events = pe };
    return (int)s->npfds++;
}

static int slirp_get_revents_cb(int idx, void *opaque)
{
    struct net_slirp *s = opaque;
    if (idx < 0 || (unsigned)idx >= s->npfds) {
        return 0;
    }
    short re = s->pfds[idx].revents;
    int r = 0;
    r |= (re & POLLIN) ? SLIRP_POLL_IN : 0;
    r |= (re & POLLOUT) ? SLIRP_POLL_OUT : 0;
    r |= (re & POLLPRI) ? SLIRP_POLL_PRI : 0;
    r |= (re & POLLERR) ? SLIRP_POLL_ERR : 0;
    r |= (re & POLLHUP) ? SLIRP_POLL_HUP : 0;
    return r;
}

/* Make the main loop's set of slirp fds the fill list (none when held
 * back). */
static void slirp_sync_fds(struct net_slirp *s, bool none)
{
    for (unsigned i = 0; i < s->nregs;) {
        bool keep = false;
        for (unsigned k = 0; !none && k < s->npfds; k++) {
            keep = keep || s->pfds[k].fd == s->regs[i].fd;
        }
        if (keep) {
            i++;
        } else {
            slirp_reg_drop(s, i);
        }
    }
    for (unsigned k = 0; !none && k < s->npfds; k++) {
        int fd = s->pfds[k].fd;
        uint32_t ev = (uint32_t)s->pfds[k].events; /* POLL* == EPOLL* */
        int i = slirp_reg_find(s, fd);
        if (i >= 0) {
            /* Always MOD: a closed-and-reused fd number is no longer in
             * epoll (ENOENT), and then it is added again. */
            if (loop_mod_fd(fd, ev) == 0) {
                s->regs[i].events = ev;
                continue;
            }
            slirp_reg_drop(s, (unsigned)i);
        }
        if (s->nregs == s->cap_regs) {
            unsigned n = s->cap_regs ? 2 * s->cap_regs : 16;
            struct slirp_fd *r = realloc(s->regs, n * sizeof(*r));
            if (!r) {
                continue;
            }
            s->regs = r;
            s->cap_regs = n;
        }
        if (loop_add_fd(fd, ev, slirp_fd_ready, s) == 0) {
            s->regs[s->nregs++] = (struct slirp_fd){ .fd = fd, .events = ev };
        }
    }
}

static void slirp_turn(struct net_slirp *s)
{
    if (s->in_turn || s->closing) {
        return;
    }
    s->in_turn = true;
    if (!s->blocked) {
        int err = 0;
        if (s->npfds && poll(s->pfds, s->npfds, 0) < 0) {
            err = 1;
        }
        slirp_pollfds_poll(s->slirp, err, slirp_get_revents_cb, s);
    }
    s->npfds = 0;
    if (s->blocked) {
        /* Held back: read nothing from the host until resume. */
        slirp_sync_fds(s, true);
        loop_timer_cancel(s->timeout);
        s->in_turn = false;
        return;
    }
    uint32_t timeout = 1000;
    slirp_pollfds_fill(s->slirp, &timeout, slirp_add_poll_cb, s);
    slirp_sync_fds(s, false);
    loop_timer_arm(s->timeout, loop_now_ns() + (uint64_t)timeout * 1000000u);
    s->in_turn = false;
}

static void slirp_timeout_cb(void *opaque)
{
    slirp_turn(opaque);
}

static struct net_slirp *slirp_of(struct net_backend *b)
{
    return (struct net_slirp *)b;
}

static void slirp_send(struct net_backend *b, const uint8_t *frame, size_t len)
{
    struct net_slirp *s = slirp_of(b);
    if (len > INT_MAX) {
        return;
    }
    slirp_input(s->slirp, frame, (int)len);
    slirp_queue_turn(s);
}

static void slirp_resume(struct net_backend *b)
{
    struct net_slirp *s = slirp_of(b);
    if (!s->blocked && !s->held) {
        return;
    }
    s->blocked = false;
    while (s->held) {
        struct held_frame *h = s->held;
        if (!net_backend_deliver(&s->nb, h->data, h->len)) {
            s->blocked = true;
            return;
        }
        s->held = h->next;
        if (!s->held) {
            s->held_tail = &s->held;
        }
        s->nheld--;
        free(h);
    }
    slirp_queue_turn(s);
}

static void slirp_close(struct net_backend *b)
{
    struct net_slirp *s = slirp_of(b);
    s->closing = true;
    loop_call_cancel(slirp_turn_cb, s);
    s->npfds = 0;
    slirp_sync_fds(s, true);
    slirp_cleanup(s->slirp);
    loop_timer_free(s->timeout);
    while (s->held) {
        struct held_frame *h = s->held;
        s->held = h->next;
        free(h);
    }
    free(s->pfds);
    free(s->regs);
    free(s->nb.id);
    free(s);
}

static const struct net_backend_ops slirp_ops = {
    .type = "user",
    .send = slirp_send,
    .resume = slirp_resume,
    .close = slirp_close,
};

static const SlirpCb slirp_cbs = {
    .send_packet = slirp_send_packet_cb,
    .guest_error = slirp_guest_error_cb,
    .clock_get_ns = slirp_clock_cb,
    .timer_new = slirp_timer_new_cb,
    .timer_free = slirp_timer_free_cb,
    .timer_mod = slirp_timer_mod_cb,
    .register_poll_fd = slirp_register_cb,
    .unregister_poll_fd = slirp_unregister_cb,
    .notify = slirp_notify_cb,
};

static int parse_addr(const char *s, struct in_addr *out)
{
    return inet_pton(AF_INET, s, out) == 1 ? 0 : -EINVAL;
}

/* net=ADDR[/BITS|/MASK] */
static int parse_net(const char *v, struct in_addr *net, struct in_addr *mask)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", v);
    char *slash = strchr(buf, '/');
    uint32_t m = 0xffffff00u;
    if (slash) {
        *slash++ = '\0';
        char *end;
        long bits = strtol(slash, &end, 10);
        if (*end == '\0' && end != slash) {
            if (bits < 0 || bits > 32) {
                return -EINVAL;
            }
            m = bits ? 0xffffffffu << (32 - bits) : 0;
        } else {
            struct in_addr a;
            if (parse_addr(slash, &a) < 0) {
                return -EINVAL;
            }
            m = ntohl(a.s_addr);
        }
    }
    if (parse_addr(buf, net) < 0) {
        return -EINVAL;
    }
    mask->s_addr = htonl(m);
    net->s_addr &= mask->s_addr;
    return 0;
}

static int parse_port(const char *s, int *port)
{
    char *end;
    long p = strtol(s, &end, 10);
    if (end == s || *end || p < 0 || p > 65535) {
        return -EINVAL;
    }
    *port = (int)p;
    return 0;
}

/* [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT */
static int add_hostfwd(Slirp *slirp, const char *spec, struct error *err)
{
    char buf[128];
    int is_udp = 0, hport, gport;
    struct in_addr haddr = { 0 }, gaddr = { 0 };

    if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf)) {
        goto bad;
    }
    char *p = buf;
    if (strncmp(p, "tcp:", 4) == 0) {
        p += 4;
    } else if (strncmp(p, "udp:", 4) == 0) {
        is_udp = 1;
        p += 4;
    } else if (*p == ':') {
        p++;
    } else {
        goto bad;
    }
    char *dash = strchr(p, '-');
    if (!dash) {
        goto bad;
    }
    *dash = '\0';
    char *g = dash + 1;
    char *hc = strrchr(p, ':');
    char *gc = strrchr(g, ':');
    if (!hc || !gc) {
        goto bad;
    }
    *hc = '\0';
    *gc = '\0';
    if ((*p && parse_addr(p, &haddr) < 0) || parse_port(hc + 1, &hport) < 0 ||
        (*g && parse_addr(g, &gaddr) < 0) || parse_port(gc + 1, &gport) < 0) {
        goto bad;
    }
    if (slirp_add_hostfwd(slirp, is_udp, haddr, hport, gaddr, gport) < 0) {
        return err_set(err, -EADDRINUSE,
                       "-netdev user: hostfwd=%s: could not set up host "
                       "forwarding rule (port in use?)",
                       spec);
    }
    return 0;
bad:
    return err_set(err, -EINVAL,
                   "-netdev user: hostfwd=%s: use "
                   "hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:"
                   "GUESTPORT",
                   spec);
}

struct net_backend *net_slirp_open(const struct opts *o, struct error *err)
{
    const char *on = "-netdev user";
    SlirpConfig cfg = { .version = 1, .in_enabled = true, .if_mtu = 1500 };
    struct in_addr net, mask;
    const char *v;
    bool restrict_on = false, ipv4 = true, ipv6 = false;

    if (opts_check_known(o, net_user_keys, on, err) < 0) {
        return NULL;
    }
    parse_net("10.0.2.0/24", &net, &mask);
    if ((v = opts_get(o, "net")) && parse_net(v, &net, &mask) < 0) {
        err_set(err, -EINVAL, "%s: net=%s: use net=ADDR[/MASK]", on, v);
        return NULL;
    }
    if (opts_get_bool(o, "restrict", false, &restrict_on, on, err) < 0 ||
        opts_get_bool(o, "ipv4", true, &ipv4, on, err) < 0 ||
        opts_get_bool(o, "ipv6", false, &ipv6, on, err) < 0) {
        return NULL;
    }
    if (!ipv4 || ipv6) {
        err_set(err, -EINVAL,
                "%s: only IPv4 is supported (use ipv4=on, "
                "ipv6=off or leave them out)",
                on);
        return NULL;
    }
    uint32_t n = ntohl(net.s_addr), m = ntohl(mask.s_addr);
    cfg.vnetwork = net;
    cfg.vnetmask = mask;
    cfg.vhost.s_addr = htonl(n | 2);
    cfg.vdhcp_start.s_addr = htonl(n | 15);
    cfg.vnameserver.s_addr = htonl(n | 3);
    struct {
        const char *key;
        struct in_addr *addr;
    } addrs[] = { { "host", &cfg.vhost },
                  { "dhcpstart", &cfg.vdhcp_start },
                  { "dns", &cfg.vnameserver } };
    for (unsigned i = 0; i < 3; i++) {
        if ((v = opts_get(o, addrs[i].key))) {
            struct in_addr a;
            if (parse_addr(v, &a) < 0 || (ntohl(a.s_addr) & m) != n) {
                err_set(err, -EINVAL,
                        "%s: %s=%s: not an address inside net=%s/%d", on,
                        addrs[i].key, v, inet_ntoa(net), __builtin_popcount(m));
                return NULL;
            }
            *addrs[i].addr = a;
        }
    }
    cfg.restricted = restrict_on;
    cfg.vhostname = "swede";

    struct net_slirp *s = calloc(1, sizeof(*s));
    if (!s) {
        err_set(err, -ENOMEM, "%s: out of memory", on);
        return NULL;
    }
    s->nb.ops = &slirp_ops;
    s->nb.id = strdup(opts_get(o, "id") ? opts_get(o, "id") : "");
    s->nb.csum_valid = true;
    s->held_tail = &s->held;
    s->timeout = loop_timer_new(slirp_timeout_cb, s);
    if (!s->nb.id || !s->timeout) {
        free(s->nb.id);
        loop_timer_free(s->timeout);
        free(s);
        err_set(err, -ENOMEM, "%s: out of memory", on);
        return NULL;
    }
    s->slirp = slirp_new(&cfg, &slirp_cbs, s);
    if (!s->slirp) {
        free(s->nb.id);
        loop_timer_free(s->timeout);
        free(s);
        err_set(err, -EINVAL, "%s: libslirp refused the configuration", on);
        return NULL;
    }
    for (unsigned i = 0; i < o->n; i++) {
        if (strcmp(o->kv[i].key, "hostfwd") == 0 &&
            add_hostfwd(s->slirp, o->kv[i].val, err) < 0) {
            slirp_close(&s->nb);
            return NULL;
        }
    }
    slirp_queue_turn(s);
    return &s->nb;
}
