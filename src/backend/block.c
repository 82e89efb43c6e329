/* SPDX-License-Identifier: MIT */
/*
 * Raw block backend over io_uring or a thread pool (see block.h for the
 * contract). Each request is a struct blk_op that is in flight for at most
 * one step (one system call) at a time; a request that needs several steps
 * (a short transfer to continue, a write-zeroes fallback, the sync after a
 * fallocate in writethrough mode) resubmits itself from the completion
 * handler. op_step() says what the next step is; the engines differ only in
 * how they run it: aio=io_uring turns it into an SQE and reaps CQEs from
 * poll/drain, aio=threads queues the op for a worker that makes the call
 * and then runs the same completion handler itself. Finished ops go on a
 * FIFO and their callbacks run from blk_backend_poll() on the main-loop
 * thread without the backend mutex, so a callback may take the device lock
 * while a vCPU thread holding the device lock submits.
 *
 * A flush (unless cache=unsafe) is a barrier in both engines: io_uring's
 * IOSQE_IO_DRAIN, or a worker that starts it only when no other step is
 * running and starts nothing queued after it until it has finished.
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
#define BLK_THREADS      4 /* workers per aio=threads backend */

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

/* The system call an op's next step makes. */
enum blk_step_kind {
    STEP_NOP,
    STEP_READV,
    STEP_WRITEV,
    STEP_WRITE_ZEROES, /* write from the zero buffer */
    STEP_FDATASYNC,
    STEP_FALLOCATE
};

struct blk_step {
    enum blk_step_kind kind;
    int mode;     /* STEP_FALLOCATE */
    unsigned len; /* STEP_WRITE_ZEROES */
    bool barrier; /* starts after every earlier step has completed */
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
    bool started; /* a step has run: resubmits go first (threads) */
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
    bool threads; /* aio=threads, else aio=io_uring */
    struct io_uring ring;
    pthread_mutex_t lock;
    unsigned inflight; /* ops with a step queued or running */
    struct blk_op *done, **done_tail;
    uint8_t *zero_buf;
    /* aio=threads: ops waiting for a worker, FIFO. */
    struct blk_op *queue, **queue_tail;
    pthread_cond_t work_cond; /* workers: something may be startable */
    pthread_cond_t idle_cond; /* drain: inflight may have reached 0 */
    pthread_t workers[BLK_THREADS];
    unsigned nworkers;
    unsigned running;     /* steps being made by workers */
    bool barrier_running; /* one of them is a flush */
    bool stopping;
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

void blk_backend_info(const struct blk_backend *b, struct blk_info *out)
{
    out->file = b->file;
    out->writeback = !b->sync_each;
    out->direct = b->direct;
    out->no_flush = b->no_flush;
    out->aio = b->threads ? "threads" : "io_uring";
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

/* What op's next step is. Backend mutex held (or op not yet shared). */
static struct blk_step op_step(const struct blk_op *op)
{
    const struct blk_backend *b = op->b;
    struct blk_step s = { .kind = STEP_NOP };
    if (op->syncing) {
        s.kind = STEP_FDATASYNC;
        return s;
    }
    switch (op->kind) {
    case OP_READ:
        s.kind = STEP_READV;
        break;
    case OP_WRITE:
        s.kind = STEP_WRITEV;
        break;
    case OP_FLUSH:
        if (!b->no_flush) {
            /* Starts only once every earlier step has completed: the
             * flush covers every write completed before it. */
            s.kind = STEP_FDATASYNC;
            s.barrier = true;
        }
        break;
    case OP_NOP:
        break;
    case OP_DISCARD:
        if (b->discard_unmap) {
            s.kind = STEP_FALLOCATE;
            s.mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
        }
        break;
    case OP_WZ:
        if (op->wz_stage == WZ_ZERO_RANGE) {
            s.kind = STEP_FALLOCATE;
            s.mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
        } else if (op->wz_stage == WZ_PUNCH) {
            s.kind = STEP_FALLOCATE;
            s.mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
        } else {
            s.kind = STEP_WRITE_ZEROES;
            s.len = (unsigned)(op->len < BLK_ZERO_BUF ? op->len : BLK_ZERO_BUF);
        }
        break;
    }
    return s;
}

/* aio=io_uring: queue op's next step as an SQE and submit it. 0, or a
 * negative errno (op not in flight). Backend mutex held. */
static int uring_submit_locked(struct blk_op *op)
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
    struct blk_step s = op_step(op);
    switch (s.kind) {
    case STEP_NOP:
        io_uring_prep_nop(sqe);
        break;
    case STEP_READV:
        io_uring_prep_readv(sqe, b->fd, op->iov, op->niov, op->off);
        break;
    case STEP_WRITEV:
        io_uring_prep_writev(sqe, b->fd, op->iov, op->niov, op->off);
        break;
    case STEP_WRITE_ZEROES:
        io_uring_prep_write(sqe, b->fd, b->zero_buf, s.len, op->off);
        break;
    case STEP_FDATASYNC:
        io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
        break;
    case STEP_FALLOCATE:
        io_uring_prep_fallocate(sqe, b->fd, s.mode, op->off, op->len);
        break;
    }
    if (s.barrier) {
        sqe->flags |= IOSQE_IO_DRAIN;
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

/* aio=threads: queue op for a worker. A resubmitted op (the next step of
 * a request already started) goes first, so that it is not held up behind
 * a flush submitted after it. Backend mutex held. */
static void threads_queue_locked(struct blk_op *op)
{
    struct blk_backend *b = op->b;
    if (op->started) {
        op->next = b->queue;
        b->queue = op;
        if (!op->next) {
            b->queue_tail = &op->next;
        }
    } else {
        op->next = NULL;
        *b->queue_tail = op;
        b->queue_tail = &op->next;
    }
    b->inflight++;
    pthread_cond_signal(&b->work_cond);
}

/* Queue op's next step. 0, or a negative errno (op not in flight).
 * Backend mutex held. */
static int submit_locked(struct blk_op *op)
{
    if (op->b->threads) {
        threads_queue_locked(op);
        return 0;
    }
    return uring_submit_locked(op);
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
    if (b->threads) {
        return; /* workers complete their ops themselves */
    }
    struct io_uring_cqe *cqe;
    while (io_uring_peek_cqe(&b->ring, &cqe) == 0) {
        struct blk_op *op = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(&b->ring, cqe);
        b->inflight--;
        complete_locked(op, res);
    }
}

/* aio=threads: make op's next step; the result as a CQE's res would be. */
static int threads_run_step(struct blk_op *op, struct blk_step s)
{
    struct blk_backend *b = op->b;
    ssize_t r = 0;
    switch (s.kind) {
    case STEP_NOP:
        break;
    case STEP_READV:
        r = preadv(b->fd, op->iov, (int)op->niov, (off_t)op->off);
        break;
    case STEP_WRITEV:
        r = pwritev(b->fd, op->iov, (int)op->niov, (off_t)op->off);
        break;
    case STEP_WRITE_ZEROES:
        r = pwrite(b->fd, b->zero_buf, s.len, (off_t)op->off);
        break;
    case STEP_FDATASYNC:
        r = fdatasync(b->fd);
        break;
    case STEP_FALLOCATE:
        r = fallocate(b->fd, s.mode, (off_t)op->off, (off_t)op->len);
        break;
    }
    /* Transfers are capped by the kernel below INT_MAX, as for io_uring. */
    return r < 0 ? -errno : (int)r;
}

/* Can a worker start the queue's head now? Backend mutex held. */
static bool threads_startable_locked(struct blk_backend *b)
{
    return b->queue && !b->barrier_running &&
           (b->running == 0 || !op_step(b->queue).barrier);
}

static void *threads_worker(void *opaque)
{
    struct blk_backend *b = opaque;
    pthread_mutex_lock(&b->lock);
    for (;;) {
        while (!b->stopping && !threads_startable_locked(b)) {
            pthread_cond_wait(&b->work_cond, &b->lock);
        }
        if (b->stopping) {
            break;
        }
        struct blk_op *op = b->queue;
        b->queue = op->next;
        if (!b->queue) {
            b->queue_tail = &b->queue;
        }
        struct blk_step s = op_step(op);
        op->started = true;
        b->running++;
        b->barrier_running = s.barrier;
        if (threads_startable_locked(b)) {
            pthread_cond_signal(&b->work_cond); /* another worker's turn */
        }
        pthread_mutex_unlock(&b->lock);
        int res = threads_run_step(op, s);
        pthread_mutex_lock(&b->lock);
        b->running--;
        if (s.barrier) {
            b->barrier_running = false;
        }
        b->inflight--;
        complete_locked(op, res); /* may queue op's next step */
        if (b->done) {
            eventfd_write(b->efd, 1);
        }
        if (!b->inflight) {
            pthread_cond_broadcast(&b->idle_cond);
        }
        if (threads_startable_locked(b)) {
            pthread_cond_signal(&b->work_cond);
        }
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

static int threads_start(struct blk_backend *b)
{
    for (unsigned i = 0; i < BLK_THREADS; i++) {
        int r = pthread_create(&b->workers[i], NULL, threads_worker, b);
        if (r) {
            return -r;
        }
        b->nworkers++;
    }
    return 0;
}

static void threads_stop(struct blk_backend *b)
{
    pthread_mutex_lock(&b->lock);
    b->stopping = true;
    pthread_cond_broadcast(&b->work_cond);
    pthread_mutex_unlock(&b->lock);
    for (unsigned i = 0; i < b->nworkers; i++) {
        pthread_join(b->workers[i], NULL);
    }
    b->nworkers = 0;
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
    while (b->inflight && b->threads) {
        pthread_cond_wait(&b->idle_cond, &b->lock);
    }
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
    threads_stop(b);
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
    pthread_cond_destroy(&b->work_cond);
    pthread_cond_destroy(&b->idle_cond);
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

static int blk_uring_setup(struct blk_backend *b, struct error *err)
{
    struct io_uring_params p = { .flags = IORING_SETUP_CQSIZE,
                                 .cq_entries = BLK_CQ_ENTRIES };
    int r = io_uring_queue_init_params(BLK_RING_ENTRIES, &b->ring, &p);
    if (r < 0) {
        b->ring.ring_fd = -1;
        return err_set(err, r,
                       "-drive id=%s: io_uring_setup: %s (swede needs io_uring "
                       "for block I/O, or aio=threads)",
                       b->id, strerror(-r));
    }
    r = io_uring_register_eventfd(&b->ring, b->efd);
    if (r < 0) {
        return err_set(err, r, "-drive id=%s: io_uring_register_eventfd: %s",
                       b->id, strerror(-r));
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
    bool threads = aio && !strcmp(aio, "threads");
    if (aio && !threads && strcmp(aio, "io_uring")) {
        if (!strcmp(aio, "native")) {
            err_set(err, -ENOTSUP,
                    "-drive id=%s: aio=native is not supported (use "
                    "aio=io_uring or aio=threads)",
                    id);
        } else {
            err_set(err, -EINVAL,
                    "-drive id=%s: invalid aio=%s (io_uring or threads)", id,
                    aio);
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
    pthread_cond_init(&b->work_cond, NULL);
    pthread_cond_init(&b->idle_cond, NULL);
    b->done_tail = &b->done;
    b->queue_tail = &b->queue;
    b->threads = threads;
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

    b->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (b->efd < 0) {
        err_set(err, -errno, "-drive id=%s: eventfd: %s", id, strerror(errno));
        goto fail;
    }
    int r = threads ? threads_start(b) : blk_uring_setup(b, err);
    if (r < 0) {
        if (threads) {
            err_set(err, r, "-drive id=%s: aio=threads: %s", id, strerror(-r));
        }
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
