/* SPDX-License-Identifier: MIT */
/*
 * virtio-mmio transport and device-core tests with a test-only echo
 * device: queue 0 copies each request's readable bytes into its writable
 * buffers at once; queue 1 holds its requests until poll() (a device with
 * requests in flight). The echo device runs the whole driver sequence
 * over the mmio registers, then the conformance suite
 * (virtio_conformance.h), then transport details: empty slots, access
 * sizes, queue registers frozen while ready, shared-memory regions,
 * interrupt status and line, config generation, notification
 * suppression and 16-bit index wrap-around.
 */
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>

#include "virtio_conformance.h"

#define ECHO_ID     0xec40u /* test-only device id */
#define ECHO_MAGIC  0x6f686365u
#define ECHO_HELD   16
#define ECHO_F_TEST 0 /* a device feature bit */

struct echo {
    struct virtio_dev vdev;
    struct virtq_elem elem;
    uint32_t scratch;
    uint32_t requests;
    struct virtq_elem held[ECHO_HELD];
    unsigned nheld;
    bool no_indirect;
};

static uint64_t echo_features(struct virtio_dev *d)
{
    struct echo *s = d->opaque;
    return (1ull << ECHO_F_TEST) | (1ull << VIRTIO_RING_F_EVENT_IDX) |
           (s->no_indirect ? 0 : 1ull << VIRTIO_RING_F_INDIRECT_DESC);
}

static uint32_t echo_config_size(struct virtio_dev *d)
{
    (void)d;
    return 12;
}

static void echo_config_read(struct virtio_dev *d, uint32_t off, void *buf,
                             uint32_t len)
{
    struct echo *s = d->opaque;
    uint32_t cfg[3] = { ECHO_MAGIC, s->scratch, s->requests };
    memcpy(buf, (uint8_t *)cfg + off, len);
}

static void echo_config_write(struct virtio_dev *d, uint32_t off,
                              const void *buf, uint32_t len)
{
    struct echo *s = d->opaque;
    uint32_t cfg[3] = { ECHO_MAGIC, s->scratch, s->requests };
    memcpy((uint8_t *)cfg + off, buf, len);
    s->scratch = cfg[1]; /* only the scratch word is writable */
}

static void echo_queue_notify(struct virtio_dev *d, unsigned n)
{
    struct echo *s = d->opaque;
    struct virtq *q = &d->vq[n];
    int r;

    if (n == 1) {
        while (s->nheld < ECHO_HELD &&
               (r = virtq_pop(q, &s->held[s->nheld])) == 1) {
            s->nheld++;
        }
        return;
    }
    while ((r = virtq_pop(q, &s->elem)) == 1) {
        uint8_t buf[256];
        size_t done = 0, n_;
        while ((n_ = virtq_read(&s->elem, done, buf, sizeof(buf))) > 0) {
            virtq_write(&s->elem, done, buf, n_);
            done += n_;
        }
        s->requests++;
        virtq_push(q, &s->elem,
                   (uint32_t)(done < s->elem.in_len ? done : s->elem.in_len));
    }
    if (r < 0) {
        virtio_set_needs_reset(d, "echo: malformed ring");
    }
    virtio_notify(d, n);
}

static void echo_reset(struct virtio_dev *d)
{
    struct echo *s = d->opaque;
    s->nheld = 0;
    s->scratch = 0;
}

static const struct virtio_dev_ops echo_ops = {
    .name = "echo",
    .device_id = ECHO_ID,
    .features = echo_features,
    .config_size = echo_config_size,
    .config_read = echo_config_read,
    .config_write = echo_config_write,
    .queue_notify = echo_queue_notify,
    .reset = echo_reset,
};

static struct virtio_dev *echo_create(struct mem_map *mem, void *arg)
{
    struct echo *s = calloc(1, sizeof(*s));
    s->no_indirect = arg != NULL;
    virtio_dev_init(&s->vdev, &echo_ops, s, mem, 2, 16);
    return &s->vdev;
}

static void echo_destroy(struct virtio_dev *d)
{
    free(d->opaque);
}

/* Complete the held requests of queue 1 (writing nothing). */
static void echo_poll(struct virtio_dev *d)
{
    struct echo *s = d->opaque;
    dev_lock();
    for (unsigned i = 0; i < s->nheld; i++) {
        virtq_push(&d->vq[1], &s->held[i], 0);
    }
    if (s->nheld) {
        s->nheld = 0;
        virtio_notify(d, 1);
    }
    dev_unlock();
}

static const struct vconf_device echo_dev = {
    .ops = &echo_ops,
    .create = echo_create,
    .destroy = echo_destroy,
    .poll = echo_poll,
};

static const struct vconf_device echo_dev_noind = {
    .ops = &echo_ops,
    .create = echo_create,
    .destroy = echo_destroy,
    .poll = echo_poll,
    .arg = (void *)1,
};

TEST(conformance)
{
    vconf_run(&echo_dev);
}

TEST(conformance_no_indirect)
{
    vconf_run(&echo_dev_noind);
}

/* One echo request on queue 0: out bytes, in buffer; returns used len. */
static uint32_t echo_once(struct vdrv *v, const char *msg, uint64_t *in_gpa)
{
    struct vdrv_queue *q = &v->q[0];
    size_t len = strlen(msg);
    uint64_t out = vdrv_alloc(v, len), in = vdrv_alloc(v, 64);
    uint16_t slot = (uint16_t)((q->avail_idx * 2) % q->num);
    uint32_t id, ulen;

    memcpy(vdrv_host(v, out, len), msg, len);
    vdrv_desc(v, q->desc, slot, out, (uint32_t)len, VRING_DESC_F_NEXT,
              (uint16_t)(slot + 1));
    vdrv_desc(v, q->desc, slot + 1u, in, 64, VRING_DESC_F_WRITE, 0);
    vdrv_post(v, 0, slot);
    vdrv_kick(v, 0);
    CHECK(vdrv_used(v, 0, &id, &ulen));
    CHECK_EQ(id, slot);
    *in_gpa = in;
    return ulen;
}

TEST(driver_sequence)
{
    struct vdrv v;
    uint64_t in;
    vdrv_open(&v, &echo_dev);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_VENDOR_ID), 0x554d4551);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_DEVICE_ID), ECHO_ID);
    uint64_t f = vdrv_features(&v);
    CHECK_EQ(f, (1ull << ECHO_F_TEST) | (1ull << VIRTIO_RING_F_EVENT_IDX) |
                    (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
                    (1ull << VIRTIO_F_VERSION_1));
    vdrv_init(&v, (1ull << VIRTIO_F_VERSION_1) | (1ull << ECHO_F_TEST), 8,
              true);
    CHECK(virtio_has_feature(v.dev, ECHO_F_TEST));
    CHECK(!virtio_has_feature(v.dev, VIRTIO_RING_F_EVENT_IDX));
    CHECK(!virtio_has_feature(v.dev, 64));
    CHECK(virtio_driver_ok(v.dev));
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_CONFIG), ECHO_MAGIC);

    CHECK_EQ(echo_once(&v, "ping", &in), 4);
    CHECK(memcmp(vdrv_host(&v, in, 4), "ping", 4) == 0);
    CHECK_EQ(v.irq_level, 1);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
    vdrv_wr(&v, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    CHECK_EQ(v.irq_level, 0);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_INTERRUPT_STATUS), 0);

    /* Indirect requests once negotiated. */
    vdrv_init(&v, ~0ull, 8, true);
    uint64_t tab = vdrv_alloc(&v, 32), out = vdrv_alloc(&v, 3);
    in = vdrv_alloc(&v, 8);
    memcpy(vdrv_host(&v, out, 3), "ind", 3);
    vdrv_desc(&v, tab, 0, out, 3, VRING_DESC_F_NEXT, 1);
    vdrv_desc(&v, tab, 1, in, 8, VRING_DESC_F_WRITE, 0);
    vdrv_desc(&v, v.q[0].desc, 5, tab, 32, VRING_DESC_F_INDIRECT, 0);
    vdrv_post(&v, 0, 5);
    vdrv_kick(&v, 0);
    uint32_t id, len;
    CHECK(vdrv_used(&v, 0, &id, &len));
    CHECK_EQ(id, 5);
    CHECK_EQ(len, 3);
    CHECK(memcmp(vdrv_host(&v, in, 3), "ind", 3) == 0);
    /* Requests counted in config space. */
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_CONFIG + 8), 2);
    vdrv_close(&v);
}

TEST(empty_slot)
{
    struct error err = { 0 };
    struct bus *bus = bus_new();
    struct virtio_mmio *m =
        virtio_mmio_new(bus, VDRV_BASE, (struct irq_line){ 0 }, &err);
    uint64_t val;
    CHECK(m != NULL);
    CHECK(virtio_mmio_dev(m) == NULL);
    CHECK(bus_read(bus, VDRV_BASE + VIRTIO_MMIO_MAGIC_VALUE, 4, &val));
    CHECK_EQ(val, 0x74726976);
    CHECK(bus_read(bus, VDRV_BASE + VIRTIO_MMIO_VERSION, 4, &val));
    CHECK_EQ(val, 2);
    CHECK(bus_read(bus, VDRV_BASE + VIRTIO_MMIO_DEVICE_ID, 4, &val));
    CHECK_EQ(val, 0);
    CHECK(bus_read(bus, VDRV_BASE + VIRTIO_MMIO_VENDOR_ID, 4, &val));
    CHECK_EQ(val, 0x554d4551);
    CHECK(bus_write(bus, VDRV_BASE + VIRTIO_MMIO_STATUS, 4, 0xf));
    CHECK(bus_write(bus, VDRV_BASE + VIRTIO_MMIO_QUEUE_NOTIFY, 4, 0));
    CHECK(bus_write(bus, VDRV_BASE + 0x100, 8, ~0ull));
    for (uint64_t off = 0x10; off < VIRTIO_MMIO_SIZE; off += 4) {
        CHECK(bus_read(bus, VDRV_BASE + off, 4, &val));
        CHECK_EQ(val, 0);
    }
    virtio_mmio_reset(m);
    bus_free(bus);
    virtio_mmio_free(m);
}

TEST(register_rules)
{
    struct vdrv v;
    uint64_t val;
    vdrv_open(&v, &echo_dev);
    vdrv_init(&v, ~0ull, 8, true);
    /* Registers only take 32-bit accesses. */
    CHECK(bus_read(v.bus, VDRV_BASE + VIRTIO_MMIO_MAGIC_VALUE, 2, &val));
    CHECK_EQ(val, 0);
    CHECK(bus_read(v.bus, VDRV_BASE + VIRTIO_MMIO_MAGIC_VALUE, 8, &val));
    CHECK_EQ(val, 0);
    CHECK(bus_read(v.bus, VDRV_BASE + VIRTIO_MMIO_MAGIC_VALUE + 1, 4, &val));
    CHECK_EQ(val, 0);
    CHECK(bus_write(v.bus, VDRV_BASE + VIRTIO_MMIO_STATUS, 1, 0));
    CHECK(vdrv_status(&v) & VIRTIO_CONFIG_S_DRIVER_OK);
    /* Config space takes every size. */
    CHECK(bus_read(v.bus, VDRV_BASE + 0x100, 1, &val));
    CHECK_EQ(val, ECHO_MAGIC & 0xff);
    CHECK(bus_read(v.bus, VDRV_BASE + 0x102, 2, &val));
    CHECK_EQ(val, ECHO_MAGIC >> 16);
    CHECK(bus_write(v.bus, VDRV_BASE + 0x104, 2, 0xbeef));
    CHECK(bus_read(v.bus, VDRV_BASE + 0x100, 8, &val));
    CHECK_EQ(val, ((uint64_t)0xbeef << 32) | ECHO_MAGIC);
    CHECK(bus_write(v.bus, VDRV_BASE + 0x100, 4, 0)); /* read-only word */
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_CONFIG), ECHO_MAGIC);

    /* Queue registers are frozen while the queue is ready. */
    vdrv_wr(&v, VIRTIO_MMIO_QUEUE_SEL, 0);
    uint64_t desc = v.dev->vq[0].desc_gpa;
    vdrv_wr(&v, VIRTIO_MMIO_QUEUE_NUM, 2);
    vdrv_wr(&v, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
    vdrv_wr(&v, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 1);
    vdrv_wr(&v, VIRTIO_MMIO_QUEUE_USED_LOW, 0x2000);
    CHECK_EQ(v.dev->vq[0].num, 8);
    CHECK_EQ(v.dev->vq[0].desc_gpa, desc);
    CHECK_EQ(v.dev->vq[0].avail_gpa, v.q[0].avail);
    CHECK_EQ(v.dev->vq[0].used_gpa, v.q[0].used);
    /* Queue selectors beyond the device's queues. */
    vdrv_wr(&v, VIRTIO_MMIO_QUEUE_SEL, 2);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_QUEUE_READY), 0);
    vdrv_wr(&v, VIRTIO_MMIO_QUEUE_NUM, 4);
    vdrv_wr(&v, VIRTIO_MMIO_QUEUE_READY, 1);
    vdrv_wr(&v, VIRTIO_MMIO_QUEUE_SEL, 0xffffffffu);
    vdrv_wr(&v, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_QUEUE_READY), 0);
    /* Feature words past 1. */
    vdrv_wr(&v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 7);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_DEVICE_FEATURES), 0);
    /* Read-only registers ignore writes; write-only read 0. */
    vdrv_wr(&v, VIRTIO_MMIO_MAGIC_VALUE, 0);
    vdrv_wr(&v, VIRTIO_MMIO_CONFIG_GENERATION, 5);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_QUEUE_NOTIFY), 0);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_QUEUE_PFN), 0);
    /* QueueReady 0 stops the queue; it can be set up again. */
    vdrv_wr(&v, VIRTIO_MMIO_QUEUE_SEL, 0);
    vdrv_wr(&v, VIRTIO_MMIO_QUEUE_READY, 0);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_QUEUE_READY), 0);
    CHECK(vdrv_queue(&v, 0, 4));
    uint64_t in;
    CHECK_EQ(echo_once(&v, "again", &in), 5);
    /* Past the registers, inside the region. */
    CHECK(bus_read(v.bus, VDRV_BASE + 0x0f8, 4, &val));
    CHECK_EQ(val, 0);
    vdrv_close(&v);
}

TEST(shm)
{
    struct vdrv v;
    vdrv_open(&v, &echo_dev);
    for (uint32_t sel = 0; sel < 3; sel++) {
        vdrv_wr(&v, VIRTIO_MMIO_SHM_SEL, sel);
        CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
        CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffffu);
        CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_SHM_BASE_LOW), 0xffffffffu);
        CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_SHM_BASE_HIGH), 0xffffffffu);
    }
    virtio_mmio_set_shm(v.mmio, 1, 0x4000000000ull, 0x100000000ull);
    vdrv_wr(&v, VIRTIO_MMIO_SHM_SEL, 1);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_SHM_LEN_LOW), 0);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_SHM_LEN_HIGH), 1);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_SHM_BASE_LOW), 0);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_SHM_BASE_HIGH), 0x40);
    vdrv_wr(&v, VIRTIO_MMIO_SHM_SEL, 0x12345);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
    vdrv_close(&v);
}

TEST(config_generation)
{
    struct vdrv v;
    vdrv_open(&v, &echo_dev);
    uint32_t gen = vdrv_rd(&v, VIRTIO_MMIO_CONFIG_GENERATION);
    dev_lock();
    virtio_config_changed(v.dev); /* before DRIVER_OK: no interrupt */
    dev_unlock();
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_CONFIG_GENERATION), gen + 1);
    CHECK_EQ(v.irq_level, 0);
    vdrv_init(&v, ~0ull, 8, true);
    dev_lock();
    virtio_config_changed(v.dev);
    dev_unlock();
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_CONFIG_GENERATION), gen + 2);
    CHECK_EQ(vdrv_rd(&v, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
    CHECK_EQ(v.irq_level, 1);
    vdrv_wr(&v, VIRTIO_MMIO_INTERRUPT_ACK, 0xffffffffu);
    CHECK_EQ(v.irq_level, 0);
    /* NEEDS_RESET is the device's: the driver can't clear or set it. */
    vdrv_wr(&v, VIRTIO_MMIO_STATUS,
            vdrv_status(&v) | VIRTIO_CONFIG_S_NEEDS_RESET);
    CHECK(!(vdrv_status(&v) & VIRTIO_CONFIG_S_NEEDS_RESET));
    dev_lock();
    virtio_set_needs_reset(v.dev, "test");
    virtio_set_needs_reset(v.dev, "test again");
    dev_unlock();
    CHECK(vdrv_status(&v) & VIRTIO_CONFIG_S_NEEDS_RESET);
    CHECK(!virtio_driver_ok(v.dev));
    vdrv_wr(&v, VIRTIO_MMIO_STATUS,
            vdrv_status(&v) & ~VIRTIO_CONFIG_S_NEEDS_RESET);
    CHECK(vdrv_status(&v) & VIRTIO_CONFIG_S_NEEDS_RESET);
    CHECK_EQ(v.irq_level, 1);
    vdrv_wr(&v, VIRTIO_MMIO_STATUS, 0);
    CHECK_EQ(v.irq_level, 0);
    CHECK_EQ(vdrv_status(&v), 0);
    vdrv_close(&v);
}

TEST(event_idx_interrupts)
{
    struct vdrv v;
    uint64_t in;
    vdrv_open(&v, &echo_dev);
    vdrv_init(&v, ~0ull, 8, true);
    CHECK(virtio_has_feature(v.dev, VIRTIO_RING_F_EVENT_IDX));
    uint64_t used_event = v.q[0].avail + 4 + 2 * 8;
    vdrv_w16(&v, used_event, 2); /* interrupt when used idx passes 2 */
    unsigned raises[4];
    for (unsigned i = 0; i < 4; i++) {
        echo_once(&v, "x", &in);
        raises[i] = v.irq_raises;
        vdrv_wr(&v, VIRTIO_MMIO_INTERRUPT_ACK, 1);
    }
    CHECK_EQ(raises[0], 1); /* the first one always */
    CHECK_EQ(raises[1], 1);
    CHECK_EQ(raises[2], 2); /* used idx 3 > 2 */
    CHECK_EQ(raises[3], 2);
    /* avail_event follows what the device consumed. */
    CHECK_EQ(vdrv_r16(&v, v.q[0].used + 4 + 8 * 8), 4);

    /* Without event idx: VRING_AVAIL_F_NO_INTERRUPT. */
    vdrv_init(&v, 1ull << VIRTIO_F_VERSION_1, 8, true);
    vdrv_w16(&v, v.q[0].avail, VRING_AVAIL_F_NO_INTERRUPT);
    unsigned before = v.irq_raises;
    echo_once(&v, "y", &in);
    CHECK_EQ(v.irq_raises, before);
    vdrv_w16(&v, v.q[0].avail, 0);
    echo_once(&v, "z", &in);
    CHECK_EQ(v.irq_raises, before + 1);
    vdrv_close(&v);
}

TEST(long_run_wrap)
{
    struct vdrv v;
    uint64_t in;
    vdrv_open(&v, &echo_dev);
    vdrv_init(&v, ~0ull, 2, true);
    bool ok = true;
    for (unsigned i = 0; i < 70000 && ok; i++) {
        ok = echo_once(&v, "w", &in) == 1;
    }
    CHECK(ok);
    CHECK_EQ(v.q[0].used_seen, (uint16_t)70000);
    CHECK(!(vdrv_status(&v) & VIRTIO_CONFIG_S_NEEDS_RESET));
    vdrv_close(&v);
}

TEST(in_flight_reset)
{
    struct vdrv v;
    vdrv_open(&v, &echo_dev);
    vdrv_init(&v, ~0ull, 8, true);
    vdrv_generic_chain(&v, 1, 0);
    vdrv_post(&v, 1, 0);
    vdrv_wr(&v, VIRTIO_MMIO_QUEUE_NOTIFY, 1); /* held, no poll */
    CHECK_EQ(((struct echo *)v.dev->opaque)->nheld, 1);
    vdrv_wr(&v, VIRTIO_MMIO_STATUS, 0);
    CHECK_EQ(((struct echo *)v.dev->opaque)->nheld, 0);
    vdrv_init(&v, ~0ull, 8, true);
    vdrv_poll(&v);
    CHECK_EQ(vdrv_r16(&v, v.q[1].used + 2), 0);
    /* A device completing a stale request after reset: dropped. */
    struct virtq_elem *el = calloc(1, sizeof(*el));
    dev_lock();
    virtio_reset(v.dev);
    virtq_push(&v.dev->vq[1], el, 0);
    dev_unlock();
    free(el);
    CHECK_EQ(vdrv_r16(&v, v.q[1].used + 2), 0);
    vdrv_close(&v);
}

int main(void)
{
    RUN(driver_sequence);
    RUN(empty_slot);
    RUN(register_rules);
    RUN(shm);
    RUN(config_generation);
    RUN(event_idx_interrupts);
    RUN(long_run_wrap);
    RUN(in_flight_reset);
    RUN(conformance);
    RUN(conformance_no_indirect);
    HARNESS_END();
}
