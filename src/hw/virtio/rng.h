/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng-device (virtio 1.2 spec, section 5.4 "Entropy Device"): one
 * request queue whose device-writable buffers are filled from the host's
 * getrandom(). Not here: QEMU's rng backends and rate limiting (max-bytes,
 * period). Called with the device lock held.
 */
#ifndef SWEDE_HW_VIRTIO_RNG_H
#define SWEDE_HW_VIRTIO_RNG_H

#include <stdint.h>

#include "hw/models.h"

struct mem_map;
struct virtio_dev;
struct virtio_rng;

/* At most this many bytes are given per request chain. */
#define VIRTIO_RNG_MAX_PER_REQ (64u * 1024)

/* A device on guest memory mem, or NULL without memory. Board build time
 * (and tests). */
struct virtio_rng *virtio_rng_new(struct mem_map *mem);
void virtio_rng_free(struct virtio_rng *r);
struct virtio_dev *virtio_rng_vdev(struct virtio_rng *r);

extern const struct device_model virtio_rng_model;

#endif
