/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk-device (virtio 1.2 spec, section 5.2 "Block Device"): one or
 * more request queues over a block backend (backend/block.h). Reads and
 * writes go zero-copy from the chain's guest buffers to the backend;
 * completions arrive on the main-loop thread, which takes the device lock.
 * Requests: IN, OUT, FLUSH, GET_ID, DISCARD and WRITE_ZEROES (one segment
 * each); anything else completes with VIRTIO_BLK_S_UNSUPP. Not here:
 * SCSI passthrough, zoned devices, secure erase, CONFIG_WCE, legacy
 * geometry. Called with the device lock held.
 */
#ifndef SWEDE_HW_VIRTIO_BLK_H
#define SWEDE_HW_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/models.h"

struct blk_backend;
struct error;
struct mem_map;
struct virtio_blk;
struct virtio_dev;

/* Properties, as QEMU's -device virtio-blk-device,... */
struct virtio_blk_conf {
    unsigned num_queues; /* 1..VIRTIO_MAX_QUEUES */
    unsigned queue_size; /* power of two, 4..VIRTQ_MAX_SIZE */
    const char *serial;  /* NULL: empty; longer than 20 bytes: truncated */
    bool discard;        /* offer VIRTIO_BLK_F_DISCARD */
    bool write_zeroes;   /* offer VIRTIO_BLK_F_WRITE_ZEROES */
};

#define VIRTIO_BLK_DEFAULT_QUEUE_SIZE 256
/* Largest discard / write-zeroes segment, in sectors (QEMU's value). */
#define VIRTIO_BLK_MAX_DISCARD_SECTORS (0x7fffffffu >> 9)

/* A device over blk on guest memory mem. Board build time (and tests).
 * The device does not own blk. NULL with err set on a bad conf. */
struct virtio_blk *virtio_blk_new(struct mem_map *mem, struct blk_backend *blk,
                                  const struct virtio_blk_conf *conf,
                                  struct error *err);
/* Waits for the device's in-flight I/O; their callbacks are dropped. */
void virtio_blk_free(struct virtio_blk *s);
struct virtio_dev *virtio_blk_vdev(struct virtio_blk *s);

extern const struct device_model virtio_blk_model;

#endif
