// SPDX-License-Identifier: MIT
/*
 * wl-pattern: show a known test image in a Wayland window, speaking the
 * Wayland wire protocol directly (no libwayland, no generated code: the
 * few messages it needs are marshalled by hand; only libc and the kernel).
 *
 *   wl-pattern [--frames N | --copy TEXT | --paste] [--timeout SECONDS]
 *              [WIDTH HEIGHT]
 *
 * It connects to $XDG_RUNTIME_DIR/$WAYLAND_DISPLAY (default wayland-0; an
 * absolute WAYLAND_DISPLAY is used as is), binds wl_compositor, wl_shm,
 * xdg_wm_base and, when offered, wl_seat (and its wl_keyboard) and
 * wl_data_device_manager, then makes an xdg_toplevel titled "wl-pattern",
 * waits for its first configure and shows a WIDTH x HEIGHT (default
 * 640x480, whatever size the compositor suggests) XRGB8888 wl_shm buffer
 * with the test image (see pattern_pixel(); the host-side twin is
 * tests/functional/gfx_pattern.py, which must stay in step).  When the
 * frame callback of that commit is done it prints
 *
 *   wl-pattern: connected to PATH (wl_compositor vN, wl_seat vN|none,
 *     wl_data_device_manager vN|none)                       [one line]
 *   wl-pattern: configured WxH      (the compositor's suggestion, 0x0: any)
 *   wl-pattern: ok shown WxH
 *
 * and keeps running, answering pings and configures, until killed, unless
 * an option gives it something else to do:
 *
 *   --frames N   redraws N frames (a moving inverted bar over the image,
 *                whole buffer damaged, two buffers used in turn, never one
 *                the compositor holds), each after the previous frame
 *                callback, prints "wl-pattern: frames N seconds S fps F"
 *                and exits 0.
 *   --copy TEXT  waits for keyboard focus (wl_keyboard.enter on our
 *                surface), offers TEXT as the selection (text/plain and
 *                text/plain;charset=utf-8), prints "wl-pattern: ok copied
 *                N bytes", then serves every paste ("wl-pattern: ok sent N
 *                bytes") until killed, or exits 0 after "wl-pattern: ok
 *                cancelled" when another client takes the selection.
 *   --paste      waits for a selection offering text/plain, reads it and
 *                prints "wl-pattern: ok pasted N bytes: TEXT", exits 0.
 *   --timeout S  bounds every wait (default 20 seconds).
 *
 * When the seat has a keyboard, its keymap is checked (an mmap-able
 * xkb_v1 keymap starting with "xkb_keymap") and "wl-pattern: ok keymap N
 * bytes" printed once.  A protocol error prints "wl-pattern: error:
 * protocol error object O code C: MSG"; that and every other failure
 * prints one "wl-pattern: error: ..." line on stderr and exits 1, bad
 * usage exits 2.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

#define NAME "wl-pattern"

/* Request opcodes (wayland.xml, xdg-shell.xml). */
#define WL_DISPLAY_SYNC              0
#define WL_DISPLAY_GET_REGISTRY      1
#define WL_REGISTRY_BIND             0
#define WL_COMPOSITOR_CREATE_SURFACE 0
#define WL_SHM_CREATE_POOL           0
#define WL_SHM_POOL_CREATE_BUFFER    0
#define WL_SURFACE_ATTACH            1
#define WL_SURFACE_DAMAGE            2
#define WL_SURFACE_FRAME             3
#define WL_SURFACE_COMMIT            6
#define WL_SURFACE_DAMAGE_BUFFER     9
#define XDG_WM_BASE_GET_XDG_SURFACE  2
#define XDG_WM_BASE_PONG             3
#define XDG_SURFACE_GET_TOPLEVEL     1
#define XDG_SURFACE_ACK_CONFIGURE    4
#define XDG_TOPLEVEL_SET_TITLE       2
#define XDG_TOPLEVEL_SET_APP_ID      3
#define WL_SEAT_GET_KEYBOARD         1
#define WL_DDM_CREATE_DATA_SOURCE    0
#define WL_DDM_GET_DATA_DEVICE       1
#define WL_DATA_SOURCE_OFFER         0
#define WL_DATA_DEVICE_SET_SELECTION 1
#define WL_DATA_OFFER_RECEIVE        1
#define WL_DATA_OFFER_DESTROY        2

/* Event opcodes. */
#define WL_DISPLAY_ERROR          0
#define WL_REGISTRY_GLOBAL        0
#define WL_CALLBACK_DONE          0
#define WL_SHM_FORMAT             0
#define WL_BUFFER_RELEASE         0
#define XDG_WM_BASE_PING          0
#define XDG_SURFACE_CONFIGURE     0
#define XDG_TOPLEVEL_CONFIGURE    0
#define XDG_TOPLEVEL_CLOSE        1
#define WL_SEAT_CAPABILITIES      0
#define WL_KEYBOARD_KEYMAP        0
#define WL_KEYBOARD_ENTER         1
#define WL_KEYBOARD_LEAVE         2
#define WL_DATA_DEVICE_DATA_OFFER 0
#define WL_DATA_DEVICE_SELECTION  5
#define WL_DATA_SOURCE_SEND       1
#define WL_DATA_SOURCE_CANCELLED  2
#define WL_DATA_OFFER_OFFER       0

#define WL_SHM_FORMAT_XRGB8888  1
#define WL_SEAT_CAP_KEYBOARD    2
#define WL_KEYMAP_FORMAT_XKB_V1 1
#define SERVER_ID_START         0xff000000u
#define MIME_UTF8               "text/plain;charset=utf-8"
#define MIME_PLAIN              "text/plain"
#define BAR_W                   16
#define MAX_PASTE               (16u << 20)

enum iface {
    IF_NONE,
    IF_DISPLAY,
    IF_REGISTRY,
    IF_CALLBACK,
    IF_COMPOSITOR,
    IF_SHM,
    IF_SHM_POOL,
    IF_BUFFER,
    IF_SURFACE,
    IF_WM_BASE,
    IF_XDG_SURFACE,
    IF_TOPLEVEL,
    IF_SEAT,
    IF_KEYBOARD,
    IF_DDM,
    IF_DATA_DEVICE,
    IF_DATA_SOURCE,
    IF_DATA_OFFER,
};

static const char *const iface_names[] = {
    "?",
    "wl_display",
    "wl_registry",
    "wl_callback",
    "wl_compositor",
    "wl_shm",
    "wl_shm_pool",
    "wl_buffer",
    "wl_surface",
    "xdg_wm_base",
    "xdg_surface",
    "xdg_toplevel",
    "wl_seat",
    "wl_keyboard",
    "wl_data_device_manager",
    "wl_data_device",
    "wl_data_source",
    "wl_data_offer",
};

/* Per-object flags. */
#define F_DONE  1 /* wl_callback: done arrived */
#define F_BUSY  2 /* wl_buffer: committed, not released yet */
#define F_UTF8  4 /* wl_data_offer: offers MIME_UTF8 */
#define F_PLAIN 8 /* wl_data_offer: offers MIME_PLAIN */

struct obj {
    uint8_t iface, flags;
};

/* Client ids count up from 1 (wl_display) and are never reused; ids the
 * server creates (wl_data_offer) start at SERVER_ID_START. */
static struct obj *objs, *srv_objs;
static uint32_t next_id = 1, objs_cap, srv_cap;

/* The connection: buffered requests (with the fds to pass along), bytes
 * read but not yet handled and the fds that came with them. */
#define OUT_SIZE    4096
#define OUT_MAX_FDS 28
#define IN_SIZE     (128 * 1024)
#define IN_MAX_FDS  256
static struct {
    int fd;
    unsigned char out[OUT_SIZE];
    size_t out_len;
    int out_fds[OUT_MAX_FDS], out_nfds;
    uint32_t in[IN_SIZE / 4];
    size_t in_len;
    int in_fds[IN_MAX_FDS], in_nfds;
} conn;

/* Globals we bound and what the events told us. */
static struct {
    uint32_t registry, compositor, shm, wm_base, seat, ddm;
    uint32_t compositor_v, seat_v, ddm_v;
    uint32_t keyboard, data_device, surface, xdg_surface, toplevel;
    uint32_t seat_caps;
    int has_xrgb, keymap_seen;
    int cfg_pending, configured;
    uint32_t cfg_serial;
    int32_t cfg_w, cfg_h;
    int focus;
    uint32_t focus_serial, selection;
    const char *copy_text;
    size_t copy_len;
} g;

static int timeout_s = 20;

static void die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs(NAME ": error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void say(const char *fmt, ...)
{
    va_list ap;

    fputs(NAME ": ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- objects ------------------------------------------------------------ */

static struct obj *obj_table(struct obj **t, uint32_t *cap, uint32_t index)
{
    if (index >= *cap) {
        uint32_t n = *cap ? *cap : 64;

        while (n <= index) {
            n *= 2;
        }
        *t = realloc(*t, n * sizeof(**t));
        if (!*t) {
            die("out of memory");
        }
        memset(*t + *cap, 0, (n - *cap) * sizeof(**t));
        *cap = n;
    }
    return &(*t)[index];
}

static uint32_t obj_new(enum iface iface)
{
    if (next_id >= SERVER_ID_START) {
        die("out of object ids");
    }
    obj_table(&objs, &objs_cap, next_id)->iface = iface;
    return next_id++;
}

static struct obj *obj_get(uint32_t id)
{
    struct obj *o = NULL;

    if (id >= SERVER_ID_START) {
        if (id - SERVER_ID_START < srv_cap) {
            o = &srv_objs[id - SERVER_ID_START];
        }
    } else if (id < next_id) {
        o = &objs[id];
    }
    return o && o->iface != IF_NONE ? o : NULL;
}

/* --- sending requests --------------------------------------------------- */

static void flush(void)
{
    size_t off = 0;

    while (off < conn.out_len) {
        struct iovec iov = { conn.out + off, conn.out_len - off };
        union {
            struct cmsghdr h;
            char buf[CMSG_SPACE(sizeof(int) * OUT_MAX_FDS)];
        } ctl;
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t r;

        if (conn.out_nfds) {
            size_t len = sizeof(int) * (size_t)conn.out_nfds;
            struct cmsghdr *c;

            memset(&ctl, 0, sizeof(ctl));
            m.msg_control = ctl.buf;
            m.msg_controllen = CMSG_SPACE(len);
            c = CMSG_FIRSTHDR(&m);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(len);
            memcpy(CMSG_DATA(c), conn.out_fds, len);
        }
        r = sendmsg(conn.fd, &m, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("sending to the compositor: %s", strerror(errno));
        }
        /* The fds went with the first bytes; our copies are not needed. */
        for (int i = 0; i < conn.out_nfds; i++) {
            close(conn.out_fds[i]);
        }
        conn.out_nfds = 0;
        off += (size_t)r;
    }
    conn.out_len = 0;
}

/*
 * Queue a request to object id.  sig gives the arguments after op, one
 * letter each: 'u' uint32_t (also object ids), 'i' int32_t, 's' string
 * (NULL for a null string), 'h' an fd (passed with SCM_RIGHTS and closed
 * once sent), 'n' a new_id: the argument is the enum iface of the new
 * object, whose id is allocated here and returned.
 */
static uint32_t request(uint32_t id, uint32_t op, const char *sig, ...)
{
    uint32_t msg[256], new_id = 0;
    size_t n = 2;
    va_list ap;

    va_start(ap, sig);
    for (const char *s = sig; *s; s++) {
        if (n + 1 > sizeof(msg) / 4) {
            die("request too long");
        }
        switch (*s) {
        case 'u':
            msg[n++] = va_arg(ap, uint32_t);
            break;
        case 'i':
            msg[n++] = (uint32_t)va_arg(ap, int32_t);
            break;
        case 'n':
            new_id = obj_new((enum iface)va_arg(ap, int));
            msg[n++] = new_id;
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            size_t len = str ? strlen(str) + 1 : 0, words = (len + 3) / 4;

            if (n + 1 + words > sizeof(msg) / 4) {
                die("request too long");
            }
            msg[n++] = (uint32_t)len;
            if (len) {
                msg[n + words - 1] = 0; /* the padding */
                memcpy(&msg[n], str, len);
            }
            n += words;
            break;
        }
        case 'h':
            if (conn.out_nfds == OUT_MAX_FDS) {
                flush();
            }
            conn.out_fds[conn.out_nfds++] = va_arg(ap, int);
            break;
        default:
            die("bad request signature '%s'", sig);
        }
    }
    va_end(ap);
    msg[0] = id;
    msg[1] = (uint32_t)(n * 4) << 16 | op;
    if (conn.out_len + n * 4 > OUT_SIZE) {
        flush();
    }
    memcpy(conn.out + conn.out_len, msg, n * 4);
    conn.out_len += n * 4;
    return new_id;
}

/* --- receiving events --------------------------------------------------- */

struct args {
    const uint32_t *p, *end;
    uint32_t id, op;
};

static void malformed(const struct args *a)
{
    struct obj *o = obj_get(a->id);

    die("malformed %s event %u on object %u", iface_names[o ? o->iface : 0],
        a->op, a->id);
}

static uint32_t arg_u32(struct args *a)
{
    if (a->p >= a->end) {
        malformed(a);
    }
    return *a->p++;
}

static int32_t arg_i32(struct args *a)
{
    return (int32_t)arg_u32(a);
}

/* A string argument, NULL for a null string. */
static const char *arg_str(struct args *a)
{
    uint32_t len = arg_u32(a);
    const char *s = (const char *)a->p;

    if (len == 0) {
        return NULL;
    }
    if ((len + 3) / 4 > (size_t)(a->end - a->p) || s[len - 1] != '\0') {
        malformed(a);
    }
    a->p += (len + 3) / 4;
    return s;
}

static const void *arg_array(struct args *a, uint32_t *len)
{
    const void *data;

    *len = arg_u32(a);
    data = a->p;
    if ((*len + 3) / 4 > (size_t)(a->end - a->p)) {
        malformed(a);
    }
    a->p += (*len + 3) / 4;
    return data;
}

/* The next fd that came with the events, in order. */
static int arg_fd(struct args *a)
{
    int fd;

    if (conn.in_nfds == 0) {
        die("%s event %u needs an fd that did not arrive",
            iface_names[obj_get(a->id)->iface], a->op);
    }
    fd = conn.in_fds[0];
    conn.in_nfds--;
    memmove(conn.in_fds, conn.in_fds + 1, sizeof(int) * (size_t)conn.in_nfds);
    return fd;
}

static void on_global(uint32_t name, const char *iface, uint32_t version)
{
    uint32_t v = 0;

    if (!iface) {
        return;
    }
    if (strcmp(iface, "wl_compositor") == 0 && !g.compositor) {
        v = version < 4 ? version : 4;
        g.compositor_v = v;
        g.compositor = request(g.registry, WL_REGISTRY_BIND, "usun", name,
                               iface, v, (int)IF_COMPOSITOR);
    } else if (strcmp(iface, "wl_shm") == 0 && !g.shm) {
        g.shm = request(g.registry, WL_REGISTRY_BIND, "usun", name, iface, 1u,
                        (int)IF_SHM);
    } else if (strcmp(iface, "xdg_wm_base") == 0 && !g.wm_base) {
        g.wm_base = request(g.registry, WL_REGISTRY_BIND, "usun", name, iface,
                            1u, (int)IF_WM_BASE);
    } else if (strcmp(iface, "wl_seat") == 0 && !g.seat) {
        v = version < 5 ? version : 5;
        g.seat_v = v;
        g.seat = request(g.registry, WL_REGISTRY_BIND, "usun", name, iface, v,
                         (int)IF_SEAT);
    } else if (strcmp(iface, "wl_data_device_manager") == 0 && !g.ddm) {
        v = version < 3 ? version : 3;
        g.ddm_v = v;
        g.ddm = request(g.registry, WL_REGISTRY_BIND, "usun", name, iface, v,
                        (int)IF_DDM);
    }
}

/* wl_keyboard.keymap: check the keymap is an mmap-able xkb text keymap. */
static void on_keymap(uint32_t format, int fd, uint32_t size)
{
    void *map;

    if (format != WL_KEYMAP_FORMAT_XKB_V1) {
        die("keymap format %u, not xkb_v1", format);
    }
    if (size < 10) {
        die("keymap of %u bytes", size);
    }
    /* From wl_seat v7 on it must be mapped MAP_PRIVATE; fine before too. */
    map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        die("mmap of the %u-byte keymap: %s", size, strerror(errno));
    }
    if (memcmp(map, "xkb_keymap", 10) != 0) {
        die("the keymap does not start with \"xkb_keymap\"");
    }
    munmap(map, size);
    close(fd);
    if (!g.keymap_seen) {
        g.keymap_seen = 1;
        say("ok keymap %u bytes", size);
    }
}

/* wl_data_source.send: a paster wants the text written to fd. */
static void on_send(const char *mime, int fd)
{
    int fl = fcntl(fd, F_GETFL);
    size_t off = 0;

    if (fl >= 0 && (fl & O_NONBLOCK)) {
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    }
    while (off < g.copy_len) {
        ssize_t r = write(fd, g.copy_text + off, g.copy_len - off);

        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            /* The paster went away: its problem, not a reason to stop. */
            fprintf(stderr, NAME ": sending %s failed after %zu bytes: %s\n",
                    mime ? mime : "(null)", off, strerror(errno));
            close(fd);
            return;
        }
        off += (size_t)r;
    }
    close(fd);
    say("ok sent %zu bytes", off);
}

/* Forget (and destroy) the previous selection's offer. */
static void set_selection_offer(uint32_t offer)
{
    struct obj *o = obj_get(g.selection);

    if (g.selection && g.selection != offer && o) {
        request(g.selection, WL_DATA_OFFER_DESTROY, "");
        o->iface = IF_NONE;
    }
    g.selection = offer && obj_get(offer) ? offer : 0;
}

/* Handle one event.  The pointer to the object's entry is not used after
 * a request that creates an object, since that may move the table. */
static void handle_event(struct args *a)
{
    struct obj *o = obj_get(a->id);
    uint32_t u0, u1;
    const char *s;

    if (!o) {
        return; /* for an object we destroyed (none of those carry fds) */
    }
    switch (o->iface) {
    case IF_DISPLAY:
        /* delete_id is ignored: ids are never reused. */
        if (a->op == WL_DISPLAY_ERROR) {
            u0 = arg_u32(a);
            u1 = arg_u32(a);
            s = arg_str(a);
            die("protocol error object %u code %u: %s", u0, u1, s ? s : "");
        }
        break;
    case IF_REGISTRY:
        if (a->op == WL_REGISTRY_GLOBAL) {
            u0 = arg_u32(a);
            s = arg_str(a);
            on_global(u0, s, arg_u32(a));
        }
        break;
    case IF_CALLBACK:
        if (a->op == WL_CALLBACK_DONE) {
            o->flags |= F_DONE;
        }
        break;
    case IF_SHM:
        if (a->op == WL_SHM_FORMAT && arg_u32(a) == WL_SHM_FORMAT_XRGB8888) {
            g.has_xrgb = 1;
        }
        break;
    case IF_BUFFER:
        if (a->op == WL_BUFFER_RELEASE) {
            o->flags &= (uint8_t)~F_BUSY;
        }
        break;
    case IF_WM_BASE:
        if (a->op == XDG_WM_BASE_PING) {
            request(g.wm_base, XDG_WM_BASE_PONG, "u", arg_u32(a));
        }
        break;
    case IF_XDG_SURFACE:
        if (a->op == XDG_SURFACE_CONFIGURE) {
            g.cfg_serial = arg_u32(a);
            g.cfg_pending = 1;
        }
        break;
    case IF_TOPLEVEL:
        if (a->op == XDG_TOPLEVEL_CONFIGURE) {
            g.cfg_w = arg_i32(a);
            g.cfg_h = arg_i32(a);
            arg_array(a, &u0); /* states: not needed */
        } else if (a->op == XDG_TOPLEVEL_CLOSE) {
            say("closed by the compositor");
            exit(0);
        }
        break;
    case IF_SEAT:
        if (a->op == WL_SEAT_CAPABILITIES) {
            g.seat_caps = arg_u32(a);
            if ((g.seat_caps & WL_SEAT_CAP_KEYBOARD) && !g.keyboard) {
                g.keyboard = request(g.seat, WL_SEAT_GET_KEYBOARD, "n",
                                     (int)IF_KEYBOARD);
            }
        }
        break;
    case IF_KEYBOARD:
        if (a->op == WL_KEYBOARD_KEYMAP) {
            int fd;

            u0 = arg_u32(a);
            fd = arg_fd(a);
            on_keymap(u0, fd, arg_u32(a));
        } else if (a->op == WL_KEYBOARD_ENTER) {
            u0 = arg_u32(a);
            if (arg_u32(a) == g.surface && g.surface) {
                g.focus = 1;
                g.focus_serial = u0;
            }
            arg_array(a, &u1); /* keys already down: not needed */
        } else if (a->op == WL_KEYBOARD_LEAVE) {
            arg_u32(a);
            if (arg_u32(a) == g.surface) {
                g.focus = 0;
            }
        }
        break;
    case IF_DATA_DEVICE:
        if (a->op == WL_DATA_DEVICE_DATA_OFFER) {
            u0 = arg_u32(a);
            if (u0 < SERVER_ID_START) {
                malformed(a);
            }
            *obj_table(&srv_objs, &srv_cap, u0 - SERVER_ID_START) =
                (struct obj){ IF_DATA_OFFER, 0 };
        } else if (a->op == WL_DATA_DEVICE_SELECTION) {
            set_selection_offer(arg_u32(a));
        }
        break;
    case IF_DATA_SOURCE:
        if (a->op == WL_DATA_SOURCE_SEND) {
            s = arg_str(a);
            on_send(s, arg_fd(a));
        } else if (a->op == WL_DATA_SOURCE_CANCELLED) {
            say("ok cancelled");
            exit(0);
        }
        break;
    case IF_DATA_OFFER:
        if (a->op == WL_DATA_OFFER_OFFER && (s = arg_str(a))) {
            if (strcmp(s, MIME_UTF8) == 0) {
                o->flags |= F_UTF8;
            } else if (strcmp(s, MIME_PLAIN) == 0) {
                o->flags |= F_PLAIN;
            }
        }
        break;
    default:
        break;
    }
}

/*
 * Send the queued requests, wait up to timeout_ms (-1: no limit) for
 * events, read what is there and handle every complete event.  The fds
 * that come with the bytes (SCM_RIGHTS, possibly before the bytes of
 * their event) are queued and taken in order by the events that carry
 * them.  Returns 0 on a timeout, else 1.
 */
static int dispatch(int timeout_ms)
{
    struct pollfd pfd = { .fd = conn.fd, .events = POLLIN };
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int) * 64)];
    } ctl;
    struct iovec iov = { (char *)conn.in + conn.in_len, IN_SIZE - conn.in_len };
    struct msghdr m = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = ctl.buf,
        .msg_controllen = sizeof(ctl.buf),
    };
    size_t off = 0;
    ssize_t n;

    flush();
    n = poll(&pfd, 1, timeout_ms);
    if (n < 0 && errno != EINTR) {
        die("poll: %s", strerror(errno));
    }
    if (n <= 0) {
        return n < 0;
    }
    n = recvmsg(conn.fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) {
            return 1;
        }
        die("reading from the compositor: %s", strerror(errno));
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        size_t k;

        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            if (conn.in_nfds == IN_MAX_FDS) {
                die("more than %d fds from the compositor unused", IN_MAX_FDS);
            }
            memcpy(&conn.in_fds[conn.in_nfds++], CMSG_DATA(c) + i * sizeof(int),
                   sizeof(int));
        }
    }
    if (m.msg_flags & MSG_CTRUNC) {
        die("fds from the compositor were lost (MSG_CTRUNC)");
    }
    if (n == 0) {
        die("the compositor closed the connection");
    }
    conn.in_len += (size_t)n;
    /* Header: object id, then size (bytes, header included) << 16 | op. */
    while (conn.in_len - off >= 8) {
        const uint32_t *h = conn.in + off / 4;
        uint32_t size = h[1] >> 16;
        struct args a = { h + 2, h + size / 4, h[0], h[1] & 0xffff };

        if (size < 8 || size % 4) {
            die("bad event size %u from the compositor", size);
        }
        if (conn.in_len - off < size) {
            break; /* the rest comes with the next read */
        }
        handle_event(&a);
        off += size;
    }
    memmove(conn.in, (char *)conn.in + off, conn.in_len - off);
    conn.in_len -= off;
    return 1;
}

static int64_t deadline(void)
{
    return now_ms() + (int64_t)timeout_s * 1000;
}

static void dispatch_until(int64_t end, const char *what)
{
    int64_t left = end - now_ms();

    if (left <= 0) {
        die("timed out after %d s waiting for %s", timeout_s, what);
    }
    dispatch(left > INT_MAX ? INT_MAX : (int)left);
}

static void wait_done(uint32_t callback, const char *what)
{
    int64_t end = deadline();

    while (!(obj_get(callback)->flags & F_DONE)) {
        dispatch_until(end, what);
    }
}

static void roundtrip(void)
{
    wait_done(request(1, WL_DISPLAY_SYNC, "n", (int)IF_CALLBACK),
              "a wl_display.sync reply");
}

/* --- the window --------------------------------------------------------- */

struct buf {
    uint32_t id, *px;
    int bar_x; /* column of the inverted bar drawn in it, -1: none */
};

static struct buf bufs[2];
static uint32_t width = 640, height = 480;

/* One memfd-backed pool holding n buffers, each drawn with the image. */
static void make_buffers(int n)
{
    size_t size = (size_t)width * 4 * height;
    int fd = memfd_create(NAME, MFD_CLOEXEC);
    uint32_t pool;
    char *map;

    if (size * (size_t)n > INT32_MAX) {
        die("%ux%u is too big", width, height);
    }
    if (fd < 0) {
        die("memfd_create: %s", strerror(errno));
    }
    if (ftruncate(fd, (off_t)(size * (size_t)n)) < 0) {
        die("ftruncate of the %zu-byte pool: %s", size * n, strerror(errno));
    }
    map =
        mmap(NULL, size * (size_t)n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        die("mmap of the pool: %s", strerror(errno));
    }
    /* The request owns fd from here (closed once sent). */
    pool = request(g.shm, WL_SHM_CREATE_POOL, "nhi", (int)IF_SHM_POOL, fd,
                   (int32_t)(size * (size_t)n));
    for (int i = 0; i < n; i++) {
        struct buf *b = &bufs[i];

        b->px = (uint32_t *)(map + size * (size_t)i);
        b->bar_x = -1;
        for (uint32_t y = 0; y < height; y++) {
            for (uint32_t x = 0; x < width; x++) {
                b->px[(size_t)y * width + x] =
                    pattern_pixel(x, y, width, height);
            }
        }
        b->id = request(pool, WL_SHM_POOL_CREATE_BUFFER, "niiiiu",
                        (int)IF_BUFFER, (int32_t)(size * (size_t)i),
                        (int32_t)width, (int32_t)height, (int32_t)(width * 4),
                        (uint32_t)WL_SHM_FORMAT_XRGB8888);
    }
}

static void ack_configure(void)
{
    if (g.cfg_pending) {
        request(g.xdg_surface, XDG_SURFACE_ACK_CONFIGURE, "u", g.cfg_serial);
        g.cfg_pending = 0;
    }
}

/* Ack any configure, attach b, damage all of it and commit; with frame,
 * ask for a frame callback and return its id. */
static uint32_t show(struct buf *b, int frame)
{
    uint32_t callback = 0;

    ack_configure();
    request(g.surface, WL_SURFACE_ATTACH, "uii", b->id, 0, 0);
    request(g.surface,
            g.compositor_v >= 4 ? WL_SURFACE_DAMAGE_BUFFER : WL_SURFACE_DAMAGE,
            "iiii", 0, 0, (int32_t)width, (int32_t)height);
    if (frame) {
        callback = request(g.surface, WL_SURFACE_FRAME, "n", (int)IF_CALLBACK);
    }
    request(g.surface, WL_SURFACE_COMMIT, "");
    obj_get(b->id)->flags |= F_BUSY;
    return callback;
}

/* Keep showing buffer 0, answering pings and configures, until killed. */
static void idle(void)
{
    for (;;) {
        if (g.cfg_pending) {
            show(&bufs[0], 0);
        }
        dispatch(-1);
    }
}

/* Columns x0 .. x0+BAR_W-1 of b: the image, inverted or not. */
static void paint_bar(struct buf *b, uint32_t x0, int invert)
{
    uint32_t mask = invert ? 0xffffff : 0;

    for (uint32_t y = 0; y < height; y++) {
        uint32_t *row = b->px + (size_t)y * width;

        for (uint32_t x = x0; x < x0 + BAR_W && x < width; x++) {
            row[x] = pattern_pixel(x, y, width, height) ^ mask;
        }
    }
}

/* --frames N: N frames, each a buffer the compositor does not hold with
 * the bar moved on, fully damaged, after the previous frame callback. */
static void bench(int frames)
{
    struct timespec t0, t1;
    double s;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int f = 1; f <= frames; f++) {
        struct buf *b = &bufs[f & 1];
        int64_t end = deadline();

        while (obj_get(b->id)->flags & F_BUSY) {
            dispatch_until(end, "a wl_buffer.release");
        }
        if (b->bar_x >= 0) {
            paint_bar(b, (uint32_t)b->bar_x, 0);
        }
        b->bar_x = (int)((uint64_t)f * 8 % width);
        paint_bar(b, (uint32_t)b->bar_x, 1);
        wait_done(show(b, 1), "a frame callback");
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    s = (double)(t1.tv_sec - t0.tv_sec) +
        (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    say("frames %d seconds %.3f fps %.2f", frames, s, frames / s);
}

/* --copy TEXT: offer TEXT as the selection, then serve it. */
static void copy(void)
{
    int64_t end = deadline();
    uint32_t source;

    while (!g.focus) {
        dispatch_until(end, "keyboard focus (wl_keyboard.enter)");
    }
    source =
        request(g.ddm, WL_DDM_CREATE_DATA_SOURCE, "n", (int)IF_DATA_SOURCE);
    request(source, WL_DATA_SOURCE_OFFER, "s", MIME_UTF8);
    request(source, WL_DATA_SOURCE_OFFER, "s", MIME_PLAIN);
    request(g.data_device, WL_DATA_DEVICE_SET_SELECTION, "uu", source,
            g.focus_serial);
    flush(); /* a protocol error would come after this line, and exit 1 */
    say("ok copied %zu bytes", g.copy_len);
    idle();
}

static const char *selection_mime(void)
{
    struct obj *o = obj_get(g.selection);

    if (!g.selection || !o) {
        return NULL;
    }
    return o->flags & F_UTF8    ? MIME_UTF8
           : o->flags & F_PLAIN ? MIME_PLAIN
                                : NULL;
}

/* --paste: wait for a text selection, receive it through a pipe. */
static void paste(void)
{
    int64_t end = deadline();
    const char *mime;
    size_t len = 0, cap = 4096;
    char *text = malloc(cap);
    int p[2];

    while (!(mime = selection_mime())) {
        dispatch_until(end, "a text/plain selection");
    }
    if (!text || pipe2(p, O_CLOEXEC) < 0) {
        die("pipe: %s", strerror(errno));
    }
    /* The request owns p[1]: flush() sends and closes it, so the read
     * below ends when the source closes its copy. */
    request(g.selection, WL_DATA_OFFER_RECEIVE, "sh", mime, p[1]);
    flush();
    for (;;) {
        struct pollfd pfd = { .fd = p[0], .events = POLLIN };
        int64_t left = end - now_ms();
        ssize_t r;

        if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
            die("timed out after %d s reading the selection (%zu bytes "
                "so far)",
                timeout_s, len);
        }
        if (len == cap) {
            if (cap >= MAX_PASTE) {
                die("the selection is bigger than %u bytes", MAX_PASTE);
            }
            cap *= 2;
            text = realloc(text, cap);
            if (!text) {
                die("out of memory");
            }
        }
        r = read(p[0], text + len, cap - len);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (r < 0) {
            die("reading the selection: %s", strerror(errno));
        }
        if (r == 0) {
            break;
        }
        len += (size_t)r;
    }
    close(p[0]);
    printf(NAME ": ok pasted %zu bytes: ", len);
    fwrite(text, 1, len, stdout);
    putchar('\n');
    fflush(stdout);
    free(text);
}

/* --- main --------------------------------------------------------------- */

static const char *connect_display(void)
{
    static struct sockaddr_un addr = { .sun_family = AF_UNIX };
    const char *disp = getenv("WAYLAND_DISPLAY");
    const char *dir = getenv("XDG_RUNTIME_DIR");
    int n;

    if (!disp || !*disp) {
        disp = "wayland-0";
    }
    if (disp[0] == '/') {
        n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", disp);
    } else if (!dir || !*dir) {
        die("XDG_RUNTIME_DIR is not set (and WAYLAND_DISPLAY is relative)");
    } else {
        n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", dir, disp);
    }
    if (n < 0 || (size_t)n >= sizeof(addr.sun_path)) {
        die("socket path too long");
    }
    conn.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (conn.fd < 0) {
        die("socket: %s", strerror(errno));
    }
    if (connect(conn.fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        die("connecting to %s: %s", addr.sun_path, strerror(errno));
    }
    return addr.sun_path;
}

static void usage(void)
{
    fprintf(stderr, "usage: " NAME " [--frames N | --copy TEXT | --paste] "
                    "[--timeout SECONDS] [WIDTH HEIGHT]\n");
    exit(2);
}

static int parse_num(const char *s, const char *what, long min, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 0);
    if (errno || end == s || *end || v < min || v > max) {
        fprintf(stderr, NAME ": error: bad %s '%s'\n", what, s);
        exit(2);
    }
    return (int)v;
}

static void version_of(char *buf, size_t size, uint32_t id, uint32_t v)
{
    if (id) {
        snprintf(buf, size, "v%u", v);
    } else {
        snprintf(buf, size, "none");
    }
}

int main(int argc, char **argv)
{
    enum {
        SHOW,
        FRAMES,
        COPY,
        PASTE
    } mode = SHOW;
    int frames = 0, i = 1;
    char seat_v[16], ddm_v[16];
    const char *path;
    int64_t end;

    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *opt = argv[i];

        if (strcmp(opt, "--paste") == 0 && mode == SHOW) {
            mode = PASTE;
            continue;
        }
        if (i + 1 >= argc) {
            usage();
        }
        if (strcmp(opt, "--frames") == 0 && mode == SHOW) {
            mode = FRAMES;
            frames = parse_num(argv[++i], "frame count", 1, INT_MAX);
        } else if (strcmp(opt, "--copy") == 0 && mode == SHOW) {
            mode = COPY;
            g.copy_text = argv[++i];
            g.copy_len = strlen(g.copy_text);
        } else if (strcmp(opt, "--timeout") == 0) {
            timeout_s = parse_num(argv[++i], "timeout", 1, 1000000);
        } else {
            usage();
        }
    }
    if (argc - i == 2) {
        width = (uint32_t)parse_num(argv[i], "width", 1, 16384);
        height = (uint32_t)parse_num(argv[i + 1], "height", 1, 16384);
    } else if (argc != i) {
        usage();
    }
    signal(SIGPIPE, SIG_IGN);

    path = connect_display();
    obj_new(IF_DISPLAY); /* id 1 */
    g.registry = request(1, WL_DISPLAY_GET_REGISTRY, "n", (int)IF_REGISTRY);
    roundtrip(); /* the globals, which on_global() binds */
    roundtrip(); /* their first events: shm formats, seat capabilities */
    if (!g.compositor || !g.shm || !g.wm_base) {
        die("the compositor lacks %s", !g.compositor ? "wl_compositor"
                                       : !g.shm      ? "wl_shm"
                                                     : "xdg_wm_base");
    }
    if (!g.has_xrgb) {
        die("wl_shm does not offer XRGB8888");
    }
    if (mode == COPY || mode == PASTE) {
        if (!g.seat || !g.ddm) {
            die("no %s (needed for --%s)",
                !g.seat ? "wl_seat" : "wl_data_device_manager",
                mode == COPY ? "copy" : "paste");
        }
        if (mode == COPY && !(g.seat_caps & WL_SEAT_CAP_KEYBOARD)) {
            die("the seat has no keyboard (needed for --copy)");
        }
    }
    if (g.seat && g.ddm) {
        g.data_device = request(g.ddm, WL_DDM_GET_DATA_DEVICE, "nu",
                                (int)IF_DATA_DEVICE, g.seat);
    }
    version_of(seat_v, sizeof(seat_v), g.seat, g.seat_v);
    version_of(ddm_v, sizeof(ddm_v), g.ddm, g.ddm_v);
    say("connected to %s (wl_compositor v%u, wl_seat %s, "
        "wl_data_device_manager %s)",
        path, g.compositor_v, seat_v, ddm_v);

    g.surface = request(g.compositor, WL_COMPOSITOR_CREATE_SURFACE, "n",
                        (int)IF_SURFACE);
    g.xdg_surface = request(g.wm_base, XDG_WM_BASE_GET_XDG_SURFACE, "nu",
                            (int)IF_XDG_SURFACE, g.surface);
    g.toplevel =
        request(g.xdg_surface, XDG_SURFACE_GET_TOPLEVEL, "n", (int)IF_TOPLEVEL);
    request(g.toplevel, XDG_TOPLEVEL_SET_TITLE, "s", NAME);
    request(g.toplevel, XDG_TOPLEVEL_SET_APP_ID, "s", NAME);
    request(g.surface, WL_SURFACE_COMMIT, ""); /* no buffer: ask to map */
    end = deadline();
    while (!g.cfg_pending) {
        dispatch_until(end, "the first xdg_surface.configure");
    }
    say("configured %dx%d", g.cfg_w, g.cfg_h);

    make_buffers(mode == FRAMES ? 2 : 1);
    wait_done(show(&bufs[0], 1), "the first frame callback");
    say("ok shown %ux%u", width, height);

    switch (mode) {
    case FRAMES:
        bench(frames);
        break;
    case COPY:
        copy();
        break;
    case PASTE:
        paste();
        break;
    default:
        idle();
    }
    return 0;
}
