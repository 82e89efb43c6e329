// SPDX-License-Identifier: MIT
/*
 * swede-wl-proxy: show a guest's Wayland programs on the host's desktop.
 *
 *   swede-wl-proxy [-v] [--socket NAME] [-- COMMAND [ARG...]]
 *
 * It serves a Wayland socket in the guest ($XDG_RUNTIME_DIR/NAME, default
 * wayland-0; a NAME with a '/' is a path) and relays every client that
 * connects to the host compositor through its own virtio-gpu cross-domain
 * context (capset 5, Wayland channel; reference virtio-gpu.md section 4):
 * the device's `wayland-socket-path` is the compositor the host side
 * connects to.  With a COMMAND it runs it with WAYLAND_DISPLAY set and
 * exits with its status when it ends.  It prints
 *
 *   swede-wl-proxy: listening on /run/user/0/wayland-0
 *
 * once clients may connect, one line per client that connects or goes,
 * and with -v a line per file descriptor it translates.  Errors print
 * "swede-wl-proxy: error: ..." on stderr; the exit status is then 1 (2
 * for bad usage).
 *
 * Wayland messages are relayed byte for byte; the proxy only has to
 * understand the messages that carry file descriptors, which cannot cross
 * the virtual machine's boundary as they are:
 *
 *  - wl_shm.create_pool: the client's memory is guest memory, which the
 *    host compositor cannot see.  The pool becomes a host blob of the same
 *    size (GET_IMAGE_REQUIREMENTS for an R8 image 4096 bytes wide, then
 *    RESOURCE_CREATE_BLOB HOST3D, mapped through the device's host-visible
 *    region) that goes to the compositor instead, and on each
 *    wl_surface.commit the proxy copies the attached wl_shm buffer's bytes
 *    from the client's pool into it.  wl_shm_pool.resize works within the
 *    blob's pages; growing a pool past them is refused with a protocol
 *    error (the compositor's pool cannot change its fd).
 *  - wl_keyboard.keymap (and any other fd the compositor sends that is a
 *    file): the host hands it over as a blob, which the proxy maps and
 *    copies into a sealed memfd for the client.
 *  - wl_data_offer.receive and zwp_primary_selection_offer_v1.receive:
 *    the client's pipe becomes a host read pipe (an id the proxy predicts,
 *    as the host counts them), whose data arrives in READ messages.
 *  - wl_data_source.send and zwp_primary_selection_source_v1.send: the
 *    compositor's pipe arrives as a write pipe; the client gets a local
 *    pipe, whose data the proxy WRITEs to the host.
 *
 * To know which messages these are it follows each object's interface
 * (wl_registry.bind, the requests and events that create objects, and
 * wl_display.delete_id).  Globals whose messages carry descriptors the
 * proxy cannot translate (dma-bufs, sync objects, input methods' keymaps,
 * data-control, ...) are hidden from clients: hidden_globals below.  A
 * client that passes a descriptor on any other message is disconnected,
 * since the stream could no longer be followed.
 *
 * Every client has its own context, so clients are independent: one that
 * stops reading only stops its own traffic (the proxy stops polling its
 * context while more than OUT_LIMIT bytes wait for it).  Not done:
 * dma-buf (linux-dmabuf) buffers, which the device cannot share yet, and
 * copying only the damaged part of a buffer on commit.
 */

#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "cross-domain.h"

#define PROG "swede-wl-proxy"

#define MAX_CLIENTS      64
#define MAX_QUEUED_FDS   64
#define WL_MAX_MESSAGE   4096
#define IN_SIZE          (2 * WL_MAX_MESSAGE + CD_MAX_PAYLOAD)
#define OUT_LIMIT        (256u * 1024u)
#define WL_MAX_FDS       28 /* libwayland's per-message limit */
#define MAX_OBJECT_INDEX (1u << 20)
#define SERVER_ID_START  0xff000000u
#define FENCE_TIMEOUT_MS 20000
#define REQS_WIDTH       4096u /* R8 pool blobs: one row per page */
#define REQS_CACHE       16

/* wl_display error codes, wl_shm's invalid_fd. */
#define WL_DISPLAY_INVALID_OBJECT 0
#define WL_DISPLAY_NO_MEMORY      2
#define WL_SHM_INVALID_FD         2

enum iface {
    IF_UNKNOWN,
    IF_DISPLAY,
    IF_REGISTRY,
    IF_COMPOSITOR,
    IF_SURFACE,
    IF_SHM,
    IF_SHM_POOL,
    IF_BUFFER,
    IF_SEAT,
    IF_KEYBOARD,
    IF_DATA_DEVICE_MANAGER,
    IF_DATA_DEVICE,
    IF_DATA_SOURCE,
    IF_DATA_OFFER,
    IF_PS_MANAGER,
    IF_PS_DEVICE,
    IF_PS_SOURCE,
    IF_PS_OFFER,
    IF_COUNT
};

static const char *const iface_names[IF_COUNT] = {
    [IF_DISPLAY] = "wl_display",
    [IF_REGISTRY] = "wl_registry",
    [IF_COMPOSITOR] = "wl_compositor",
    [IF_SURFACE] = "wl_surface",
    [IF_SHM] = "wl_shm",
    [IF_SHM_POOL] = "wl_shm_pool",
    [IF_BUFFER] = "wl_buffer",
    [IF_SEAT] = "wl_seat",
    [IF_KEYBOARD] = "wl_keyboard",
    [IF_DATA_DEVICE_MANAGER] = "wl_data_device_manager",
    [IF_DATA_DEVICE] = "wl_data_device",
    [IF_DATA_SOURCE] = "wl_data_source",
    [IF_DATA_OFFER] = "wl_data_offer",
    [IF_PS_MANAGER] = "zwp_primary_selection_device_manager_v1",
    [IF_PS_DEVICE] = "zwp_primary_selection_device_v1",
    [IF_PS_SOURCE] = "zwp_primary_selection_source_v1",
    [IF_PS_OFFER] = "zwp_primary_selection_offer_v1",
};

/* Globals whose messages carry fds the proxy does not translate. */
static const char *const hidden_globals[] = {
    "zwp_linux_dmabuf_v1",
    "wl_drm",
    "zwp_linux_explicit_synchronization_v1",
    "wp_linux_drm_syncobj_manager_v1",
    "wp_drm_lease_device_v1",
    "zwp_input_method_v1",
    "zwp_input_method_manager_v2",
    "zwp_virtual_keyboard_manager_v1",
    "zwlr_data_control_manager_v1",
    "ext_data_control_manager_v1",
    "zwlr_export_dmabuf_manager_v1",
    "zwlr_gamma_control_manager_v1",
    "wp_security_context_manager_v1",
    "gtk_primary_selection_device_manager",
    "weston_debug_v1",
};

struct fdq {
    int fd[MAX_QUEUED_FDS];
    unsigned head, n;
};

/* A client's wl_shm pool: its memory (mapped from the client's fd) and
 * the host blob the compositor was given instead. */
struct pool {
    uint32_t id; /* 0 once the client destroyed the wl_shm_pool */
    unsigned refs;
    int fd;
    uint8_t *map;
    size_t size;
    struct bo blob;
};

struct buffer {
    uint32_t id;
    struct pool *pool;
    uint32_t offset, height, stride;
};

struct surface {
    uint32_t id;
    uint32_t buffer; /* the attached wl_buffer (0: none) */
    bool dirty;      /* attach or damage since the last commit */
};

/* A pipe the client reads (a paste): host READ data goes to fd. */
struct rpipe {
    uint32_t id;
    int fd;
    uint8_t *pend; /* data the client's pipe did not take yet */
    size_t pend_len;
    bool hang_up;
};

/* A pipe the client writes (a copy): fd is our read end. */
struct wpipe {
    uint32_t id;
    int fd;
};

/* Bytes (and the fds that go with them) waiting for the client. */
struct outq {
    uint8_t *data;
    size_t len, off, cap;
    struct {
        size_t pos;
        int fd;
    } fds[MAX_QUEUED_FDS];
    unsigned n_fds, fd_head;
};

struct client {
    unsigned num;
    int sock, drm;
    struct bo query, channel;
    bool poll_armed, closing;
    /* client -> host */
    uint8_t in[IN_SIZE];
    size_t in_len;
    struct fdq in_fds;
    uint8_t send[PAGE];
    uint32_t send_len, n_ids;
    bool send_pipe;
    /* host -> client */
    uint8_t hin[IN_SIZE];
    size_t hin_len;
    struct fdq host_fds;
    struct outq out;
    /* object id -> enum iface */
    uint8_t *objs[2];
    uint32_t n_objs[2];
    struct pool **pools;
    unsigned n_pools;
    struct buffer *buffers;
    unsigned n_buffers;
    struct surface *surfaces;
    unsigned n_surfaces;
    struct rpipe *rpipes;
    unsigned n_rpipes;
    struct wpipe *wpipes;
    unsigned n_wpipes;
    uint32_t next_read_pipe;
    struct {
        uint32_t height;
        struct cd_reqs r;
    } reqs[REQS_CACHE];
    unsigned n_reqs;
};

static struct client *clients[MAX_CLIENTS];
static unsigned n_clients, client_count;
static bool verbose;

static void msg(const char *fmt, ...)
{
    va_list ap;
    fputs(PROG ": ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void die(int status, const char *fmt, ...)
{
    va_list ap;
    fputs(PROG ": error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(status);
}

/* End a client: it is freed by the main loop once its output is out. */
static void client_fail(struct client *c, const char *fmt, ...)
{
    va_list ap;
    char buf[256];
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (!c->closing) {
        msg("client %u: closing: %s", c->num, buf);
    }
    c->closing = true;
}

/* ---- small containers ---- */

static bool fdq_push(struct fdq *q, int fd)
{
    if (q->n == MAX_QUEUED_FDS) {
        close(fd);
        return false;
    }
    q->fd[(q->head + q->n++) % MAX_QUEUED_FDS] = fd;
    return true;
}

static int fdq_pop(struct fdq *q)
{
    if (q->n == 0) {
        return -1;
    }
    int fd = q->fd[q->head];
    q->head = (q->head + 1) % MAX_QUEUED_FDS;
    q->n--;
    return fd;
}

static void fdq_clear(struct fdq *q)
{
    int fd;
    while ((fd = fdq_pop(q)) >= 0) {
        close(fd);
    }
}

/* Grow *arr (of *n elements of size sz) by one zeroed element. */
static void *grow(void *arr_p, unsigned *n, size_t sz)
{
    void **arr = arr_p;
    void *p = realloc(*arr, (*n + 1) * sz);
    if (!p) {
        return NULL;
    }
    *arr = p;
    memset((uint8_t *)p + *n * sz, 0, sz);
    return (uint8_t *)p + (*n)++ * sz;
}

/* Remove element i of *n by moving the last into it. */
static void drop(void *arr, unsigned *n, unsigned i, size_t sz)
{
    uint8_t *a = arr;
    if (i + 1 < *n) {
        memcpy(a + i * sz, a + (*n - 1) * sz, sz);
    }
    (*n)--;
}

/* ---- object table ---- */

static enum iface obj_get(const struct client *c, uint32_t id)
{
    int side = id >= SERVER_ID_START;
    uint32_t i = side ? id - SERVER_ID_START : id;
    return i < c->n_objs[side] ? (enum iface)c->objs[side][i] : IF_UNKNOWN;
}

static void obj_set(struct client *c, uint32_t id, enum iface k)
{
    int side = id >= SERVER_ID_START;
    uint32_t i = side ? id - SERVER_ID_START : id;
    if (i >= MAX_OBJECT_INDEX) {
        return; /* the compositor refuses such ids itself */
    }
    if (i >= c->n_objs[side]) {
        if (k == IF_UNKNOWN) {
            return;
        }
        uint32_t n = c->n_objs[side] ? c->n_objs[side] : 64;
        while (n <= i) {
            n *= 2;
        }
        uint8_t *p = realloc(c->objs[side], n);
        if (!p) {
            client_fail(c, "out of memory");
            return;
        }
        memset(p + c->n_objs[side], 0, n - c->n_objs[side]);
        c->objs[side] = p;
        c->n_objs[side] = n;
    }
    c->objs[side][i] = (uint8_t)k;
}

static enum iface iface_by_name(const char *s)
{
    for (int i = 1; i < IF_COUNT; i++) {
        if (iface_names[i] && strcmp(iface_names[i], s) == 0) {
            return (enum iface)i;
        }
    }
    return IF_UNKNOWN;
}

/* ---- Wayland message arguments ---- */

struct wl_msg {
    const uint8_t *p;
    uint32_t obj, size, op, pos; /* pos: next argument's offset */
    bool bad;
};

static uint32_t arg_u32(struct wl_msg *m)
{
    uint32_t v = 0;
    if (m->pos + 4 > m->size) {
        m->bad = true;
        return 0;
    }
    memcpy(&v, m->p + m->pos, 4);
    m->pos += 4;
    return v;
}

/* A string argument (NUL-terminated inside the message) or NULL. */
static const char *arg_str(struct wl_msg *m)
{
    uint32_t len = arg_u32(m);
    if (m->bad || len == 0 || len > m->size - m->pos ||
        m->p[m->pos + len - 1] != 0) {
        m->bad = true;
        return NULL;
    }
    const char *s = (const char *)m->p + m->pos;
    m->pos += (len + 3) & ~3u;
    return s;
}

/* The whole message at buf + pos (of len bytes) in *m; false if it is
 * not all there yet, or is malformed (the client is then closing). */
static bool next_msg(struct client *c, const uint8_t *buf, size_t len,
                     size_t pos, struct wl_msg *m, const char *from)
{
    uint32_t w;
    if (len - pos < 8) {
        return false;
    }
    *m = (struct wl_msg){ .p = buf + pos, .pos = 8 };
    memcpy(&m->obj, m->p, 4);
    memcpy(&w, m->p + 4, 4);
    m->size = w >> 16;
    m->op = w & 0xffff;
    if (m->size < 8 || m->size % 4) {
        client_fail(c, "bad message size %u from the %s", m->size, from);
        return false;
    }
    return m->size <= len - pos;
}

/* ---- output to the client ---- */

static bool out_room(struct outq *q, size_t n)
{
    if (q->off == q->len) {
        q->off = q->len = 0;
    }
    if (q->len + n <= q->cap) {
        return true;
    }
    if (q->off > 0 && q->n_fds == q->fd_head) {
        memmove(q->data, q->data + q->off, q->len - q->off);
        q->len -= q->off;
        q->off = 0;
        q->n_fds = q->fd_head = 0;
        if (q->len + n <= q->cap) {
            return true;
        }
    }
    size_t cap = q->cap ? q->cap : 16384;
    while (cap < q->len + n) {
        cap *= 2;
    }
    uint8_t *p = realloc(q->data, cap);
    if (!p) {
        return false;
    }
    q->data = p;
    q->cap = cap;
    return true;
}

/* Queue one message for the client, with fd (-1: none). */
static void out_msg(struct client *c, const void *data, size_t n, int fd)
{
    struct outq *q = &c->out;
    if (!out_room(q, n) || (fd >= 0 && q->n_fds == MAX_QUEUED_FDS)) {
        if (fd >= 0) {
            close(fd);
        }
        client_fail(c, "out of memory for its output");
        return;
    }
    if (fd >= 0) {
        q->fds[q->n_fds].pos = q->len;
        q->fds[q->n_fds++].fd = fd;
    }
    memcpy(q->data + q->len, data, n);
    q->len += n;
}

static void out_flush(struct client *c)
{
    struct outq *q = &c->out;
    while (q->off < q->len) {
        size_t end = q->len;
        int fds[WL_MAX_FDS];
        unsigned n = 0, k = q->fd_head;
        for (; k < q->n_fds && q->fds[k].pos < end; k++) {
            if (n == WL_MAX_FDS) {
                end = q->fds[k].pos;
                break;
            }
            fds[n++] = q->fds[k].fd;
        }
        union {
            char buf[CMSG_SPACE(WL_MAX_FDS * sizeof(int))];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = { q->data + q->off, end - q->off };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (n > 0) {
            memset(&ctl, 0, sizeof(ctl));
            mh.msg_control = ctl.buf;
            mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
            struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
            cm->cmsg_level = SOL_SOCKET;
            cm->cmsg_type = SCM_RIGHTS;
            cm->cmsg_len = CMSG_LEN(n * sizeof(int));
            memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
        }
        ssize_t r = sendmsg(c->sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                c->closing = true;
                q->off = q->len; /* nobody to send it to */
            }
            return;
        }
        for (unsigned i = 0; i < n; i++) {
            close(fds[i]);
        }
        q->fd_head = k;
        q->off += (size_t)r;
    }
}

/* wl_display.error to the client, then close it. */
static void client_error(struct client *c, uint32_t obj, uint32_t code,
                         const char *text)
{
    uint8_t m[256];
    uint32_t len = (uint32_t)strlen(text) + 1;
    uint32_t size = 8 + 4 + 4 + 4 + ((len + 3) & ~3u);
    uint32_t w[5] = { 1, size << 16 | 0, obj, code, len };
    memset(m, 0, sizeof(m));
    memcpy(m, w, sizeof(w));
    memcpy(m + sizeof(w), text, len);
    out_msg(c, m, size, -1);
    client_fail(c, "protocol error on object %u: %s", obj, text);
}

/* ---- the cross-domain context ---- */

/* Run cmd on ring (or the global timeline) and wait for it. */
static bool cd_run(struct client *c, const void *cmd, uint32_t size, int ring,
                   uint32_t *bos, uint32_t n_bos)
{
    int fd = -1;
    if (cd_execbuf(c->drm, cmd, size, ring, bos, n_bos, &fd) < 0 || fd < 0) {
        return false;
    }
    int r = cd_fence_wait(fd, FENCE_TIMEOUT_MS);
    close(fd);
    return r == 0;
}

static bool cd_poll(struct client *c)
{
    struct cd_poll p;
    memset(&p, 0, sizeof(p));
    cd_hdr(&p.hdr, CD_CMD_POLL, sizeof(p));
    if (cd_execbuf(c->drm, &p, sizeof(p), CHANNEL_RING, NULL, 0, NULL) < 0) {
        client_fail(c, "POLL: %s", strerror(errno));
        return false;
    }
    c->poll_armed = true;
    return true;
}

/* The requirements of an R8 image REQS_WIDTH x height (cached: the host
 * gives the same question the same blob id). */
static const struct cd_reqs *pool_reqs(struct client *c, uint32_t height)
{
    for (unsigned i = 0; i < c->n_reqs; i++) {
        if (c->reqs[i].height == height) {
            return &c->reqs[i].r;
        }
    }
    struct cd_get_reqs q =
        cd_reqs_cmd(REQS_WIDTH, height, FOURCC_R8, GBM_LINEAR | GBM_SCANOUT);
    memset(c->query.map, 0, sizeof(struct cd_reqs));
    if (!cd_run(c, &q, sizeof(q), QUERY_RING, &c->query.handle, 1)) {
        return NULL;
    }
    unsigned slot = c->n_reqs < REQS_CACHE ? c->n_reqs++ : height % REQS_CACHE;
    c->reqs[slot].height = height;
    memcpy(&c->reqs[slot].r, c->query.map, sizeof(struct cd_reqs));
    if (c->reqs[slot].r.size < (uint64_t)REQS_WIDTH * height) {
        c->n_reqs = 0;
        return NULL;
    }
    return &c->reqs[slot].r;
}

/* SEND what has been gathered. */
static void send_flush(struct client *c)
{
    if (c->send_len == 0 || c->closing) {
        c->send_len = c->n_ids = 0;
        c->send_pipe = false;
        return;
    }
    struct cd_send_receive *s = (struct cd_send_receive *)c->send;
    cd_hdr(&s->hdr, CD_CMD_SEND, (uint16_t)(sizeof(*s) + c->send_len));
    s->num_identifiers = c->n_ids;
    s->opaque_data_size = c->send_len;
    if (cd_execbuf(c->drm, c->send, (uint32_t)sizeof(*s) + c->send_len, -1,
                   NULL, 0, NULL) < 0) {
        client_fail(c, "SEND: %s", strerror(errno));
    }
    memset(c->send, 0, sizeof(*s));
    c->send_len = c->n_ids = 0;
    c->send_pipe = false;
}

/* Add an identifier to the SEND that will carry the next bytes. */
static void send_id(struct client *c, uint32_t id, uint32_t type)
{
    bool pipe = type == CD_ID_READ_PIPE;
    if (c->n_ids == CD_MAX_IDENTIFIERS || (pipe && c->send_pipe)) {
        send_flush(c);
    }
    struct cd_send_receive *s = (struct cd_send_receive *)c->send;
    s->identifiers[c->n_ids] = id;
    s->identifier_types[c->n_ids] = type;
    c->n_ids++;
    c->send_pipe |= pipe;
}

static void send_bytes(struct client *c, const uint8_t *p, uint32_t n)
{
    uint8_t *data = c->send + sizeof(struct cd_send_receive);
    while (n > 0) {
        uint32_t k = CD_MAX_PAYLOAD - c->send_len;
        if (k == 0) {
            send_flush(c);
            continue;
        }
        k = k < n ? k : n;
        memcpy(data + c->send_len, p, k);
        c->send_len += k;
        p += k;
        n -= k;
    }
}

/* A host WRITE to a write pipe. */
static void cd_write(struct client *c, uint32_t id, const void *p, uint32_t n,
                     bool hang_up)
{
    uint8_t m[PAGE];
    struct cd_read_write *w = (struct cd_read_write *)m;
    memset(w, 0, sizeof(*w));
    cd_hdr(&w->hdr, CD_CMD_WRITE, (uint16_t)(sizeof(*w) + n));
    w->identifier = id;
    w->hang_up = hang_up;
    w->opaque_data_size = n;
    memcpy(m + sizeof(*w), p, n);
    if (cd_execbuf(c->drm, m, (uint32_t)sizeof(*w) + n, -1, NULL, 0, NULL) <
        0) {
        client_fail(c, "WRITE: %s", strerror(errno));
    }
}

/* ---- pools, buffers, surfaces ---- */

static void pool_unref(struct client *c, struct pool *p)
{
    if (--p->refs > 0) {
        return;
    }
    for (unsigned i = 0; i < c->n_pools; i++) {
        if (c->pools[i] == p) {
            drop(c->pools, &c->n_pools, i, sizeof(*c->pools));
            break;
        }
    }
    if (p->map) {
        munmap(p->map, p->size);
    }
    close(p->fd);
    cd_close_bo(c->drm, &p->blob);
    free(p);
}

static struct pool *pool_find(struct client *c, uint32_t id)
{
    for (unsigned i = 0; i < c->n_pools; i++) {
        if (c->pools[i]->id == id) {
            return c->pools[i];
        }
    }
    return NULL;
}

/* wl_shm.create_pool: a host blob for the client's fd; its resource id,
 * or 0 after a protocol error. */
static uint32_t pool_create(struct client *c, uint32_t shm, uint32_t id, int fd,
                            int32_t size)
{
    if (size <= 0 || (uint64_t)size > (uint64_t)REQS_WIDTH * 16384) {
        close(fd);
        client_error(c, shm, WL_SHM_INVALID_FD, "pool size out of range");
        return 0;
    }
    void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        close(fd);
        client_error(c, shm, WL_SHM_INVALID_FD, "cannot map the pool's fd");
        return 0;
    }
    struct pool *p = calloc(1, sizeof(*p));
    uint32_t rows = ((uint32_t)size + REQS_WIDTH - 1) / REQS_WIDTH;
    const struct cd_reqs *r = p ? pool_reqs(c, rows) : NULL;
    const char *why = "GET_IMAGE_REQUIREMENTS";
    if (!p || !r ||
        cd_create_blob(c->drm, &p->blob, VIRTGPU_BLOB_MEM_HOST3D,
                       VIRTGPU_BLOB_FLAG_USE_MAPPABLE |
                           VIRTGPU_BLOB_FLAG_USE_SHAREABLE,
                       r->size, r->blob_id, &why) < 0) {
        msg("client %u: no host memory for a %d-byte pool (%s: %s)", c->num,
            size, why, strerror(errno));
        if (p) {
            cd_close_bo(c->drm, &p->blob);
        }
        free(p);
        munmap(map, (size_t)size);
        close(fd);
        client_error(c, 1, WL_DISPLAY_NO_MEMORY, "no host memory for the pool");
        return 0;
    }
    struct pool **slot = grow(&c->pools, &c->n_pools, sizeof(*c->pools));
    if (!slot) {
        cd_close_bo(c->drm, &p->blob);
        free(p);
        munmap(map, (size_t)size);
        close(fd);
        client_error(c, 1, WL_DISPLAY_NO_MEMORY, "out of memory");
        return 0;
    }
    *slot = p;
    p->id = id;
    p->refs = 1;
    p->fd = fd;
    p->map = map;
    p->size = (size_t)size;
    if (verbose) {
        msg("client %u: pool %u of %d bytes -> host blob res %u", c->num, id,
            size, p->blob.res);
    }
    return p->blob.res;
}

static void pool_resize(struct client *c, uint32_t id, int32_t size)
{
    struct pool *p = pool_find(c, id);
    if (!p) {
        return;
    }
    if (size <= 0 || (uint64_t)size > p->blob.size) {
        client_error(c, id, WL_SHM_INVALID_FD,
                     "swede-wl-proxy cannot grow a pool past its host "
                     "memory's pages");
        return;
    }
    void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, p->fd, 0);
    if (map == MAP_FAILED) {
        client_error(c, id, WL_SHM_INVALID_FD, "cannot map the resized pool");
        return;
    }
    munmap(p->map, p->size);
    p->map = map;
    p->size = (size_t)size;
}

static struct buffer *buffer_find(struct client *c, uint32_t id, unsigned *idx)
{
    for (unsigned i = 0; i < c->n_buffers; i++) {
        if (c->buffers[i].id == id) {
            if (idx) {
                *idx = i;
            }
            return &c->buffers[i];
        }
    }
    return NULL;
}

static void buffer_forget(struct client *c, uint32_t id)
{
    unsigned i;
    struct buffer *b = buffer_find(c, id, &i);
    if (b) {
        struct pool *p = b->pool;
        drop(c->buffers, &c->n_buffers, i, sizeof(*b));
        pool_unref(c, p);
    }
}

static struct surface *surface_find(struct client *c, uint32_t id, bool add)
{
    for (unsigned i = 0; i < c->n_surfaces; i++) {
        if (c->surfaces[i].id == id) {
            return &c->surfaces[i];
        }
    }
    if (!add) {
        return NULL;
    }
    struct surface *s = grow(&c->surfaces, &c->n_surfaces, sizeof(*s));
    if (s) {
        s->id = id;
    }
    return s;
}

static void surface_forget(struct client *c, uint32_t id)
{
    for (unsigned i = 0; i < c->n_surfaces; i++) {
        if (c->surfaces[i].id == id) {
            drop(c->surfaces, &c->n_surfaces, i, sizeof(*c->surfaces));
            return;
        }
    }
}

/* wl_surface.commit: bring the attached shm buffer's bytes to the host. */
static void surface_commit(struct client *c, uint32_t id)
{
    struct surface *s = surface_find(c, id, false);
    if (!s || !s->dirty || !s->buffer) {
        return;
    }
    s->dirty = false;
    struct buffer *b = buffer_find(c, s->buffer, NULL);
    if (!b) {
        return;
    }
    const struct pool *p = b->pool;
    uint64_t start = b->offset;
    uint64_t len = (uint64_t)b->stride * b->height;
    if (start >= p->size) {
        return; /* the compositor reports the bad buffer itself */
    }
    if (len > p->size - start) {
        len = p->size - start;
    }
    memcpy(p->blob.map + start, p->map + start, (size_t)len);
}

static void forget_object(struct client *c, uint32_t id)
{
    switch (obj_get(c, id)) {
    case IF_BUFFER:
        buffer_forget(c, id);
        break;
    case IF_SURFACE:
        surface_forget(c, id);
        break;
    case IF_SHM_POOL: {
        struct pool *p = pool_find(c, id);
        if (p) {
            p->id = 0;
            pool_unref(c, p);
        }
        break;
    }
    default:
        break;
    }
    obj_set(c, id, IF_UNKNOWN);
}

/* ---- client -> host ---- */

/* One request; false if it cannot be relayed (the client is closing). */
static bool client_request(struct client *c, struct wl_msg *m)
{
    enum iface k = obj_get(c, m->obj);
    uint32_t a, b;
    const char *s;
    int fd;

    switch (k) {
    case IF_DISPLAY:
        if (m->op == 1) { /* get_registry */
            obj_set(c, arg_u32(m), IF_REGISTRY);
        }
        break;
    case IF_REGISTRY:
        if (m->op == 0) { /* bind(name, interface, version, id) */
            arg_u32(m);
            s = arg_str(m);
            arg_u32(m);
            a = arg_u32(m);
            if (!m->bad) {
                obj_set(c, a, iface_by_name(s));
            }
        }
        break;
    case IF_COMPOSITOR:
        if (m->op == 0) { /* create_surface */
            a = arg_u32(m);
            obj_set(c, a, IF_SURFACE);
            surface_find(c, a, true);
        }
        break;
    case IF_SURFACE:
        if (m->op == 0) { /* destroy */
            surface_forget(c, m->obj);
        } else if (m->op == 1) { /* attach(buffer, x, y) */
            struct surface *sf = surface_find(c, m->obj, true);
            a = arg_u32(m);
            if (sf) {
                sf->buffer = a;
                sf->dirty = true;
            }
        } else if (m->op == 2 || m->op == 9) { /* damage, damage_buffer */
            struct surface *sf = surface_find(c, m->obj, false);
            if (sf) {
                sf->dirty = true;
            }
        } else if (m->op == 6) { /* commit */
            surface_commit(c, m->obj);
        }
        break;
    case IF_SHM:
        if (m->op == 0) { /* create_pool(id, fd, size) */
            a = arg_u32(m);
            b = arg_u32(m);
            fd = fdq_pop(&c->in_fds);
            if (fd < 0 || m->bad) {
                if (fd >= 0) {
                    close(fd);
                }
                client_error(c, m->obj, WL_SHM_INVALID_FD,
                             "create_pool without an fd");
                return false;
            }
            uint32_t res = pool_create(c, m->obj, a, fd, (int32_t)b);
            if (!res) {
                return false;
            }
            obj_set(c, a, IF_SHM_POOL);
            send_id(c, res, CD_ID_VIRTGPU_BLOB);
        }
        break;
    case IF_SHM_POOL:
        if (m->op == 0) { /* create_buffer(id, offset, w, h, stride, fmt) */
            uint32_t id = arg_u32(m), off = arg_u32(m);
            arg_u32(m);
            uint32_t h = arg_u32(m), stride = arg_u32(m);
            struct pool *p = pool_find(c, m->obj);
            struct buffer *bf =
                p && !m->bad ? grow(&c->buffers, &c->n_buffers, sizeof(*bf))
                             : NULL;
            obj_set(c, id, IF_BUFFER);
            if (bf) {
                *bf = (struct buffer){ id, p, off, h, stride };
                p->refs++;
            }
        } else if (m->op == 1) { /* destroy */
            forget_object(c, m->obj);
        } else if (m->op == 2) { /* resize(size) */
            a = arg_u32(m);
            pool_resize(c, m->obj, (int32_t)a);
            if (c->closing) {
                return false;
            }
        }
        break;
    case IF_BUFFER:
        if (m->op == 0) { /* destroy */
            buffer_forget(c, m->obj);
        }
        break;
    case IF_SEAT:
        if (m->op == 1) { /* get_keyboard */
            obj_set(c, arg_u32(m), IF_KEYBOARD);
        }
        break;
    case IF_DATA_DEVICE_MANAGER:
        if (m->op == 0) { /* create_data_source */
            obj_set(c, arg_u32(m), IF_DATA_SOURCE);
        } else if (m->op == 1) { /* get_data_device(id, seat) */
            obj_set(c, arg_u32(m), IF_DATA_DEVICE);
        }
        break;
    case IF_PS_MANAGER:
        if (m->op == 0) { /* create_source */
            obj_set(c, arg_u32(m), IF_PS_SOURCE);
        } else if (m->op == 1) { /* get_device(id, seat) */
            obj_set(c, arg_u32(m), IF_PS_DEVICE);
        }
        break;
    case IF_DATA_OFFER:
    case IF_PS_OFFER:
        /* wl_data_offer.receive is request 1, the primary selection's 0;
         * both (mime_type, fd). */
        if (m->op == (k == IF_DATA_OFFER ? 1u : 0u)) {
            arg_str(m);
            fd = fdq_pop(&c->in_fds);
            if (fd < 0 || m->bad) {
                if (fd >= 0) {
                    close(fd);
                }
                client_error(c, m->obj, WL_DISPLAY_INVALID_OBJECT,
                             "receive without an fd");
                return false;
            }
            struct rpipe *rp = grow(&c->rpipes, &c->n_rpipes, sizeof(*rp));
            if (!rp) {
                close(fd);
                client_fail(c, "out of memory");
                return false;
            }
            c->next_read_pipe = c->next_read_pipe + 1 > CD_PIPE_READ_START
                                    ? c->next_read_pipe + 1
                                    : CD_PIPE_READ_START + 1;
            rp->id = c->next_read_pipe;
            rp->fd = fd;
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
            send_id(c, rp->id, CD_ID_READ_PIPE);
            if (verbose) {
                msg("client %u: paste pipe -> host read pipe %#x", c->num,
                    rp->id);
            }
        }
        break;
    default:
        break;
    }
    if (m->bad) {
        client_error(c, m->obj, WL_DISPLAY_INVALID_OBJECT, "malformed request");
        return false;
    }
    return true;
}

static void client_readable(struct client *c)
{
    union {
        char buf[CMSG_SPACE(WL_MAX_FDS * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = { c->in + c->in_len, sizeof(c->in) - c->in_len };
    struct msghdr mh = { .msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = ctl.buf,
                         .msg_controllen = sizeof(ctl.buf) };
    ssize_t n = recvmsg(c->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == ECONNRESET) {
        n = 0; /* it went with our data unread: gone all the same */
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            client_fail(c, "%s", strerror(errno));
        }
        return;
    }
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm;
         cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
                if (!fdq_push(&c->in_fds, fd)) {
                    client_fail(c, "too many file descriptors");
                }
            }
        }
    }
    if (n == 0) {
        client_fail(c, "disconnected");
        return;
    }
    c->in_len += (size_t)n;

    size_t pos = 0;
    struct wl_msg m;
    while (!c->closing && next_msg(c, c->in, c->in_len, pos, &m, "client")) {
        /* Identifiers go in the SEND that carries the message's first
         * byte: the compositor has them before it needs them. */
        if (c->send_len + m.size > CD_MAX_PAYLOAD && m.size <= CD_MAX_PAYLOAD) {
            send_flush(c);
        }
        if (!client_request(c, &m)) {
            break;
        }
        send_bytes(c, m.p, m.size);
        pos += m.size;
    }
    memmove(c->in, c->in + pos, c->in_len - pos);
    c->in_len -= pos;
    if (c->in_len == sizeof(c->in)) {
        client_fail(c, "message too large");
    }
    if (!c->closing && c->in_len == 0 && c->in_fds.n > 0) {
        client_fail(c, "it sent a file descriptor on a message the proxy "
                       "cannot translate");
    }
    send_flush(c);
}

/* ---- host -> client ---- */

/* One event; false to drop it (a hidden global). */
static bool host_event(struct client *c, struct wl_msg *m, int *fd_out)
{
    enum iface k = obj_get(c, m->obj);
    const char *s;
    uint32_t a;

    *fd_out = -1;
    switch (k) {
    case IF_DISPLAY:
        if (m->op == 1) { /* delete_id */
            forget_object(c, arg_u32(m));
        }
        break;
    case IF_REGISTRY:
        if (m->op == 0) { /* global(name, interface, version) */
            arg_u32(m);
            s = arg_str(m);
            for (size_t i = 0;
                 s && i < sizeof(hidden_globals) / sizeof(hidden_globals[0]);
                 i++) {
                if (strcmp(s, hidden_globals[i]) == 0) {
                    return false;
                }
            }
        }
        break;
    case IF_KEYBOARD:
        if (m->op == 0) { /* keymap(format, fd, size) */
            *fd_out = fdq_pop(&c->host_fds);
        }
        break;
    case IF_DATA_DEVICE:
    case IF_PS_DEVICE:
        if (m->op == 0) { /* data_offer(id) */
            a = arg_u32(m);
            obj_set(c, a, k == IF_DATA_DEVICE ? IF_DATA_OFFER : IF_PS_OFFER);
        }
        break;
    case IF_DATA_SOURCE:
    case IF_PS_SOURCE:
        /* wl_data_source.send is event 1, the primary selection's 0. */
        if (m->op == (k == IF_DATA_SOURCE ? 1u : 0u)) {
            *fd_out = fdq_pop(&c->host_fds);
        }
        break;
    default:
        break;
    }
    return true;
}

/* A host identifier to a local fd for the client. */
static int host_fd(struct client *c, uint32_t id, uint32_t type, uint32_t size)
{
    if (type == CD_ID_WRITE_PIPE) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
            return -1;
        }
        fcntl(p[0], F_SETFL, O_NONBLOCK);
        struct wpipe *wp = grow(&c->wpipes, &c->n_wpipes, sizeof(*wp));
        if (!wp) {
            close(p[0]);
            close(p[1]);
            return -1;
        }
        wp->id = id;
        wp->fd = p[0];
        if (verbose) {
            msg("client %u: host write pipe %u -> local pipe", c->num, id);
        }
        return p[1];
    }
    if (type != CD_ID_VIRTGPU_BLOB || size == 0) {
        msg("client %u: unexpected identifier type %u from the host", c->num,
            type);
        return -1;
    }
    /* A file from the compositor (a keymap): copy it into a memfd. */
    struct bo b;
    const char *why = "";
    uint64_t want = size;
    if (cd_create_blob(c->drm, &b, VIRTGPU_BLOB_MEM_HOST3D,
                       VIRTGPU_BLOB_FLAG_USE_MAPPABLE, want, id, &why) < 0) {
        cd_close_bo(c->drm, &b);
        want = (size + PAGE - 1) / PAGE * PAGE;
        if (cd_create_blob(c->drm, &b, VIRTGPU_BLOB_MEM_HOST3D,
                           VIRTGPU_BLOB_FLAG_USE_MAPPABLE, want, id,
                           &why) < 0) {
            msg("client %u: host fd %u (%u bytes): %s: %s", c->num, id, size,
                why, strerror(errno));
            cd_close_bo(c->drm, &b);
            return -1;
        }
    }
    int fd = memfd_create("swede-wl-proxy", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    bool ok = fd >= 0;
    for (uint32_t off = 0; ok && off < size;) {
        ssize_t n = pwrite(fd, b.map + off, size - off, off);
        ok = n > 0;
        off += ok ? (uint32_t)n : 0;
    }
    cd_close_bo(c->drm, &b);
    if (!ok) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    fcntl(fd, F_ADD_SEALS,
          F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
    if (verbose) {
        msg("client %u: host fd %u (%u bytes) -> sealed memfd", c->num, id,
            size);
    }
    return fd;
}

static void host_receive(struct client *c, const struct cd_send_receive *r,
                         const uint8_t *data)
{
    uint32_t n = r->num_identifiers;
    uint32_t size = r->opaque_data_size;
    if (n > CD_MAX_IDENTIFIERS || size > CD_MAX_PAYLOAD ||
        size > sizeof(c->hin) - c->hin_len) {
        client_fail(c, "bad RECEIVE from the host (%u ids, %u bytes)", n, size);
        return;
    }
    if (size == 0 && n == 0) {
        client_fail(c, "the compositor closed the connection");
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        int fd = host_fd(c, r->identifiers[i], r->identifier_types[i],
                         r->identifier_sizes[i]);
        if (fd < 0) {
            fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
        if (fd < 0 || !fdq_push(&c->host_fds, fd)) {
            client_fail(c, "cannot take the host's file descriptors");
            return;
        }
    }
    memcpy(c->hin + c->hin_len, data, size);
    c->hin_len += size;

    size_t pos = 0;
    struct wl_msg m;
    while (!c->closing &&
           next_msg(c, c->hin, c->hin_len, pos, &m, "compositor")) {
        int fd;
        if (host_event(c, &m, &fd)) {
            out_msg(c, m.p, m.size, fd);
        } else if (fd >= 0) {
            close(fd);
        }
        pos += m.size;
    }
    memmove(c->hin, c->hin + pos, c->hin_len - pos);
    c->hin_len -= pos;
    if (!c->closing && c->hin_len == 0 && c->host_fds.n > 0) {
        client_fail(c, "the compositor sent a file descriptor on a message "
                       "the proxy cannot translate");
    }
}

static struct rpipe *rpipe_find(struct client *c, uint32_t id, unsigned *idx)
{
    for (unsigned i = 0; i < c->n_rpipes; i++) {
        if (c->rpipes[i].id == id) {
            *idx = i;
            return &c->rpipes[i];
        }
    }
    return NULL;
}

static void rpipe_close(struct client *c, unsigned i)
{
    close(c->rpipes[i].fd);
    free(c->rpipes[i].pend);
    drop(c->rpipes, &c->n_rpipes, i, sizeof(*c->rpipes));
}

/* Write what a paste pipe has pending; close it when done. */
static void rpipe_flush(struct client *c, unsigned i)
{
    struct rpipe *rp = &c->rpipes[i];
    while (rp->pend_len > 0) {
        ssize_t n = write(rp->fd, rp->pend, rp->pend_len);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                return;
            }
            rp->pend_len = 0;
            rp->hang_up = true; /* the reader went away */
            break;
        }
        memmove(rp->pend, rp->pend + n, rp->pend_len - (size_t)n);
        rp->pend_len -= (size_t)n;
    }
    if (rp->hang_up) {
        rpipe_close(c, i);
    }
}

static void host_read(struct client *c, const struct cd_read_write *r,
                      const uint8_t *data)
{
    unsigned i;
    struct rpipe *rp = rpipe_find(c, r->identifier, &i);
    uint32_t n = r->opaque_data_size;
    if (!rp || n > CD_MAX_PIPE_PAYLOAD) {
        return; /* a pipe the client already gave up */
    }
    if (n > 0) {
        uint8_t *p = realloc(rp->pend, rp->pend_len + n);
        if (!p) {
            client_fail(c, "out of memory");
            return;
        }
        rp->pend = p;
        memcpy(p + rp->pend_len, data, n);
        rp->pend_len += n;
    }
    rp->hang_up = r->hang_up != 0;
    rpipe_flush(c, i);
}

/* The fence of our POLL: one host message in the channel ring. */
static void drm_readable(struct client *c)
{
    uint8_t buf[256];
    ssize_t n = read(c->drm, buf, sizeof(buf));
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            client_fail(c, "DRM read: %s", strerror(errno));
        }
        return;
    }
    for (ssize_t off = 0; off + (ssize_t)sizeof(struct drm_event) <= n;) {
        struct drm_event ev;
        memcpy(&ev, buf + off, sizeof(ev));
        if (ev.length < sizeof(ev)) {
            break;
        }
        off += ev.length;
        if (ev.type != VIRTGPU_EVENT_FENCE_SIGNALED) {
            continue;
        }
        c->poll_armed = false;
        struct cd_header h;
        memcpy(&h, c->channel.map, sizeof(h));
        if (h.cmd == CD_CMD_RECEIVE) {
            struct cd_send_receive r;
            memcpy(&r, c->channel.map, sizeof(r));
            host_receive(c, &r, c->channel.map + sizeof(r));
        } else if (h.cmd == CD_CMD_READ) {
            struct cd_read_write r;
            memcpy(&r, c->channel.map, sizeof(r));
            host_read(c, &r, c->channel.map + sizeof(r));
        } else {
            client_fail(c, "unknown message %u in the channel ring", h.cmd);
        }
    }
}

/* Data the client wrote for a copy: WRITE it to the host's pipe. */
static void wpipe_readable(struct client *c, unsigned i)
{
    uint8_t buf[CD_MAX_PIPE_PAYLOAD];
    struct wpipe *wp = &c->wpipes[i];
    ssize_t n = read(wp->fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n > 0) {
        cd_write(c, wp->id, buf, (uint32_t)n, false);
        return;
    }
    cd_write(c, wp->id, NULL, 0, true);
    close(wp->fd);
    drop(c->wpipes, &c->n_wpipes, i, sizeof(*c->wpipes));
}

/* ---- clients ---- */

static void client_free(struct client *c)
{
    msg("client %u: gone", c->num);
    close(c->sock);
    fdq_clear(&c->in_fds);
    fdq_clear(&c->host_fds);
    for (unsigned i = c->out.fd_head; i < c->out.n_fds; i++) {
        close(c->out.fds[i].fd);
    }
    free(c->out.data);
    while (c->n_pools > 0) {
        c->pools[0]->refs = 1;
        pool_unref(c, c->pools[0]);
    }
    while (c->n_rpipes > 0) {
        rpipe_close(c, 0);
    }
    for (unsigned i = 0; i < c->n_wpipes; i++) {
        close(c->wpipes[i].fd);
    }
    free(c->pools);
    free(c->buffers);
    free(c->surfaces);
    free(c->rpipes);
    free(c->wpipes);
    free(c->objs[0]);
    free(c->objs[1]);
    /* Closing the DRM file destroys the context and with it the host's
     * connection to the compositor. */
    cd_close_bo(c->drm, &c->query);
    cd_close_bo(c->drm, &c->channel);
    close(c->drm);
    free(c);
}

/* A new client: its own context, connected to the compositor. */
static void client_new(int sock)
{
    if (n_clients == MAX_CLIENTS) {
        msg("too many clients (%d): refusing one", MAX_CLIENTS);
        close(sock);
        return;
    }
    struct client *c = calloc(1, sizeof(*c));
    const char *why = "open";
    if (!c) {
        close(sock);
        return;
    }
    c->num = ++client_count;
    c->sock = sock;
    c->next_read_pipe = CD_PIPE_READ_START;
    c->drm = cd_open_device(NULL);
    struct {
        struct cd_init in;
        struct cd_get_reqs q;
    } b;
    memset(&b, 0, sizeof(b));
    if (c->drm < 0 || (why = "CONTEXT_INIT", cd_context_init(c->drm) < 0) ||
        cd_create_blob(c->drm, &c->query, VIRTGPU_BLOB_MEM_GUEST,
                       VIRTGPU_BLOB_FLAG_USE_MAPPABLE, PAGE, 0, &why) < 0 ||
        cd_create_blob(c->drm, &c->channel, VIRTGPU_BLOB_MEM_GUEST,
                       VIRTGPU_BLOB_FLAG_USE_MAPPABLE, PAGE, 0, &why) < 0) {
        msg("client %u: no cross-domain context (%s: %s)", c->num, why,
            strerror(errno));
        goto fail;
    }
    /* INIT and a query in one buffer: the host stops at the first
     * failed command, so an answer shows INIT worked (connected). */
    cd_hdr(&b.in.hdr, CD_CMD_INIT, sizeof(b.in));
    b.in.query_ring_id = c->query.res;
    b.in.channel_ring_id = c->channel.res;
    b.in.channel_type = CD_CHANNEL_WAYLAND;
    b.q = cd_reqs_cmd(1, 1, FOURCC_R8, 0);
    memset(c->query.map, 0, PAGE);
    if (!cd_run(c, &b, sizeof(b), -1, NULL, 0) ||
        ((struct cd_reqs *)c->query.map)->size == 0) {
        msg("client %u: the host could not connect to the compositor", c->num);
        goto fail;
    }
    fcntl(c->drm, F_SETFL, fcntl(c->drm, F_GETFL) | O_NONBLOCK);
    obj_set(c, 1, IF_DISPLAY);
    if (!cd_poll(c)) {
        goto fail;
    }
    clients[n_clients++] = c;
    msg("client %u: connected", c->num);
    return;
fail:
    cd_close_bo(c->drm, &c->query);
    cd_close_bo(c->drm, &c->channel);
    if (c->drm >= 0) {
        close(c->drm);
    }
    close(sock);
    free(c);
}

/* ---- main ---- */

static const char *socket_path(const char *name, char *buf, size_t len)
{
    if (strchr(name, '/')) {
        snprintf(buf, len, "%s", name);
        return buf;
    }
    const char *dir = getenv("XDG_RUNTIME_DIR");
    if (!dir || !*dir) {
        die(1, "XDG_RUNTIME_DIR is not set: set it to a private directory "
               "(mode 0700), e.g. XDG_RUNTIME_DIR=/run/user/0");
    }
    if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len) {
        die(1, "socket path %s/%s is too long", dir, name);
    }
    return buf;
}

static int listen_on(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path)) {
        die(1, "socket path %s is too long", path);
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        die(1, "socket: %s", strerror(errno));
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        die(1, "%s: a compositor or proxy is already serving it", path);
    }
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(fd, 16) < 0) {
        die(1, "%s: %s", path, strerror(errno));
    }
    return fd;
}

/* The device must offer the cross-domain Wayland channel. */
static void check_device(void)
{
    const char *path = NULL;
    int fd = cd_open_device(&path);
    if (fd < 0) {
        die(1, "no virtio-gpu DRM device: start swede with -device "
               "virtio-gpu-rutabaga-device,cross-domain=on,"
               "wayland-socket-path=PATH");
    }
    struct cd_caps caps = { 0 };
    struct drm_virtgpu_get_caps gc = { .cap_set_id = CAPSET_CROSS_DOMAIN,
                                       .addr = (uintptr_t)&caps,
                                       .size = sizeof(caps) };
    if (cd_ioctl(fd, DRM_IOCTL_VIRTGPU_GET_CAPS, &gc) < 0 ||
        !(caps.supported_channels & (1u << CD_CHANNEL_WAYLAND))) {
        die(1,
            "%s has no cross-domain Wayland channel: give the device "
            "cross-domain=on and wayland-socket-path=PATH",
            path);
    }
    close(fd);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: " PROG " [-v] [--socket NAME] [-- COMMAND [ARG...]]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *name = "wayland-0";
    char path[256];
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            verbose = true;
        } else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
            name = argv[++i];
        } else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else {
            usage();
        }
    }
    char **command = i < argc ? argv + i : NULL;
    signal(SIGPIPE, SIG_IGN);
    socket_path(name, path, sizeof(path));
    check_device();
    int lfd = listen_on(path);
    msg("listening on %s", path);

    pid_t child = -1;
    if (command) {
        setenv("WAYLAND_DISPLAY", name, 1);
        child = fork();
        if (child == 0) {
            execvp(command[0], command);
            fprintf(stderr, PROG ": error: %s: %s\n", command[0],
                    strerror(errno));
            _exit(127);
        }
        if (child < 0) {
            die(1, "fork: %s", strerror(errno));
        }
    }

    for (;;) {
        if (child > 0) {
            int st;
            if (waitpid(child, &st, WNOHANG) == child) {
                unlink(path);
                return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            }
        }
        /* listen, then per client: socket, DRM, pipes. */
        struct pollfd pfd[1 + MAX_CLIENTS * 8];
        struct {
            struct client *c;
            int kind; /* 0 socket, 1 drm, 2 rpipe, 3 wpipe */
            unsigned idx;
        } who[1 + MAX_CLIENTS * 8];
        unsigned n = 0;
        pfd[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
        for (unsigned k = 0; k < n_clients; k++) {
            struct client *c = clients[k];
            if (!c->poll_armed && !c->closing &&
                c->out.len - c->out.off < OUT_LIMIT) {
                bool pend = false;
                for (unsigned j = 0; j < c->n_rpipes; j++) {
                    pend |= c->rpipes[j].pend_len > 0;
                }
                if (!pend) {
                    cd_poll(c);
                }
            }
            short ev = c->closing ? 0 : POLLIN;
            if (c->out.off < c->out.len) {
                ev |= POLLOUT;
            }
            who[n].c = c;
            who[n].kind = 0;
            pfd[n++] = (struct pollfd){ .fd = c->sock, .events = ev };
            who[n].c = c;
            who[n].kind = 1;
            pfd[n++] = (struct pollfd){ .fd = c->drm, .events = POLLIN };
            for (unsigned j = 0; j < c->n_rpipes && n < 1 + MAX_CLIENTS * 8;
                 j++) {
                if (c->rpipes[j].pend_len > 0) {
                    who[n].c = c;
                    who[n].kind = 2;
                    who[n].idx = j;
                    pfd[n++] = (struct pollfd){ .fd = c->rpipes[j].fd,
                                                .events = POLLOUT };
                }
            }
            for (unsigned j = 0; j < c->n_wpipes && n < 1 + MAX_CLIENTS * 8;
                 j++) {
                who[n].c = c;
                who[n].kind = 3;
                who[n].idx = j;
                pfd[n++] =
                    (struct pollfd){ .fd = c->wpipes[j].fd, .events = POLLIN };
            }
        }
        int r = poll(pfd, n, child > 0 ? 200 : -1);
        if (r < 0 && errno != EINTR) {
            die(1, "poll: %s", strerror(errno));
        }
        if (r > 0 && (pfd[0].revents & POLLIN)) {
            int s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (s >= 0) {
                client_new(s);
            }
        }
        /* Highest index first: dropping a pipe moves the last one. */
        for (unsigned k = n; r > 0 && k-- > 1;) {
            struct client *c = who[k].c;
            short re = pfd[k].revents;
            if (!re || c->closing) {
                continue;
            }
            switch (who[k].kind) {
            case 0:
                if (re & POLLOUT) {
                    out_flush(c);
                }
                if (re & (POLLIN | POLLHUP | POLLERR)) {
                    client_readable(c);
                }
                break;
            case 1:
                drm_readable(c);
                out_flush(c);
                break;
            case 2:
                if (who[k].idx < c->n_rpipes) {
                    rpipe_flush(c, who[k].idx);
                }
                break;
            case 3:
                if (who[k].idx < c->n_wpipes) {
                    wpipe_readable(c, who[k].idx);
                }
                break;
            }
        }
        for (unsigned k = 0; k < n_clients;) {
            struct client *c = clients[k];
            if (c->closing) {
                out_flush(c); /* a protocol error, if any */
                client_free(c);
                clients[k] = clients[--n_clients];
            } else {
                k++;
            }
        }
    }
}
