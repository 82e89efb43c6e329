/* SPDX-License-Identifier: MIT */
/*
 * The VNC backend (see vnc.h): libvncserver speaks RFB (RFC 6143) and
 * WebSockets (RFC 6455, sniffed on every connection); this file feeds it
 * from the first console and drives it from the main loop. The framebuffer
 * is our own 32 bpp copy with the console's layout (x8r8g8b8, so the
 * server pixel format is red at bit 16, green 8, blue 0, depth 24): damage
 * is a memcpy of the damaged rows and rfbMarkRectAsModified. We do not use
 * rfbProcessEvents (a select() over every socket, meant to be called in a
 * polling loop): we bind the listening sockets ourselves, accept and hand
 * each connection to rfbNewClient, register every client socket with the
 * main loop and call rfbProcessClientMessage when it is readable; updates
 * go out through rfbUpdateClient after client messages and from a "now"
 * timer armed by damage, so an idle server costs nothing. Closed clients
 * are reaped (rfbClientConnectionGone) after every call into the library.
 * libvncserver reads and writes with blocking waits on non-blocking
 * sockets: a new connection waits up to 100 ms for a WebSocket request, a
 * half-sent message or a client that stops reading can hold the main loop
 * up to VNC_CLIENT_WAIT_MS before the client is dropped, and its select()
 * calls limit client sockets to descriptors below FD_SETSIZE (others are
 * refused). The guest cursor is sent as a rich cursor with a mask where
 * alpha >= 0x80 (Cursor/XCursor pseudo-encodings) and, for clients
 * without them, drawn into the framebuffer by libvncserver at the guest's
 * position for the time of each update. Keys arrive as X keysyms and are
 * mapped to Linux key codes for a US layout (see vnc_key_event for the
 * Shift rule). Not here: authentication, TLS, SASL, audio, clipboard,
 * QEMU's extended key event, and more than one console.
 */
#include "ui/vnc.h"

#include <errno.h>
#include <linux/input-event-codes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <rfb/keysym.h>
#include <rfb/rfb.h>
#include <rfb/rfbregion.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/options.h"
#include "ui/console.h"

#define VNC_PORT_BASE     5900
#define VNC_WS_PORT_BASE  5700
#define VNC_MAX_DISPLAY   (65535 - VNC_PORT_BASE)
#define VNC_MAX_LISTENERS 8
#define VNC_BLANK_W       640
#define VNC_BLANK_H       480
/* A larger cursor would not fit libvncserver's update buffer. */
#define VNC_CURSOR_MAX 64
/* How long a client may keep the loop waiting for a message or for room
 * in its socket before it is dropped. */
#define VNC_CLIENT_WAIT_MS 5000
/* Client messages handled per wakeup before other fds get a turn. */
#define VNC_MSGS_PER_WAKE 64
/* Framebuffer sides beyond this are refused (memory and RFB's u16). */
#define VNC_MAX_SIDE 16384
/* Log lines per second (unknown keysyms, libvncserver errors). */
#define VNC_LOG_RATE 5

struct vnc_spec {
    bool none;
    char *host; /* "" for every address */
    unsigned long display, to;
    bool ws;
    char *ws_host; /* NULL: the VNC host */
    long ws_port;  /* -1: VNC_WS_PORT_BASE + display (to= applies) */
};

/* What one client holds down: the keys we pressed for it, its Shift
 * keys, and which held keys carry a Shift we added (and how many). */
struct vnc_keys {
    uint8_t down[(KEY_MAX + 1) / 8];
    uint8_t fake_shift[(KEY_MAX + 1) / 8];
    unsigned n_fake_shift;
    bool shift_l, shift_r;
};

struct vnc_client {
    rfbClientPtr cl;
    int fd; /* registered with the loop; -1 once removed */
    struct vnc_keys keys;
    struct vnc_client *next;
};

static struct {
    rfbScreenInfoPtr screen;
    char *fb;
    uint32_t fb_w, fb_h;
    struct ui_console *con; /* NULL: blank screen */
    int lfd[VNC_MAX_LISTENERS];
    unsigned nlfd;
    int port, ws_port;
    struct vnc_client *clients;
    struct loop_timer *update_timer, *accept_timer;
    bool cursor_defined; /* the guest has set a cursor at least once */
    unsigned chained;    /* update passes that found more to send */
    bool caps;           /* Caps Lock as toggled through VNC */
} vnc = { .port = -1, .ws_port = -1 };

static bool vnc_backend_added;

/* ---- logging ---- */

static void vnc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void vnc_log(const char *fmt, ...)
{
    static uint64_t second;
    static unsigned lines;
    uint64_t now = loop_now_ns() / 1000000000u;
    if (now != second) {
        second = now;
        lines = 0;
    }
    if (lines++ >= VNC_LOG_RATE) {
        return;
    }
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        buf[--n] = '\0';
    }
    log_msg("vnc: %s", buf);
}

/* libvncserver's chatter (connections, encodings, statistics) is dropped;
 * its errors go to the log, rate-limited. */
static void vnc_rfb_log(const char *fmt, ...)
{
    (void)fmt;
}

static void vnc_rfb_err(const char *fmt, ...)
{
    char buf[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    /* Not worth a line: a width like 1366 (said on every resize; clients
     * cope) and a client that went away without a goodbye (a browser tab
     * closed). */
    if (!strstr(buf, "not a multiple of 4") &&
        !strstr(buf, strerror(ECONNRESET)) && !strstr(buf, strerror(EPIPE))) {
        vnc_log("%s", buf);
    }
}

/* ---- the -vnc argument ---- */

static void vnc_spec_free(struct vnc_spec *s)
{
    free(s->host);
    free(s->ws_host);
    s->host = s->ws_host = NULL;
}

/* "HOST:NUM" or "[ADDR]:NUM" -> *host (allocated, may be ""), *num <= max. */
static int vnc_split_host(const char *s, const char *what, unsigned long max,
                          char **host, unsigned long *num, const char *optname,
                          struct error *err)
{
    const char *hs = s, *he, *colon;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':') {
            return err_set(err, -EINVAL, "%s: '%s': expected [ADDRESS]:%s",
                           optname, s, what);
        }
        hs = s + 1;
        he = rb;
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon) {
            return err_set(err, -EINVAL, "%s: '%s': expected HOST:%s", optname,
                           s, what);
        }
        he = colon;
        if (memchr(s, ':', (size_t)(colon - s))) {
            return err_set(err, -EINVAL,
                           "%s: '%s': write an IPv6 address in brackets, "
                           "[ADDRESS]:%s",
                           optname, s, what);
        }
    }
    const char *d = colon + 1;
    char *end;
    errno = 0;
    unsigned long v = strtoul(d, &end, 10);
    if (*d < '0' || *d > '9' || *end || errno || v > max) {
        return err_set(err, -EINVAL,
                       "%s: '%s': %s must be a number from 0 to "
                       "%lu",
                       optname, s, what, max);
    }
    *host = strndup(hs, (size_t)(he - hs));
    if (!*host) {
        return err_set(err, -ENOMEM, "%s: out of memory", optname);
    }
    *num = v;
    return 0;
}

static int vnc_parse_spec(const char *spec, const char *optname,
                          struct vnc_spec *s, struct error *err)
{
    static const char *const known[] = { "display", "websocket", "password",
                                         "to", NULL };
    memset(s, 0, sizeof(*s));
    s->ws_port = -1;
    if (strncmp(spec, "unix:", 5) == 0) {
        return err_set(err, -EINVAL,
                       "%s: unix sockets are not supported, use HOST:DISPLAY",
                       optname);
    }
    struct opts o;
    int ret = opts_parse(&o, spec, "display", optname, err);
    if (ret < 0) {
        return ret;
    }
    for (unsigned i = 0; i < o.n; i++) {
        bool ok = false;
        for (unsigned k = 0; known[k]; k++) {
            ok |= strcmp(o.kv[i].key, known[k]) == 0;
        }
        if (!ok) {
            ret = err_set(err, -EINVAL, "%s: parameter '%s' is not supported",
                          optname, o.kv[i].key);
            goto out;
        }
    }
    const char *d = opts_get(&o, "display");
    if (!d) {
        ret =
            err_set(err, -EINVAL, "%s: expected HOST:DISPLAY or none", optname);
        goto out;
    }
    bool pw;
    ret = opts_get_bool(&o, "password", false, &pw, optname, err);
    if (ret < 0) {
        goto out;
    }
    if (pw) {
        ret = err_set(err, -EINVAL,
                      "%s: password=on is not supported (swede's VNC server "
                      "has no authentication)",
                      optname);
        goto out;
    }
    if (strcmp(d, "none") == 0) {
        s->none = true;
        goto out;
    }
    ret = vnc_split_host(d, "DISPLAY", VNC_MAX_DISPLAY, &s->host, &s->display,
                         optname, err);
    if (ret < 0) {
        goto out;
    }
    uint64_t to;
    ret = opts_get_uint(&o, "to", s->display, &to, optname, err);
    if (ret < 0) {
        goto out;
    }
    if (to < s->display || to > VNC_MAX_DISPLAY) {
        ret = err_set(err, -EINVAL,
                      "%s: to=%llu must be from the display number (%lu) to "
                      "%d",
                      optname, (unsigned long long)to, s->display,
                      VNC_MAX_DISPLAY);
        goto out;
    }
    s->to = (unsigned long)to;
    const char *ws = opts_get(&o, "websocket");
    if (ws &&
        (!strcmp(ws, "on") || !strcmp(ws, "yes") || !strcmp(ws, "true"))) {
        s->ws = true;
    } else if (ws && (!strcmp(ws, "off") || !strcmp(ws, "no") ||
                      !strcmp(ws, "false"))) {
        s->ws = false;
    } else if (ws && strchr(ws, ':')) {
        unsigned long p;
        s->ws = true;
        ret = vnc_split_host(ws, "PORT", 65535, &s->ws_host, &p, optname, err);
        s->ws_port = (long)p;
    } else if (ws) {
        char *end;
        errno = 0;
        unsigned long p = strtoul(ws, &end, 10);
        if (*ws < '0' || *ws > '9' || *end || errno || p > 65535) {
            ret = err_set(err, -EINVAL,
                          "%s: websocket=%s: expected on, off, PORT or "
                          "HOST:PORT",
                          optname, ws);
            goto out;
        }
        s->ws = true;
        s->ws_port = (long)p;
    }
out:
    opts_free(&o);
    if (ret < 0) {
        vnc_spec_free(s);
    }
    return ret;
}

int vnc_check_spec(const char *spec, const char *optname, struct error *err)
{
    struct vnc_spec s;
    int ret = vnc_parse_spec(spec, optname, &s, err);
    vnc_spec_free(&s);
    return ret;
}

/* ---- listening sockets ---- */

/* Listen on every address of host (all when "") at port. Appends to
 * vnc.lfd. 0; -EADDRINUSE (nothing kept, err untouched) when the port is
 * taken on one of the addresses; another negative errno with err set. */
static int vnc_listen(const char *host, unsigned port, const char *optname,
                      struct error *err)
{
    struct addrinfo hints = {
        .ai_flags = AI_PASSIVE,
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
    };
    struct addrinfo *res;
    char service[8];
    snprintf(service, sizeof(service), "%u", port);
    int rc = getaddrinfo(*host ? host : NULL, service, &hints, &res);
    if (rc != 0) {
        return err_set(err, -EINVAL, "%s: cannot resolve '%s': %s", optname,
                       host, gai_strerror(rc));
    }
    unsigned first = vnc.nlfd;
    int fail = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (vnc.nlfd == VNC_MAX_LISTENERS) {
            break;
        }
        int fd = socket(ai->ai_family,
                        ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        ai->ai_protocol);
        if (fd < 0) {
            fail = fail ? fail : -errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6) {
            /* The IPv4 address has a socket of its own. */
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0) {
            int e = errno;
            close(fd);
            if (e == EADDRINUSE) {
                fail = -EADDRINUSE;
                break;
            }
            fail = fail ? fail : -e;
            continue;
        }
        vnc.lfd[vnc.nlfd++] = fd;
    }
    freeaddrinfo(res);
    if (fail == -EADDRINUSE || vnc.nlfd == first) {
        while (vnc.nlfd > first) {
            close(vnc.lfd[--vnc.nlfd]);
        }
        if (fail == -EADDRINUSE) {
            return fail;
        }
        if (!fail) {
            fail = -EADDRNOTAVAIL;
        }
        return err_set(err, fail, "%s: cannot listen on %s%s%s:%u: %s", optname,
                       strchr(host, ':') ? "[" : "", host,
                       strchr(host, ':') ? "]" : "", port, strerror(-fail));
    }
    return 0;
}

/* Listen for VNC at 5900 + d, and for WebSockets at 5700 + d (or the
 * port given), for the first display d from the spec's display to its
 * to= whose ports are both free. */
static int vnc_listen_all(const struct vnc_spec *s, int *port, int *ws_port,
                          const char *optname, struct error *err)
{
    const char *wh = s->ws_host ? s->ws_host : s->host;
    for (unsigned long d = s->display; d <= s->to; d++) {
        unsigned first = vnc.nlfd;
        unsigned wp = s->ws_port < 0 ? (unsigned)(VNC_WS_PORT_BASE + d)
                                     : (unsigned)s->ws_port;
        int ret =
            vnc_listen(s->host, (unsigned)(VNC_PORT_BASE + d), optname, err);
        if (ret == 0 && s->ws) {
            ret = vnc_listen(wh, wp, optname, err);
            if (ret < 0) {
                while (vnc.nlfd > first) {
                    close(vnc.lfd[--vnc.nlfd]);
                }
            }
            if (ret == -EADDRINUSE && s->ws_port >= 0) {
                /* Another display would not free that port. */
                return err_set(err, ret,
                               "%s: cannot listen on port %u (websocket): "
                               "%s",
                               optname, wp, strerror(EADDRINUSE));
            }
        }
        if (ret == 0) {
            *port = (int)(VNC_PORT_BASE + d);
            *ws_port = s->ws ? (int)wp : -1;
            return 0;
        }
        if (ret != -EADDRINUSE) {
            return ret;
        }
    }
    if (s->display == s->to) {
        return err_set(err, -EADDRINUSE, "%s: cannot listen on port %lu%s: %s",
                       optname, VNC_PORT_BASE + s->display,
                       s->ws ? " or its websocket port" : "",
                       strerror(EADDRINUSE));
    }
    return err_set(err, -EADDRINUSE,
                   "%s: no free display from %lu to %lu (ports %lu to %lu)",
                   optname, s->display, s->to, VNC_PORT_BASE + s->display,
                   VNC_PORT_BASE + s->to);
}

/* ---- clients and the loop ---- */

static void vnc_keys_lift_all(struct vnc_keys *k);

static void vnc_client_gone(rfbClientPtr cl)
{
    struct vnc_client *vc = cl->clientData;
    if (!vc) {
        return;
    }
    if (vc->fd >= 0) {
        loop_del_fd(vc->fd);
    }
    /* Keys held through this client must not stay down in the guest. */
    vnc_keys_lift_all(&vc->keys);
    for (struct vnc_client **pp = &vnc.clients; *pp; pp = &(*pp)->next) {
        if (*pp == vc) {
            *pp = vc->next;
            break;
        }
    }
    free(vc);
    cl->clientData = NULL;
    /* libvncserver 0.9.14 forgets the WebSocket context (fixed upstream
     * in 2023, also by freeing it and setting NULL, so this stays safe). */
    free(cl->wsctx);
    cl->wsctx = NULL;
}

/* libvncserver closes a failed client's socket at once but frees it only
 * in rfbClientConnectionGone; do that after every call into the library,
 * taking the descriptor off the loop first. */
static void vnc_reap(void)
{
    struct vnc_client *vc = vnc.clients, *next;
    for (; vc; vc = next) {
        next = vc->next;
        if (vc->cl->sock == RFB_INVALID_SOCKET) {
            loop_del_fd(vc->fd);
            vc->fd = -1;
            rfbClientConnectionGone(vc->cl); /* frees vc */
        }
    }
}

/* Before an update goes out. Until the guest defines a cursor, clients
 * keep their own (as with QEMU) instead of getting an empty one. Updates
 * stay lossless, as QEMU's are without lossy=on: a JPEG quality level
 * asked for with Tight is dropped and ZYWRLE becomes ZRLE. */
static void vnc_client_fixup(rfbClientPtr cl)
{
    if (!vnc.cursor_defined) {
        cl->cursorWasChanged = FALSE;
    }
    cl->tightQualityLevel = -1;
#ifdef LIBVNCSERVER_HAVE_LIBJPEG
    cl->turboQualityLevel = -1; /* what Tight's JPEG choice looks at */
#endif
    if (cl->preferredEncoding == rfbEncodingZYWRLE) {
        cl->preferredEncoding = rfbEncodingZRLE;
    }
}

static void vnc_schedule_update(void)
{
    vnc.chained = 0;
    loop_timer_arm(vnc.update_timer, 0); /* next loop iteration */
}

/* Send cl what it asked for and what changed. An update can leave more
 * to send (libvncserver sends a desktop size change alone, and the
 * pixels at the next call): then another pass is scheduled, which the
 * polling loop libvncserver was written for would have made anyway. A
 * pass that keeps finding more is slowed to one per 10 ms rather than
 * spin. */
static void vnc_update_client(rfbClientPtr cl)
{
    vnc_client_fixup(cl);
    rfbUpdateClient(cl);
    if (cl->sock != RFB_INVALID_SOCKET && FB_UPDATE_PENDING(cl) &&
        !sraRgnEmpty(cl->requestedRegion)) {
        loop_timer_arm(vnc.update_timer,
                       vnc.chained++ < 8 ? 0 : loop_now_ns() + 10000000u);
    }
}

static void vnc_update_all(void *opaque)
{
    (void)opaque;
    for (struct vnc_client *vc = vnc.clients; vc; vc = vc->next) {
        if (vc->cl->sock != RFB_INVALID_SOCKET) {
            vnc_update_client(vc->cl);
        }
    }
    vnc_reap();
}

static bool vnc_fd_readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, 0) > 0;
}

static void vnc_client_ready(void *opaque, uint32_t events)
{
    struct vnc_client *vc = opaque;
    rfbClientPtr cl = vc->cl;
    (void)events;
    for (int i = 0; i < VNC_MSGS_PER_WAKE; i++) {
        rfbProcessClientMessage(cl);
        if (cl->sock == RFB_INVALID_SOCKET ||
            (!webSocketsHasDataInBuffer(cl) && !vnc_fd_readable(cl->sock))) {
            break;
        }
    }
    if (cl->sock != RFB_INVALID_SOCKET) {
        vnc.chained = 0;
        vnc_update_client(cl);
    }
    vnc_reap();
}

static enum rfbNewClientAction vnc_new_client(rfbClientPtr cl)
{
    struct vnc_client *vc = calloc(1, sizeof(*vc));
    if (!vc) {
        return RFB_CLIENT_REFUSE;
    }
    vc->cl = cl;
    vc->fd = cl->sock;
    if (loop_add_fd(vc->fd, EPOLLIN, vnc_client_ready, vc) < 0) {
        free(vc);
        return RFB_CLIENT_REFUSE;
    }
    cl->clientData = vc;
    cl->clientGoneHook = vnc_client_gone;
    vc->next = vnc.clients;
    vnc.clients = vc;
    return RFB_CLIENT_ACCEPT;
}

static void vnc_accept_resume(void *opaque)
{
    (void)opaque;
    for (unsigned i = 0; i < vnc.nlfd; i++) {
        loop_mod_fd(vnc.lfd[i], EPOLLIN);
    }
}

static void vnc_accept(void *opaque, uint32_t events)
{
    int lfd = (int)(intptr_t)opaque;
    (void)events;
    for (int i = 0; i < 8; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM) {
                /* The pending connection stays readable: pause the
                 * listeners for a second rather than spin. */
                vnc_log("accept: %s", strerror(errno));
                for (unsigned j = 0; j < vnc.nlfd; j++) {
                    loop_mod_fd(vnc.lfd[j], 0);
                }
                loop_timer_arm(vnc.accept_timer, loop_now_ns() + 1000000000u);
            }
            break;
        }
        if (fd >= FD_SETSIZE) {
            vnc_log("refusing a client: descriptor %d is past the %d "
                    "libvncserver can wait on",
                    fd, FD_SETSIZE);
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        /* Sniffs for a WebSocket request, sends the RFB version and calls
         * vnc_new_client; on failure the socket is closed. */
        rfbNewClient(vnc.screen, fd);
        vnc_reap();
    }
}

/* ---- framebuffer ---- */

/* rfbGetScreen and rfbNewFramebuffer set up red at bit 0 on little-endian
 * hosts; the console is x8r8g8b8. */
static void vnc_set_format(void)
{
    rfbScreenInfoPtr s = vnc.screen;
    s->depth = 24;
    s->serverFormat.depth = 24;
    s->serverFormat.bigEndian = FALSE;
    s->serverFormat.trueColour = 1; /* libvncserver's TRUE is -1 */
    s->serverFormat.redMax = s->serverFormat.greenMax =
        s->serverFormat.blueMax = 255;
    s->serverFormat.redShift = 16;
    s->serverFormat.greenShift = 8;
    s->serverFormat.blueShift = 0;
}

/* Copy rows [y, y + h) x [x, x + w) from the console into the
 * framebuffer, clipped to both. Returns false when nothing was copied. */
static bool vnc_copy_rect(int32_t x, int32_t y, int64_t w, int64_t h)
{
    bool copied = false;
    pixman_image_t *img = ui_console_lock(vnc.con);
    if (img) {
        int64_t sw = pixman_image_get_width(img);
        int64_t sh = pixman_image_get_height(img);
        int64_t x1 = x < 0 ? 0 : x, y1 = y < 0 ? 0 : y;
        int64_t x2 = (int64_t)x + w, y2 = (int64_t)y + h;
        x2 = x2 > sw ? sw : x2;
        x2 = x2 > vnc.fb_w ? vnc.fb_w : x2;
        y2 = y2 > sh ? sh : y2;
        y2 = y2 > vnc.fb_h ? vnc.fb_h : y2;
        if (x2 > x1 && y2 > y1) {
            const char *src = (const char *)pixman_image_get_data(img);
            size_t sstride = (size_t)pixman_image_get_stride(img);
            size_t dstride = (size_t)vnc.fb_w * 4;
            for (int64_t r = y1; r < y2; r++) {
                memcpy(vnc.fb + (size_t)r * dstride + (size_t)x1 * 4,
                       src + (size_t)r * sstride + (size_t)x1 * 4,
                       (size_t)(x2 - x1) * 4);
            }
            copied = true;
        }
    }
    ui_console_unlock(vnc.con);
    return copied;
}

/* Match the framebuffer to the console (or blank) and resend all. */
static void vnc_fb_sync(void)
{
    uint32_t w = 0, h = 0;
    if (vnc.con) {
        ui_console_size(vnc.con, &w, &h);
    }
    if (!w || !h || w > VNC_MAX_SIDE || h > VNC_MAX_SIDE) {
        if (w && h) {
            vnc_log("console is %ux%u, larger than VNC can show", w, h);
        }
        w = VNC_BLANK_W;
        h = VNC_BLANK_H;
    }
    if (w != vnc.fb_w || h != vnc.fb_h) {
        char *fb = calloc((size_t)w * h, 4);
        if (!fb) {
            vnc_log("no memory for a %ux%u framebuffer", w, h);
            return;
        }
        char *old = vnc.fb;
        vnc.fb = fb;
        vnc.fb_w = w;
        vnc.fb_h = h;
        /* Clients with the DesktopSize pseudo-encodings are told. */
        rfbNewFramebuffer(vnc.screen, fb, (int)w, (int)h, 8, 3, 4);
        vnc_set_format();
        /* rfbNewFramebuffer set every client's translation for the
         * format it reset; set it again for the real one. */
        for (struct vnc_client *vc = vnc.clients; vc; vc = vc->next) {
            if (vc->cl->sock != RFB_INVALID_SOCKET) {
                vnc.screen->setTranslateFunction(vc->cl);
            }
        }
        free(old);
    } else {
        memset(vnc.fb, 0, (size_t)w * h * 4);
    }
    if (vnc.con) {
        vnc_copy_rect(0, 0, w, h);
    }
    rfbMarkRectAsModified(vnc.screen, 0, 0, (int)w, (int)h);
    vnc_schedule_update();
}

/* ---- ui backend ---- */

static void vnc_resized(void *opaque, struct ui_console *c)
{
    (void)opaque;
    if (vnc.screen && c == vnc.con) {
        vnc_fb_sync();
    }
}

static void vnc_damage(void *opaque, struct ui_console *c,
                       const struct ui_rect *r)
{
    (void)opaque;
    if (!vnc.screen || c != vnc.con) {
        return;
    }
    if (vnc_copy_rect(r->x, r->y, r->w, r->h)) {
        int64_t x2 = (int64_t)r->x + r->w, y2 = (int64_t)r->y + r->h;
        rfbMarkRectAsModified(vnc.screen, r->x, r->y,
                              (int)(x2 > vnc.fb_w ? vnc.fb_w : x2),
                              (int)(y2 > vnc.fb_h ? vnc.fb_h : y2));
        vnc_schedule_update();
    }
}

/* An rfbCursor from an a8r8g8b8 (premultiplied) image: colours
 * unpremultiplied in the server format, the alpha kept for drawing into
 * the framebuffer (blended) and made the 1-bit mask sent to clients
 * (alpha >= 0x80 shows).
 * libvncserver frees it (all cleanup flags set). */
static rfbCursorPtr vnc_make_cursor(pixman_image_t *img, uint32_t hot_x,
                                    uint32_t hot_y)
{
    int w = pixman_image_get_width(img), h = pixman_image_get_height(img);
    w = w > VNC_CURSOR_MAX ? VNC_CURSOR_MAX : w;
    h = h > VNC_CURSOR_MAX ? VNC_CURSOR_MAX : h;
    if (w <= 0 || h <= 0) {
        return NULL;
    }
    const uint32_t *px = pixman_image_get_data(img);
    int stride = pixman_image_get_stride(img) / 4;
    rfbCursorPtr c = calloc(1, sizeof(*c));
    uint32_t *rich = calloc((size_t)w * h, 4);
    unsigned char *alpha = calloc((size_t)w * h, 1);
    if (!c || !rich || !alpha) {
        goto fail;
    }
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            uint32_t p = px[y * stride + x], a = p >> 24, rgb = 0;
            if (a) {
                for (int sh = 0; sh < 24; sh += 8) {
                    uint32_t v = (((p >> sh) & 0xff) * 255 + a / 2) / a;
                    rgb |= (v > 255 ? 255 : v) << sh;
                }
            }
            rich[y * w + x] = rgb;
            alpha[y * w + x] = (unsigned char)a;
        }
    }
    /* A threshold, not libvncserver's dithering (which can leave holes
     * in opaque edges). */
    size_t mstride = ((size_t)w + 7) / 8;
    c->mask = calloc(mstride, (size_t)h);
    if (!c->mask) {
        goto fail;
    }
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            if (alpha[y * w + x] >= 0x80) {
                c->mask[y * mstride + x / 8] |=
                    (unsigned char)(0x80 >> (x % 8));
            }
        }
    }
    c->width = (unsigned short)w;
    c->height = (unsigned short)h;
    c->xhot = (unsigned short)(hot_x < (uint32_t)w ? hot_x : (uint32_t)w - 1);
    c->yhot = (unsigned short)(hot_y < (uint32_t)h ? hot_y : (uint32_t)h - 1);
    c->richSource = (unsigned char *)rich;
    c->alphaSource = alpha;
    c->alphaPreMultiplied = FALSE;
    /* Colours all 0: the X cursor (for clients without RichCursor) is
     * made by thresholding the grey level into white on black. */
    c->cleanup = c->cleanupSource = c->cleanupMask = c->cleanupRichSource =
        TRUE;
    return c;
fail:
    free(c);
    free(rich);
    free(alpha);
    vnc_log("no memory for the cursor");
    return NULL;
}

static void vnc_cursor_changed(void *opaque, struct ui_console *c)
{
    (void)opaque;
    if (!vnc.screen || c != vnc.con) {
        return;
    }
    uint32_t hx, hy;
    int32_t x, y;
    pixman_image_t *img = ui_console_cursor(c, &hx, &hy, &x, &y);
    rfbCursorPtr cur = NULL;
    if (img) {
        cur = vnc_make_cursor(img, hx, hy);
        pixman_image_unref(img);
        vnc.cursor_defined = true;
    }
    /* Frees the old one, marks the areas under it for clients that see
     * the cursor in the framebuffer, and sends clients the new shape
     * (empty when hidden). */
    rfbSetCursor(vnc.screen, cur);
    vnc_schedule_update();
}

static void vnc_cursor_moved(void *opaque, struct ui_console *c)
{
    (void)opaque;
    if (!vnc.screen || c != vnc.con) {
        return;
    }
    uint32_t hx, hy;
    int32_t x, y;
    pixman_image_t *img = ui_console_cursor(c, &hx, &hy, &x, &y);
    if (img) {
        pixman_image_unref(img);
    }
    x = x < 0 ? 0 : x >= (int32_t)vnc.fb_w ? (int32_t)vnc.fb_w - 1 : x;
    y = y < 0 ? 0 : y >= (int32_t)vnc.fb_h ? (int32_t)vnc.fb_h - 1 : y;
    if (x == vnc.screen->cursorX && y == vnc.screen->cursorY) {
        return;
    }
    /* Clients drawing the cursor in the framebuffer notice the new
     * position by themselves (FB_UPDATE_PENDING); PointerPos clients are
     * told. */
    vnc.screen->cursorX = x;
    vnc.screen->cursorY = y;
    for (struct vnc_client *vc = vnc.clients; vc; vc = vc->next) {
        if (vc->cl->enableCursorPosUpdates) {
            vc->cl->cursorWasMoved = TRUE;
        }
    }
    vnc_schedule_update();
}

static const struct ui_backend_ops vnc_backend_ops = {
    .resized = vnc_resized,
    .damage = vnc_damage,
    .cursor_changed = vnc_cursor_changed,
    .cursor_moved = vnc_cursor_moved,
};

/* ---- input ---- */

/* Printable ASCII (0x20..0x7e) on a US keyboard: the key, and whether it
 * takes Shift. */
static const struct {
    uint16_t code;
    bool shift;
} vnc_ascii[0x7f - 0x20] = {
    [' ' - 0x20] = { KEY_SPACE, false },
    ['!' - 0x20] = { KEY_1, true },
    ['"' - 0x20] = { KEY_APOSTROPHE, true },
    ['#' - 0x20] = { KEY_3, true },
    ['$' - 0x20] = { KEY_4, true },
    ['%' - 0x20] = { KEY_5, true },
    ['&' - 0x20] = { KEY_7, true },
    ['\'' - 0x20] = { KEY_APOSTROPHE, false },
    ['(' - 0x20] = { KEY_9, true },
    [')' - 0x20] = { KEY_0, true },
    ['*' - 0x20] = { KEY_8, true },
    ['+' - 0x20] = { KEY_EQUAL, true },
    [',' - 0x20] = { KEY_COMMA, false },
    ['-' - 0x20] = { KEY_MINUS, false },
    ['.' - 0x20] = { KEY_DOT, false },
    ['/' - 0x20] = { KEY_SLASH, false },
    ['0' - 0x20] = { KEY_0, false },
    ['1' - 0x20] = { KEY_1, false },
    ['2' - 0x20] = { KEY_2, false },
    ['3' - 0x20] = { KEY_3, false },
    ['4' - 0x20] = { KEY_4, false },
    ['5' - 0x20] = { KEY_5, false },
    ['6' - 0x20] = { KEY_6, false },
    ['7' - 0x20] = { KEY_7, false },
    ['8' - 0x20] = { KEY_8, false },
    ['9' - 0x20] = { KEY_9, false },
    [':' - 0x20] = { KEY_SEMICOLON, true },
    [';' - 0x20] = { KEY_SEMICOLON, false },
    ['<' - 0x20] = { KEY_COMMA, true },
    ['=' - 0x20] = { KEY_EQUAL, false },
    ['>' - 0x20] = { KEY_DOT, true },
    ['?' - 0x20] = { KEY_SLASH, true },
    ['@' - 0x20] = { KEY_2, true },
    ['A' - 0x20] = { KEY_A, true },
    ['B' - 0x20] = { KEY_B, true },
    ['C' - 0x20] = { KEY_C, true },
    ['D' - 0x20] = { KEY_D, true },
    ['E' - 0x20] = { KEY_E, true },
    ['F' - 0x20] = { KEY_F, true },
    ['G' - 0x20] = { KEY_G, true },
    ['H' - 0x20] = { KEY_H, true },
    ['I' - 0x20] = { KEY_I, true },
    ['J' - 0x20] = { KEY_J, true },
    ['K' - 0x20] = { KEY_K, true },
    ['L' - 0x20] = { KEY_L, true },
    ['M' - 0x20] = { KEY_M, true },
    ['N' - 0x20] = { KEY_N, true },
    ['O' - 0x20] = { KEY_O, true },
    ['P' - 0x20] = { KEY_P, true },
    ['Q' - 0x20] = { KEY_Q, true },
    ['R' - 0x20] = { KEY_R, true },
    ['S' - 0x20] = { KEY_S, true },
    ['T' - 0x20] = { KEY_T, true },
    ['U' - 0x20] = { KEY_U, true },
    ['V' - 0x20] = { KEY_V, true },
    ['W' - 0x20] = { KEY_W, true },
    ['X' - 0x20] = { KEY_X, true },
    ['Y' - 0x20] = { KEY_Y, true },
    ['Z' - 0x20] = { KEY_Z, true },
    ['[' - 0x20] = { KEY_LEFTBRACE, false },
    ['\\' - 0x20] = { KEY_BACKSLASH, false },
    [']' - 0x20] = { KEY_RIGHTBRACE, false },
    ['^' - 0x20] = { KEY_6, true },
    ['_' - 0x20] = { KEY_MINUS, true },
    ['`' - 0x20] = { KEY_GRAVE, false },
    ['a' - 0x20] = { KEY_A, false },
    ['b' - 0x20] = { KEY_B, false },
    ['c' - 0x20] = { KEY_C, false },
    ['d' - 0x20] = { KEY_D, false },
    ['e' - 0x20] = { KEY_E, false },
    ['f' - 0x20] = { KEY_F, false },
    ['g' - 0x20] = { KEY_G, false },
    ['h' - 0x20] = { KEY_H, false },
    ['i' - 0x20] = { KEY_I, false },
    ['j' - 0x20] = { KEY_J, false },
    ['k' - 0x20] = { KEY_K, false },
    ['l' - 0x20] = { KEY_L, false },
    ['m' - 0x20] = { KEY_M, false },
    ['n' - 0x20] = { KEY_N, false },
    ['o' - 0x20] = { KEY_O, false },
    ['p' - 0x20] = { KEY_P, false },
    ['q' - 0x20] = { KEY_Q, false },
    ['r' - 0x20] = { KEY_R, false },
    ['s' - 0x20] = { KEY_S, false },
    ['t' - 0x20] = { KEY_T, false },
    ['u' - 0x20] = { KEY_U, false },
    ['v' - 0x20] = { KEY_V, false },
    ['w' - 0x20] = { KEY_W, false },
    ['x' - 0x20] = { KEY_X, false },
    ['y' - 0x20] = { KEY_Y, false },
    ['z' - 0x20] = { KEY_Z, false },
    ['{' - 0x20] = { KEY_LEFTBRACE, true },
    ['|' - 0x20] = { KEY_BACKSLASH, true },
    ['}' - 0x20] = { KEY_RIGHTBRACE, true },
    ['~' - 0x20] = { KEY_GRAVE, true },
};

/* Function, editing, modifier and keypad keysyms. */
static const struct {
    uint32_t sym;
    uint16_t code;
} vnc_keysyms[] = {
    { XK_BackSpace, KEY_BACKSPACE },
    { XK_Tab, KEY_TAB },
    { XK_ISO_Left_Tab, KEY_TAB },
    { XK_Return, KEY_ENTER },
    { XK_Escape, KEY_ESC },
    { XK_Delete, KEY_DELETE },
    { XK_Insert, KEY_INSERT },
    { XK_Home, KEY_HOME },
    { XK_End, KEY_END },
    { XK_Page_Up, KEY_PAGEUP },
    { XK_Page_Down, KEY_PAGEDOWN },
    { XK_Left, KEY_LEFT },
    { XK_Up, KEY_UP },
    { XK_Right, KEY_RIGHT },
    { XK_Down, KEY_DOWN },
    { XK_F1, KEY_F1 },
    { XK_F2, KEY_F2 },
    { XK_F3, KEY_F3 },
    { XK_F4, KEY_F4 },
    { XK_F5, KEY_F5 },
    { XK_F6, KEY_F6 },
    { XK_F7, KEY_F7 },
    { XK_F8, KEY_F8 },
    { XK_F9, KEY_F9 },
    { XK_F10, KEY_F10 },
    { XK_F11, KEY_F11 },
    { XK_F12, KEY_F12 },
    { XK_Shift_L, KEY_LEFTSHIFT },
    { XK_Shift_R, KEY_RIGHTSHIFT },
    { XK_Control_L, KEY_LEFTCTRL },
    { XK_Control_R, KEY_RIGHTCTRL },
    { XK_Alt_L, KEY_LEFTALT },
    { XK_Alt_R, KEY_RIGHTALT },
    { XK_ISO_Level3_Shift, KEY_RIGHTALT },
    { XK_Meta_L, KEY_LEFTMETA },
    { XK_Meta_R, KEY_RIGHTMETA },
    { XK_Super_L, KEY_LEFTMETA },
    { XK_Super_R, KEY_RIGHTMETA },
    { XK_Caps_Lock, KEY_CAPSLOCK },
    { XK_Num_Lock, KEY_NUMLOCK },
    { XK_Scroll_Lock, KEY_SCROLLLOCK },
    { XK_Print, KEY_SYSRQ },
    { XK_Sys_Req, KEY_SYSRQ },
    { XK_Pause, KEY_PAUSE },
    { XK_Break, KEY_PAUSE },
    { XK_Menu, KEY_COMPOSE },
    { XK_KP_0, KEY_KP0 },
    { XK_KP_1, KEY_KP1 },
    { XK_KP_2, KEY_KP2 },
    { XK_KP_3, KEY_KP3 },
    { XK_KP_4, KEY_KP4 },
    { XK_KP_5, KEY_KP5 },
    { XK_KP_6, KEY_KP6 },
    { XK_KP_7, KEY_KP7 },
    { XK_KP_8, KEY_KP8 },
    { XK_KP_9, KEY_KP9 },
    { XK_KP_Decimal, KEY_KPDOT },
    { XK_KP_Separator, KEY_KPCOMMA },
    { XK_KP_Add, KEY_KPPLUS },
    { XK_KP_Subtract, KEY_KPMINUS },
    { XK_KP_Multiply, KEY_KPASTERISK },
    { XK_KP_Divide, KEY_KPSLASH },
    { XK_KP_Enter, KEY_KPENTER },
    { XK_KP_Equal, KEY_KPEQUAL },
    /* Keypad keys with Num Lock off. */
    { XK_KP_Insert, KEY_KP0 },
    { XK_KP_End, KEY_KP1 },
    { XK_KP_Down, KEY_KP2 },
    { XK_KP_Page_Down, KEY_KP3 },
    { XK_KP_Left, KEY_KP4 },
    { XK_KP_Begin, KEY_KP5 },
    { XK_KP_Right, KEY_KP6 },
    { XK_KP_Home, KEY_KP7 },
    { XK_KP_Up, KEY_KP8 },
    { XK_KP_Page_Up, KEY_KP9 },
    { XK_KP_Delete, KEY_KPDOT },
};

static bool vnc_keysym_lookup(uint32_t sym, uint16_t *code, bool *shift)
{
    if (sym >= 0x20 && sym <= 0x7e) {
        *code = vnc_ascii[sym - 0x20].code;
        *shift = vnc_ascii[sym - 0x20].shift;
        return *code != 0;
    }
    for (size_t i = 0; i < sizeof(vnc_keysyms) / sizeof(vnc_keysyms[0]); i++) {
        if (vnc_keysyms[i].sym == sym) {
            *code = vnc_keysyms[i].code;
            *shift = false;
            return true;
        }
    }
    return false;
}

static bool vnc_bit(const uint8_t *map, unsigned code)
{
    return map[code / 8] & (1u << (code % 8));
}

static void vnc_set_bit(uint8_t *map, unsigned code, bool on)
{
    if (on) {
        map[code / 8] |= (uint8_t)(1u << (code % 8));
    } else {
        map[code / 8] &= (uint8_t) ~(1u << (code % 8));
    }
}

static void vnc_send_key(struct vnc_keys *k, uint16_t code, bool down)
{
    vnc_set_bit(k->down, code, down);
    ui_input_key(code, down);
}

static void vnc_keys_lift_all(struct vnc_keys *k)
{
    for (unsigned code = 0; code <= KEY_MAX; code++) {
        if (vnc_bit(k->down, code)) {
            vnc_send_key(k, (uint16_t)code, false);
        }
    }
    memset(k, 0, sizeof(*k));
}

/*
 * The Shift rule. VNC sends the keysym a key produced, not the key: 'A'
 * for Shift+a, '!' for Shift+1. Clients normally send their Shift press
 * too; when one does not, the guest would see the bare key. So a keysym
 * that takes Shift on a US layout (upper-case letters and the shifted
 * symbols) is sent as Left Shift + its key when no Shift key sent by the
 * same client is down, the added Shift held until that key is released. For
 * letters Caps Lock counts as Shift, as tracked from the Caps Lock presses
 * that came through VNC: 'A' with Caps Lock on is sent as the bare key.
 * We never release a Shift the client holds, so a lower-case letter or an
 * unshifted symbol is sent as its key as it is. Keys a client holds when
 * it goes are released.
 */
static void vnc_key_event(rfbBool down, rfbKeySym sym, rfbClientPtr cl)
{
    struct vnc_client *vc = cl->clientData;
    if (!vc) {
        return;
    }
    struct vnc_keys *k = &vc->keys;
    uint16_t code;
    bool shifted;
    if (!vnc_keysym_lookup((uint32_t)sym, &code, &shifted)) {
        if (down) {
            vnc_log("keysym 0x%x has no key, ignored", (unsigned)sym);
        }
        return;
    }
    bool letter = (sym >= 'A' && sym <= 'Z') || (sym >= 'a' && sym <= 'z');
    if (down) {
        bool client_shift = k->shift_l || k->shift_r;
        bool fake = shifted && !client_shift && !(letter && vnc.caps);
        if (fake && !vnc_bit(k->fake_shift, code)) {
            if (k->n_fake_shift++ == 0) {
                vnc_send_key(k, KEY_LEFTSHIFT, true);
            }
            vnc_set_bit(k->fake_shift, code, true);
        }
        vnc_send_key(k, code, true);
    } else {
        vnc_send_key(k, code, false);
        if (vnc_bit(k->fake_shift, code)) {
            vnc_set_bit(k->fake_shift, code, false);
            if (--k->n_fake_shift == 0 && !k->shift_l) {
                vnc_send_key(k, KEY_LEFTSHIFT, false);
            }
        }
    }
    if (sym == XK_Shift_L) {
        k->shift_l = down;
    } else if (sym == XK_Shift_R) {
        k->shift_r = down;
    } else if (sym == XK_Caps_Lock && down) {
        vnc.caps = !vnc.caps;
    }
}

/* VNC's button mask has the UI_BUTTON_* layout: bit 0 left, 1 middle,
 * 2 right, 3 wheel up, 4 wheel down (each wheel press a notch); the
 * horizontal wheel (bits 5 and 6) is dropped. */
static void vnc_pointer_event(int mask, int x, int y, rfbClientPtr cl)
{
    (void)cl;
    if (vnc.con) {
        ui_input_pointer(vnc.con, x, y,
                         (uint32_t)mask &
                             (UI_BUTTON_LEFT | UI_BUTTON_MIDDLE |
                              UI_BUTTON_RIGHT | UI_BUTTON_WHEEL_UP |
                              UI_BUTTON_WHEEL_DOWN));
    }
}

/* SetDesktopSize: the producer is asked; the answer comes as a new
 * framebuffer size when (and if) the guest follows. */
static int vnc_set_desktop_size(int w, int h, int nscreens,
                                struct rfbExtDesktopScreen *screens,
                                rfbClientPtr cl)
{
    (void)nscreens;
    (void)screens;
    (void)cl;
    if (!vnc.con) {
        return rfbExtDesktopSize_ResizeProhibited;
    }
    if (w <= 0 || h <= 0 || w > VNC_MAX_SIDE || h > VNC_MAX_SIDE) {
        return rfbExtDesktopSize_InvalidScreenLayout;
    }
    ui_console_request_size(vnc.con, (uint32_t)w, (uint32_t)h);
    return rfbExtDesktopSize_Success;
}

/* ---- start and stop ---- */

int vnc_port(void)
{
    return vnc.port;
}

int vnc_websocket_port(void)
{
    return vnc.ws_port;
}

static void vnc_close_listeners(void)
{
    for (unsigned i = 0; i < vnc.nlfd; i++) {
        loop_del_fd(vnc.lfd[i]);
        close(vnc.lfd[i]);
    }
    vnc.nlfd = 0;
}

int vnc_start(const char *spec, const char *optname, struct error *err)
{
    struct vnc_spec s;
    int ret = vnc_parse_spec(spec, optname, &s, err);
    if (ret < 0) {
        return ret;
    }
    if (s.none) {
        vnc_spec_free(&s);
        return 0;
    }
    if (vnc.screen) {
        vnc_spec_free(&s);
        return err_set(err, -EBUSY, "%s: a VNC server is already running",
                       optname);
    }
    rfbLog = vnc_rfb_log;
    rfbErr = vnc_rfb_err;

    int port = -1, ws_port = -1;
    ret = vnc_listen_all(&s, &port, &ws_port, optname, err);
    vnc_spec_free(&s);
    if (ret < 0) {
        vnc_close_listeners();
        return ret;
    }

    vnc.con = ui_console_at(0);
    vnc.fb_w = VNC_BLANK_W;
    vnc.fb_h = VNC_BLANK_H;
    vnc.fb = calloc((size_t)vnc.fb_w * vnc.fb_h, 4);
    vnc.update_timer = loop_timer_new(vnc_update_all, NULL);
    vnc.accept_timer = loop_timer_new(vnc_accept_resume, NULL);
    vnc.screen =
        vnc.fb ? rfbGetScreen(NULL, NULL, (int)vnc.fb_w, (int)vnc.fb_h, 8, 3, 4)
               : NULL;
    if (!vnc.screen || !vnc.update_timer || !vnc.accept_timer) {
        ret = err_set(err, -ENOMEM, "%s: out of memory", optname);
        goto fail;
    }
    rfbScreenInfoPtr sc = vnc.screen;
    sc->frameBuffer = vnc.fb;
    vnc_set_format();
    sc->desktopName = "swede";
    /* We own the sockets: libvncserver listens on nothing. */
    sc->autoPort = FALSE;
    sc->port = 0;
    sc->ipv6port = 0;
    sc->httpPort = 0;
    sc->http6Port = 0;
    sc->httpDir = NULL;
    sc->deferUpdateTime = 0; /* coalescing is the loop's */
    sc->deferPtrUpdateTime = 0;
    sc->maxClientWait = VNC_CLIENT_WAIT_MS;
    sc->handleEventsEagerly = FALSE;
    sc->cursor = NULL; /* not libvncserver's default X */
    sc->kbdAddEvent = vnc_key_event;
    sc->ptrAddEvent = vnc_pointer_event;
    sc->newClientHook = vnc_new_client;
    sc->setDesktopSizeHook = vnc_set_desktop_size;
    rfbInitServer(sc);

    for (unsigned i = 0; i < vnc.nlfd; i++) {
        ret = loop_add_fd(vnc.lfd[i], EPOLLIN, vnc_accept,
                          (void *)(intptr_t)vnc.lfd[i]);
        if (ret < 0) {
            while (i--) {
                loop_del_fd(vnc.lfd[i]);
            }
            err_set(err, ret, "%s: main loop: %s", optname, strerror(-ret));
            goto fail;
        }
    }
    vnc.port = port;
    vnc.ws_port = ws_port;
    if (!vnc_backend_added) {
        /* Calls resized and cursor_changed for every console now. */
        ret = ui_add_backend(&vnc_backend_ops, NULL);
        if (ret < 0) {
            for (unsigned i = 0; i < vnc.nlfd; i++) {
                loop_del_fd(vnc.lfd[i]);
            }
            err_set(err, ret, "%s: too many display backends", optname);
            goto fail;
        }
        vnc_backend_added = true;
    } else {
        vnc_fb_sync();
        if (vnc.con) {
            vnc_cursor_changed(NULL, vnc.con);
            vnc_cursor_moved(NULL, vnc.con);
        }
    }
    return 0;

fail:
    for (unsigned i = 0; i < vnc.nlfd; i++) {
        close(vnc.lfd[i]);
    }
    vnc.nlfd = 0;
    if (vnc.screen) {
        rfbScreenCleanup(vnc.screen);
        vnc.screen = NULL;
    }
    free(vnc.fb);
    vnc.fb = NULL;
    loop_timer_free(vnc.update_timer);
    loop_timer_free(vnc.accept_timer);
    vnc.update_timer = vnc.accept_timer = NULL;
    vnc.port = vnc.ws_port = -1;
    return ret;
}

void vnc_stop(void)
{
    if (!vnc.screen) {
        return;
    }
    vnc_close_listeners();
    vnc_reap();
    for (struct vnc_client *vc = vnc.clients; vc; vc = vc->next) {
        loop_del_fd(vc->fd);
        vc->fd = -1;
    }
    /* Closes every client; rfbClientConnectionGone frees our records. */
    rfbShutdownServer(vnc.screen, TRUE);
    rfbScreenCleanup(vnc.screen); /* frees the cursor too */
    vnc.screen = NULL;
    free(vnc.fb);
    vnc.fb = NULL;
    vnc.fb_w = vnc.fb_h = 0;
    vnc.con = NULL;
    vnc.cursor_defined = false;
    vnc.caps = false;
    loop_timer_free(vnc.update_timer);
    loop_timer_free(vnc.accept_timer);
    vnc.update_timer = vnc.accept_timer = NULL;
    vnc.port = vnc.ws_port = -1;
}
