/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng-device (virtio 1.2 spec, section 5.4 "Entropy Device"). Each
 * chain on the one request queue gets its device-writable buffers filled
 * from getrandom(), at most VIRTIO_RNG_MAX_PER_REQ bytes per chain, so a
 * guest posting huge buffers cannot make one notify take long. Readable
 * buffers in a chain are ignored (the spec gives them no meaning). No
 * config space, no feature bits. Not here: QEMU's rng backends and rate
 * limiting.
 */
#include "hw/virtio/rng.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/random.h>

#include "board/board.h"
#include "core/error.h"
#include "core/log.h"
#include "core/options.h"
#include "hw/virtio/virtio.h"

#define RNG_QUEUE_SIZE 64

struct virtio_rng {
    struct virtio_dev vdev;
    struct virtq_elem elem;
};

/* Fill buf from getrandom; only fails for a broken host. */
static size_t rng_fill(uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = getrandom(buf + done, len - done, 0);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        done += (size_t)r;
    }
    return done;
}

static void rng_queue_notify(struct virtio_dev *d, unsigned n)
{
    struct virtio_rng *r = d->opaque;
    struct virtq *q = &d->vq[n];
    bool pushed = false;
    if (n != 0) {
        return;
    }
    for (;;) {
        int got = virtq_pop(q, &r->elem);
        if (got < 0) {
            virtio_set_needs_reset(d, "virtio-rng: malformed request queue");
            return;
        }
        if (got == 0) {
            break;
        }
        uint64_t want = r->elem.in_len;
        if (want > VIRTIO_RNG_MAX_PER_REQ) {
            want = VIRTIO_RNG_MAX_PER_REQ;
        }
        uint8_t chunk[4096];
        size_t off = 0;
        while (off < want) {
            size_t len =
                want - off < sizeof(chunk) ? want - off : sizeof(chunk);
            size_t got_bytes = rng_fill(chunk, len);
            size_t w = virtq_write(&r->elem, off, chunk, got_bytes);
            off += w;
            if (w < len) {
                break;
            }
        }
        virtq_push(q, &r->elem, (uint32_t)off);
        pushed = true;
    }
    if (pushed) {
        virtio_notify(d, n);
    }
}

static uint64_t rng_features(struct virtio_dev *d)
{
    (void)d;
    return 0;
}

static uint32_t rng_config_size(struct virtio_dev *d)
{
    (void)d;
    return 0;
}

static void rng_config_read(struct virtio_dev *d, uint32_t off, void *buf,
                            uint32_t len)
{
    (void)d;
    (void)off;
    (void)buf;
    (void)len;
}

static void rng_config_write(struct virtio_dev *d, uint32_t off,
                             const void *buf, uint32_t len)
{
    (void)d;
    (void)off;
    (void)buf;
    (void)len;
}

static void rng_reset(struct virtio_dev *d)
{
    (void)d; /* no state beyond the queues, which the core resets */
}

static const struct virtio_dev_ops rng_ops = {
    .name = "virtio-rng-device",
    .device_id = VIRTIO_ID_RNG,
    .features = rng_features,
    .config_size = rng_config_size,
    .config_read = rng_config_read,
    .config_write = rng_config_write,
    .queue_notify = rng_queue_notify,
    .reset = rng_reset,
};

struct virtio_rng *virtio_rng_new(struct mem_map *mem)
{
    struct virtio_rng *r = calloc(1, sizeof(*r));
    if (!r) {
        return NULL;
    }
    virtio_dev_init(&r->vdev, &rng_ops, r, mem, 1, RNG_QUEUE_SIZE);
    return r;
}

void virtio_rng_free(struct virtio_rng *r)
{
    free(r);
}

struct virtio_dev *virtio_rng_vdev(struct virtio_rng *r)
{
    return &r->vdev;
}

static int rng_create(struct vm *vm, const struct opts *o,
                      struct device_instance *out, struct error *err)
{
    (void)o;
    struct virtio_rng *r = virtio_rng_new(&vm->mem);
    if (!r) {
        return err_set(err, -ENOMEM,
                       "-device virtio-rng-device: out of "
                       "memory");
    }
    out->model = &virtio_rng_model;
    out->state = r;
    out->vdev = &r->vdev;
    return 0;
}

static void rng_destroy(void *state)
{
    virtio_rng_free(state);
}

static const char *const rng_props[] = { NULL };

const struct device_model virtio_rng_model = {
    .name = "virtio-rng-device",
    .desc = "virtio entropy source (host getrandom)",
    .props = rng_props,
    .create = rng_create,
    .destroy = rng_destroy,
};
