/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng-device tests: random bytes arrive in the device-writable
 * buffers, each chain is capped at VIRTIO_RNG_MAX_PER_REQ, readable
 * buffers are left alone, and a chain pointing outside guest RAM marks
 * the device NEEDS_RESET instead of crashing; and the shared virtio
 * conformance suite over a virtio-mmio transport.
 */
#include <linux/virtio_ids.h>
#include <stdlib.h>

#include "core/log.h"
#include "harness.h"
#include "hw/virtio/rng.h"
#include "vdev_driver.h"
#include "virtio_conformance.h"

static struct mem_map mem;
static struct virtio_rng *rng;
static struct virtio_dev *d;
static struct vd_queue q;

static void setup(void)
{
    CHECK(vd_ram(&mem) == 0);
    rng = virtio_rng_new(&mem);
    d = virtio_rng_vdev(rng);
    CHECK(vd_features(d, 0));
    CHECK(vd_queue(&q, d, 0, 16));
    vd_driver_ok(d);
}

static void teardown(void)
{
    virtio_rng_free(rng);
    mem_free(&mem);
}

static bool all_zero(uint64_t gpa, size_t len)
{
    uint8_t *p = mem_ptr(&mem, gpa, len, false);
    for (size_t i = 0; i < len; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

TEST(identity)
{
    setup();
    CHECK_EQ(d->ops->device_id, VIRTIO_ID_RNG);
    CHECK(strcmp(virtio_rng_model.name, "virtio-rng-device") == 0);
    CHECK(d->status & VIRTIO_CONFIG_S_DRIVER_OK);
    teardown();
}

TEST(fills_buffers)
{
    setup();
    struct vd_buf b = { VD_DATA_BASE, 64, true };
    uint16_t h = vd_post(&q, &b, 1);
    vd_notify(&q);
    uint32_t id, len;
    CHECK(vd_used(&q, &id, &len));
    CHECK_EQ(id, h);
    CHECK_EQ(len, 64);
    CHECK(!all_zero(VD_DATA_BASE, 64));
    CHECK(d->isr & 1);
    CHECK(!vd_used(&q, NULL, NULL));

    /* Two writable parts in one chain; a readable part first is ignored. */
    uint8_t pattern[32];
    memset(pattern, 0xa5, sizeof(pattern));
    mem_write(&mem, VD_DATA_BASE + 0x1000, pattern, sizeof(pattern));
    struct vd_buf c[3] = { { VD_DATA_BASE + 0x1000, 32, false },
                           { VD_DATA_BASE + 0x2000, 40, true },
                           { VD_DATA_BASE + 0x3000, 24, true } };
    h = vd_post(&q, c, 3);
    vd_notify(&q);
    CHECK(vd_used(&q, &id, &len));
    CHECK_EQ(id, h);
    CHECK_EQ(len, 64);
    CHECK(memcmp(mem_ptr(&mem, VD_DATA_BASE + 0x1000, 32, false), pattern,
                 32) == 0);
    CHECK(!all_zero(VD_DATA_BASE + 0x3000, 24));
    teardown();
}

TEST(bounded_per_request)
{
    setup();
    uint32_t big = VIRTIO_RNG_MAX_PER_REQ + 8192;
    struct vd_buf b = { VD_DATA_BASE, big, true };
    vd_post(&q, &b, 1);
    vd_notify(&q);
    uint32_t len = 0;
    CHECK(vd_used(&q, NULL, &len));
    CHECK_EQ(len, VIRTIO_RNG_MAX_PER_REQ);
    CHECK(all_zero(VD_DATA_BASE + VIRTIO_RNG_MAX_PER_REQ, 8192));
    CHECK(!all_zero(VD_DATA_BASE + VIRTIO_RNG_MAX_PER_REQ - 64, 64));

    /* A chain with nothing writable completes with 0 bytes. */
    struct vd_buf r = { VD_DATA_BASE, 16, false };
    vd_post(&q, &r, 1);
    vd_notify(&q);
    CHECK(vd_used(&q, NULL, &len));
    CHECK_EQ(len, 0);
    teardown();
}

TEST(hostile_buffer)
{
    setup();
    uint64_t before = log_guest_count();
    struct vd_buf b = { 0x1000, 64, true }; /* not RAM */
    vd_post(&q, &b, 1);
    vd_notify(&q);
    CHECK(!vd_used(&q, NULL, NULL));
    CHECK(d->status & VIRTIO_CONFIG_S_NEEDS_RESET);
    CHECK(log_guest_count() > before);
    /* Reset recovers. */
    dev_lock();
    virtio_set_status(d, 0);
    dev_unlock();
    CHECK_EQ(d->status, 0);
    teardown();
}

static struct virtio_dev *conf_create(struct mem_map *m, void *arg)
{
    (void)arg;
    return virtio_rng_vdev(virtio_rng_new(m));
}

static void conf_destroy(struct virtio_dev *dd)
{
    virtio_rng_free(dd->opaque);
}

TEST(conformance)
{
    CHECK(vd_ram(&mem) == 0);
    struct virtio_rng *r = virtio_rng_new(&mem);
    struct vconf_device cd = {
        .ops = virtio_rng_vdev(r)->ops,
        .create = conf_create,
        .destroy = conf_destroy,
    };
    virtio_rng_free(r);
    mem_free(&mem);
    vconf_run(&cd);
}

int main(void)
{
    RUN(identity);
    RUN(fills_buffers);
    RUN(bounded_per_request);
    RUN(hostile_buffer);
    RUN(conformance);
    HARNESS_END();
}
