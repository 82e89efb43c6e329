/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport, version 2 (virtio 1.2 spec, section 4.2.2):
 * registers only. Every register is 32 bits wide and must be accessed
 * with 32-bit accesses (4.2.2.2); the device configuration space from
 * 0x100 takes any size. Writes that the spec forbids (queue registers of
 * a ready queue, driver features after FEATURES_OK, read-only registers)
 * are ignored and logged as guest errors. The interrupt line is level:
 * high while the interrupt status is non-zero. An empty slot shows what
 * QEMU's unpopulated transports show: magic, version 2, device ID 0 (the
 * driver skips it) and vendor "QEMU". Not here: the legacy (version 1)
 * layout, VIRTIO_F_NOTIFICATION_DATA.
 */
#include "hw/virtio/mmio.h"

#include <assert.h>
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "core/error.h"
#include "core/log.h"
#include "hw/virtio/virtio.h"

#define VIRTIO_MMIO_MAGIC  0x74726976u /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x554d4551u /* "QEMU", as QEMU reports */

struct virtio_mmio_shm {
    uint64_t base, len;
};

struct virtio_mmio {
    struct bus *bus;
    uint64_t base;
    struct irq_line irq;
    struct virtio_dev *dev;
    uint32_t dev_features_sel;
    uint32_t drv_features_sel;
    uint32_t queue_sel;
    uint32_t shm_sel;
    struct virtio_mmio_shm shm[256];
};

static void virtio_mmio_set_irq(void *opaque, int level)
{
    struct virtio_mmio *m = opaque;
    irq_set(&m->irq, level);
}

static const struct virtio_transport_ops virtio_mmio_tops = {
    .set_irq = virtio_mmio_set_irq,
};

static struct virtq *virtio_mmio_queue(struct virtio_mmio *m)
{
    if (m->queue_sel >= m->dev->num_queues) {
        return NULL;
    }
    return &m->dev->vq[m->queue_sel];
}

static uint64_t virtio_mmio_config_read(struct virtio_mmio *m, uint64_t off,
                                        unsigned size)
{
    uint8_t buf[8] = { 0 };
    uint64_t v = 0;

    if (m->dev) {
        virtio_config_read(m->dev, (uint32_t)off, buf, size);
    }
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)buf[i] << (8 * i);
    }
    return v;
}

static void virtio_mmio_config_write(struct virtio_mmio *m, uint64_t off,
                                     uint64_t val, unsigned size)
{
    uint8_t buf[8];

    for (unsigned i = 0; i < size; i++) {
        buf[i] = (uint8_t)(val >> (8 * i));
    }
    if (m->dev) {
        virtio_config_write(m->dev, (uint32_t)off, buf, size);
    }
}

static uint32_t virtio_mmio_shm_reg(struct virtio_mmio *m, uint64_t off)
{
    const struct virtio_mmio_shm *s =
        m->shm_sel < 256 ? &m->shm[m->shm_sel] : NULL;

    if (!s || s->len == 0) {
        return ~0u; /* 4.2.2.1: the region does not exist */
    }
    switch (off) {
    case VIRTIO_MMIO_SHM_LEN_LOW:
        return (uint32_t)s->len;
    case VIRTIO_MMIO_SHM_LEN_HIGH:
        return (uint32_t)(s->len >> 32);
    case VIRTIO_MMIO_SHM_BASE_LOW:
        return (uint32_t)s->base;
    default:
        return (uint32_t)(s->base >> 32);
    }
}

static uint32_t virtio_mmio_reg_read(struct virtio_mmio *m, uint64_t off)
{
    struct virtio_dev *d = m->dev;
    struct virtq *q;

    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION:
        return 2;
    case VIRTIO_MMIO_DEVICE_ID:
        return d ? d->ops->device_id : 0;
    case VIRTIO_MMIO_VENDOR_ID:
        return VIRTIO_MMIO_VENDOR;
    }
    if (!d) {
        return 0;
    }
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES:
        if (m->dev_features_sel > 1) {
            return 0;
        }
        return (uint32_t)(d->host_features >> (32 * m->dev_features_sel));
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        q = virtio_mmio_queue(m);
        return q ? q->num_max : 0;
    case VIRTIO_MMIO_QUEUE_READY:
        q = virtio_mmio_queue(m);
        return q ? q->ready : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        return d->isr;
    case VIRTIO_MMIO_STATUS:
        return d->status;
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH:
    case VIRTIO_MMIO_SHM_BASE_LOW:
    case VIRTIO_MMIO_SHM_BASE_HIGH:
        return virtio_mmio_shm_reg(m, off);
    case VIRTIO_MMIO_CONFIG_GENERATION:
        return d->config_generation;
    default:
        log_guest("virtio-mmio@0x%llx: read of write-only or reserved "
                  "register 0x%llx",
                  (unsigned long long)m->base, (unsigned long long)off);
        return 0;
    }
}

/* The queue registers the driver may only write while the queue is not
 * ready (4.2.2.3); NULL when the write is to be ignored. */
static struct virtq *virtio_mmio_setup_queue(struct virtio_mmio *m,
                                             uint64_t off)
{
    struct virtq *q = virtio_mmio_queue(m);
    if (!q) {
        log_guest("virtio-mmio@0x%llx: register 0x%llx written for queue %u, "
                  "which does not exist",
                  (unsigned long long)m->base, (unsigned long long)off,
                  m->queue_sel);
        return NULL;
    }
    if (q->ready) {
        log_guest("virtio-mmio@0x%llx: register 0x%llx written while queue "
                  "%u is ready; ignored",
                  (unsigned long long)m->base, (unsigned long long)off,
                  m->queue_sel);
        return NULL;
    }
    return q;
}

static void virtio_mmio_set_half(uint64_t *v, bool high, uint32_t val)
{
    if (high) {
        *v = (*v & 0xffffffffull) | ((uint64_t)val << 32);
    } else {
        *v = (*v & ~0xffffffffull) | val;
    }
}

static void virtio_mmio_reg_write(struct virtio_mmio *m, uint64_t off,
                                  uint32_t val)
{
    struct virtio_dev *d = m->dev;
    struct virtq *q;

    if (!d) {
        return;
    }
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        m->dev_features_sel = val;
        return;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        m->drv_features_sel = val;
        return;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (d->status & VIRTIO_CONFIG_S_FEATURES_OK) {
            log_guest("virtio-mmio@0x%llx: DriverFeatures written after "
                      "FEATURES_OK; ignored",
                      (unsigned long long)m->base);
        } else if (m->drv_features_sel <= 1) {
            unsigned shift = 32 * m->drv_features_sel;
            d->driver_features =
                (d->driver_features & ~(0xffffffffull << shift)) |
                ((uint64_t)val << shift);
        } else if (val) {
            log_guest("virtio-mmio@0x%llx: DriverFeatures word %u set to "
                      "0x%x; no such features",
                      (unsigned long long)m->base, m->drv_features_sel, val);
        }
        return;
    case VIRTIO_MMIO_QUEUE_SEL:
        m->queue_sel = val;
        return;
    case VIRTIO_MMIO_QUEUE_NUM:
        q = virtio_mmio_setup_queue(m, off);
        if (q) {
            if (val > q->num_max) {
                log_guest("virtio-mmio@0x%llx: QueueNum %u > QueueNumMax %u",
                          (unsigned long long)m->base, val, q->num_max);
                val = 0; /* refused when the queue is set ready */
            }
            q->num = (uint16_t)val;
        }
        return;
    case VIRTIO_MMIO_QUEUE_READY:
        if (m->queue_sel >= d->num_queues) {
            log_guest("virtio-mmio@0x%llx: QueueReady for queue %u, which "
                      "does not exist",
                      (unsigned long long)m->base, m->queue_sel);
            return;
        }
        virtio_queue_set_ready(d, m->queue_sel, val & 1);
        return;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        virtio_queue_notify(d, val);
        return;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        virtio_isr_ack(d, val);
        return;
    case VIRTIO_MMIO_STATUS:
        if (val > 0xff) {
            log_guest("virtio-mmio@0x%llx: Status 0x%x has bits above 7",
                      (unsigned long long)m->base, val);
        }
        virtio_set_status(d, (uint8_t)val);
        return;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        if ((q = virtio_mmio_setup_queue(m, off))) {
            virtio_mmio_set_half(&q->desc_gpa,
                                 off == VIRTIO_MMIO_QUEUE_DESC_HIGH, val);
        }
        return;
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
        if ((q = virtio_mmio_setup_queue(m, off))) {
            virtio_mmio_set_half(&q->avail_gpa,
                                 off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH, val);
        }
        return;
    case VIRTIO_MMIO_QUEUE_USED_LOW:
    case VIRTIO_MMIO_QUEUE_USED_HIGH:
        if ((q = virtio_mmio_setup_queue(m, off))) {
            virtio_mmio_set_half(&q->used_gpa,
                                 off == VIRTIO_MMIO_QUEUE_USED_HIGH, val);
        }
        return;
    case VIRTIO_MMIO_SHM_SEL:
        m->shm_sel = val;
        return;
    default:
        log_guest("virtio-mmio@0x%llx: write of read-only or reserved "
                  "register 0x%llx",
                  (unsigned long long)m->base, (unsigned long long)off);
        return;
    }
}

static uint64_t virtio_mmio_read(void *opaque, uint64_t off, unsigned size)
{
    struct virtio_mmio *m = opaque;

    if (off >= VIRTIO_MMIO_CONFIG) {
        return virtio_mmio_config_read(m, off - VIRTIO_MMIO_CONFIG, size);
    }
    if (size != 4) {
        log_guest("virtio-mmio@0x%llx: %u-byte read of register 0x%llx",
                  (unsigned long long)m->base, size, (unsigned long long)off);
        return 0;
    }
    return virtio_mmio_reg_read(m, off);
}

static void virtio_mmio_write(void *opaque, uint64_t off, uint64_t val,
                              unsigned size)
{
    struct virtio_mmio *m = opaque;

    if (off >= VIRTIO_MMIO_CONFIG) {
        virtio_mmio_config_write(m, off - VIRTIO_MMIO_CONFIG, val, size);
        return;
    }
    if (size != 4) {
        log_guest("virtio-mmio@0x%llx: %u-byte write of register 0x%llx",
                  (unsigned long long)m->base, size, (unsigned long long)off);
        return;
    }
    virtio_mmio_reg_write(m, off, (uint32_t)val);
}

static const struct bus_ops virtio_mmio_ops = {
    .read = virtio_mmio_read,
    .write = virtio_mmio_write,
    .min_size = 1,
    .max_size = 8,
};

struct virtio_mmio *virtio_mmio_new(struct bus *bus, uint64_t base,
                                    struct irq_line irq, struct error *err)
{
    struct virtio_mmio *m = calloc(1, sizeof(*m));
    if (!m) {
        err_set(err, -ENOMEM, "out of memory");
        return NULL;
    }
    m->bus = bus;
    m->base = base;
    m->irq = irq;
    if (bus_map(bus, base, VIRTIO_MMIO_SIZE, &virtio_mmio_ops, m, "virtio-mmio",
                err) < 0) {
        free(m);
        return NULL;
    }
    return m;
}

void virtio_mmio_plug(struct virtio_mmio *m, struct virtio_dev *dev)
{
    assert(!m->dev && dev && !dev->tops);
    m->dev = dev;
    dev->tops = &virtio_mmio_tops;
    dev->topaque = m;
}

struct virtio_dev *virtio_mmio_dev(struct virtio_mmio *m)
{
    return m->dev;
}

void virtio_mmio_reset(struct virtio_mmio *m)
{
    m->dev_features_sel = 0;
    m->drv_features_sel = 0;
    m->queue_sel = 0;
    m->shm_sel = 0;
    if (m->dev) {
        virtio_reset(m->dev);
    }
    irq_lower(&m->irq);
}

void virtio_mmio_free(struct virtio_mmio *m)
{
    if (m && m->dev) {
        m->dev->tops = NULL;
        m->dev->topaque = NULL;
    }
    free(m);
}

void virtio_mmio_set_shm(struct virtio_mmio *m, uint8_t id, uint64_t base,
                         uint64_t len)
{
    m->shm[id] = (struct virtio_mmio_shm){ .base = base, .len = len };
}
