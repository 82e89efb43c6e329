/* SPDX-License-Identifier: MIT */
/*
 * The virtio device core (virtio 1.2 spec, sections 2.1 "Device Status
 * Field", 2.2 "Feature Bits", 2.5 "Device Configuration Space", 3.1
 * "Device Initialization"), shared by every transport and every device:
 * the status state machine, feature negotiation (VIRTIO_F_VERSION_1 is
 * required: legacy drivers are refused at FEATURES_OK), the configuration
 * generation, the interrupt status, reset at any time, and
 * DEVICE_NEEDS_RESET when a queue turns out malformed.
 *
 * A device is a const struct virtio_dev_ops plus its own state; it never
 * knows its transport. A transport (mmio.c, later pci.c) owns the
 * registers and calls in here; the core calls the transport back only to
 * raise its interrupt. Everything runs with the device lock held.
 */
#ifndef SWEDE_HW_VIRTIO_VIRTIO_H
#define SWEDE_HW_VIRTIO_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/virtio/queue.h"

struct mem_map;
struct virtio_dev;

#define VIRTIO_MAX_QUEUES 64

struct virtio_dev_ops {
    const char *name;   /* QEMU's device name, "virtio-blk-device" */
    uint32_t device_id; /* VIRTIO_ID_* from linux/virtio_ids.h */
    /* Device feature bits (device-specific ones and VIRTIO_RING_F_*);
     * the core adds VIRTIO_F_VERSION_1 and VIRTIO_F_ACCESS_PLATFORM is
     * never offered. */
    uint64_t (*features)(struct virtio_dev *d);
    /* Config space: size in bytes, reads and writes within it (the core
     * checks off + len <= size before calling). */
    uint32_t (*config_size)(struct virtio_dev *d);
    void (*config_read)(struct virtio_dev *d, uint32_t off, void *buf,
                        uint32_t len);
    void (*config_write)(struct virtio_dev *d, uint32_t off, const void *buf,
                         uint32_t len);
    /* The driver accepted these features (FEATURES_OK). Return false to
     * refuse the combination. Optional. */
    bool (*set_features)(struct virtio_dev *d, uint64_t features);
    /* DRIVER_OK was set. Optional. */
    void (*driver_ok)(struct virtio_dev *d);
    /* The driver notified queue n (only called for ready queues). */
    void (*queue_notify)(struct virtio_dev *d, unsigned n);
    /* Device reset: drop in-flight requests, back to power-on state. */
    void (*reset)(struct virtio_dev *d);
};

struct virtio_transport_ops {
    /* Raise or lower the transport's interrupt line. */
    void (*set_irq)(void *opaque, int level);
};

struct virtio_dev {
    const struct virtio_dev_ops *ops;
    void *opaque; /* the device's own state */
    struct mem_map *mem;
    unsigned num_queues;
    struct virtq vq[VIRTIO_MAX_QUEUES];

    uint8_t status;
    uint64_t host_features;   /* offered (ops->features + VERSION_1) */
    uint64_t driver_features; /* written by the driver */
    uint64_t features;        /* negotiated, valid after FEATURES_OK */
    uint32_t config_generation;
    uint32_t isr; /* bit 0: used buffer, bit 1: configuration change */

    const struct virtio_transport_ops *tops;
    void *topaque;
};

/* Set up d for a device with num_queues queues of at most queue_max. */
void virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops,
                     void *opaque, struct mem_map *mem, unsigned num_queues,
                     uint16_t queue_max);

/* Transport side. */
void virtio_set_status(struct virtio_dev *d, uint8_t status);
void virtio_reset(struct virtio_dev *d);
/* Queue n set ready (1) or not (0) by the driver; validates the rings. */
void virtio_queue_set_ready(struct virtio_dev *d, unsigned n, bool ready);
void virtio_queue_notify(struct virtio_dev *d, unsigned n);
uint32_t virtio_isr_read_clear(struct virtio_dev *d);
void virtio_isr_ack(struct virtio_dev *d, uint32_t bits);
/* Bounds-checked config access; out-of-range reads give zeros. */
void virtio_config_read(struct virtio_dev *d, uint32_t off, void *buf,
                        uint32_t len);
void virtio_config_write(struct virtio_dev *d, uint32_t off, const void *buf,
                         uint32_t len);

/* Device side. */
/* After pushing to queue n: interrupt the driver if the queue wants it. */
void virtio_notify(struct virtio_dev *d, unsigned n);
/* The device changed its config space. */
void virtio_config_changed(struct virtio_dev *d);
/* A malformed queue or request: set DEVICE_NEEDS_RESET and tell the
 * driver (config-change interrupt), log once per reset. */
void virtio_set_needs_reset(struct virtio_dev *d, const char *why);
bool virtio_has_feature(const struct virtio_dev *d, unsigned bit);
bool virtio_driver_ok(const struct virtio_dev *d);

#endif
