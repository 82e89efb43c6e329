/* SPDX-License-Identifier: MIT */
/*
 * The cross-domain component (context type / capset 5; reference
 * virtio-gpu.md section 4, crosvm's rutabaga_gfx cross_domain): each
 * context proxies a guest Wayland proxy to the host compositor socket.
 * INIT names two guest blob rings (query, channel) and connects the
 * channel; GET_IMAGE_REQUIREMENTS answers memfd ("System" gralloc)
 * layouts into the query ring and remembers them under even blob ids;
 * SEND forwards bytes and fds (host blobs, new read pipes) with
 * SCM_RIGHTS; host events (compositor messages with their fds, read-pipe
 * data and hang-ups) are written to the channel ring one per ring-1
 * fence; WRITE feeds pipes the compositor sent. Received shm/keymap fds
 * become host blobs under odd ids: shared when writable and sealed
 * against shrinking, mapped copy-on-write when read-only or sealed
 * against writing (keymaps, format tables) and against shrinking, else
 * as a private copy.
 *
 * This is a choke point for hostile input (design.md principle 3): every
 * field of every command is checked, host fds (also counted against the
 * gfx's max_fds), answers and fences per context are capped
 * (cross_domain.h), host memory for blobs is charged against
 * max_hostmem, and the compositor socket is only read when the guest has
 * a fence waiting, so a guest that never polls makes the kernel, not
 * swede, hold the backlog. No threads: host events are dispatched from
 * the main loop (gfx_cross_domain_event_fd). Not here: the resource
 * table, guest backing, fence timelines and mapping blobs into the guest
 * (the core and the device), dma-buf or GPU allocations (no minigbm or
 * Vulkan: supports_dmabuf is 0), camera channels and libkrun's futex and
 * eventfd extensions.
 */
#include "gfx/cross_domain.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "gfx/component.h"
#include "gfx/gfx.h"

#define GFX_CD_FOURCC(a, b, c, d)                                   \
    ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | \
     ((uint32_t)(d) << 24))

/* What an id in a context's item table stands for. */
enum gfx_cd_item_kind {
    GFX_CD_ITEM_BLOB_FD,    /* received seekable fd (keymap, shm) */
    GFX_CD_ITEM_WRITE_PIPE, /* received write end: the guest WRITEs to it */
    GFX_CD_ITEM_READ_PIPE,  /* our read end: its data goes to the guest */
};

/* Output a reader has not taken yet: bytes, and for the channel the fds
 * that go with them (each charged with gfx_fd_charge()). Written from
 * gfx_cross_domain_dispatch() while the fd is in st->all_ep for
 * EPOLLOUT (watched). */
struct gfx_cd_outq {
    uint8_t *data;
    size_t len, off;
    int fds[GFX_CD_MAX_QUEUED_FDS];
    uint32_t nfds;
    bool watched;
    bool close_after; /* write pipe: the guest hung up; close once sent */
};

struct gfx_cd_item {
    uint32_t id;
    enum gfx_cd_item_kind kind;
    struct gfx_cd_outq *q; /* WRITE_PIPE: queued WRITE data, or NULL */
    int fd;                /* charged with gfx_fd_charge() */
    uint64_t size;         /* BLOB_FD: bytes */
    bool read_only; /* BLOB_FD: sealed against writes or opened O_RDONLY */
    bool no_shrink; /* BLOB_FD: sealed against shrinking */
};

/* An image-requirements answer the guest may turn into blobs. */
struct gfx_cd_reqs {
    uint32_t id;
    uint32_t width, height, drm_format, flags;
    struct cross_domain_image_requirements r; /* host byte order */
};

/* The component's state in a gfx (component init). */
struct gfx_cd_state {
    /* Holds a context's src_ep while it has a ring-1 fence waiting
     * (data.u64: the context), and the channel or write pipes with
     * queued output (data.u64: the context | GFX_CD_TOKEN_OUTPUT). */
    int all_ep;
};

#define GFX_CD_TOKEN_OUTPUT 1u

struct gfx_cross_domain {
    struct gfx *g;
    struct gfx_context *ctx;
    struct gfx_cd_state *st;
    char *wayland_path; /* NULL: no compositor to connect to */

    bool initialized;
    uint32_t query_ring_id, channel_ring_id;
    int channel;  /* compositor socket, -1 if none or hung up */
    bool hung_up; /* the compositor closed the channel */
    int src_ep;   /* the channel and the read pipes */
    bool armed;   /* src_ep is in st->all_ep */

    struct gfx_cd_item items[GFX_CD_MAX_FD_ITEMS];
    uint32_t n_items;
    uint32_t next_descriptor_id; /* odd, last handed out */
    uint32_t next_read_pipe_id;  /* last handed out */

    struct gfx_cd_reqs *reqs; /* grows to GFX_CD_MAX_REQS, then a ring */
    uint32_t n_reqs, cap_reqs, reqs_head;
    uint32_t next_reqs_id; /* even, last handed out */

    uint64_t fences[GFX_CD_MAX_PENDING_FENCES]; /* ring 1, oldest first */
    uint32_t n_fences;

    uint8_t *buf; /* CROSS_DOMAIN_DEFAULT_BUFFER_SIZE, for host events */

    struct gfx_cd_outq chq; /* SEND data for the channel */
    size_t queued;          /* bytes in chq and the write pipes' queues */
};

/* ---- little helpers ---- */

static uint64_t gfx_cd_page_round(uint64_t n)
{
    long ps = sysconf(_SC_PAGESIZE);
    uint64_t p = ps > 0 ? (uint64_t)ps : 4096;
    return (n + p - 1) / p * p;
}

static void gfx_cd_close(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static uint32_t gfx_cd_bad(const char *what, uint64_t v)
{
    log_guest("cross-domain: %s (%llu)", what, (unsigned long long)v);
    return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
}

/* A resource attached to c's context, or NULL. */
static struct gfx_resource *gfx_cd_attached(const struct gfx_cross_domain *c,
                                            uint32_t id)
{
    struct gfx_resource *res = gfx_resource_get(c->g, id);
    return res && gfx_context_has_resource(c->ctx, res) ? res : NULL;
}

/* ---- items ---- */

static struct gfx_cd_item *gfx_cd_item_find(struct gfx_cross_domain *c,
                                            uint32_t id)
{
    for (uint32_t i = 0; i < c->n_items; i++) {
        if (c->items[i].id == id) {
            return &c->items[i];
        }
    }
    return NULL;
}

/* Room for one more item with a new fd: the per-context and the gfx-wide
 * caps. On success the fd is charged. */
static bool gfx_cd_item_room(struct gfx_cross_domain *c)
{
    if (c->n_items >= GFX_CD_MAX_FD_ITEMS) {
        log_guest("cross-domain: context %u holds %u host fds already",
                  c->ctx->id, c->n_items);
        return false;
    }
    return gfx_fd_charge(c->g) == VIRTIO_GPU_RESP_OK_NODATA;
}

/* Forget an item; its fd is closed and its charge given back unless it
 * was moved out (fd -1). */
static void gfx_cd_outq_drop(struct gfx_cross_domain *c, struct gfx_cd_outq *q,
                             int fd);

static void gfx_cd_item_remove(struct gfx_cross_domain *c,
                               struct gfx_cd_item *it)
{
    if (it->q) {
        gfx_cd_outq_drop(c, it->q, it->fd);
        free(it->q);
        it->q = NULL;
    }
    if (it->fd >= 0) {
        if (it->kind == GFX_CD_ITEM_READ_PIPE) {
            epoll_ctl(c->src_ep, EPOLL_CTL_DEL, it->fd, NULL);
        }
        gfx_cd_close(&it->fd);
        gfx_fd_release(c->g);
    }
    *it = c->items[--c->n_items];
}

/* The next odd descriptor id not in use. */
static uint32_t gfx_cd_descriptor_id(struct gfx_cross_domain *c)
{
    do {
        c->next_descriptor_id += 2;
        if (c->next_descriptor_id >= CROSS_DOMAIN_PIPE_READ_START / 2) {
            c->next_descriptor_id = 3; /* after 2^30 fds: wrap */
        }
    } while (gfx_cd_item_find(c, c->next_descriptor_id));
    return c->next_descriptor_id;
}

/* ---- queued output ---- */

/* Watch fd for EPOLLOUT on q's behalf, or stop. */
static void gfx_cd_outq_watch(struct gfx_cross_domain *c, struct gfx_cd_outq *q,
                              int fd, bool on)
{
    if (q->watched == on || fd < 0) {
        return;
    }
    struct epoll_event ev = {
        .events = EPOLLOUT,
        .data.u64 = (uintptr_t)c | GFX_CD_TOKEN_OUTPUT,
    };
    if (epoll_ctl(c->st->all_ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd, &ev) ==
            0 ||
        !on) {
        q->watched = on;
    }
}

/* Forget what q holds (its fds closed, their charges given back). */
static void gfx_cd_outq_drop(struct gfx_cross_domain *c, struct gfx_cd_outq *q,
                             int fd)
{
    gfx_cd_outq_watch(c, q, fd, false);
    c->queued -= q->len - q->off;
    for (uint32_t i = 0; i < q->nfds; i++) {
        close(q->fds[i]);
        gfx_fd_release(c->g);
    }
    free(q->data);
    memset(q, 0, sizeof(*q));
}

/* Queue n bytes (and dups of the nfds fds) behind what q holds; false
 * if over the caps (nothing queued then). */
static bool gfx_cd_outq_add(struct gfx_cross_domain *c, struct gfx_cd_outq *q,
                            const uint8_t *p, size_t n, const int *fds,
                            uint32_t nfds)
{
    if (c->queued + n > GFX_CD_MAX_QUEUED_BYTES ||
        q->nfds + nfds > GFX_CD_MAX_QUEUED_FDS) {
        return false;
    }
    if (q->off > 0) {
        memmove(q->data, q->data + q->off, q->len - q->off);
        q->len -= q->off;
        q->off = 0;
    }
    uint8_t *d = realloc(q->data, q->len + n);
    if (!d) {
        return false;
    }
    q->data = d;
    uint32_t k = 0;
    for (; k < nfds; k++) {
        if (gfx_fd_charge(c->g) != VIRTIO_GPU_RESP_OK_NODATA) {
            break;
        }
        int fd = fcntl(fds[k], F_DUPFD_CLOEXEC, 0);
        if (fd < 0) {
            gfx_fd_release(c->g);
            break;
        }
        q->fds[q->nfds + k] = fd;
    }
    if (k < nfds) {
        for (uint32_t i = 0; i < k; i++) {
            close(q->fds[q->nfds + i]);
            gfx_fd_release(c->g);
        }
        return false;
    }
    q->nfds += nfds;
    memcpy(q->data + q->len, p, n);
    q->len += n;
    c->queued += n;
    return true;
}

/* sendmsg on the channel without waiting: bytes sent, or -errno. */
static ssize_t gfx_cd_sendmsg(int sock, const uint8_t *p, size_t n,
                              const int *fds, uint32_t nfds)
{
    union {
        char buf[CMSG_SPACE(CROSS_DOMAIN_MAX_IDENTIFIERS * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = { (void *)p, n };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds > 0) {
        memset(&ctl, 0, sizeof(ctl));
        msg.msg_control = ctl.buf;
        msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
    }
    ssize_t r;
    do {
        r = sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

static void gfx_cd_channel_hangup(struct gfx_cross_domain *c, int err);

/* Send what the channel queue holds, as far as the socket takes it; the
 * fds go with the first bytes they can (at most a message's worth at a
 * time: a compositor takes no more per read). */
static void gfx_cd_channel_flush(struct gfx_cross_domain *c)
{
    struct gfx_cd_outq *q = &c->chq;
    while (c->channel >= 0 && q->off < q->len) {
        uint32_t nfds = q->nfds < CROSS_DOMAIN_MAX_IDENTIFIERS
                            ? q->nfds
                            : CROSS_DOMAIN_MAX_IDENTIFIERS;
        ssize_t r = gfx_cd_sendmsg(c->channel, q->data + q->off,
                                   q->len - q->off, q->fds, nfds);
        if (r == -EAGAIN) {
            gfx_cd_outq_watch(c, q, c->channel, true);
            return;
        }
        if (r < 0) {
            gfx_cd_channel_hangup(c, (int)-r);
            return;
        }
        for (uint32_t i = 0; i < nfds; i++) {
            close(q->fds[i]);
            gfx_fd_release(c->g);
        }
        memmove(q->fds, q->fds + nfds, (q->nfds - nfds) * sizeof(int));
        q->nfds -= nfds;
        q->off += (size_t)r;
        c->queued -= (size_t)r;
    }
    gfx_cd_outq_drop(c, q, c->channel);
}

/* Write what a write pipe's queue holds; the item goes when its reader
 * does, or when it is empty after the guest hung up. */
static void gfx_cd_pipe_flush(struct gfx_cross_domain *c,
                              struct gfx_cd_item *it)
{
    struct gfx_cd_outq *q = it->q;
    while (q->off < q->len) {
        ssize_t n = write(it->fd, q->data + q->off, q->len - q->off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            gfx_cd_outq_watch(c, q, it->fd, true);
            return;
        }
        if (n <= 0) {
            log_msg("cross-domain: write pipe %u: %s", it->id,
                    n < 0 ? strerror(errno) : "closed");
            gfx_cd_item_remove(c, it);
            return;
        }
        q->off += (size_t)n;
        c->queued -= (size_t)n;
    }
    bool done = q->close_after;
    gfx_cd_outq_drop(c, q, it->fd);
    if (done) {
        gfx_cd_item_remove(c, it);
    }
}

static void gfx_cd_flush(struct gfx_cross_domain *c)
{
    gfx_cd_channel_flush(c);
    /* Backwards: removing an item moves the last one into its place. */
    for (uint32_t i = c->n_items; i-- > 0;) {
        if (c->items[i].q && c->items[i].q->watched) {
            gfx_cd_pipe_flush(c, &c->items[i]);
        }
    }
}

/* ---- fences ---- */

/* Watch the context's sources exactly while a ring-1 fence waits. */
static void gfx_cd_arm(struct gfx_cross_domain *c)
{
    bool want = c->n_fences > 0;
    if (want == c->armed) {
        return;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uintptr_t)c };
    if (epoll_ctl(c->st->all_ep, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
                  c->src_ep, &ev) == 0) {
        c->armed = want;
    }
}

static void gfx_cd_signal_first(struct gfx_cross_domain *c)
{
    uint64_t id = c->fences[0];
    memmove(&c->fences[0], &c->fences[1],
            (c->n_fences - 1) * sizeof(c->fences[0]));
    c->n_fences--;
    gfx_fence_signal(c->g, c->ctx, CROSS_DOMAIN_CHANNEL_RING, id);
}

static void gfx_cd_process(struct gfx_cross_domain *c);

static uint32_t gfx_cd_create_fence(struct gfx *g, struct gfx_context *ctx,
                                    uint32_t ring_idx, uint64_t fence_id)
{
    struct gfx_cross_domain *c = ctx->priv;
    switch (ring_idx) {
    case CROSS_DOMAIN_QUERY_RING:
        /* Answers are written synchronously in submit. */
        gfx_fence_signal(g, ctx, ring_idx, fence_id);
        return VIRTIO_GPU_RESP_OK_NODATA;
    case CROSS_DOMAIN_CHANNEL_RING:
        if (c->n_fences >= GFX_CD_MAX_PENDING_FENCES) {
            return gfx_cd_bad("too many poll fences waiting", c->n_fences);
        }
        c->fences[c->n_fences++] = fence_id;
        if (c->hung_up) {
            gfx_cd_process(c); /* nothing will wake it: answer now */
        } else {
            gfx_cd_arm(c);
        }
        return VIRTIO_GPU_RESP_OK_NODATA;
    default:
        return gfx_cd_bad("fence on an unknown ring", ring_idx);
    }
}

/* ---- host events ---- */

static void gfx_cd_channel_hangup(struct gfx_cross_domain *c, int err)
{
    log_msg("cross-domain: context %u: compositor connection %s%s", c->ctx->id,
            err ? "failed: " : "closed", err ? strerror(err) : "");
    epoll_ctl(c->src_ep, EPOLL_CTL_DEL, c->channel, NULL);
    gfx_cd_outq_drop(c, &c->chq, c->channel);
    gfx_cd_close(&c->channel);
    gfx_fd_release(c->g);
    c->hung_up = true;
}

/* Once the compositor is gone and the read pipes have nothing more, each
 * ring-1 fence completes with an empty RECEIVE (no bytes, no
 * identifiers): the guest proxy's sign to end its client (crosvm leaves
 * such fences pending for ever). */
static void gfx_cd_hangup_fences(struct gfx_cross_domain *c,
                                 const struct gfx_resource *ring)
{
    struct epoll_event ev;
    while (c->hung_up && c->n_fences > 0 &&
           epoll_wait(c->src_ep, &ev, 1, 0) == 0) {
        struct cross_domain_send_receive r;
        memset(&r, 0, sizeof(r));
        r.hdr.cmd = CROSS_DOMAIN_CMD_RECEIVE;
        r.hdr.cmd_size = htole16((uint16_t)sizeof(r));
        gfx_backing_write(ring, 0, &r, sizeof(r));
        gfx_cd_signal_first(c);
    }
}

/* Turn one fd from the compositor into an item; false (fd closed) if it
 * is of no kind the protocol carries or a cap is reached. */
static bool gfx_cd_receive_fd(struct gfx_cross_domain *c, int fd, uint32_t *id,
                              uint32_t *type, uint32_t *size)
{
    struct gfx_cd_item it = { .fd = fd };
    int fl = fcntl(fd, F_GETFL);
    off_t end = lseek(fd, 0, SEEK_END);
    if (fl >= 0 && end > 0 && (uint64_t)end <= GFX_CD_MAX_RECV_SIZE &&
        (fl & O_ACCMODE) != O_WRONLY) {
        int seals = fcntl(fd, F_GET_SEALS);
        it.kind = GFX_CD_ITEM_BLOB_FD;
        it.size = (uint64_t)end;
        it.read_only = (fl & O_ACCMODE) == O_RDONLY ||
                       (seals > 0 && (seals & (F_SEAL_WRITE
#ifdef F_SEAL_FUTURE_WRITE
                                               | F_SEAL_FUTURE_WRITE
#endif
                                               )));
        it.no_shrink = seals > 0 && (seals & F_SEAL_SHRINK);
        *type = CROSS_DOMAIN_ID_TYPE_VIRTGPU_BLOB;
        *size = (uint32_t)end;
    } else if (fl >= 0 && end < 0 && errno == ESPIPE &&
               (fl & O_ACCMODE) == O_WRONLY) {
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        it.kind = GFX_CD_ITEM_WRITE_PIPE;
        *type = CROSS_DOMAIN_ID_TYPE_WRITE_PIPE;
        *size = 0;
    } else {
        log_msg("cross-domain: dropping an fd the compositor sent "
                "(unsupported kind or over %llu bytes)",
                (unsigned long long)GFX_CD_MAX_RECV_SIZE);
        close(fd);
        return false;
    }
    if (!gfx_cd_item_room(c)) {
        close(fd);
        return false;
    }
    it.id = gfx_cd_descriptor_id(c);
    c->items[c->n_items++] = it;
    *id = it.id;
    return true;
}

/* One compositor message to the channel ring. true if something was
 * written (the fence is then due). */
static bool gfx_cd_channel_event(struct gfx_cross_domain *c,
                                 const struct gfx_resource *ring)
{
    union {
        char buf[CMSG_SPACE(CROSS_DOMAIN_MAX_IDENTIFIERS * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = { c->buf, CROSS_DOMAIN_MAX_SEND_RECV_SIZE };
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = ctl.buf,
        .msg_controllen = sizeof(ctl.buf),
    };
    ssize_t n = recvmsg(c->channel, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            gfx_cd_channel_hangup(c, errno);
        }
        return false;
    }
    int fds[CROSS_DOMAIN_MAX_IDENTIFIERS];
    uint32_t nfds = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm;
         cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
            if (nfds < CROSS_DOMAIN_MAX_IDENTIFIERS) {
                fds[nfds++] = fd;
            } else {
                close(fd);
            }
        }
    }
    if (msg.msg_flags & MSG_CTRUNC) {
        log_msg("cross-domain: the compositor sent more than %u fds in one "
                "message; the rest were dropped",
                CROSS_DOMAIN_MAX_IDENTIFIERS);
    }
    if (n == 0 && nfds == 0) {
        gfx_cd_channel_hangup(c, 0);
        return false;
    }
    struct cross_domain_send_receive r;
    memset(&r, 0, sizeof(r));
    uint32_t k = 0;
    for (uint32_t i = 0; i < nfds; i++) {
        uint32_t id, type, size;
        if (gfx_cd_receive_fd(c, fds[i], &id, &type, &size)) {
            r.identifiers[k] = htole32(id);
            r.identifier_types[k] = htole32(type);
            r.identifier_sizes[k] = htole32(size);
            k++;
        }
    }
    r.hdr.cmd = CROSS_DOMAIN_CMD_RECEIVE;
    r.hdr.cmd_size = htole16((uint16_t)(sizeof(r) + (size_t)n));
    r.num_identifiers = htole32(k);
    r.opaque_data_size = htole32((uint32_t)n);
    gfx_backing_write(ring, 0, &r, sizeof(r));
    gfx_backing_write(ring, sizeof(r), c->buf, (size_t)n);
    return true;
}

/* Data or end of file on a read pipe to the channel ring. */
static bool gfx_cd_pipe_event(struct gfx_cross_domain *c,
                              const struct gfx_resource *ring, uint32_t id)
{
    struct gfx_cd_item *it = gfx_cd_item_find(c, id);
    if (!it || it->kind != GFX_CD_ITEM_READ_PIPE) {
        return false;
    }
    struct cross_domain_read_write r = { .hdr.cmd = CROSS_DOMAIN_CMD_READ };
    ssize_t n =
        read(it->fd, c->buf, CROSS_DOMAIN_DEFAULT_BUFFER_SIZE - sizeof(r));
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return false;
    }
    r.identifier = htole32(id);
    if (n <= 0) {
        /* End of file, or an error, which ends the pipe the same way. */
        n = 0;
        r.hang_up = htole32(1);
        gfx_cd_item_remove(c, it);
    }
    r.hdr.cmd_size = htole16((uint16_t)(sizeof(r) + (size_t)n));
    r.opaque_data_size = htole32((uint32_t)n);
    gfx_backing_write(ring, 0, &r, sizeof(r));
    gfx_backing_write(ring, sizeof(r), c->buf, (size_t)n);
    return true;
}

/* epoll data of the channel in src_ep; read pipes use their id. */
#define GFX_CD_TOKEN_CHANNEL 0u

static void gfx_cd_process(struct gfx_cross_domain *c)
{
    while (c->n_fences > 0) {
        struct epoll_event ev;
        if (epoll_wait(c->src_ep, &ev, 1, 0) <= 0) {
            break;
        }
        const struct gfx_resource *ring =
            gfx_cd_attached(c, c->channel_ring_id);
        if (!ring || ring->backing_len < CROSS_DOMAIN_DEFAULT_BUFFER_SIZE) {
            /* Nowhere to write: drop the fences (the guest broke its own
             * ring) so that the event does not spin the main loop. */
            log_guest("cross-domain: context %u: channel ring %u is gone",
                      c->ctx->id, c->channel_ring_id);
            c->n_fences = 0;
            break;
        }
        bool done = ev.data.u32 == GFX_CD_TOKEN_CHANNEL
                        ? gfx_cd_channel_event(c, ring)
                        : gfx_cd_pipe_event(c, ring, ev.data.u32);
        if (done) {
            gfx_cd_signal_first(c);
        }
    }
    if (c->hung_up && c->n_fences > 0) {
        const struct gfx_resource *ring =
            gfx_cd_attached(c, c->channel_ring_id);
        if (ring && ring->backing_len >= CROSS_DOMAIN_DEFAULT_BUFFER_SIZE) {
            gfx_cd_hangup_fences(c, ring);
        }
    }
    gfx_cd_arm(c);
}

int gfx_cross_domain_event_fd(struct gfx *g)
{
    struct gfx_cd_state *st =
        gfx_component_state(g, &gfx_cross_domain_component);
    return st ? st->all_ep : -1;
}

void gfx_cross_domain_dispatch(struct gfx *g)
{
    struct gfx_cd_state *st =
        gfx_component_state(g, &gfx_cross_domain_component);
    if (!st) {
        return;
    }
    struct epoll_event evs[16];
    int n = epoll_wait(st->all_ep, evs, 16, 0);
    /* Processing one context never frees another, so the pointers hold. */
    for (int i = 0; i < n; i++) {
        uint64_t v = evs[i].data.u64;
        struct gfx_cross_domain *c =
            (struct gfx_cross_domain *)(uintptr_t)(v & ~(uint64_t)
                                                           GFX_CD_TOKEN_OUTPUT);
        if (v & GFX_CD_TOKEN_OUTPUT) {
            gfx_cd_flush(c);
        } else {
            gfx_cd_process(c);
        }
    }
}

/* ---- commands ---- */

static int gfx_cd_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path)) {
        return -ENAMETOOLONG;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static uint32_t gfx_cd_init(struct gfx_cross_domain *c, const uint8_t *p,
                            uint32_t len)
{
    struct cross_domain_init in;
    if (len < sizeof(in)) {
        return gfx_cd_bad("INIT too short", len);
    }
    if (c->initialized) {
        return gfx_cd_bad("INIT twice", len);
    }
    memcpy(&in, p, sizeof(in));
    uint32_t query = le32toh(in.query_ring_id);
    uint32_t chan = le32toh(in.channel_ring_id);
    uint32_t type = le32toh(in.channel_type);
    const struct gfx_resource *q = gfx_cd_attached(c, query);
    if (!q) {
        log_guest("cross-domain: INIT: query ring %u is not attached", query);
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (q->backing_len < sizeof(struct cross_domain_image_requirements)) {
        return gfx_cd_bad("INIT: query ring has no or too little guest memory",
                          q->backing_len);
    }
    if (type != 0) {
        if (type != CROSS_DOMAIN_CHANNEL_TYPE_WAYLAND) {
            return gfx_cd_bad("INIT: unsupported channel type", type);
        }
        const struct gfx_resource *ch = gfx_cd_attached(c, chan);
        if (!ch) {
            log_guest("cross-domain: INIT: channel ring %u is not attached",
                      chan);
            return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
        }
        if (ch->backing_len < CROSS_DOMAIN_DEFAULT_BUFFER_SIZE) {
            return gfx_cd_bad("INIT: channel ring smaller than 4096 bytes",
                              ch->backing_len);
        }
        if (!c->wayland_path) {
            log_guest("cross-domain: INIT: no Wayland socket configured");
            return VIRTIO_GPU_RESP_ERR_UNSPEC;
        }
        if (!c->buf) {
            c->buf = malloc(CROSS_DOMAIN_DEFAULT_BUFFER_SIZE);
            if (!c->buf) {
                return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
            }
        }
        if (gfx_fd_charge(c->g) != VIRTIO_GPU_RESP_OK_NODATA) {
            return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
        }
        int fd = gfx_cd_connect(c->wayland_path);
        struct epoll_event ev = { .events = EPOLLIN,
                                  .data.u32 = GFX_CD_TOKEN_CHANNEL };
        if (fd < 0 || epoll_ctl(c->src_ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            log_guest("cross-domain: INIT: cannot connect to %s: %s",
                      c->wayland_path, strerror(fd < 0 ? -fd : errno));
            if (fd >= 0) {
                close(fd);
            }
            gfx_fd_release(c->g);
            return VIRTIO_GPU_RESP_ERR_UNSPEC;
        }
        c->channel = fd;
    }
    c->query_ring_id = query;
    c->channel_ring_id = chan;
    c->initialized = true;
    return VIRTIO_GPU_RESP_OK_NODATA;
}

/* One plane of a format: bytes per pixel and subsampling. */
struct gfx_cd_plane {
    uint8_t bpp, hsub, vsub;
};

struct gfx_cd_format {
    uint32_t fourcc;
    uint8_t n_planes;
    struct gfx_cd_plane planes[3];
};

/* rutabaga_gralloc's canonical ("System") table (reference 4.7). */
static const struct gfx_cd_format gfx_cd_formats[] = {
    { GFX_CD_FOURCC('R', '8', ' ', ' '), 1, { { 1, 1, 1 } } },
    { GFX_CD_FOURCC('R', 'G', '1', '6'), 1, { { 2, 1, 1 } } },
    { GFX_CD_FOURCC('B', 'G', '2', '4'), 1, { { 3, 1, 1 } } },
    { GFX_CD_FOURCC('X', 'R', '2', '4'), 1, { { 4, 1, 1 } } },
    { GFX_CD_FOURCC('X', 'B', '2', '4'), 1, { { 4, 1, 1 } } },
    { GFX_CD_FOURCC('A', 'R', '2', '4'), 1, { { 4, 1, 1 } } },
    { GFX_CD_FOURCC('A', 'B', '2', '4'), 1, { { 4, 1, 1 } } },
    { GFX_CD_FOURCC('X', 'R', '3', '0'), 1, { { 4, 1, 1 } } },
    { GFX_CD_FOURCC('X', 'B', '3', '0'), 1, { { 4, 1, 1 } } },
    { GFX_CD_FOURCC('A', 'R', '3', '0'), 1, { { 4, 1, 1 } } },
    { GFX_CD_FOURCC('A', 'B', '3', '0'), 1, { { 4, 1, 1 } } },
    { GFX_CD_FOURCC('A', 'B', '4', 'H'), 1, { { 8, 1, 1 } } },
    { GFX_CD_FOURCC('N', 'V', '1', '2'), 2, { { 1, 1, 1 }, { 2, 2, 2 } } },
    { GFX_CD_FOURCC('Y', 'V', '1', '2'),
      3,
      { { 1, 1, 1 }, { 1, 2, 2 }, { 1, 2, 2 } } },
};

static const struct gfx_cd_format *gfx_cd_format(uint32_t fourcc)
{
    for (size_t i = 0; i < sizeof(gfx_cd_formats) / sizeof(gfx_cd_formats[0]);
         i++) {
        if (gfx_cd_formats[i].fourcc == fourcc) {
            return &gfx_cd_formats[i];
        }
    }
    return NULL;
}

static struct gfx_cd_reqs *gfx_cd_reqs_find(struct gfx_cross_domain *c,
                                            uint32_t id)
{
    for (uint32_t i = 0; i < c->n_reqs; i++) {
        if (c->reqs[i].id == id) {
            return &c->reqs[i];
        }
    }
    return NULL;
}

/* A slot for a new answer: grow, or when full reuse the oldest. */
static struct gfx_cd_reqs *gfx_cd_reqs_slot(struct gfx_cross_domain *c)
{
    if (c->n_reqs == c->cap_reqs && c->cap_reqs < GFX_CD_MAX_REQS) {
        uint32_t cap = c->cap_reqs ? 2 * c->cap_reqs : 8;
        cap = cap < GFX_CD_MAX_REQS ? cap : GFX_CD_MAX_REQS;
        struct gfx_cd_reqs *r = realloc(c->reqs, cap * sizeof(*r));
        if (!r) {
            return NULL;
        }
        c->reqs = r;
        c->cap_reqs = cap;
    }
    if (c->n_reqs < c->cap_reqs) {
        return &c->reqs[c->n_reqs++];
    }
    struct gfx_cd_reqs *e = &c->reqs[c->reqs_head];
    c->reqs_head = (c->reqs_head + 1) % c->n_reqs;
    return e;
}

static void gfx_cd_layout(struct gfx_cd_reqs *e, const struct gfx_cd_format *f)
{
    uint64_t off = 0;
    for (uint32_t i = 0; i < f->n_planes; i++) {
        const struct gfx_cd_plane *pl = &f->planes[i];
        /* Chroma rounds up for odd sizes (crosvm divides down, which
         * leaves the last column out). */
        uint64_t stride =
            (uint64_t)pl->bpp * ((e->width + pl->hsub - 1) / pl->hsub);
        uint64_t rows = (e->height + pl->vsub - 1) / pl->vsub;
        e->r.strides[i] = (uint32_t)stride;
        e->r.offsets[i] = (uint32_t)off;
        off += stride * rows; /* < 8 * 2^14 * 2^14 * 3: no overflow */
    }
    e->r.size = gfx_cd_page_round(off);
    e->r.map_info = VIRTIO_GPU_MAP_CACHE_CACHED;
    e->r.memory_idx = -1;
    e->r.physical_device_idx = -1;
}

static uint32_t gfx_cd_get_reqs(struct gfx_cross_domain *c, const uint8_t *p,
                                uint32_t len)
{
    struct cross_domain_get_image_requirements q;
    if (len < sizeof(q)) {
        return gfx_cd_bad("GET_IMAGE_REQUIREMENTS too short", len);
    }
    if (!c->initialized) {
        return gfx_cd_bad("GET_IMAGE_REQUIREMENTS before INIT", 0);
    }
    memcpy(&q, p, sizeof(q));
    uint32_t w = le32toh(q.width), h = le32toh(q.height);
    uint32_t fourcc = le32toh(q.drm_format), flags = le32toh(q.flags);
    if (w == 0 || h == 0 || w > GFX_CD_MAX_DIM || h > GFX_CD_MAX_DIM) {
        log_guest("cross-domain: GET_IMAGE_REQUIREMENTS: bad size %ux%u", w, h);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    const struct gfx_cd_format *f = gfx_cd_format(fourcc);
    if (!f) {
        return gfx_cd_bad("GET_IMAGE_REQUIREMENTS: unknown format", fourcc);
    }
    const struct gfx_resource *ring = gfx_cd_attached(c, c->query_ring_id);
    if (!ring) {
        log_guest("cross-domain: query ring %u is no longer attached",
                  c->query_ring_id);
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    /* The same question gets the same answer and blob id. */
    struct gfx_cd_reqs *e = NULL;
    for (uint32_t i = 0; i < c->n_reqs && !e; i++) {
        struct gfx_cd_reqs *x = &c->reqs[i];
        if (x->width == w && x->height == h && x->drm_format == fourcc &&
            x->flags == flags) {
            e = x;
        }
    }
    if (!e) {
        e = gfx_cd_reqs_slot(c);
        if (!e) {
            return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
        }
        memset(e, 0, sizeof(*e));
        e->width = w;
        e->height = h;
        e->drm_format = fourcc;
        e->flags = flags;
        gfx_cd_layout(e, f);
        do {
            c->next_reqs_id += 2;
            if (c->next_reqs_id >= CROSS_DOMAIN_PIPE_READ_START / 2) {
                c->next_reqs_id = 4;
            }
        } while (gfx_cd_reqs_find(c, c->next_reqs_id));
        e->id = e->r.blob_id = c->next_reqs_id;
    }
    struct cross_domain_image_requirements out;
    memset(&out, 0, sizeof(out));
    for (int i = 0; i < 4; i++) {
        out.strides[i] = htole32(e->r.strides[i]);
        out.offsets[i] = htole32(e->r.offsets[i]);
    }
    out.modifier = htole64(e->r.modifier);
    out.size = htole64(e->r.size);
    out.blob_id = htole32(e->r.blob_id);
    out.map_info = htole32(e->r.map_info);
    out.memory_idx = (int32_t)htole32((uint32_t)e->r.memory_idx);
    out.physical_device_idx =
        (int32_t)htole32((uint32_t)e->r.physical_device_idx);
    if (gfx_backing_write(ring, 0, &out, sizeof(out)) < 0) {
        return gfx_cd_bad("query ring too small", ring->backing_len);
    }
    return VIRTIO_GPU_RESP_OK_NODATA;
}

/* A read pipe for SEND: the compositor writes into *wfd, the guest gets
 * the data through READ events under id, which it must have predicted. */
static uint32_t gfx_cd_new_read_pipe(struct gfx_cross_domain *c, uint32_t id,
                                     int *wfd)
{
    uint32_t want = c->next_read_pipe_id + 1;
    if (want <= CROSS_DOMAIN_PIPE_READ_START) {
        want = CROSS_DOMAIN_PIPE_READ_START + 1; /* wrapped */
    }
    if (id != want || gfx_cd_item_find(c, id)) {
        return gfx_cd_bad("SEND: unexpected read pipe id", id);
    }
    if (!gfx_cd_item_room(c)) {
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
        gfx_fd_release(c->g);
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    /* The compositor's end blocks, like any pipe it would make. */
    fcntl(fds[1], F_SETFL, 0);
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = id };
    if (epoll_ctl(c->src_ep, EPOLL_CTL_ADD, fds[0], &ev) < 0) {
        close(fds[0]);
        close(fds[1]);
        gfx_fd_release(c->g);
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    c->items[c->n_items++] = (struct gfx_cd_item){
        .id = id,
        .kind = GFX_CD_ITEM_READ_PIPE,
        .fd = fds[0],
    };
    c->next_read_pipe_id = id;
    *wfd = fds[1];
    return VIRTIO_GPU_RESP_OK_NODATA;
}

/* SEND's bytes and fds to the compositor: at once if it takes them and
 * nothing is queued, else (the rest) queued, within the caps. */
static uint32_t gfx_cd_channel_send(struct gfx_cross_domain *c,
                                    const uint8_t *p, uint32_t size,
                                    const int *fds, uint32_t nfds)
{
    struct gfx_cd_outq *q = &c->chq;
    if (c->queued + size > GFX_CD_MAX_QUEUED_BYTES ||
        q->nfds + nfds > GFX_CD_MAX_QUEUED_FDS) {
        log_guest("cross-domain: context %u: the compositor is not reading; "
                  "SEND of %u bytes refused (%zu queued)",
                  c->ctx->id, size, c->queued);
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    ssize_t n = -EAGAIN;
    if (q->off == q->len) {
        n = gfx_cd_sendmsg(c->channel, p, size, fds, nfds);
        if (n == (ssize_t)size) {
            return VIRTIO_GPU_RESP_OK_NODATA;
        }
        if (n < 0 && n != -EAGAIN) {
            log_guest("cross-domain: SEND of %u bytes failed: %s", size,
                      strerror((int)-n));
            return VIRTIO_GPU_RESP_ERR_UNSPEC;
        }
    }
    /* Some or none went: the fds went with the first byte, if any. */
    size_t sent = n > 0 ? (size_t)n : 0;
    if (!gfx_cd_outq_add(c, q, p + sent, size - sent, fds, sent ? 0 : nfds)) {
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    gfx_cd_outq_watch(c, q, c->channel, true);
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t gfx_cd_send(struct gfx_cross_domain *c, const uint8_t *p,
                            uint32_t len)
{
    struct cross_domain_send_receive s;
    if (len < sizeof(s)) {
        return gfx_cd_bad("SEND too short", len);
    }
    if (c->channel < 0) {
        return gfx_cd_bad("SEND without a channel", c->initialized);
    }
    memcpy(&s, p, sizeof(s));
    uint32_t nids = le32toh(s.num_identifiers);
    uint32_t size = le32toh(s.opaque_data_size);
    if (nids > CROSS_DOMAIN_MAX_IDENTIFIERS) {
        return gfx_cd_bad("SEND: too many identifiers", nids);
    }
    if (size > CROSS_DOMAIN_MAX_SEND_RECV_SIZE ||
        size > len - (uint32_t)sizeof(s)) {
        return gfx_cd_bad("SEND: bad opaque_data_size", size);
    }
    if (size == 0 && nids > 0) {
        /* On a stream socket fds travel with bytes. */
        return gfx_cd_bad("SEND: identifiers without data", nids);
    }
    int fds[CROSS_DOMAIN_MAX_IDENTIFIERS];
    int pipe_wfd = -1;
    uint32_t pipe_id = 0;
    uint32_t resp = VIRTIO_GPU_RESP_OK_NODATA;
    for (uint32_t i = 0; i < nids && resp == VIRTIO_GPU_RESP_OK_NODATA; i++) {
        uint32_t id = le32toh(s.identifiers[i]);
        uint32_t type = le32toh(s.identifier_types[i]);
        if (type == CROSS_DOMAIN_ID_TYPE_VIRTGPU_BLOB) {
            const struct gfx_resource *res = gfx_cd_attached(c, id);
            fds[i] = res ? res->blob_fd : -1;
            if (fds[i] < 0) {
                log_guest("cross-domain: SEND: resource %u is %s", id,
                          res ? "not a host blob" : "not attached");
                resp = VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
            }
        } else if (type == CROSS_DOMAIN_ID_TYPE_READ_PIPE) {
            if (pipe_wfd >= 0) {
                resp = gfx_cd_bad("SEND: more than one read pipe", id);
            } else {
                resp = gfx_cd_new_read_pipe(c, id, &pipe_wfd);
                pipe_id = id;
                fds[i] = pipe_wfd;
            }
        } else {
            resp = gfx_cd_bad("SEND: unsupported identifier type", type);
        }
    }
    if (resp == VIRTIO_GPU_RESP_OK_NODATA && size > 0) {
        resp = gfx_cd_channel_send(c, p + sizeof(s), size, fds, nids);
    }
    if (pipe_wfd >= 0) {
        close(pipe_wfd);
        if (resp != VIRTIO_GPU_RESP_OK_NODATA) {
            struct gfx_cd_item *it = gfx_cd_item_find(c, pipe_id);
            if (it) {
                gfx_cd_item_remove(c, it);
            }
            c->next_read_pipe_id = pipe_id - 1;
        }
    }
    return resp;
}

static uint32_t gfx_cd_write(struct gfx_cross_domain *c, const uint8_t *p,
                             uint32_t len)
{
    struct cross_domain_read_write w;
    if (len < sizeof(w)) {
        return gfx_cd_bad("WRITE too short", len);
    }
    memcpy(&w, p, sizeof(w));
    uint32_t id = le32toh(w.identifier);
    uint32_t size = le32toh(w.opaque_data_size);
    if (size > len - (uint32_t)sizeof(w)) {
        return gfx_cd_bad("WRITE: bad opaque_data_size", size);
    }
    struct gfx_cd_item *it = gfx_cd_item_find(c, id);
    if (!it || it->kind != GFX_CD_ITEM_WRITE_PIPE) {
        return gfx_cd_bad("WRITE: no such write pipe", id);
    }
    if (it->q && it->q->close_after) {
        return gfx_cd_bad("WRITE after the pipe's hang-up", id);
    }
    const uint8_t *data = p + sizeof(w);
    size_t sent = 0;
    if (!it->q || it->q->off == it->q->len) {
        while (sent < size) {
            ssize_t n = write(it->fd, data + sent, size - sent);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && errno == EAGAIN) {
                break;
            }
            if (n <= 0) {
                /* The reader went away: the pipe is done. A reader that
                 * closed early is normal (a paste that was cancelled). */
                int e = n < 0 ? errno : EPIPE;
                log_msg("cross-domain: write pipe %u: %s", id, strerror(e));
                gfx_cd_item_remove(c, it);
                return e == EPIPE ? VIRTIO_GPU_RESP_OK_NODATA
                                  : VIRTIO_GPU_RESP_ERR_UNSPEC;
            }
            sent += (size_t)n;
        }
    }
    if (sent < size) {
        /* The reader is slow: queue the rest, written when it reads. */
        if (!it->q && !(it->q = calloc(1, sizeof(*it->q)))) {
            return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
        }
        if (!gfx_cd_outq_add(c, it->q, data + sent, size - sent, NULL, 0)) {
            log_guest("cross-domain: write pipe %u: the reader is not "
                      "reading; WRITE of %u bytes refused (%zu queued)",
                      id, size, c->queued);
            return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
        }
        gfx_cd_outq_watch(c, it->q, it->fd, true);
    }
    if (le32toh(w.hang_up)) {
        if (it->q && it->q->off < it->q->len) {
            it->q->close_after = true; /* closed once written */
        } else {
            gfx_cd_item_remove(c, it);
        }
    }
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t gfx_cd_submit(struct gfx *g, struct gfx_context *ctx,
                              const void *cmd, uint32_t size)
{
    (void)g;
    struct gfx_cross_domain *c = ctx->priv;
    const uint8_t *p = cmd;
    uint32_t off = 0;
    while (off < size) {
        struct cross_domain_header h;
        if (size - off < sizeof(h)) {
            return gfx_cd_bad("truncated command header", size - off);
        }
        memcpy(&h, p + off, sizeof(h));
        uint32_t len = le16toh(h.cmd_size);
        if (len < sizeof(h) || len > size - off) {
            return gfx_cd_bad("bad cmd_size", len);
        }
        const uint8_t *q = p + off;
        uint32_t resp;
        switch (h.cmd) {
        case CROSS_DOMAIN_CMD_INIT:
            resp = gfx_cd_init(c, q, len);
            break;
        case CROSS_DOMAIN_CMD_GET_IMAGE_REQUIREMENTS:
            resp = gfx_cd_get_reqs(c, q, len);
            break;
        case CROSS_DOMAIN_CMD_POLL:
            resp = c->initialized ? VIRTIO_GPU_RESP_OK_NODATA
                                  : gfx_cd_bad("POLL before INIT", 0);
            break;
        case CROSS_DOMAIN_CMD_SEND:
            resp = gfx_cd_send(c, q, len);
            break;
        case CROSS_DOMAIN_CMD_WRITE:
            resp = gfx_cd_write(c, q, len);
            break;
        default:
            resp = gfx_cd_bad("unknown command", h.cmd);
            break;
        }
        if (resp != VIRTIO_GPU_RESP_OK_NODATA) {
            return resp;
        }
        off += len;
    }
    return VIRTIO_GPU_RESP_OK_NODATA;
}

/* ---- blobs ---- */

/* A new memfd of len bytes (a page multiple) that cannot be resized,
 * whatever the compositor does with it. */
static int gfx_cd_memfd(uint64_t len)
{
    int fd =
        memfd_create("swede-cross-domain", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        return -errno;
    }
    if (ftruncate(fd, (off_t)len) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
    return fd;
}

/* Copy the first len bytes of src into dst. */
static int gfx_cd_copy_fd(int dst, int src, uint64_t len)
{
    uint8_t buf[16384];
    for (uint64_t off = 0; off < len;) {
        size_t n = len - off < sizeof(buf) ? (size_t)(len - off) : sizeof(buf);
        ssize_t r = pread(src, buf, n, (off_t)off);
        if (r <= 0) {
            return r < 0 ? -errno : 0; /* shorter file: the rest stays 0 */
        }
        if (pwrite(dst, buf, (size_t)r, (off_t)off) != r) {
            return -EIO;
        }
        off += (uint64_t)r;
    }
    return 0;
}

static uint32_t gfx_cd_create_blob(struct gfx *g, struct gfx_context *ctx,
                                   struct gfx_resource *res)
{
    struct gfx_cross_domain *c = ctx->priv;
    uint64_t size = res->blob_size;
    if (res->blob_mem != VIRTIO_GPU_BLOB_MEM_HOST3D) {
        return gfx_cd_bad("CREATE_BLOB: blob_mem is not HOST3D", res->blob_mem);
    }
    if (res->blob_id == 0 || res->blob_id > UINT32_MAX) {
        return gfx_cd_bad("CREATE_BLOB: bad blob_id", res->blob_id);
    }
    uint32_t id = (uint32_t)res->blob_id;
    uint64_t len = gfx_cd_page_round(size);
    if (id % 2 == 0) {
        /* An image the guest asked the requirements of: allocate now. */
        const struct gfx_cd_reqs *e = gfx_cd_reqs_find(c, id);
        if (!e) {
            return gfx_cd_bad("CREATE_BLOB: unknown requirements id", id);
        }
        if (e->r.size != size) {
            log_guest("cross-domain: CREATE_BLOB: size %llu for blob %u of "
                      "%llu bytes",
                      (unsigned long long)size, id,
                      (unsigned long long)e->r.size);
            return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
        }
        uint32_t resp = gfx_hostmem_charge(g, res, len);
        if (resp != VIRTIO_GPU_RESP_OK_NODATA) {
            return resp;
        }
        if (gfx_fd_charge(g) != VIRTIO_GPU_RESP_OK_NODATA) {
            return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
        }
        int fd = gfx_cd_memfd(len);
        if (fd < 0) {
            gfx_fd_release(g);
            return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
        }
        res->blob_fd = fd;
        res->width = e->width;
        res->height = e->height;
    } else {
        /* An fd from the compositor: one-shot, as in crosvm. */
        struct gfx_cd_item *it = gfx_cd_item_find(c, id);
        if (!it || it->kind != GFX_CD_ITEM_BLOB_FD) {
            return gfx_cd_bad("CREATE_BLOB: unknown fd id", id);
        }
        /* The whole last page may be asked for (the guest kernel deals
         * in pages); what lies past the fd's end reads as zeros. */
        if (size > gfx_cd_page_round(it->size)) {
            log_guest("cross-domain: CREATE_BLOB: size %llu for a %llu-byte "
                      "fd",
                      (unsigned long long)size, (unsigned long long)it->size);
            return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
        }
        uint32_t resp = gfx_hostmem_charge(g, res, len);
        if (resp != VIRTIO_GPU_RESP_OK_NODATA) {
            return resp;
        }
        if (!it->read_only && it->no_shrink && it->size >= len) {
            /* Share it: writable, whole pages long, and the compositor
             * cannot truncate it under the guest's (and our) mappings. */
            res->blob_fd = it->fd;
        } else if (it->read_only && it->no_shrink) {
            /* Write-sealed or read-only (keymaps, format tables), and it
             * cannot shrink: map the same pages copy-on-write, so the
             * guest reads them without a copy and can never change the
             * compositor's object. */
            res->blob_fd = it->fd;
            res->blob_private = true;
        } else {
            /* One the compositor could truncate under our mappings
             * (SIGBUS in swede when the core reads the blob): give the
             * guest a private copy. */
            int fd = gfx_cd_memfd(len);
            if (fd < 0) {
                return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
            }
            if (gfx_cd_copy_fd(fd, it->fd, size) < 0) {
                /* Not readable memory (a dma-buf, say): no blob. */
                log_msg("cross-domain: cannot copy fd %u from the "
                        "compositor",
                        id);
                close(fd);
                return VIRTIO_GPU_RESP_ERR_UNSPEC;
            }
            close(it->fd);
            res->blob_fd = fd;
        }
        /* The item's fd charge moves to the resource. */
        it->fd = -1;
        gfx_cd_item_remove(c, it);
    }
    res->blob_fd_offset = 0;
    res->map_info = VIRTIO_GPU_MAP_CACHE_CACHED;
    return VIRTIO_GPU_RESP_OK_NODATA;
}

/* ---- contexts and capsets ---- */

static const char *gfx_cd_socket_path(struct gfx *g, char *buf, size_t len)
{
    const struct gfx_config *cfg = gfx_get_config(g);
    if (cfg && cfg->wayland_socket_path) {
        return cfg->wayland_socket_path;
    }
    return gfx_cross_domain_default_socket(buf, len);
}

static uint32_t gfx_cd_context_create(struct gfx *g, struct gfx_context *ctx,
                                      uint32_t context_init)
{
    (void)context_init;
    char path[PATH_MAX];
    const char *wl = gfx_cd_socket_path(g, path, sizeof(path));
    struct gfx_cross_domain *c = calloc(1, sizeof(*c));
    if (!c) {
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    c->g = g;
    c->ctx = ctx;
    c->st = gfx_component_state(g, &gfx_cross_domain_component);
    c->channel = -1;
    c->next_descriptor_id = 1;
    c->next_reqs_id = 2;
    c->next_read_pipe_id = CROSS_DOMAIN_PIPE_READ_START;
    if (!c->st || (wl && !(c->wayland_path = strdup(wl))) ||
        gfx_fd_charge(g) != VIRTIO_GPU_RESP_OK_NODATA) {
        free(c->wayland_path);
        free(c);
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    c->src_ep = epoll_create1(EPOLL_CLOEXEC);
    if (c->src_ep < 0) {
        gfx_fd_release(g);
        free(c->wayland_path);
        free(c);
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    ctx->priv = c;
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static void gfx_cd_context_destroy(struct gfx *g, struct gfx_context *ctx)
{
    struct gfx_cross_domain *c = ctx->priv;
    if (!c) {
        return;
    }
    c->n_fences = 0;
    gfx_cd_arm(c);
    while (c->n_items > 0) {
        gfx_cd_item_remove(c, &c->items[c->n_items - 1]);
    }
    gfx_cd_outq_drop(c, &c->chq, c->channel);
    if (c->channel >= 0) {
        gfx_cd_close(&c->channel);
        gfx_fd_release(g);
    }
    gfx_cd_close(&c->src_ep);
    gfx_fd_release(g);
    free(c->reqs);
    free(c->buf);
    free(c->wayland_path);
    free(c);
    ctx->priv = NULL;
}

static uint32_t gfx_cd_capset_info(struct gfx *g, uint32_t *max_version,
                                   uint32_t *max_size)
{
    (void)g;
    *max_version = GFX_CROSS_DOMAIN_CAPSET_VERSION;
    *max_size = GFX_CROSS_DOMAIN_CAPSET_SIZE;
    return VIRTIO_GPU_RESP_OK_NODATA;
}

void gfx_cross_domain_capset(bool has_wayland, void *buf, uint32_t size)
{
    struct cross_domain_capabilities caps = {
        .version = htole32(CROSS_DOMAIN_PROTOCOL_VERSION),
        .supported_channels =
            htole32(has_wayland ? 1u << CROSS_DOMAIN_CHANNEL_TYPE_WAYLAND : 0),
    };
    memcpy(buf, &caps, size < sizeof(caps) ? size : sizeof(caps));
}

static uint32_t gfx_cd_capset(struct gfx *g, uint32_t version, void *buf,
                              uint32_t size)
{
    (void)version;
    char path[PATH_MAX];
    gfx_cross_domain_capset(gfx_cd_socket_path(g, path, sizeof(path)) != NULL,
                            buf, size);
    return VIRTIO_GPU_RESP_OK_NODATA;
}

const char *gfx_cross_domain_default_socket(char *buf, size_t len)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    const char *disp = getenv("WAYLAND_DISPLAY");
    if (!disp || !*disp) {
        disp = "wayland-0";
    }
    int n;
    if (disp[0] == '/') {
        n = snprintf(buf, len, "%s", disp);
    } else if (dir && *dir) {
        n = snprintf(buf, len, "%s/%s", dir, disp);
    } else {
        return NULL;
    }
    return n > 0 && (size_t)n < len ? buf : NULL;
}

static int gfx_cd_init_component(struct gfx *g, const struct gfx_config *cfg,
                                 void **state, struct error *err)
{
    (void)g;
    (void)cfg;
    struct gfx_cd_state *st = calloc(1, sizeof(*st));
    if (!st) {
        return err_set(err, -ENOMEM, "cross-domain: out of memory");
    }
    st->all_ep = epoll_create1(EPOLL_CLOEXEC);
    if (st->all_ep < 0) {
        int e = errno;
        free(st);
        return err_set(err, -e, "cross-domain: epoll_create1: %s", strerror(e));
    }
    *state = st;
    return 0;
}

static void gfx_cd_fini(struct gfx *g, void *state)
{
    (void)g;
    struct gfx_cd_state *st = state;
    if (st) {
        close(st->all_ep);
        free(st);
    }
}

const struct gfx_component_ops gfx_cross_domain_component = {
    .name = "cross-domain",
    .capset_id = VIRTIO_GPU_CAPSET_CROSS_DOMAIN,
    .init = gfx_cd_init_component,
    .fini = gfx_cd_fini,
    .get_capset_info = gfx_cd_capset_info,
    .get_capset = gfx_cd_capset,
    .context_create = gfx_cd_context_create,
    .context_destroy = gfx_cd_context_destroy,
    .context_submit = gfx_cd_submit,
    .context_create_fence = gfx_cd_create_fence,
    .context_create_blob = gfx_cd_create_blob,
};
