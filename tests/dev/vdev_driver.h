/* SPDX-License-Identifier: MIT */
/*
 * A minimal split-ring virtio driver for in-process device tests: fake
 * guest RAM, status/feature handshake through the core as a transport
 * would call it, descriptor chains posted on the avail ring and used
 * entries collected. Chains take consecutive descriptors (wrapping), so a
 * test must not keep more than the queue size in flight. Single thread;
 * the callers of device ops take the device lock as a transport would.
 */
#ifndef SWEDE_TESTS_VDEV_DRIVER_H
#define SWEDE_TESTS_VDEV_DRIVER_H

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "bus/bus.h"
#include "core/error.h"
#include "hw/virtio/virtio.h"
#include "mem/mem.h"

#define VD_RAM_BASE 0x80000000ull
#define VD_RAM_SIZE (4ull << 20)
/* Rings live in the first MiB, data buffers after it. */
#define VD_DATA_BASE (VD_RAM_BASE + (1ull << 20))

struct vd_queue {
    struct virtio_dev *d;
    unsigned n;
    uint16_t num;
    uint64_t desc, avail, used;
    uint16_t next_desc, avail_idx, last_used;
};

struct vd_buf {
    uint64_t gpa;
    uint32_t len;
    bool write; /* device-writable */
};

static uint64_t vd_ring_next = VD_RAM_BASE;

static inline int vd_ram(struct mem_map *mem)
{
    struct error err = { 0 };
    memset(mem, 0, sizeof(*mem));
    vd_ring_next = VD_RAM_BASE;
    return mem_add_block(mem, VD_RAM_BASE, VD_RAM_SIZE, false, "test-ram",
                         &err);
}

/* Negotiate want (plus VERSION_1) and set FEATURES_OK; true if kept. */
static inline bool vd_features(struct virtio_dev *d, uint64_t want)
{
    dev_lock();
    virtio_set_status(d, 0);
    virtio_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    virtio_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    d->driver_features =
        (want & d->host_features) | (1ull << VIRTIO_F_VERSION_1);
    virtio_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                             VIRTIO_CONFIG_S_FEATURES_OK);
    bool ok = d->status & VIRTIO_CONFIG_S_FEATURES_OK;
    dev_unlock();
    return ok;
}

static inline void vd_driver_ok(struct virtio_dev *d)
{
    dev_lock();
    virtio_set_status(d, d->status | VIRTIO_CONFIG_S_DRIVER_OK);
    dev_unlock();
}

/* Lay out queue n with num entries and set it ready. */
static inline bool vd_queue(struct vd_queue *q, struct virtio_dev *d,
                            unsigned n, uint16_t num)
{
    memset(q, 0, sizeof(*q));
    q->d = d;
    q->n = n;
    q->num = num;
    q->desc = vd_ring_next;
    q->avail = q->desc + 16ull * num;
    q->used = (q->avail + 6 + 2ull * num + 3) & ~3ull;
    vd_ring_next = (q->used + 6 + 8ull * num + 4095) & ~4095ull;
    dev_lock();
    d->vq[n].num = num;
    d->vq[n].desc_gpa = q->desc;
    d->vq[n].avail_gpa = q->avail;
    d->vq[n].used_gpa = q->used;
    virtio_queue_set_ready(d, n, true);
    bool ok = d->vq[n].ready;
    dev_unlock();
    return ok;
}

/* Post a chain of k buffers (not notified). Returns the head. */
static inline uint16_t vd_post(struct vd_queue *q, const struct vd_buf *b,
                               unsigned k)
{
    struct mem_map *mem = q->d->mem;
    uint16_t head = q->next_desc;
    for (unsigned i = 0; i < k; i++) {
        uint16_t idx = q->next_desc;
        q->next_desc = (uint16_t)((q->next_desc + 1) % q->num);
        struct vring_desc desc = {
            .addr = b[i].gpa,
            .len = b[i].len,
            .flags = (uint16_t)((b[i].write ? VRING_DESC_F_WRITE : 0) |
                                (i + 1 < k ? VRING_DESC_F_NEXT : 0)),
            .next = q->next_desc,
        };
        mem_write(mem, q->desc + 16ull * idx, &desc, sizeof(desc));
    }
    mem_write(mem, q->avail + 4 + 2ull * (q->avail_idx % q->num), &head, 2);
    q->avail_idx++;
    mem_write(mem, q->avail + 2, &q->avail_idx, 2);
    return head;
}

static inline void vd_notify(struct vd_queue *q)
{
    dev_lock();
    virtio_queue_notify(q->d, q->n);
    dev_unlock();
}

/* Next used entry: true with *id and *len, false if none. */
static inline bool vd_used(struct vd_queue *q, uint32_t *id, uint32_t *len)
{
    uint16_t idx = 0;
    mem_read(q->d->mem, q->used + 2, &idx, 2);
    if (idx == q->last_used) {
        return false;
    }
    struct vring_used_elem e;
    mem_read(q->d->mem, q->used + 4 + 8ull * (q->last_used % q->num), &e,
             sizeof(e));
    q->last_used++;
    if (id) {
        *id = e.id;
    }
    if (len) {
        *len = e.len;
    }
    return true;
}

static inline void vd_cfg_read(struct virtio_dev *d, uint32_t off, void *buf,
                               uint32_t len)
{
    dev_lock();
    virtio_config_read(d, off, buf, len);
    dev_unlock();
}

static inline void vd_cfg_write(struct virtio_dev *d, uint32_t off,
                                const void *buf, uint32_t len)
{
    dev_lock();
    virtio_config_write(d, off, buf, len);
    dev_unlock();
}

#endif
