/* SPDX-License-Identifier: MIT */
/*
 * Block backends: the host side of a -drive (QEMU's -drive
 * file=F,format=raw,if=none,id=ID[,readonly=on][,cache=...]
 * [,aio=io_uring|threads][,discard=unmap|ignore]). A backend is a raw image
 * file and one I/O engine whose eventfd sits in the main loop; every request is asynchronous and
 * its callback runs on the main-loop thread, never inside the submitting
 * call. Not here: image formats other than raw, and anything about the
 * guest (the device checks guest-supplied ranges; the backend only checks
 * them again against the size as a last line of defence).
 *
 * I/O engines: aio=io_uring (default: one ring per backend, its eventfd
 * registered with the ring) or aio=threads (a pool of 4 worker threads per
 * backend making preadv/pwritev/fdatasync/fallocate calls, for hosts
 * without io_uring or where it is forbidden, e.g. by a seccomp policy).
 * Both keep every guarantee below; completions reach the main loop
 * through the same eventfd either way. aio=native is refused with a
 * message.
 *
 * Cache modes, as QEMU's: writeback (default: host page cache, flush =
 * fdatasync), none (O_DIRECT, flush = fdatasync), writethrough (O_DSYNC:
 * each write is durable before it completes), directsync (O_DIRECT |
 * O_DSYNC), unsafe (flush is a no-op: nothing the guest writes is
 * guaranteed to survive a host crash). A flush completes only after an
 * fdatasync issued after every write completed before the flush was
 * submitted (IOSQE_IO_DRAIN, or with threads: no other request is being
 * worked on while the fdatasync runs).
 *
 * Threads: submission functions may be called from any thread (the vCPU
 * thread under the device lock, or the main loop); the backend serialises
 * its engine with its own mutex, which is never held while a callback runs,
 * so callbacks may take the device lock. Worker threads never take the
 * device lock and never run callbacks.
 */
#ifndef SWEDE_BACKEND_BLOCK_H
#define SWEDE_BACKEND_BLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct error;
struct opts;
struct blk_backend;

/* ret: 0 on success, a negative errno on failure. Main-loop thread. */
typedef void (*blk_cb)(void *opaque, int ret);

/* The -drive keys accepted (NULL-terminated). */
extern const char *const blk_drive_keys[];

/* Open the drive described by o (a parsed -drive) and register its
 * completion eventfd with the main loop (loop_init() must have run).
 * NULL with err set (naming the option) on failure. Main thread. */
struct blk_backend *blk_backend_open(const struct opts *o, struct error *err);
/* Wait for in-flight I/O, drop pending callbacks unrun, close. */
void blk_backend_close(struct blk_backend *b);

const char *blk_backend_id(const struct blk_backend *b);
uint64_t blk_backend_size(const struct blk_backend *b); /* bytes */
bool blk_backend_readonly(const struct blk_backend *b);
/* How the drive was opened, for query-block. */
struct blk_info {
    const char *file; /* as given with file= (owned by the backend) */
    bool writeback;   /* not writethrough/directsync */
    bool direct;      /* O_DIRECT: cache=none, directsync */
    bool no_flush;    /* cache=unsafe */
    const char *aio;  /* "io_uring" or "threads" */
};
void blk_backend_info(const struct blk_backend *b, struct blk_info *out);

/*
 * Asynchronous requests. Return 0 when submitted (cb will run exactly
 * once, later, on the main-loop thread) or a negative errno (cb will not
 * run). iov must stay valid until cb runs; the backend may modify it (to
 * continue after a short transfer). Ranges must lie within the size and
 * writes need a writable backend, else -EINVAL / -EROFS without I/O.
 */
int blk_backend_readv(struct blk_backend *b, uint64_t off, struct iovec *iov,
                      unsigned niov, blk_cb cb, void *opaque);
int blk_backend_writev(struct blk_backend *b, uint64_t off, struct iovec *iov,
                       unsigned niov, blk_cb cb, void *opaque);
/* Durable once cb(0) runs: fdatasync after all earlier writes. */
int blk_backend_flush(struct blk_backend *b, blk_cb cb, void *opaque);
/* Deallocate (discard=unmap) or do nothing (discard=ignore); reads of a
 * discarded range return zeros on filesystems that punch holes. */
int blk_backend_discard(struct blk_backend *b, uint64_t off, uint64_t len,
                        blk_cb cb, void *opaque);
/* Make the range read as zeros: FALLOC_FL_ZERO_RANGE, else (may_unmap
 * and discard=unmap) PUNCH_HOLE, else writing zeros. */
int blk_backend_write_zeroes(struct blk_backend *b, uint64_t off, uint64_t len,
                             bool may_unmap, blk_cb cb, void *opaque);

/* Block until no request is in flight in the kernel (so none can touch
 * guest memory any more). Completions found stay queued and their
 * callbacks run later from the main loop. Any thread; it takes no device
 * lock, so it may be called with it held. */
void blk_backend_drain(struct blk_backend *b);
/* Run the callbacks of completed requests now (what the main loop's
 * handler does). Main-loop thread, device lock not held. */
void blk_backend_poll(struct blk_backend *b);
/* Drain and throw the pending callbacks away unrun (their owner is going
 * away). Any thread. */
void blk_backend_forget(struct blk_backend *b);

#endif
