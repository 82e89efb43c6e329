/* SPDX-License-Identifier: MIT */
/*
 * A virtio conformance suite for any device (tests/dev), and the small
 * in-process "driver" it is built on: fake guest RAM, a bus, a virtio-mmio
 * transport with the device plugged in, and helpers that write rings the
 * way a guest driver does (virtio 1.2 spec 3.1 initialization, 2.7 split
 * rings). A device test includes this after harness.h and calls
 * vconf_run(&dev) with a struct vconf_device naming the device's ops and
 * how to create, poll and destroy one.
 *
 * What it checks, for every device: feature negotiation (VERSION_1
 * required, features not offered refused, DriverFeatures frozen after
 * FEATURES_OK, DRIVER_OK needs FEATURES_OK, ACCESS_PLATFORM never
 * offered); reset at any point, also with requests in flight (nothing is
 * written into the rings of the next initialization); queues of size 1;
 * notifications with nothing available and for queues that don't exist;
 * config-space bounds (reads past the end are zero, writes past the end
 * change nothing); and malicious rings on every queue: descriptor loops,
 * chains longer than the queue, wild addresses and lengths (outside RAM,
 * wrapping past 2^64), bad next/head indices, indirect inside indirect,
 * bad indirect tables, avail-index jumps, readable after writable. Each
 * must end in NEEDS_RESET (with a configuration interrupt) or a completion
 * or be left alone, and at least one queue must catch every case; never a
 * crash or a hang. Generic well-formed chains (a small readable header and
 * a writable buffer) also run across the 16-bit index wrap-around; their
 * completions must name a head we posted and not claim more bytes than
 * the writable buffers hold.
 */
#ifndef SWEDE_TESTS_DEV_VIRTIO_CONFORMANCE_H
#define SWEDE_TESTS_DEV_VIRTIO_CONFORMANCE_H

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "bus/bus.h"
#include "core/error.h"
#include "harness.h"
#include "hw/virtio/mmio.h"
#include "hw/virtio/virtio.h"
#include "mem/mem.h"

#define VDRV_BASE     0x10008000ull
#define VDRV_RAM      0x80000000ull
#define VDRV_RAM_SIZE (8ull << 20)
#define VDRV_Q_STRIDE 0x10000ull /* per-queue ring area */
#define VDRV_DATA     (VDRV_RAM + 0x400000ull)

struct vconf_device {
    const struct virtio_dev_ops *ops;
    /* A new device over mem; its virtio_dev is not yet plugged. */
    struct virtio_dev *(*create)(struct mem_map *mem, void *arg);
    void (*destroy)(struct virtio_dev *d);
    /* Optional: let asynchronous work complete (backends, main loop).
     * Called without the device lock. */
    void (*poll)(struct virtio_dev *d);
    void *arg;
};

struct vdrv_queue {
    uint16_t num;
    uint64_t desc, avail, used;
    uint16_t avail_idx; /* next avail idx the driver publishes */
    uint16_t used_seen; /* used entries consumed */
};

struct vdrv {
    const struct vconf_device *cd;
    struct mem_map mem;
    struct bus *bus;
    struct virtio_mmio *mmio;
    struct virtio_dev *dev;
    int irq_level;
    unsigned irq_raises;
    uint64_t data_next;
    struct vdrv_queue q[VIRTIO_MAX_QUEUES];
};

static void vdrv_irq(void *opaque, unsigned n, int level)
{
    struct vdrv *v = opaque;
    (void)n;
    if (level && !v->irq_level) {
        v->irq_raises++;
    }
    v->irq_level = level;
}

static void vdrv_open(struct vdrv *v, const struct vconf_device *cd)
{
    struct error err = { 0 };

    memset(v, 0, sizeof(*v));
    v->cd = cd;
    CHECK(mem_add_block(&v->mem, VDRV_RAM, VDRV_RAM_SIZE, false, "ram", &err) ==
          0);
    v->bus = bus_new();
    CHECK(v->bus != NULL);
    v->mmio = virtio_mmio_new(
        v->bus, VDRV_BASE,
        (struct irq_line){ .set = vdrv_irq, .opaque = v, .n = 0 }, &err);
    CHECK(v->mmio != NULL);
    v->dev = cd->create(&v->mem, cd->arg);
    CHECK(v->dev != NULL);
    CHECK(v->dev->ops == cd->ops);
    virtio_mmio_plug(v->mmio, v->dev);
    v->data_next = VDRV_DATA;
}

static void vdrv_close(struct vdrv *v)
{
    dev_lock();
    virtio_mmio_reset(v->mmio);
    dev_unlock();
    bus_free(v->bus);
    virtio_mmio_free(v->mmio);
    if (v->cd->destroy) {
        v->cd->destroy(v->dev);
    }
    mem_free(&v->mem);
}

static uint32_t vdrv_rd(struct vdrv *v, uint64_t off)
{
    uint64_t val = 0;
    CHECK(bus_read(v->bus, VDRV_BASE + off, 4, &val));
    return (uint32_t)val;
}

static void vdrv_wr(struct vdrv *v, uint64_t off, uint32_t val)
{
    CHECK(bus_write(v->bus, VDRV_BASE + off, 4, val));
}

static void vdrv_poll(struct vdrv *v)
{
    if (v->cd->poll) {
        for (int i = 0; i < 4; i++) {
            v->cd->poll(v->dev);
        }
    }
}

static void *vdrv_host(struct vdrv *v, uint64_t gpa, uint64_t len)
{
    void *p = mem_ptr(&v->mem, gpa, len, true);
    CHECK(p != NULL);
    return p;
}

static void vdrv_w16(struct vdrv *v, uint64_t gpa, uint16_t x)
{
    memcpy(vdrv_host(v, gpa, 2), &x, 2);
}

static uint16_t vdrv_r16(struct vdrv *v, uint64_t gpa)
{
    uint16_t x;
    memcpy(&x, vdrv_host(v, gpa, 2), 2);
    return x;
}

static uint32_t vdrv_r32(struct vdrv *v, uint64_t gpa)
{
    uint32_t x;
    memcpy(&x, vdrv_host(v, gpa, 4), 4);
    return x;
}

/* Guest buffer of len (< 1 MiB) bytes, zeroed, 16-byte aligned; the data
 * area is reused round-robin (tests keep few buffers live). */
static uint64_t vdrv_alloc(struct vdrv *v, uint64_t len)
{
    if (v->data_next + len > VDRV_RAM + VDRV_RAM_SIZE) {
        v->data_next = VDRV_DATA;
    }
    uint64_t g = v->data_next;
    v->data_next = (g + len + 15) & ~15ull;
    memset(vdrv_host(v, g, len ? len : 1), 0, len ? len : 1);
    return g;
}

static uint64_t vdrv_features(struct vdrv *v)
{
    vdrv_wr(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint64_t f = vdrv_rd(v, VIRTIO_MMIO_DEVICE_FEATURES);
    vdrv_wr(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    return f | (uint64_t)vdrv_rd(v, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

static void vdrv_set_features(struct vdrv *v, uint64_t f)
{
    vdrv_wr(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    vdrv_wr(v, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
    vdrv_wr(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    vdrv_wr(v, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

/* Set up queue n with num entries at its fixed place; true if ready. */
static bool vdrv_queue(struct vdrv *v, unsigned n, uint16_t num)
{
    struct vdrv_queue *q = &v->q[n];
    uint64_t base = VDRV_RAM + n * VDRV_Q_STRIDE;

    memset(q, 0, sizeof(*q));
    q->num = num;
    q->desc = base;
    q->avail = base + 0x4000;
    q->used = base + 0x5000;
    memset(vdrv_host(v, base, VDRV_Q_STRIDE), 0, VDRV_Q_STRIDE);
    vdrv_wr(v, VIRTIO_MMIO_QUEUE_SEL, n);
    vdrv_wr(v, VIRTIO_MMIO_QUEUE_NUM, num);
    vdrv_wr(v, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->desc);
    vdrv_wr(v, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(q->desc >> 32));
    vdrv_wr(v, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)q->avail);
    vdrv_wr(v, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(q->avail >> 32));
    vdrv_wr(v, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)q->used);
    vdrv_wr(v, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(q->used >> 32));
    vdrv_wr(v, VIRTIO_MMIO_QUEUE_READY, 1);
    return vdrv_rd(v, VIRTIO_MMIO_QUEUE_READY) == 1;
}

/*
 * The driver sequence of 3.1.1 accepting want & offered; every queue set
 * up with min(num_max, qsize) entries; DRIVER_OK if driver_ok. Returns
 * the number of queues.
 */
static unsigned vdrv_init(struct vdrv *v, uint64_t want, uint16_t qsize,
                          bool driver_ok)
{
    vdrv_wr(v, VIRTIO_MMIO_STATUS, 0);
    CHECK_EQ(vdrv_rd(v, VIRTIO_MMIO_STATUS), 0);
    CHECK_EQ(vdrv_rd(v, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
    CHECK_EQ(vdrv_rd(v, VIRTIO_MMIO_VERSION), 2);
    CHECK_EQ(vdrv_rd(v, VIRTIO_MMIO_DEVICE_ID), v->cd->ops->device_id);
    vdrv_wr(v, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    vdrv_wr(v, VIRTIO_MMIO_STATUS,
            VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    uint64_t f = vdrv_features(v) & want;
    vdrv_set_features(v, f);
    uint32_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                  VIRTIO_CONFIG_S_FEATURES_OK;
    vdrv_wr(v, VIRTIO_MMIO_STATUS, st);
    CHECK(vdrv_rd(v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
    unsigned nq = 0;
    for (unsigned n = 0; n < VIRTIO_MAX_QUEUES; n++) {
        vdrv_wr(v, VIRTIO_MMIO_QUEUE_SEL, n);
        uint32_t max = vdrv_rd(v, VIRTIO_MMIO_QUEUE_NUM_MAX);
        if (max == 0) {
            break;
        }
        CHECK_EQ(vdrv_rd(v, VIRTIO_MMIO_QUEUE_READY), 0);
        CHECK(max <= VIRTQ_MAX_SIZE);
        CHECK(vdrv_queue(v, n, max < qsize ? (uint16_t)max : qsize));
        nq++;
    }
    CHECK_EQ(nq, v->dev->num_queues);
    if (driver_ok) {
        vdrv_wr(v, VIRTIO_MMIO_STATUS, st | VIRTIO_CONFIG_S_DRIVER_OK);
        CHECK(vdrv_rd(v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK);
    }
    return nq;
}

static void vdrv_desc(struct vdrv *v, uint64_t table, unsigned i, uint64_t addr,
                      uint32_t len, uint16_t flags, uint16_t next)
{
    struct vring_desc d = {
        .addr = addr, .len = len, .flags = flags, .next = next
    };
    memcpy(vdrv_host(v, table + 16ull * i, 16), &d, 16);
}

/* Publish head on queue n (no kick). */
static void vdrv_post(struct vdrv *v, unsigned n, uint16_t head)
{
    struct vdrv_queue *q = &v->q[n];
    vdrv_w16(v, q->avail + 4 + 2u * (q->avail_idx % q->num), head);
    q->avail_idx++;
    vdrv_w16(v, q->avail + 2, q->avail_idx);
}

static void vdrv_kick(struct vdrv *v, unsigned n)
{
    vdrv_wr(v, VIRTIO_MMIO_QUEUE_NOTIFY, n);
    vdrv_poll(v);
}

/* Next used element of queue n: true and the id and length, if there is one. */
static bool vdrv_used(struct vdrv *v, unsigned n, uint32_t *id, uint32_t *len)
{
    struct vdrv_queue *q = &v->q[n];
    uint16_t idx = vdrv_r16(v, q->used + 2);
    if (idx == q->used_seen) {
        return false;
    }
    uint64_t e = q->used + 4 + 8ull * (q->used_seen % q->num);
    *id = vdrv_r32(v, e);
    *len = vdrv_r32(v, e + 4);
    q->used_seen++;
    return true;
}

static uint32_t vdrv_status(struct vdrv *v)
{
    return vdrv_rd(v, VIRTIO_MMIO_STATUS);
}

/* A generic well-formed chain in desc slot `slot` (uses 2 entries, or 1 on
 * a queue of size 1: writable only). Returns the writable size. */
static uint32_t vdrv_generic_chain(struct vdrv *v, unsigned n, uint16_t slot)
{
    struct vdrv_queue *q = &v->q[n];
    uint64_t hdr = vdrv_alloc(v, 64), buf = vdrv_alloc(v, 4096);
    if (q->num == 1) {
        vdrv_desc(v, q->desc, 0, buf, 4096, VRING_DESC_F_WRITE, 0);
        return 4096;
    }
    uint16_t a = slot % q->num, b = (slot + 1) % q->num;
    vdrv_desc(v, q->desc, a, hdr, 64, VRING_DESC_F_NEXT, b);
    vdrv_desc(v, q->desc, b, buf, 4096, VRING_DESC_F_WRITE, 0);
    return 4096;
}

/* Drain queue n's completions, checking each names a posted head (one of
 * `heads`, a bitmask over slots < 64) and a sane length. */
static unsigned vdrv_check_used(struct vdrv *v, unsigned n, uint64_t heads,
                                uint32_t max_len)
{
    uint32_t id, len;
    unsigned got = 0;
    while (vdrv_used(v, n, &id, &len) && got < 4096) {
        CHECK(id < 64 && (heads >> id & 1));
        CHECK(len <= max_len);
        got++;
    }
    return got;
}

/* --- the suite ---------------------------------------------------------- */

static void vconf_features(const struct vconf_device *cd)
{
    struct vdrv v;
    vdrv_open(&v, cd);
    uint64_t offered = vdrv_features(&v);
    uint32_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

    CHECK(offered & (1ull << VIRTIO_F_VERSION_1));
    CHECK(!(offered & (1ull << VIRTIO_F_ACCESS_PLATFORM)));

    /* A legacy driver: everything but VERSION_1. */
    vdrv_wr(&v, VIRTIO_MMIO_STATUS, 0);
    vdrv_wr(&v, VIRTIO_MMIO_STATUS, st);
    vdrv_set_features(&v, offered & ~(1ull << VIRTIO_F_VERSION_1));
    vdrv_wr(&v, VIRTIO_MMIO_STATUS, st | VIRTIO_CONFIG_S_FEATURES_OK);
    CHECK(!(vdrv_status(&v) & VIRTIO_CONFIG_S_FEATURES_OK));
    /* DRIVER_OK without FEATURES_OK does not stick either. */
    vdrv_wr(&v, VIRTIO_MMIO_STATUS, st | VIRTIO_CONFIG_S_DRIVER_OK);
    CHECK(!(vdrv_status(&v) & VIRTIO_CONFIG_S_DRIVER_OK));

    /* Every feature bit that was not offered, one at a time. */
    for (unsigned bit = 0; bit < 64; bit++) {
        if (offered >> bit & 1) {
            continue;
        }
        vdrv_wr(&v, VIRTIO_MMIO_STATUS, 0);
        vdrv_wr(&v, VIRTIO_MMIO_STATUS, st);
        vdrv_set_features(&v, (1ull << VIRTIO_F_VERSION_1) | 1ull << bit);
        vdrv_wr(&v, VIRTIO_MMIO_STATUS, st | VIRTIO_CONFIG_S_FEATURES_OK);
        CHECK(!(vdrv_status(&v) & VIRTIO_CONFIG_S_FEATURES_OK));
    }

    /* Everything offered is accepted; DriverFeatures then frozen. */
    vdrv_wr(&v, VIRTIO_MMIO_STATUS, 0);
    vdrv_wr(&v, VIRTIO_MMIO_STATUS, st);
    vdrv_set_features(&v, offered);
    vdrv_wr(&v, VIRTIO_MMIO_STATUS, st | VIRTIO_CONFIG_S_FEATURES_OK);
    CHECK(vdrv_status(&v) & VIRTIO_CONFIG_S_FEATURES_OK);
    CHECK_EQ(v.dev->features, offered);
    vdrv_set_features(&v, 0);
    CHECK_EQ(v.dev->features, offered);
    CHECK_EQ(v.dev->driver_features, offered);
    /* Only VERSION_1 is also fine. */
    vdrv_wr(&v, VIRTIO_MMIO_STATUS, 0);
    vdrv_wr(&v, VIRTIO_MMIO_STATUS, st);
    vdrv_set_features(&v, 1ull << VIRTIO_F_VERSION_1);
    vdrv_wr(&v, VIRTIO_MMIO_STATUS, st | VIRTIO_CONFIG_S_FEATURES_OK);
    CHECK(vdrv_status(&v) & VIRTIO_CONFIG_S_FEATURES_OK);
    vdrv_close(&v);
}

/* Reset before and after DRIVER_OK and with requests in flight; the next
 * initialization's rings must see nothing from before. */
static void vconf_reset(const struct vconf_device *cd)
{
    struct vdrv v;
    vdrv_open(&v, cd);
    for (int round = 0; round < 4; round++) {
        unsigned nq = vdrv_init(&v, ~0ull, 8, round != 1);
        if (round >= 2) {
            for (unsigned n = 0; n < nq; n++) {
                vdrv_generic_chain(&v, n, 0);
                vdrv_post(&v, n, 0);
                if (round == 3) {
                    vdrv_kick(&v, n);
                }
            }
        }
        vdrv_wr(&v, VIRTIO_MMIO_STATUS, 0);
        CHECK_EQ(vdrv_status(&v), 0);
        CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
        CHECK_EQ(v.irq_level, 0);
        CHECK_EQ(v.dev->features, 0);
        for (unsigned n = 0; n < nq; n++) {
            vdrv_wr(&v, VIRTIO_MMIO_QUEUE_SEL, n);
            CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_QUEUE_READY), 0);
        }
        vdrv_poll(&v);
    }
    /* Fresh rings after a reset with requests in flight stay untouched. */
    unsigned nq = vdrv_init(&v, ~0ull, 8, true);
    vdrv_poll(&v);
    for (unsigned n = 0; n < nq; n++) {
        CHECK_EQ(vdrv_r16(&v, v.q[n].used + 2), 0);
    }
    /* Reset in the middle of initialization. */
    vdrv_wr(&v, VIRTIO_MMIO_STATUS, 0);
    vdrv_wr(&v, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    vdrv_wr(&v, VIRTIO_MMIO_STATUS, 0);
    CHECK_EQ(vdrv_status(&v), 0);
    /* And the board's reset path. */
    vdrv_init(&v, ~0ull, 8, true);
    dev_lock();
    virtio_mmio_reset(v.mmio);
    dev_unlock();
    CHECK_EQ(vdrv_status(&v), 0);
    vdrv_close(&v);
}

/* Queues of size 1, generic requests, and notifications with nothing to
 * do or for queues that don't exist. */
static void vconf_queues(const struct vconf_device *cd)
{
    struct vdrv v;
    vdrv_open(&v, cd);
    unsigned nq = vdrv_init(&v, ~0ull, 1, true);
    for (unsigned n = 0; n < nq; n++) {
        vdrv_kick(&v, n); /* nothing available */
    }
    vdrv_kick(&v, nq);
    vdrv_kick(&v, 0xffff);
    vdrv_kick(&v, 0xffffffffu);
    CHECK(!(vdrv_status(&v) & VIRTIO_CONFIG_S_NEEDS_RESET));
    for (unsigned n = 0; n < nq; n++) {
        uint32_t id, len;
        CHECK(!vdrv_used(&v, n, &id, &len));
        uint32_t wlen = vdrv_generic_chain(&v, n, 0);
        vdrv_post(&v, n, 0);
        vdrv_kick(&v, n);
        vdrv_kick(&v, n);
        vdrv_check_used(&v, n, 1, wlen);
    }
    CHECK(!(vdrv_status(&v) & VIRTIO_CONFIG_S_NEEDS_RESET));
    vdrv_close(&v);
}

/* Valid chains across the 16-bit index wrap (a queue that has run for a
 * long time), on every queue. */
static void vconf_wrap(const struct vconf_device *cd)
{
    struct vdrv v;
    vdrv_open(&v, cd);
    unsigned nq = vdrv_init(&v, ~0ull, 4, true);
    for (unsigned n = 0; n < nq; n++) {
        struct vdrv_queue *q = &v.q[n];
        dev_lock();
        v.dev->vq[n].last_avail = v.dev->vq[n].used_idx = 65534;
        dev_unlock();
        q->avail_idx = q->used_seen = 65534;
        vdrv_w16(&v, q->avail + 2, 65534);
        vdrv_w16(&v, q->used + 2, 65534);
        uint64_t heads = 0;
        for (unsigned k = 0; k < 2 && k < q->num / 2; k++) {
            vdrv_generic_chain(&v, n, (uint16_t)(2 * k));
            vdrv_post(&v, n, (uint16_t)(2 * k));
            heads |= 1ull << (2 * k);
        }
        if (q->num == 1) {
            vdrv_generic_chain(&v, n, 0);
            vdrv_post(&v, n, 0);
            heads = 1;
        }
        vdrv_kick(&v, n);
        vdrv_check_used(&v, n, heads, 4096);
        CHECK(!(vdrv_status(&v) & VIRTIO_CONFIG_S_NEEDS_RESET));
    }
    vdrv_close(&v);
}

static void vconf_config(const struct vconf_device *cd)
{
    struct vdrv v;
    vdrv_open(&v, cd);
    vdrv_init(&v, ~0ull, 8, true);
    uint32_t size = cd->ops->config_size ? cd->ops->config_size(v.dev) : 0;
    uint8_t before[256] = { 0 }, after[256] = { 0 };
    uint32_t n = size < sizeof(before) ? size : sizeof(before);
    uint64_t val;

    for (uint32_t i = 0; i < n; i++) {
        CHECK(bus_read(v.bus, VDRV_BASE + 0x100 + i, 1, &val));
        before[i] = (uint8_t)val;
    }
    uint32_t gen = vdrv_rd(&v, VIRTIO_MMIO_CONFIG_GENERATION);
    /* Past the end, in every size, and straddling the end. */
    static const unsigned sizes[] = { 1, 2, 4, 8 };
    for (unsigned s = 0; s < 4; s++) {
        uint64_t off = (size + sizes[s] - 1) & ~(uint64_t)(sizes[s] - 1);
        if (0x100 + off + sizes[s] <= VIRTIO_MMIO_SIZE) {
            CHECK(bus_read(v.bus, VDRV_BASE + 0x100 + off, sizes[s], &val));
            CHECK_EQ(val, 0);
            CHECK(bus_write(v.bus, VDRV_BASE + 0x100 + off, sizes[s],
                            0xa5a5a5a5a5a5a5a5ull));
        }
        if (size >= 2 && sizes[s] > 1) {
            uint64_t st = (size - 1) & ~(uint64_t)(sizes[s] - 1);
            if (st + sizes[s] > size) {
                CHECK(bus_read(v.bus, VDRV_BASE + 0x100 + st, sizes[s], &val));
                CHECK_EQ(val, 0);
                CHECK(bus_write(v.bus, VDRV_BASE + 0x100 + st, sizes[s],
                                0x5a5a5a5a5a5a5a5aull));
            }
        }
    }
    CHECK(bus_read(v.bus, VDRV_BASE + VIRTIO_MMIO_SIZE - 4, 4, &val));
    CHECK_EQ(val, 0);
    uint8_t out[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    dev_lock();
    virtio_config_read(v.dev, 0xfffffffcu, out, 8);
    virtio_config_write(v.dev, 0xfffffffcu, out, 8);
    virtio_config_write(v.dev, size, out, 1);
    dev_unlock();
    CHECK_EQ(out[0] | out[7], 0);
    for (uint32_t i = 0; i < n; i++) {
        CHECK(bus_read(v.bus, VDRV_BASE + 0x100 + i, 1, &val));
        after[i] = (uint8_t)val;
    }
    CHECK(memcmp(before, after, n) == 0);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_CONFIG_GENERATION), gen);
    vdrv_close(&v);
}

enum vconf_bad {
    VCONF_LOOP,
    VCONF_SELF_LOOP,
    VCONF_LONG_CHAIN,
    VCONF_ADDR_OUTSIDE,
    VCONF_ADDR_WRAP,
    VCONF_LEN_HUGE,
    VCONF_NEXT_RANGE,
    VCONF_HEAD_RANGE,
    VCONF_INDIRECT_NESTED,
    VCONF_INDIRECT_LEN,
    VCONF_INDIRECT_EMPTY,
    VCONF_INDIRECT_NEXT,
    VCONF_INDIRECT_WILD,
    VCONF_INDIRECT_LOOP,
    VCONF_AVAIL_JUMP,
    VCONF_READ_AFTER_WRITE,
    VCONF_NBAD
};

/* Write case `bad` into queue n (size q->num >= 2) and post it. */
static void vconf_write_bad(struct vdrv *v, unsigned n, enum vconf_bad bad)
{
    struct vdrv_queue *q = &v->q[n];
    uint64_t buf = vdrv_alloc(v, 4096), ind = vdrv_alloc(v, 16 * 8);
    uint16_t head = 0, num = q->num;
    const uint16_t NX = VRING_DESC_F_NEXT, WR = VRING_DESC_F_WRITE,
                   IN = VRING_DESC_F_INDIRECT;

    switch (bad) {
    case VCONF_LOOP:
        vdrv_desc(v, q->desc, 0, buf, 16, NX, 1);
        vdrv_desc(v, q->desc, 1, buf, 16, NX, 0);
        break;
    case VCONF_SELF_LOOP:
        vdrv_desc(v, q->desc, 0, buf, 16, NX, 0);
        break;
    case VCONF_LONG_CHAIN:
        for (uint16_t i = 0; i < num; i++) {
            vdrv_desc(v, q->desc, i, buf, 16, NX, (uint16_t)((i + 1) % num));
        }
        break;
    case VCONF_ADDR_OUTSIDE:
        vdrv_desc(v, q->desc, 0, buf, 16, NX, 1);
        vdrv_desc(v, q->desc, 1, 0x1000, 512, WR, 0);
        break;
    case VCONF_ADDR_WRAP:
        vdrv_desc(v, q->desc, 0, buf, 16, NX, 1);
        vdrv_desc(v, q->desc, 1, 0xfffffffffffff000ull, 0x2000, WR, 0);
        break;
    case VCONF_LEN_HUGE:
        vdrv_desc(v, q->desc, 0, buf, 16, NX, 1);
        vdrv_desc(v, q->desc, 1, VDRV_RAM + VDRV_RAM_SIZE - 4096, 0xffffffffu,
                  WR, 0);
        break;
    case VCONF_NEXT_RANGE:
        vdrv_desc(v, q->desc, 0, buf, 16, NX, num);
        break;
    case VCONF_HEAD_RANGE:
        vdrv_desc(v, q->desc, 0, buf, 16, 0, 0);
        head = num;
        break;
    case VCONF_INDIRECT_NESTED:
        vdrv_desc(v, q->desc, 0, ind, 32, IN, 0);
        vdrv_desc(v, ind, 0, buf, 16, NX, 1);
        vdrv_desc(v, ind, 1, ind, 32, IN, 0);
        break;
    case VCONF_INDIRECT_LEN:
        vdrv_desc(v, q->desc, 0, ind, 24, IN, 0);
        vdrv_desc(v, ind, 0, buf, 16, 0, 0);
        break;
    case VCONF_INDIRECT_EMPTY:
        vdrv_desc(v, q->desc, 0, ind, 0, IN, 0);
        break;
    case VCONF_INDIRECT_NEXT:
        vdrv_desc(v, q->desc, 0, ind, 16, IN | NX, 1);
        vdrv_desc(v, q->desc, 1, buf, 16, WR, 0);
        vdrv_desc(v, ind, 0, buf, 16, 0, 0);
        break;
    case VCONF_INDIRECT_WILD:
        vdrv_desc(v, q->desc, 0, 0xfffffffffffffff0ull, 16 * 1024, IN, 0);
        break;
    case VCONF_INDIRECT_LOOP:
        vdrv_desc(v, q->desc, 0, ind, 16 * 8, IN, 0);
        for (uint16_t i = 0; i < 8; i++) {
            vdrv_desc(v, ind, i, buf, 16, NX, (uint16_t)((i + 1) % 8));
        }
        break;
    case VCONF_AVAIL_JUMP:
        vdrv_desc(v, q->desc, 0, buf, 16, 0, 0);
        q->avail_idx = 65534; /* published as 65535 */
        break;
    case VCONF_READ_AFTER_WRITE:
        vdrv_desc(v, q->desc, 0, buf, 16, WR | NX, 1);
        vdrv_desc(v, q->desc, 1, buf + 16, 16, 0, 0);
        break;
    case VCONF_NBAD:
        break;
    }
    vdrv_post(v, n, head);
}

static void vconf_malicious(const struct vconf_device *cd)
{
    for (int bad = 0; bad < VCONF_NBAD; bad++) {
        unsigned caught = 0;
        for (unsigned n = 0;; n++) {
            struct vdrv v;
            vdrv_open(&v, cd);
            unsigned nq = vdrv_init(&v, ~0ull, 8, true);
            if (n >= nq) {
                vdrv_close(&v);
                break;
            }
            if (v.q[n].num < 2) {
                vdrv_close(&v);
                continue;
            }
            unsigned raises = v.irq_raises;
            vconf_write_bad(&v, n, (enum vconf_bad)bad);
            vdrv_kick(&v, n);
            vdrv_kick(&v, n);
            uint32_t st = vdrv_status(&v);
            if (st & VIRTIO_CONFIG_S_NEEDS_RESET) {
                caught++;
                CHECK(vdrv_rd(&v, VIRTIO_MMIO_INTERRUPT_STATUS) &
                      VIRTIO_MMIO_INT_CONFIG);
                CHECK(v.irq_raises > raises);
            } else {
                uint32_t id, len;
                if (vdrv_used(&v, n, &id, &len)) {
                    caught++;
                    CHECK(id < v.q[n].num);
                }
            }
            /* Whatever happened, a reset brings the device back. */
            vdrv_init(&v, ~0ull, 8, true);
            CHECK(!(vdrv_status(&v) & VIRTIO_CONFIG_S_NEEDS_RESET));
            vdrv_close(&v);
        }
        if (!caught) {
            printf("  malformed ring case %d not caught on any queue\n", bad);
        }
        CHECK(caught > 0);
    }
}

/* Queue registers the driver gets wrong: the queue must stay not ready. */
static void vconf_bad_setup(const struct vconf_device *cd)
{
    struct vdrv v;
    vdrv_open(&v, cd);
    vdrv_init(&v, ~0ull, 8, false);
    vdrv_wr(&v, VIRTIO_MMIO_QUEUE_SEL, 0);
    uint32_t max = vdrv_rd(&v, VIRTIO_MMIO_QUEUE_NUM_MAX);
    static const struct {
        uint32_t num;
        uint64_t desc, avail, used;
    } bad[] = {
        { 0, VDRV_RAM, VDRV_RAM + 0x4000, VDRV_RAM + 0x5000 },
        { 3, VDRV_RAM, VDRV_RAM + 0x4000, VDRV_RAM + 0x5000 },
        { 0x10000, VDRV_RAM, VDRV_RAM + 0x4000, VDRV_RAM + 0x5000 },
        { 1, VDRV_RAM + 8, VDRV_RAM + 0x4000, VDRV_RAM + 0x5000 },
        { 1, VDRV_RAM, VDRV_RAM + 0x4001, VDRV_RAM + 0x5000 },
        { 1, VDRV_RAM, VDRV_RAM + 0x4000, VDRV_RAM + 0x5002 },
        { 1, 0x1000, VDRV_RAM + 0x4000, VDRV_RAM + 0x5000 },
        { 1, VDRV_RAM, 0xfffffffffffffffeull, VDRV_RAM + 0x5000 },
        { 1, VDRV_RAM, VDRV_RAM + 0x4000, VDRV_RAM + VDRV_RAM_SIZE - 4 },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vdrv_wr(&v, VIRTIO_MMIO_QUEUE_READY, 0);
        vdrv_wr(&v, VIRTIO_MMIO_QUEUE_NUM,
                bad[i].num == 0x10000 ? max + 1 : bad[i].num);
        vdrv_wr(&v, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)bad[i].desc);
        vdrv_wr(&v, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(bad[i].desc >> 32));
        vdrv_wr(&v, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)bad[i].avail);
        vdrv_wr(&v, VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
                (uint32_t)(bad[i].avail >> 32));
        vdrv_wr(&v, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)bad[i].used);
        vdrv_wr(&v, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(bad[i].used >> 32));
        vdrv_wr(&v, VIRTIO_MMIO_QUEUE_READY, 1);
        CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_QUEUE_READY), 0);
        vdrv_kick(&v, 0);
    }
    vdrv_close(&v);
}

/* The whole suite. */
static void vconf_run(const struct vconf_device *cd)
{
    vconf_features(cd);
    vconf_reset(cd);
    vconf_queues(cd);
    vconf_wrap(cd);
    vconf_config(cd);
    vconf_bad_setup(cd);
    vconf_malicious(cd);
}

#endif
