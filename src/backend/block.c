/* SPDX-License-Identifier: MIT */
/*
 * Raw block backend over io_uring (see block.h for the contract). Each
 * request is a struct blk_op that owns at most one SQE at a time; a
 * request that needs several steps (a short transfer to continue, a
 * write-zeroes fallback, the sync after a fallocate in writethrough mode)
 * resubmits itself from the completion handler. Finished ops go on a FIFO
 * and their callbacks run from blk_backend_poll() without the backend
 * mutex, so a callback may take the device lock while a vCPU thread holding
 * the device lock submits.
 *
 * O_DIRECT (cache=none/directsync) needs aligned buffers; a request whose
 * guest buffers are not 512-aligned goes through a bounce buffer (capped,
 * since its size is guest-chosen). Data copied back into guest memory for
 * a bounced read is copied at completion time under the mutex, so once
 * blk_backend_drain() returns nothing of a request touches guest memory.
 */
#include "backend/block.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/options.h"

#define BLK_RING_ENTRIES 128
#define BLK_CQ_ENTRIES   4096
#define BLK_DIO_ALIGN    512
#define BLK_BOUNCE_MAX   (16u << 20) /* largest bounced (misaligned) request */
#define BLK_ZERO_BUF     (256u << 10)

enum blk_cache {
    CACHE_WRITEBACK,
    CACHE_NONE,
    CACHE_WRITETHROUGH,
    CACHE_DIRECTSYNC,
    CACHE_UNSAFE
};

enum blk_op_kind {
    OP_READ,
    OP_WRITE,
    OP_FLUSH,
    OP_DISCARD,
    OP_WZ,
    OP_NOP
};

/* Write-zeroes strategies, tried in order. */
enum {
    WZ_ZERO_RANGE,
    WZ_PUNCH,
    WZ_WRITE
};

struct blk_op {
    struct blk_backend *b;
    enum blk_op_kind kind;
    uint64_t off, len; /* what remains to transfer */
    struct iovec *iov;
    unsigned niov;
    /* Bounce buffer for misaligned O_DIRECT requests. */
    uint8_t *bounce;
    size_t bounce_len;
    struct iovec bounce_iov;
    struct iovec *guest_iov;
    unsigned guest_niov;
    int wz_stage;
    bool may_unmap;
    bool syncing; /* the trailing fdatasync (writethrough fallocate) */
    int ret;
    blk_cb cb;
    void *opaque;
    struct blk_op *next;
};

struct blk_backend {
    char *id;
    char *file;
    int fd;
    int efd;
    uint64_t size;
    bool readonly;
    bool direct;
    bool sync_each; /* writethrough, directsync */
    bool no_flush;  /* unsafe */
    bool discard_unmap;
    bool loop_registered;
    struct io_uring ring;
    pthread_mutex_t lock;
    unsigned inflight; /* ops with an SQE in the kernel */
    struct blk_op *done, **done_tail;
    uint8_t *zero_buf;
};

const char *const blk_drive_keys[] = {
    "file", "format", "if", "id", "readonly", "cache", "aio", "discard", NULL,
};

const char *blk_backend_id(const struct blk_backend *b)
{
    return b->id;
}

uint64_t blk_backend_size(const struct blk_backend *b)
{
    return b->size;
}

bool blk_backend_readonly(const struct blk_backend *b)
{
    return b->readonly;
}

/* Drop n bytes from the front of an iovec array, in place. */
static void iov_advance(struct iovec **iov, unsigned *niov, size_t n)
{
    while (*niov && n >= (*iov)->iov_len) {
        n -= (*iov)->iov_len;
        (*iov)++;
        (*niov)--;
    }
    if (*niov && n) {
        (*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
        (*iov)->iov_len -= n;
    }
}

static size_t iov_total(const struct iovec *iov, unsigned niov)
{
    size_t t = 0;
    for (unsigned i = 0; i < niov; i++) {
        t += iov[i].iov_len;
    }
    return t;
}

static void done_locked(struct blk_op *op, int ret)
{
    struct blk_backend *b = op->b;
    if (op->bounce && op->kind == OP_READ && ret == 0) {
        /* Scatter into guest memory now, before drain can return. */
        size_t off = 0;
        for (unsigned i = 0; i < op->guest_niov; i++) {
            memcpy(op->guest_iov[i].iov_base, op->bounce + off,
                   op->guest_iov[i].iov_len);
            off += op->guest_iov[i].iov_len;
        }
    }
    free(op->bounce);
    op->bounce = NULL;
    op->ret = ret;
    op->next = NULL;
    *b->done_tail = op;
    b->done_tail = &op->next;
}

/* Queue op's next SQE and submit it. 0, or a negative errno (op not in
 * flight). Backend mutex held. */
static int submit_locked(struct blk_op *op)
{
    struct blk_backend *b = op->b;
    struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);
    if (!sqe) {
        io_uring_submit(&b->ring);
        sqe = io_uring_get_sqe(&b->ring);
        if (!sqe) {
            return -EBUSY;
        }
    }
    if (op->syncing) {
        io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
    } else {
        switch (op->kind) {
        case OP_READ:
            io_uring_prep_readv(sqe, b->fd, op->iov, op->niov, op->off);
            break;
        case OP_WRITE:
            io_uring_prep_writev(sqe, b->fd, op->iov, op->niov, op->off);
            break;
        case OP_FLUSH:
            if (b->no_flush) {
                io_uring_prep_nop(sqe);
            } else {
                io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
                /* Starts only once every earlier SQE has completed: the
                 * flush covers every write completed before it. */
                sqe->flags |= IOSQE_IO_DRAIN;
            }
            break;
        case OP_NOP:
            io_uring_prep_nop(sqe);
            break;
        case OP_DISCARD:
            if (b->discard_unmap) {
                io_uring_prep_fallocate(
                    sqe, b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    op->off, op->len);
            } else {
                io_uring_prep_nop(sqe);
            }
            break;
        case OP_WZ:
            if (op->wz_stage == WZ_ZERO_RANGE) {
                io_uring_prep_fallocate(
                    sqe, b->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
                    op->off, op->len);
            } else if (op->wz_stage == WZ_PUNCH) {
                io_uring_prep_fallocate(
                    sqe, b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    op->off, op->len);
            } else {
                uint64_t n = op->len < BLK_ZERO_BUF ? op->len : BLK_ZERO_BUF;
                io_uring_prep_write(sqe, b->fd, b->zero_buf, (unsigned)n,
                                    op->off);
            }
            break;
        }
    }
    io_uring_sqe_set_data(sqe, op);
    b->inflight++;
    for (int tries = 0;; tries++) {
        int r = io_uring_submit(&b->ring);
        if (r >= 0) {
            return 0;
        }
        if ((r == -EAGAIN || r == -EBUSY || r == -EINTR) && tries < 1000) {
            sched_yield();
            continue;
        }
        /* The SQE stays queued and goes in with the next submit; its
         * completion is reaped as usual. */
        log_msg("block %s: io_uring_submit: %s", b->id, strerror(-r));
        return 0;
    }
}

static void sync_or_done_locked(struct blk_op *op, int ret)
{
    if (ret == 0 && op->b->sync_each && !op->syncing &&
        (op->kind == OP_WZ ||
         (op->kind == OP_DISCARD && op->b->discard_unmap))) {
        op->syncing = true;
        int r = submit_locked(op);
        if (r < 0) {
            done_locked(op, r);
        }
        return;
    }
    done_locked(op, ret);
}

static void complete_locked(struct blk_op *op, int res)
{
    struct blk_backend *b = op->b;
    if (op->syncing) {
        done_locked(op, res < 0 ? res : 0);
        return;
    }
    switch (op->kind) {
    case OP_READ:
    case OP_WRITE:
        if (res == -EAGAIN || res == -EINTR) {
            break; /* resubmit as is */
        }
        if (res < 0) {
            done_locked(op, res);
            return;
        }
        if (res == 0 || (uint64_t)res > op->len) {
            done_locked(op, -EIO); /* file shrank under us */
            return;
        }
        op->len -= (uint64_t)res;
        op->off += (uint64_t)res;
        if (op->len == 0) {
            done_locked(op, 0);
            return;
        }
        iov_advance(&op->iov, &op->niov, (size_t)res);
        break;
    case OP_FLUSH:
    case OP_NOP:
        done_locked(op, res < 0 ? res : 0);
        return;
    case OP_DISCARD:
        /* Discard is advisory: a filesystem without hole punching just
         * keeps the data, as QEMU does. */
        if (res == -EOPNOTSUPP || res == -ENOTSUP) {
            res = 0;
        }
        sync_or_done_locked(op, res < 0 ? res : 0);
        return;
    case OP_WZ:
        if (op->wz_stage != WZ_WRITE) {
            if (res >= 0) {
                sync_or_done_locked(op, 0);
                return;
            }
            if (res != -EOPNOTSUPP && res != -ENOTSUP && res != -EINVAL) {
                done_locked(op, res);
                return;
            }
            if (op->wz_stage == WZ_ZERO_RANGE && op->may_unmap &&
                b->discard_unmap) {
                op->wz_stage = WZ_PUNCH;
            } else {
                op->wz_stage = WZ_WRITE;
            }
            break;
        }
        if (res < 0 && res != -EAGAIN && res != -EINTR) {
            done_locked(op, res);
            return;
        }
        if (res == 0) {
            done_locked(op, -EIO);
            return;
        }
        if (res > 0) {
            op->off += (uint64_t)res;
            op->len -= (uint64_t)res < op->len ? (uint64_t)res : op->len;
        }
        if (op->len == 0) {
            done_locked(op, 0); /* writes to an O_DSYNC fd are synced */
            return;
        }
        break;
    }
    int r = submit_locked(op);
    if (r < 0) {
        done_locked(op, r);
    }
}

static void reap_locked(struct blk_backend *b)
{
    struct io_uring_cqe *cqe;
    while (io_uring_peek_cqe(&b->ring, &cqe) == 0) {
        struct blk_op *op = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(&b->ring, cqe);
        b->inflight--;
        complete_locked(op, res);
    }
}

void blk_backend_poll(struct blk_backend *b)
{
    pthread_mutex_lock(&b->lock);
    reap_locked(b);
    struct blk_op *list = b->done;
    b->done = NULL;
    b->done_tail = &b->done;
    pthread_mutex_unlock(&b->lock);
    while (list) {
        struct blk_op *op = list;
        list = op->next;
        op->cb(op->opaque, op->ret);
        free(op);
    }
}

static void blk_event(void *opaque, uint32_t events)
{
    struct blk_backend *b = opaque;
    uint64_t v;
    (void)events;
    if (read(b->efd, &v, sizeof(v)) < 0) {
        /* EAGAIN: nothing signalled; completions may still be there. */
    }
    blk_backend_poll(b);
}

void blk_backend_drain(struct blk_backend *b)
{
    pthread_mutex_lock(&b->lock);
    reap_locked(b);
    while (b->inflight) {
        /* Also submits an SQE an earlier failed submit left queued. */
        int r = io_uring_submit_and_wait(&b->ring, 1);
        if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
            log_msg("block %s: io_uring_submit_and_wait: %s", b->id,
                    strerror(-r));
            break;
        }
        reap_locked(b);
    }
    bool pending = b->done != NULL;
    pthread_mutex_unlock(&b->lock);
    if (pending && b->efd >= 0) {
        eventfd_write(b->efd, 1); /* make the main loop deliver them */
    }
}

void blk_backend_forget(struct blk_backend *b)
{
    blk_backend_drain(b);
    pthread_mutex_lock(&b->lock);
    struct blk_op *list = b->done;
    b->done = NULL;
    b->done_tail = &b->done;
    pthread_mutex_unlock(&b->lock);
    while (list) {
        struct blk_op *op = list;
        list = op->next;
        free(op);
    }
}

static struct blk_op *op_new(struct blk_backend *b, enum blk_op_kind kind,
                             uint64_t off, uint64_t len, blk_cb cb,
                             void *opaque)
{
    struct blk_op *op = calloc(1, sizeof(*op));
    if (op) {
        op->b = b;
        op->kind = kind;
        op->off = off;
        op->len = len;
        op->cb = cb;
        op->opaque = opaque;
    }
    return op;
}

static bool range_ok(const struct blk_backend *b, uint64_t off, uint64_t len)
{
    return off <= b->size && len <= b->size - off;
}

static int submit_new(struct blk_op *op)
{
    struct blk_backend *b = op->b;
    pthread_mutex_lock(&b->lock);
    int r = submit_locked(op);
    pthread_mutex_unlock(&b->lock);
    if (r < 0) {
        free(op->bounce);
        free(op);
    }
    return r;
}

static bool iov_dio_aligned(const struct iovec *iov, unsigned niov)
{
    for (unsigned i = 0; i < niov; i++) {
        if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) &
            (BLK_DIO_ALIGN - 1)) {
            return false;
        }
    }
    return true;
}

static int blk_rw(struct blk_backend *b, enum blk_op_kind kind, uint64_t off,
                  struct iovec *iov, unsigned niov, blk_cb cb, void *opaque)
{
    if (kind == OP_WRITE && b->readonly) {
        return -EROFS;
    }
    if (niov > IOV_MAX) {
        return -EINVAL;
    }
    size_t len = iov_total(iov, niov);
    if (!range_ok(b, off, len)) {
        return -EINVAL;
    }
    if (b->direct && (off | len) & (BLK_DIO_ALIGN - 1)) {
        return -EINVAL;
    }
    struct blk_op *op = op_new(b, kind, off, len, cb, opaque);
    if (!op) {
        return -ENOMEM;
    }
    op->iov = iov;
    op->niov = niov;
    if (b->direct && len && !iov_dio_aligned(iov, niov)) {
        void *buf;
        if (len > BLK_BOUNCE_MAX || posix_memalign(&buf, 4096, len)) {
            free(op);
            return -ENOMEM;
        }
        op->bounce = buf;
        op->bounce_len = len;
        op->guest_iov = iov;
        op->guest_niov = niov;
        if (kind == OP_WRITE) {
            size_t o = 0;
            for (unsigned i = 0; i < niov; i++) {
                memcpy(op->bounce + o, iov[i].iov_base, iov[i].iov_len);
                o += iov[i].iov_len;
            }
        }
        op->bounce_iov = (struct iovec){ op->bounce, len };
        op->iov = &op->bounce_iov;
        op->niov = 1;
    }
    return submit_new(op);
}

int blk_backend_readv(struct blk_backend *b, uint64_t off, struct iovec *iov,
                      unsigned niov, blk_cb cb, void *opaque)
{
    return blk_rw(b, OP_READ, off, iov, niov, cb, opaque);
}

int blk_backend_writev(struct blk_backend *b, uint64_t off, struct iovec *iov,
                       unsigned niov, blk_cb cb, void *opaque)
{
    return blk_rw(b, OP_WRITE, off, iov, niov, cb, opaque);
}

int blk_backend_flush(struct blk_backend *b, blk_cb cb, void *opaque)
{
    struct blk_op *op = op_new(b, OP_FLUSH, 0, 0, cb, opaque);
    if (!op) {
        return -ENOMEM;
    }
    return submit_new(op);
}

int blk_backend_discard(struct blk_backend *b, uint64_t off, uint64_t len,
                        blk_cb cb, void *opaque)
{
    if (b->readonly) {
        return -EROFS;
    }
    if (!range_ok(b, off, len)) {
        return -EINVAL;
    }
    /* A zero-length fallocate is EINVAL: complete through a NOP. */
    struct blk_op *op =
        op_new(b, len ? OP_DISCARD : OP_NOP, off, len, cb, opaque);
    if (!op) {
        return -ENOMEM;
    }
    return submit_new(op);
}

int blk_backend_write_zeroes(struct blk_backend *b, uint64_t off, uint64_t len,
                             bool may_unmap, blk_cb cb, void *opaque)
{
    if (b->readonly) {
        return -EROFS;
    }
    if (!range_ok(b, off, len)) {
        return -EINVAL;
    }
    struct blk_op *op = op_new(b, len ? OP_WZ : OP_NOP, off, len, cb, opaque);
    if (!op) {
        return -ENOMEM;
    }
    op->may_unmap = may_unmap;
    return submit_new(op);
}

static int parse_cache(const char *s, enum blk_cache *out)
{
    static const struct {
        const char *name;
        enum blk_cache mode;
    } modes[] = {
        { "writeback", CACHE_WRITEBACK },
        { "none", CACHE_NONE },
        { "writethrough", CACHE_WRITETHROUGH },
        { "directsync", CACHE_DIRECTSYNC },
        { "unsafe", CACHE_UNSAFE },
    };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (!strcmp(s, modes[i].name)) {
            *out = modes[i].mode;
            return 0;
        }
    }
    return -EINVAL;
}

static void blk_free(struct blk_backend *b)
{
    if (b->loop_registered) {
        loop_del_fd(b->efd);
    }
    if (b->ring.ring_fd > 0) {
        io_uring_queue_exit(&b->ring);
    }
    if (b->efd >= 0) {
        close(b->efd);
    }
    if (b->fd >= 0) {
        close(b->fd);
    }
    pthread_mutex_destroy(&b->lock);
    free(b->zero_buf);
    free(b->id);
    free(b->file);
    free(b);
}

void blk_backend_close(struct blk_backend *b)
{
    if (!b) {
        return;
    }
    blk_backend_forget(b);
    blk_free(b);
}

static int blk_open_file(struct blk_backend *b, int flags, struct error *err)
{
    b->fd = open(b->file, flags);
    if (b->fd < 0 && errno == EINVAL && (flags & O_DIRECT)) {
        return err_set(err, -EINVAL,
                       "-drive file=%s: cache=none/directsync need O_DIRECT, "
                       "which this filesystem refuses (use cache=writeback)",
                       b->file);
    }
    if (b->fd < 0) {
        int e = errno;
        return err_set(err, -e, "-drive file=%s: %s%s", b->file, strerror(e),
                       (e == EACCES || e == EROFS) && !b->readonly
                           ? " (readonly=on opens it read-only)"
                           : "");
    }
    struct stat st;
    if (fstat(b->fd, &st) < 0) {
        return err_set(err, -errno, "-drive file=%s: fstat: %s", b->file,
                       strerror(errno));
    }
    if (S_ISREG(st.st_mode)) {
        b->size = (uint64_t)st.st_size;
    } else if (S_ISBLK(st.st_mode)) {
        if (ioctl(b->fd, BLKGETSIZE64, &b->size) < 0) {
            return err_set(err, -errno, "-drive file=%s: BLKGETSIZE64: %s",
                           b->file, strerror(errno));
        }
    } else {
        return err_set(err, -EINVAL,
                       "-drive file=%s: not a regular file or block device",
                       b->file);
    }
    /* Like QEMU's image locking: two writers (or a writer and a reader)
     * of one image corrupt it. OFD locks are per open file. */
    struct flock fl = { .l_type = b->readonly ? F_RDLCK : F_WRLCK,
                        .l_whence = SEEK_SET };
    if (fcntl(b->fd, F_OFD_SETLK, &fl) < 0 &&
        (errno == EAGAIN || errno == EACCES)) {
        return err_set(err, -EBUSY,
                       "-drive file=%s: failed to get %s lock: is another "
                       "process using the image?",
                       b->file, b->readonly ? "shared" : "write");
    }
    if (flags & O_DIRECT) {
        void *buf;
        if (posix_memalign(&buf, 4096, 4096)) {
            return err_set(err, -ENOMEM, "-drive file=%s: out of memory",
                           b->file);
        }
        ssize_t r = pread(b->fd, buf, BLK_DIO_ALIGN, 0);
        int e = errno;
        free(buf);
        if (r < 0 && e == EINVAL) {
            return err_set(err, -EINVAL,
                           "-drive file=%s: cache=none/directsync: the "
                           "filesystem refuses %d-byte O_DIRECT reads (use "
                           "cache=writeback)",
                           b->file, BLK_DIO_ALIGN);
        }
    }
    return 0;
}

struct blk_backend *blk_backend_open(const struct opts *o, struct error *err)
{
    if (opts_check_known(o, blk_drive_keys, "-drive", err) < 0) {
        return NULL;
    }
    const char *file = opts_get(o, "file");
    const char *id = opts_get(o, "id");
    const char *fmt = opts_get(o, "format");
    const char *iface = opts_get(o, "if");
    const char *cache = opts_get(o, "cache");
    const char *aio = opts_get(o, "aio");
    const char *discard = opts_get(o, "discard");
    enum blk_cache mode = CACHE_WRITEBACK;
    bool ro;

    if (!file || !*file) {
        err_set(err, -EINVAL, "-drive: file= is required");
        return NULL;
    }
    if (!id || !*id) {
        err_set(err, -EINVAL,
                "-drive file=%s: id= is required (-device "
                "virtio-blk-device,drive=ID attaches it)",
                file);
        return NULL;
    }
    if (fmt && strcmp(fmt, "raw")) {
        err_set(err, -EINVAL,
                "-drive id=%s: format=%s is not supported (only format=raw)",
                id, fmt);
        return NULL;
    }
    if (iface && strcmp(iface, "none")) {
        err_set(err, -EINVAL,
                "-drive id=%s: if=%s is not supported; use if=none with "
                "-device virtio-blk-device,drive=%s",
                id, iface, id);
        return NULL;
    }
    if (cache && parse_cache(cache, &mode) < 0) {
        err_set(err, -EINVAL,
                "-drive id=%s: invalid cache=%s (writeback, none, "
                "writethrough, directsync or unsafe)",
                id, cache);
        return NULL;
    }
    if (aio && strcmp(aio, "io_uring")) {
        if (!strcmp(aio, "threads") || !strcmp(aio, "native")) {
            err_set(err, -ENOTSUP,
                    "-drive id=%s: aio=%s is not supported; swede does block "
                    "I/O through io_uring (aio=io_uring)",
                    id, aio);
        } else {
            err_set(err, -EINVAL, "-drive id=%s: invalid aio=%s", id, aio);
        }
        return NULL;
    }
    bool unmap = false;
    if (discard) {
        if (!strcmp(discard, "unmap") || !strcmp(discard, "on")) {
            unmap = true;
        } else if (strcmp(discard, "ignore") && strcmp(discard, "off")) {
            err_set(err, -EINVAL,
                    "-drive id=%s: invalid discard=%s (unmap or ignore)", id,
                    discard);
            return NULL;
        }
    }
    if (opts_get_bool(o, "readonly", false, &ro, "-drive", err) < 0) {
        return NULL;
    }

    struct blk_backend *b = calloc(1, sizeof(*b));
    if (!b) {
        err_set(err, -ENOMEM, "-drive id=%s: out of memory", id);
        return NULL;
    }
    b->fd = -1;
    b->efd = -1;
    b->ring.ring_fd = -1;
    pthread_mutex_init(&b->lock, NULL);
    b->done_tail = &b->done;
    b->id = strdup(id);
    b->file = strdup(file);
    b->readonly = ro;
    b->direct = mode == CACHE_NONE || mode == CACHE_DIRECTSYNC;
    b->sync_each = mode == CACHE_WRITETHROUGH || mode == CACHE_DIRECTSYNC;
    b->no_flush = mode == CACHE_UNSAFE;
    b->discard_unmap = unmap;
    void *zb = NULL;
    if (!b->id || !b->file || posix_memalign(&zb, 4096, BLK_ZERO_BUF)) {
        err_set(err, -ENOMEM, "-drive id=%s: out of memory", id);
        goto fail;
    }
    b->zero_buf = zb;
    memset(b->zero_buf, 0, BLK_ZERO_BUF);

    int flags = (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    if (b->direct) {
        flags |= O_DIRECT;
    }
    if (b->sync_each) {
        flags |= O_DSYNC;
    }
    if (blk_open_file(b, flags, err) < 0) {
        goto fail;
    }

    struct io_uring_params p = { .flags = IORING_SETUP_CQSIZE,
                                 .cq_entries = BLK_CQ_ENTRIES };
    int r = io_uring_queue_init_params(BLK_RING_ENTRIES, &b->ring, &p);
    if (r < 0) {
        b->ring.ring_fd = -1;
        err_set(err, r,
                "-drive id=%s: io_uring_setup: %s (swede needs io_uring for "
                "block I/O)",
                id, strerror(-r));
        goto fail;
    }
    b->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (b->efd < 0) {
        err_set(err, -errno, "-drive id=%s: eventfd: %s", id, strerror(errno));
        goto fail;
    }
    r = io_uring_register_eventfd(&b->ring, b->efd);
    if (r < 0) {
        err_set(err, r, "-drive id=%s: io_uring_register_eventfd: %s", id,
                strerror(-r));
        goto fail;
    }
    r = loop_add_fd(b->efd, EPOLLIN, blk_event, b);
    if (r < 0) {
        err_set(err, r, "-drive id=%s: main loop: %s", id, strerror(-r));
        goto fail;
    }
    b->loop_registered = true;
    return b;

fail:
    blk_free(b);
    return NULL;
}
