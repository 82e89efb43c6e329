/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk-device (virtio 1.2 spec, section 5.2): the request decoder,
 * a choke point for hostile input (design.md principle 3). Each popped
 * chain is checked before any I/O: the header (struct virtio_blk_outhdr)
 * is copied out of the readable buffers with a bounded copy; the status
 * byte is the last byte of the writable buffers; data lengths must be
 * whole 512-byte sectors inside the capacity; discard / write-zeroes
 * take exactly one segment within the limits the config space
 * advertises. A bad request completes with VIRTIO_BLK_S_IOERR (or
 * _UNSUPP for unknown types and flags) and one rate-limited guest-error
 * line; it never reaches the backend.
 *
 * A chain with no writable byte has nowhere to put a status: that is a
 * malformed request and, as QEMU does, the device sets
 * DEVICE_NEEDS_RESET (the chain is given back with 0 bytes written and
 * the device stops processing until reset). A header shorter than 16
 * bytes, by contrast, has a status byte and completes with IOERR.
 *
 * Data is never copied: the chain's iovecs (host pointers into guest RAM,
 * split at byte offsets where the header or the status byte shares a
 * buffer with data) go straight to the backend. Requests in flight are
 * counted per queue; a device reset bumps a generation counter and waits
 * for the backend to finish every request in the kernel (so none writes
 * guest memory after reset), and a completion of an older generation
 * only frees its request.
 */
#include "hw/virtio/blk.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "backend/block.h"
#include "board/board.h"
#include "bus/bus.h"
#include "core/error.h"
#include "core/log.h"
#include "core/options.h"
#include "hw/virtio/virtio.h"

#define SECTOR       512u
#define SIZE_MAX_SEG (1u << 20) /* advertised size_max */

struct virtio_blk {
    struct virtio_dev vdev;
    struct blk_backend *blk;
    uint64_t capacity; /* sectors */
    unsigned num_queues;
    unsigned queue_size;
    bool discard, write_zeroes, readonly;
    char serial[VIRTIO_BLK_ID_BYTES];
    struct virtio_blk_config cfg; /* little-endian, as the guest sees it */
    uint32_t gen;                 /* bumped on every reset */
    bool stopped;                 /* malformed request: wait for reset */
    unsigned inflight[VIRTIO_MAX_QUEUES];
    bool throttled[VIRTIO_MAX_QUEUES];
    struct vblk_req *reqs; /* every request the backend holds, any gen */
    /* Scratch chain for pops and pushes: only used with the device lock
     * held and never across a return to the caller. */
    struct virtq_elem elem;
};

struct vblk_req {
    struct virtio_blk *s;
    uint32_t gen;
    uint16_t head;
    uint16_t queue;
    uint8_t *status;  /* host pointer to the status byte in guest RAM */
    uint64_t in_len;  /* of the chain, for the push */
    uint32_t written; /* data bytes written into the chain on success */
    struct vblk_req *next, **pprev;
    unsigned niov;
    struct iovec iov[];
};

static void vblk_process(struct virtio_blk *s, unsigned n);

/* The part [off, off + len) of an iovec array as a new array in dst (at
 * most n entries, zero-length pieces dropped); returns the count. */
static unsigned iov_slice(const struct iovec *src, unsigned n, uint64_t off,
                          uint64_t len, struct iovec *dst)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n && len; i++) {
        uint64_t l = src[i].iov_len;
        if (off >= l) {
            off -= l;
            continue;
        }
        uint64_t take = l - off < len ? l - off : len;
        dst[k].iov_base = (uint8_t *)src[i].iov_base + off;
        dst[k].iov_len = (size_t)take;
        k++;
        len -= take;
        off = 0;
    }
    return k;
}

/* Complete the chain in s->elem now. */
static void vblk_complete_now(struct virtio_blk *s, unsigned n, uint8_t *status,
                              uint8_t st, uint32_t written)
{
    *status = st;
    virtq_push(&s->vdev.vq[n], &s->elem, written + 1);
}

static void vblk_done(void *opaque, int ret)
{
    struct vblk_req *r = opaque;
    struct virtio_blk *s = r->s;

    dev_lock();
    if (r->gen == s->gen) {
        unsigned n = r->queue;
        s->inflight[n]--;
        *r->status = ret < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
        if (ret < 0) {
            log_guest("virtio-blk: I/O error on %s: %s", blk_backend_id(s->blk),
                      strerror(-ret));
        }
        s->elem.head = r->head;
        s->elem.in_len = r->in_len;
        s->elem.n_in = s->elem.n_out = 0;
        s->elem.out_len = 0;
        virtq_push(&s->vdev.vq[n], &s->elem, (ret < 0 ? 0 : r->written) + 1);
        virtio_notify(&s->vdev, n);
        if (s->throttled[n]) {
            s->throttled[n] = false;
            vblk_process(s, n);
        }
    }
    *r->pprev = r->next;
    if (r->next) {
        r->next->pprev = r->pprev;
    }
    dev_unlock();
    free(r);
}

static struct vblk_req *vblk_req_new(struct virtio_blk *s, unsigned n,
                                     uint8_t *status, unsigned niov)
{
    struct vblk_req *r =
        malloc(sizeof(*r) + (size_t)niov * sizeof(struct iovec));
    if (r) {
        r->s = s;
        r->gen = s->gen;
        r->head = s->elem.head;
        r->queue = (uint16_t)n;
        r->status = status;
        r->in_len = s->elem.in_len;
        r->written = 0;
        r->niov = 0;
    }
    return r;
}

/* Hand r to the backend (submit returned rc); on failure complete now. */
static void vblk_submitted(struct virtio_blk *s, unsigned n, struct vblk_req *r,
                           int rc)
{
    if (rc < 0) {
        log_guest("virtio-blk: %s: request refused: %s", blk_backend_id(s->blk),
                  strerror(-rc));
        vblk_complete_now(s, n, r->status, VIRTIO_BLK_S_IOERR, 0);
        free(r);
        return;
    }
    s->inflight[n]++;
    r->next = s->reqs;
    if (r->next) {
        r->next->pprev = &r->next;
    }
    r->pprev = &s->reqs;
    s->reqs = r;
}

static bool vblk_range_ok(const struct virtio_blk *s, uint64_t sector,
                          uint64_t nsectors)
{
    return sector <= s->capacity && nsectors <= s->capacity - sector;
}

static void vblk_rw(struct virtio_blk *s, unsigned n, uint8_t *status,
                    uint32_t type, uint64_t sector, uint64_t in_data)
{
    struct virtq_elem *e = &s->elem;
    bool write = type == VIRTIO_BLK_T_OUT;
    uint64_t len =
        write ? e->out_len - sizeof(struct virtio_blk_outhdr) : in_data;

    if (write && s->readonly) {
        log_guest("virtio-blk: write to read-only drive %s",
                  blk_backend_id(s->blk));
        vblk_complete_now(s, n, status, VIRTIO_BLK_S_IOERR, 0);
        return;
    }
    if (len % SECTOR || !vblk_range_ok(s, sector, len / SECTOR)) {
        log_guest("virtio-blk: %s of %llu bytes at sector %llu: not whole "
                  "sectors inside the %llu-sector disk",
                  write ? "write" : "read", (unsigned long long)len,
                  (unsigned long long)sector, (unsigned long long)s->capacity);
        vblk_complete_now(s, n, status, VIRTIO_BLK_S_IOERR, 0);
        return;
    }
    if (len == 0) {
        vblk_complete_now(s, n, status, VIRTIO_BLK_S_OK, 0);
        return;
    }
    unsigned max = write ? e->n_out : e->n_in;
    struct vblk_req *r = vblk_req_new(s, n, status, max);
    if (!r) {
        vblk_complete_now(s, n, status, VIRTIO_BLK_S_IOERR, 0);
        return;
    }
    int rc;
    if (write) {
        r->niov = iov_slice(e->out, e->n_out, sizeof(struct virtio_blk_outhdr),
                            len, r->iov);
        rc = blk_backend_writev(s->blk, sector * SECTOR, r->iov, r->niov,
                                vblk_done, r);
    } else {
        r->niov = iov_slice(e->in, e->n_in, 0, len, r->iov);
        r->written = (uint32_t)len; /* len <= in_len, which fits */
        rc = blk_backend_readv(s->blk, sector * SECTOR, r->iov, r->niov,
                               vblk_done, r);
    }
    vblk_submitted(s, n, r, rc);
}

static void vblk_discard_wz(struct virtio_blk *s, unsigned n, uint8_t *status,
                            uint32_t type)
{
    struct virtq_elem *e = &s->elem;
    bool wz = type == VIRTIO_BLK_T_WRITE_ZEROES;
    const char *what = wz ? "write-zeroes" : "discard";
    unsigned bit = wz ? VIRTIO_BLK_F_WRITE_ZEROES : VIRTIO_BLK_F_DISCARD;
    uint64_t payload = e->out_len - sizeof(struct virtio_blk_outhdr);
    struct virtio_blk_discard_write_zeroes seg;

    if (!virtio_has_feature(&s->vdev, bit)) {
        log_guest("virtio-blk: %s without the feature", what);
        vblk_complete_now(s, n, status, VIRTIO_BLK_S_UNSUPP, 0);
        return;
    }
    if (payload > sizeof(seg) && payload % sizeof(seg) == 0) {
        log_guest("virtio-blk: %s with %llu segments (max 1)", what,
                  (unsigned long long)(payload / sizeof(seg)));
        vblk_complete_now(s, n, status, VIRTIO_BLK_S_UNSUPP, 0);
        return;
    }
    if (payload != sizeof(seg) ||
        virtq_read(e, sizeof(struct virtio_blk_outhdr), &seg, sizeof(seg)) !=
            sizeof(seg)) {
        log_guest("virtio-blk: %s with a %llu-byte payload", what,
                  (unsigned long long)payload);
        vblk_complete_now(s, n, status, VIRTIO_BLK_S_IOERR, 0);
        return;
    }
    uint64_t sector = le64toh(seg.sector);
    uint32_t num = le32toh(seg.num_sectors);
    uint32_t flags = le32toh(seg.flags);
    uint32_t known = wz ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
    if (flags & ~known) {
        /* 5.2.6.2: unmap on discard or unknown flags are UNSUPP. */
        log_guest("virtio-blk: %s with flags 0x%x", what, flags);
        vblk_complete_now(s, n, status, VIRTIO_BLK_S_UNSUPP, 0);
        return;
    }
    if (s->readonly) {
        log_guest("virtio-blk: %s on read-only drive %s", what,
                  blk_backend_id(s->blk));
        vblk_complete_now(s, n, status, VIRTIO_BLK_S_IOERR, 0);
        return;
    }
    if (num > VIRTIO_BLK_MAX_DISCARD_SECTORS ||
        !vblk_range_ok(s, sector, num)) {
        log_guest("virtio-blk: %s of %u sectors at sector %llu: out of "
                  "range",
                  what, num, (unsigned long long)sector);
        vblk_complete_now(s, n, status, VIRTIO_BLK_S_IOERR, 0);
        return;
    }
    struct vblk_req *r = vblk_req_new(s, n, status, 0);
    if (!r) {
        vblk_complete_now(s, n, status, VIRTIO_BLK_S_IOERR, 0);
        return;
    }
    int rc = wz ? blk_backend_write_zeroes(
                      s->blk, sector * SECTOR, (uint64_t)num * SECTOR,
                      flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP, vblk_done, r)
                : blk_backend_discard(s->blk, sector * SECTOR,
                                      (uint64_t)num * SECTOR, vblk_done, r);
    vblk_submitted(s, n, r, rc);
}

/* Decode and start (or complete) the chain in s->elem. */
static void vblk_handle(struct virtio_blk *s, unsigned n)
{
    struct virtq_elem *e = &s->elem;
    struct virtio_blk_outhdr hdr;
    uint8_t *status = NULL;

    for (unsigned i = e->n_in; i-- > 0;) {
        if (e->in[i].iov_len) {
            status = (uint8_t *)e->in[i].iov_base + e->in[i].iov_len - 1;
            break;
        }
    }
    if (!status) {
        virtq_push(&s->vdev.vq[n], e, 0);
        virtio_set_needs_reset(&s->vdev, "virtio-blk request without a "
                                         "writable status byte");
        s->stopped = true;
        return;
    }
    uint64_t in_data = e->in_len - 1;

    if (virtq_read(e, 0, &hdr, sizeof(hdr)) != sizeof(hdr)) {
        log_guest("virtio-blk: request header of %llu bytes (need %zu)",
                  (unsigned long long)e->out_len, sizeof(hdr));
        vblk_complete_now(s, n, status, VIRTIO_BLK_S_IOERR, 0);
        return;
    }
    uint32_t type = le32toh(hdr.type);
    uint64_t sector = le64toh(hdr.sector);

    switch (type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT:
        vblk_rw(s, n, status, type, sector, in_data);
        break;
    case VIRTIO_BLK_T_FLUSH: {
        struct vblk_req *r = vblk_req_new(s, n, status, 0);
        if (!r) {
            vblk_complete_now(s, n, status, VIRTIO_BLK_S_IOERR, 0);
            break;
        }
        vblk_submitted(s, n, r, blk_backend_flush(s->blk, vblk_done, r));
        break;
    }
    case VIRTIO_BLK_T_GET_ID: {
        uint64_t len =
            in_data < sizeof(s->serial) ? in_data : sizeof(s->serial);
        size_t w = virtq_write(e, 0, s->serial, (size_t)len);
        vblk_complete_now(s, n, status, VIRTIO_BLK_S_OK, (uint32_t)w);
        break;
    }
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        vblk_discard_wz(s, n, status, type);
        break;
    default:
        log_guest("virtio-blk: unsupported request type %u", type);
        vblk_complete_now(s, n, status, VIRTIO_BLK_S_UNSUPP, 0);
        break;
    }
}

static void vblk_process(struct virtio_blk *s, unsigned n)
{
    struct virtq *q = &s->vdev.vq[n];
    bool pushed = false, rechecked = false;

    while (!s->stopped) {
        if (s->inflight[n] >= q->num) {
            /* A correct driver cannot have more requests outstanding than
             * the queue holds; a hostile one recycling heads waits. */
            s->throttled[n] = true;
            break;
        }
        int r = virtq_pop(q, &s->elem);
        if (r == 0 && !rechecked) {
            /* Re-arm the notification (with a full fence) and look once
             * more, or a request posted meanwhile could wait forever. */
            virtq_set_notification(q, true);
            rechecked = true;
            continue;
        }
        if (r == 0) {
            break;
        }
        if (r < 0) {
            virtio_set_needs_reset(&s->vdev, "malformed virtqueue");
            s->stopped = true;
            break;
        }
        vblk_handle(s, n);
        pushed = true;
    }
    if (pushed) {
        virtio_notify(&s->vdev, n);
    }
}

static struct virtio_blk *vblk_of(struct virtio_dev *d)
{
    return d->opaque;
}

static uint64_t vblk_features(struct virtio_dev *d)
{
    struct virtio_blk *s = vblk_of(d);
    uint64_t f =
        (1ull << VIRTIO_BLK_F_SIZE_MAX) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
        (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH) |
        (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
        (1ull << VIRTIO_RING_F_EVENT_IDX);
    if (s->num_queues > 1) {
        f |= 1ull << VIRTIO_BLK_F_MQ;
    }
    if (s->discard) {
        f |= 1ull << VIRTIO_BLK_F_DISCARD;
    }
    if (s->write_zeroes) {
        f |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
    }
    if (s->readonly) {
        f |= 1ull << VIRTIO_BLK_F_RO;
    }
    return f;
}

static uint32_t vblk_config_size(struct virtio_dev *d)
{
    (void)d;
    return sizeof(struct virtio_blk_config);
}

static void vblk_config_read(struct virtio_dev *d, uint32_t off, void *buf,
                             uint32_t len)
{
    struct virtio_blk *s = vblk_of(d);
    if (off <= sizeof(s->cfg) && len <= sizeof(s->cfg) - off) {
        memcpy(buf, (uint8_t *)&s->cfg + off, len);
    } else {
        memset(buf, 0, len);
    }
}

static void vblk_config_write(struct virtio_dev *d, uint32_t off,
                              const void *buf, uint32_t len)
{
    /* Only writeback (CONFIG_WCE, not offered) is writable. */
    (void)d;
    (void)off;
    (void)buf;
    (void)len;
}

static void vblk_queue_notify(struct virtio_dev *d, unsigned n)
{
    vblk_process(vblk_of(d), n);
}

static void vblk_reset(struct virtio_dev *d)
{
    struct virtio_blk *s = vblk_of(d);
    s->gen++;
    /* Nothing of the old generation may write guest memory once the
     * driver sees the reset: wait for the kernel to finish it. The
     * callbacks come later and only free their requests. */
    blk_backend_drain(s->blk);
    memset(s->inflight, 0, sizeof(s->inflight));
    memset(s->throttled, 0, sizeof(s->throttled));
    s->stopped = false;
}

static const struct virtio_dev_ops vblk_ops = {
    .name = "virtio-blk-device",
    .device_id = VIRTIO_ID_BLOCK,
    .features = vblk_features,
    .config_size = vblk_config_size,
    .config_read = vblk_config_read,
    .config_write = vblk_config_write,
    .queue_notify = vblk_queue_notify,
    .reset = vblk_reset,
};

struct virtio_blk *virtio_blk_new(struct mem_map *mem, struct blk_backend *blk,
                                  const struct virtio_blk_conf *conf,
                                  struct error *err)
{
    const char *on = "-device virtio-blk-device";
    if (conf->num_queues < 1 || conf->num_queues > VIRTIO_MAX_QUEUES) {
        err_set(err, -EINVAL, "%s: num-queues=%u: must be 1..%u", on,
                conf->num_queues, VIRTIO_MAX_QUEUES);
        return NULL;
    }
    unsigned qs = conf->queue_size;
    if (qs < 4 || qs > VIRTQ_MAX_SIZE || (qs & (qs - 1))) {
        err_set(err, -EINVAL,
                "%s: queue-size=%u: must be a power of two, 4..%u", on, qs,
                VIRTQ_MAX_SIZE);
        return NULL;
    }
    struct virtio_blk *s = calloc(1, sizeof(*s));
    if (!s) {
        err_set(err, -ENOMEM, "%s: out of memory", on);
        return NULL;
    }
    s->blk = blk;
    s->capacity = blk_backend_size(blk) / SECTOR;
    s->num_queues = conf->num_queues;
    s->queue_size = qs;
    s->discard = conf->discard;
    s->write_zeroes = conf->write_zeroes;
    s->readonly = blk_backend_readonly(blk);
    if (conf->serial) {
        /* As QEMU: at most 20 bytes, not NUL-terminated when full. */
        size_t l = strlen(conf->serial);
        memcpy(s->serial, conf->serial,
               l < sizeof(s->serial) ? l : sizeof(s->serial));
    }

    struct virtio_blk_config *c = &s->cfg;
    c->capacity = htole64(s->capacity);
    c->size_max = htole32(SIZE_MAX_SEG);
    c->seg_max = htole32(qs - 2); /* room for header and status */
    c->blk_size = htole32(SECTOR);
    c->num_queues = htole16((uint16_t)s->num_queues);
    c->max_discard_sectors = htole32(VIRTIO_BLK_MAX_DISCARD_SECTORS);
    c->max_discard_seg = htole32(1);
    c->discard_sector_alignment = htole32(1);
    c->max_write_zeroes_sectors = htole32(VIRTIO_BLK_MAX_DISCARD_SECTORS);
    c->max_write_zeroes_seg = htole32(1);
    c->write_zeroes_may_unmap = 1;

    virtio_dev_init(&s->vdev, &vblk_ops, s, mem, s->num_queues, (uint16_t)qs);
    return s;
}

void virtio_blk_free(struct virtio_blk *s)
{
    if (!s) {
        return;
    }
    /* The backend drops the callbacks; free the requests they held. */
    blk_backend_forget(s->blk);
    while (s->reqs) {
        struct vblk_req *r = s->reqs;
        s->reqs = r->next;
        free(r);
    }
    free(s);
}

struct virtio_dev *virtio_blk_vdev(struct virtio_blk *s)
{
    return &s->vdev;
}

static int vblk_create(struct vm *vm, const struct opts *o,
                       struct device_instance *out, struct error *err)
{
    const char *on = "-device virtio-blk-device";
    const char *drive = opts_get(o, "drive");
    struct virtio_blk_conf conf = { 0 };
    uint64_t nq, qs;

    if (!drive) {
        return err_set(err, -EINVAL, "%s: drive= is required", on);
    }
    if (opts_get_uint(o, "num-queues", 1, &nq, on, err) < 0 ||
        opts_get_uint(o, "queue-size", VIRTIO_BLK_DEFAULT_QUEUE_SIZE, &qs, on,
                      err) < 0 ||
        opts_get_bool(o, "discard", true, &conf.discard, on, err) < 0 ||
        opts_get_bool(o, "write-zeroes", true, &conf.write_zeroes, on, err) <
            0) {
        return err->code;
    }
    if (nq > VIRTIO_MAX_QUEUES || qs > VIRTQ_MAX_SIZE) {
        return err_set(err, -EINVAL,
                       "%s: num-queues must be 1..%u and "
                       "queue-size at most %u",
                       on, VIRTIO_MAX_QUEUES, VIRTQ_MAX_SIZE);
    }
    conf.num_queues = (unsigned)nq;
    conf.queue_size = (unsigned)qs;
    conf.serial = opts_get(o, "serial");
    struct blk_backend *blk = vm_take_drive(vm, drive, on, err);
    if (!blk) {
        return err_is_set(err) ? err->code : -EINVAL;
    }
    struct virtio_blk *s = virtio_blk_new(&vm->mem, blk, &conf, err);
    if (!s) {
        return err->code;
    }
    out->model = &virtio_blk_model;
    out->state = s;
    out->vdev = &s->vdev;
    return 0;
}

static void vblk_destroy(void *state)
{
    virtio_blk_free(state);
}

static const char *const vblk_props[] = {
    "drive",   "num-queues",   "queue-size", "serial",
    "discard", "write-zeroes", NULL,
};

const struct device_model virtio_blk_model = {
    .name = "virtio-blk-device",
    .desc = "virtio block device (raw images)",
    .props = vblk_props,
    .create = vblk_create,
    .destroy = vblk_destroy,
};
