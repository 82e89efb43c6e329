/* SPDX-License-Identifier: MIT */
/*
 * The virtio device core (virtio 1.2 spec: 2.1 device status, 2.2 feature
 * bits, 2.5 configuration space, 3.1 device initialization, 2.4 device
 * reset): the status state machine, feature negotiation, configuration
 * space bounds and generation, the interrupt status and DEVICE_NEEDS_RESET.
 * Transports call in with what the driver wrote; devices call in to
 * interrupt the driver. Not here: registers (mmio.c), rings (queue.c).
 *
 * Status rules, from 2.1.1/3.1.1: the driver only ever adds bits (writing
 * 0 resets); FEATURES_OK sticks only if the accepted features are a subset
 * of the offered ones, include VIRTIO_F_VERSION_1 and the device agrees;
 * DRIVER_OK needs FEATURES_OK; DEVICE_NEEDS_RESET belongs to the device.
 * A driver breaking them is logged and the offending bits are dropped.
 * The interrupt status bits are the same for every transport (PCI's ISR,
 * mmio's InterruptStatus: 4.1.4.5, 4.2.2), so the mmio names serve.
 */
#include <assert.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <string.h>

#include "core/log.h"
#include "hw/virtio/virtio.h"

static void virtio_update_irq(struct virtio_dev *d)
{
    if (d->tops && d->tops->set_irq) {
        d->tops->set_irq(d->topaque, d->isr != 0);
    }
}

static void virtio_refresh_features(struct virtio_dev *d)
{
    uint64_t f = d->ops->features ? d->ops->features(d) : 0;
    f |= 1ull << VIRTIO_F_VERSION_1;
    f &= ~(1ull << VIRTIO_F_ACCESS_PLATFORM);
    d->host_features = f;
}

void virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops,
                     void *opaque, struct mem_map *mem, unsigned num_queues,
                     uint16_t queue_max)
{
    assert(num_queues <= VIRTIO_MAX_QUEUES);
    assert(queue_max >= 1 && queue_max <= VIRTQ_MAX_SIZE);
    memset(d, 0, sizeof(*d));
    d->ops = ops;
    d->opaque = opaque;
    d->mem = mem;
    d->num_queues = num_queues;
    for (unsigned i = 0; i < num_queues; i++) {
        d->vq[i].mem = mem;
        d->vq[i].num_max = queue_max;
        virtq_reset(&d->vq[i]);
    }
    virtio_refresh_features(d);
}

void virtio_reset(struct virtio_dev *d)
{
    if (d->ops->reset) {
        d->ops->reset(d);
    }
    for (unsigned i = 0; i < d->num_queues; i++) {
        virtq_reset(&d->vq[i]);
    }
    d->status = 0;
    d->driver_features = 0;
    d->features = 0;
    d->isr = 0;
    virtio_update_irq(d);
    virtio_refresh_features(d);
}

static bool virtio_features_ok(struct virtio_dev *d)
{
    uint64_t f = d->driver_features;

    if (f & ~d->host_features) {
        log_guest("%s: driver accepted features 0x%llx that were not offered "
                  "(0x%llx)",
                  d->ops->name, (unsigned long long)f,
                  (unsigned long long)d->host_features);
        return false;
    }
    if (!(f & (1ull << VIRTIO_F_VERSION_1))) {
        log_guest("%s: legacy driver (VIRTIO_F_VERSION_1 not accepted) "
                  "refused",
                  d->ops->name);
        return false;
    }
    if (d->ops->set_features && !d->ops->set_features(d, f)) {
        log_guest("%s: device refused features 0x%llx", d->ops->name,
                  (unsigned long long)f);
        return false;
    }
    d->features = f;
    return true;
}

void virtio_set_status(struct virtio_dev *d, uint8_t status)
{
    uint8_t old = d->status;

    if (status == 0) {
        virtio_reset(d);
        return;
    }
    if (old & ~status & ~VIRTIO_CONFIG_S_NEEDS_RESET) {
        log_guest("%s: driver cleared status bits 0x%x without a reset",
                  d->ops->name, old & ~status);
    }
    uint8_t set = status & ~old;
    uint8_t next = old | status;
    next = (next & ~VIRTIO_CONFIG_S_NEEDS_RESET) |
           (old & VIRTIO_CONFIG_S_NEEDS_RESET);

    if ((set & VIRTIO_CONFIG_S_FEATURES_OK) && !virtio_features_ok(d)) {
        next &= ~VIRTIO_CONFIG_S_FEATURES_OK;
    }
    if ((set & VIRTIO_CONFIG_S_DRIVER_OK) &&
        !(next & VIRTIO_CONFIG_S_FEATURES_OK)) {
        log_guest("%s: DRIVER_OK without FEATURES_OK", d->ops->name);
        next &= ~VIRTIO_CONFIG_S_DRIVER_OK;
    }
    d->status = next;
    if ((next & ~old & VIRTIO_CONFIG_S_DRIVER_OK) && d->ops->driver_ok) {
        d->ops->driver_ok(d);
    }
}

void virtio_queue_set_ready(struct virtio_dev *d, unsigned n, bool ready)
{
    if (n >= d->num_queues) {
        log_guest("%s: QueueReady for queue %u of %u", d->ops->name, n,
                  d->num_queues);
        return;
    }
    struct virtq *q = &d->vq[n];
    if (!ready) {
        q->ready = false;
        return;
    }
    if (q->ready) {
        return;
    }
    q->event_idx = virtio_has_feature(d, VIRTIO_RING_F_EVENT_IDX);
    q->indirect = virtio_has_feature(d, VIRTIO_RING_F_INDIRECT_DESC);
    if (!virtq_validate(q)) {
        log_guest("%s: queue %u left not ready", d->ops->name, n);
        return;
    }
    q->ready = true;
}

/* A device popped from a broken queue: the whole device needs a reset. */
static void virtio_check_broken(struct virtio_dev *d)
{
    for (unsigned i = 0; i < d->num_queues; i++) {
        if (d->vq[i].broken) {
            virtio_set_needs_reset(d, "malformed virtqueue");
            return;
        }
    }
}

void virtio_queue_notify(struct virtio_dev *d, unsigned n)
{
    if (n >= d->num_queues || !d->vq[n].ready) {
        log_guest("%s: notify for queue %u, which is not ready", d->ops->name,
                  n);
        return;
    }
    if (d->status & VIRTIO_CONFIG_S_NEEDS_RESET) {
        return;
    }
    if (d->ops->queue_notify) {
        d->ops->queue_notify(d, n);
    }
    virtio_check_broken(d);
}

uint32_t virtio_isr_read_clear(struct virtio_dev *d)
{
    uint32_t v = d->isr;
    d->isr = 0;
    virtio_update_irq(d);
    return v;
}

void virtio_isr_ack(struct virtio_dev *d, uint32_t bits)
{
    d->isr &= ~bits;
    virtio_update_irq(d);
}

static bool virtio_config_in_range(struct virtio_dev *d, uint32_t off,
                                   uint32_t len)
{
    uint32_t size = d->ops->config_size ? d->ops->config_size(d) : 0;
    return (uint64_t)off + len <= size;
}

void virtio_config_read(struct virtio_dev *d, uint32_t off, void *buf,
                        uint32_t len)
{
    memset(buf, 0, len);
    if (len == 0 || !d->ops->config_read ||
        !virtio_config_in_range(d, off, len)) {
        if (len) {
            log_guest("%s: config read of %u bytes at 0x%x out of range",
                      d->ops->name, len, off);
        }
        return;
    }
    d->ops->config_read(d, off, buf, len);
}

void virtio_config_write(struct virtio_dev *d, uint32_t off, const void *buf,
                         uint32_t len)
{
    if (len == 0 || !virtio_config_in_range(d, off, len)) {
        if (len) {
            log_guest("%s: config write of %u bytes at 0x%x out of range",
                      d->ops->name, len, off);
        }
        return;
    }
    if (d->ops->config_write) {
        d->ops->config_write(d, off, buf, len);
    }
}

void virtio_notify(struct virtio_dev *d, unsigned n)
{
    assert(n < d->num_queues);
    virtio_check_broken(d);
    if (virtq_should_notify(&d->vq[n])) {
        d->isr |= VIRTIO_MMIO_INT_VRING;
        virtio_update_irq(d);
    }
}

void virtio_config_changed(struct virtio_dev *d)
{
    d->config_generation++;
    if (d->status & VIRTIO_CONFIG_S_DRIVER_OK) {
        d->isr |= VIRTIO_MMIO_INT_CONFIG;
        virtio_update_irq(d);
    }
}

void virtio_set_needs_reset(struct virtio_dev *d, const char *why)
{
    if (d->status & VIRTIO_CONFIG_S_NEEDS_RESET) {
        return;
    }
    log_guest("%s: device needs reset: %s", d->ops->name, why);
    d->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    if (d->status & VIRTIO_CONFIG_S_DRIVER_OK) {
        d->isr |= VIRTIO_MMIO_INT_CONFIG;
        virtio_update_irq(d);
    }
}

bool virtio_has_feature(const struct virtio_dev *d, unsigned bit)
{
    return bit < 64 && (d->features & (1ull << bit));
}

bool virtio_driver_ok(const struct virtio_dev *d)
{
    return (d->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
           !(d->status & VIRTIO_CONFIG_S_NEEDS_RESET);
}
