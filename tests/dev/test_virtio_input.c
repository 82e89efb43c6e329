/* SPDX-License-Identifier: MIT */
/*
 * virtio-input tests: the config window of each device kind byte for byte
 * (names, ids, event bitmaps, absolute ranges, unknown selections), events
 * delivered at EV_SYN and kept while the guest has no buffers, the bounded
 * ring dropping the oldest, the status queue (LEDs) and hostile status
 * buffers and config writes; and the shared virtio conformance suite for
 * each kind over a virtio-mmio transport.
 */
#include <linux/input-event-codes.h>
#include <linux/input.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_input.h>
#include <stddef.h>

#include "core/log.h"
#include "harness.h"
#include "hw/virtio/input.h"
#include "vdev_driver.h"
#include "virtio_conformance.h"

static struct mem_map mem;
static struct virtio_input *in;
static struct virtio_dev *d;
static struct vd_queue evq, stq;

static void setup(enum virtio_input_kind kind, const char *serial)
{
    CHECK(vd_ram(&mem) == 0);
    in = virtio_input_new(&mem, kind, serial);
    d = virtio_input_vdev(in);
    CHECK(vd_features(d, 0));
    CHECK(vd_queue(&evq, d, 0, 64));
    CHECK(vd_queue(&stq, d, 1, 64));
    vd_driver_ok(d);
}

static void teardown(void)
{
    virtio_input_free(in);
    mem_free(&mem);
}

/* Select and read the answer; returns size. */
static unsigned query(uint8_t sel, uint8_t sub, struct virtio_input_config *c)
{
    vd_cfg_write(d, 0, &sel, 1);
    vd_cfg_write(d, 1, &sub, 1);
    memset(c, 0xee, sizeof(*c));
    vd_cfg_read(d, 0, c, sizeof(*c));
    CHECK_EQ(c->select, sel);
    CHECK_EQ(c->subsel, sub);
    return c->size;
}

static void check_string(uint8_t sel, const char *want)
{
    struct virtio_input_config c;
    CHECK_EQ(query(sel, 0, &c), strlen(want));
    CHECK(memcmp(c.u.string, want, strlen(want)) == 0);
    CHECK_EQ(c.u.string[strlen(want)], 0);
}

static void check_ids(uint16_t product)
{
    struct virtio_input_config c;
    CHECK_EQ(query(VIRTIO_INPUT_CFG_ID_DEVIDS, 0, &c), 8);
    CHECK_EQ(c.u.ids.bustype, BUS_VIRTUAL);
    CHECK_EQ(c.u.ids.vendor, 0x0627);
    CHECK_EQ(c.u.ids.product, product);
    CHECK_EQ(c.u.ids.version, 1);
}

static void check_bitmap(uint8_t ev, const uint8_t *want, unsigned n)
{
    struct virtio_input_config c;
    CHECK_EQ(query(VIRTIO_INPUT_CFG_EV_BITS, ev, &c), n);
    CHECK(memcmp(c.u.bitmap, want, n) == 0);
    for (unsigned i = n; i < sizeof(c.u.bitmap); i++) {
        CHECK_EQ(c.u.bitmap[i], 0);
    }
}

static bool bit(const uint8_t *bm, unsigned b)
{
    return bm[b / 8] & (1u << (b % 8));
}

TEST(keyboard_config)
{
    setup(VIRTIO_INPUT_KEYBOARD, NULL);
    CHECK_EQ(d->ops->device_id, VIRTIO_ID_INPUT);
    CHECK(strcmp(d->ops->name, "virtio-keyboard-device") == 0);
    check_string(VIRTIO_INPUT_CFG_ID_NAME, "QEMU Virtio Keyboard");
    check_ids(0x0001);
    struct virtio_input_config c;
    CHECK_EQ(query(VIRTIO_INPUT_CFG_ID_SERIAL, 0, &c), 0);
    CHECK_EQ(query(VIRTIO_INPUT_CFG_PROP_BITS, 0, &c), 0);
    unsigned n = query(VIRTIO_INPUT_CFG_EV_BITS, EV_KEY, &c);
    CHECK_EQ(n, KEY_MICMUTE / 8 + 1);
    CHECK(!bit(c.u.bitmap, KEY_RESERVED));
    CHECK(bit(c.u.bitmap, KEY_ESC) && bit(c.u.bitmap, KEY_A) &&
          bit(c.u.bitmap, KEY_ENTER) && bit(c.u.bitmap, KEY_LEFTMETA) &&
          bit(c.u.bitmap, KEY_F12) && bit(c.u.bitmap, KEY_MICMUTE));
    CHECK(!bit(c.u.bitmap, BTN_LEFT));
    const uint8_t leds[] = { (1 << LED_NUML) | (1 << LED_CAPSL) |
                             (1 << LED_SCROLLL) };
    check_bitmap(EV_LED, leds, 1);
    const uint8_t rep[] = { 0 };
    check_bitmap(EV_REP, rep, 1);
    CHECK_EQ(query(VIRTIO_INPUT_CFG_EV_BITS, EV_REL, &c), 0);
    CHECK_EQ(query(VIRTIO_INPUT_CFG_EV_BITS, EV_ABS, &c), 0);
    CHECK_EQ(query(VIRTIO_INPUT_CFG_ABS_INFO, ABS_X, &c), 0);
    /* Unknown selections and subsels answer size 0 with zeros. */
    CHECK_EQ(query(0x42, 0, &c), 0);
    CHECK_EQ(c.u.bitmap[0], 0);
    CHECK_EQ(query(VIRTIO_INPUT_CFG_ID_NAME, 1, &c), 0);
    CHECK_EQ(query(VIRTIO_INPUT_CFG_UNSET, 0, &c), 0);
    teardown();
}

TEST(mouse_config)
{
    setup(VIRTIO_INPUT_MOUSE, "mouse-serial");
    check_string(VIRTIO_INPUT_CFG_ID_NAME, "QEMU Virtio Mouse");
    check_string(VIRTIO_INPUT_CFG_ID_SERIAL, "mouse-serial");
    check_ids(0x0002);
    const uint8_t rel[] = { (1 << REL_X) | (1 << REL_Y) | (1 << REL_HWHEEL),
                            1 << (REL_WHEEL - 8) };
    check_bitmap(EV_REL, rel, 2);
    struct virtio_input_config c;
    unsigned n = query(VIRTIO_INPUT_CFG_EV_BITS, EV_KEY, &c);
    CHECK_EQ(n, BTN_EXTRA / 8 + 1);
    CHECK(bit(c.u.bitmap, BTN_LEFT) && bit(c.u.bitmap, BTN_RIGHT) &&
          bit(c.u.bitmap, BTN_MIDDLE) && bit(c.u.bitmap, BTN_SIDE) &&
          bit(c.u.bitmap, BTN_EXTRA) && !bit(c.u.bitmap, KEY_A));
    CHECK_EQ(query(VIRTIO_INPUT_CFG_EV_BITS, EV_ABS, &c), 0);
    CHECK_EQ(query(VIRTIO_INPUT_CFG_ABS_INFO, ABS_X, &c), 0);
    teardown();
}

TEST(tablet_config)
{
    setup(VIRTIO_INPUT_TABLET, NULL);
    check_string(VIRTIO_INPUT_CFG_ID_NAME, "QEMU Virtio Tablet");
    check_ids(0x0003);
    const uint8_t abs[] = { (1 << ABS_X) | (1 << ABS_Y) };
    check_bitmap(EV_ABS, abs, 1);
    const uint8_t rel[] = { 1 << REL_HWHEEL, 1 << (REL_WHEEL - 8) };
    check_bitmap(EV_REL, rel, 2);
    struct virtio_input_config c;
    for (uint8_t a = ABS_X; a <= ABS_Y; a++) {
        CHECK_EQ(query(VIRTIO_INPUT_CFG_ABS_INFO, a, &c), 20);
        CHECK_EQ(c.u.abs.min, 0);
        CHECK_EQ(c.u.abs.max, 0x7fff);
        CHECK_EQ(c.u.abs.fuzz, 0);
        CHECK_EQ(c.u.abs.flat, 0);
        CHECK_EQ(c.u.abs.res, 0);
    }
    CHECK_EQ(query(VIRTIO_INPUT_CFG_ABS_INFO, ABS_Z, &c), 0);
    teardown();
}

TEST(config_hostile_writes)
{
    setup(VIRTIO_INPUT_TABLET, NULL);
    struct virtio_input_config c;
    query(VIRTIO_INPUT_CFG_ID_NAME, 0, &c);
    uint64_t before = log_guest_count();
    uint8_t junk[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    vd_cfg_write(d, 2, junk, 1);   /* size is read-only */
    vd_cfg_write(d, 8, junk, 8);   /* so is the union */
    vd_cfg_write(d, 130, junk, 8); /* past the end: the core refuses */
    CHECK(log_guest_count() > before);
    memset(&c, 0, sizeof(c));
    vd_cfg_read(d, 0, &c, sizeof(c));
    CHECK_EQ(c.size, strlen("QEMU Virtio Tablet"));
    CHECK(memcmp(c.u.string, "QEMU Virtio Tablet", 18) == 0);
    /* A two-byte write sets select and subsel together. */
    uint8_t sel[2] = { VIRTIO_INPUT_CFG_EV_BITS, EV_ABS };
    vd_cfg_write(d, 0, sel, 2);
    vd_cfg_read(d, 0, &c, sizeof(c));
    CHECK_EQ(c.size, 1);
    CHECK_EQ(c.u.bitmap[0], 3);
    teardown();
}

static void post_events(unsigned k)
{
    for (unsigned i = 0; i < k; i++) {
        struct vd_buf b = { VD_DATA_BASE + 8ull * i, 8, true };
        vd_post(&evq, &b, 1);
    }
    vd_notify(&evq);
}

static struct virtio_input_event event_at(unsigned i)
{
    struct virtio_input_event e;
    mem_read(&mem, VD_DATA_BASE + 8ull * i, &e, sizeof(e));
    return e;
}

TEST(events)
{
    setup(VIRTIO_INPUT_KEYBOARD, NULL);
    post_events(4);
    virtio_input_send(in, EV_KEY, KEY_A, 1);
    CHECK(!vd_used(&evq, NULL, NULL)); /* held until EV_SYN */
    virtio_input_sync(in);
    uint32_t len;
    CHECK(vd_used(&evq, NULL, &len));
    CHECK_EQ(len, 8);
    CHECK(vd_used(&evq, NULL, &len));
    CHECK(!vd_used(&evq, NULL, NULL));
    struct virtio_input_event e = event_at(0);
    CHECK_EQ(e.type, EV_KEY);
    CHECK_EQ(e.code, KEY_A);
    CHECK_EQ(e.value, 1);
    e = event_at(1);
    CHECK_EQ(e.type, EV_SYN);
    CHECK_EQ(e.code, SYN_REPORT);

    /* Three more events, two buffers left: one waits for a buffer. */
    virtio_input_send(in, EV_KEY, KEY_A, 0);
    virtio_input_send(in, EV_KEY, KEY_B, 1);
    virtio_input_sync(in);
    CHECK(vd_used(&evq, NULL, NULL));
    CHECK(vd_used(&evq, NULL, NULL));
    CHECK(!vd_used(&evq, NULL, NULL));
    struct vd_buf b = { VD_DATA_BASE + 0x100, 8, true };
    vd_post(&evq, &b, 1);
    vd_notify(&evq);
    CHECK(vd_used(&evq, NULL, &len));
    mem_read(&mem, VD_DATA_BASE + 0x100, &e, sizeof(e));
    CHECK_EQ(e.type, EV_SYN);
    CHECK_EQ(virtio_input_dropped(in), 0);
    teardown();
}

TEST(event_ring_overflow)
{
    setup(VIRTIO_INPUT_TABLET, NULL);
    uint64_t before = log_guest_count();
    unsigned total = VIRTIO_INPUT_QUEUED_MAX + 44;
    for (unsigned i = 0; i < total; i++) {
        virtio_input_send(in, EV_ABS, ABS_X, i);
    }
    virtio_input_sync(in);
    CHECK_EQ(virtio_input_dropped(in), total + 1 - VIRTIO_INPUT_QUEUED_MAX);
    CHECK(log_guest_count() > before);
    post_events(64);
    unsigned got = 0;
    while (vd_used(&evq, NULL, NULL)) {
        got++;
    }
    CHECK_EQ(got, 64);
    /* The oldest were dropped: the first delivered is event 45. */
    struct virtio_input_event e = event_at(0);
    CHECK_EQ(e.type, EV_ABS);
    CHECK_EQ(e.value, total + 1 - VIRTIO_INPUT_QUEUED_MAX);
    teardown();
}

TEST(small_event_buffer)
{
    setup(VIRTIO_INPUT_MOUSE, NULL);
    struct vd_buf b[2] = { { VD_DATA_BASE, 4, true },
                           { VD_DATA_BASE + 0x40, 8, true } };
    vd_post(&evq, &b[0], 1);
    vd_post(&evq, &b[1], 1);
    vd_notify(&evq);
    uint64_t before = log_guest_count();
    virtio_input_sync(in);
    uint32_t len;
    CHECK(vd_used(&evq, NULL, &len));
    CHECK_EQ(len, 0);
    CHECK(vd_used(&evq, NULL, &len));
    CHECK_EQ(len, 8);
    CHECK(log_guest_count() > before);
    teardown();
}

TEST(status_queue)
{
    setup(VIRTIO_INPUT_KEYBOARD, NULL);
    struct virtio_input_event ev[2] = {
        { .type = EV_LED, .code = LED_CAPSL, .value = 1 },
        { .type = EV_LED, .code = LED_NUML, .value = 1 },
    };
    mem_write(&mem, VD_DATA_BASE, ev, sizeof(ev));
    struct vd_buf b = { VD_DATA_BASE, 8, false };
    vd_post(&stq, &b, 1);
    vd_notify(&stq);
    CHECK(vd_used(&stq, NULL, NULL));
    CHECK_EQ(virtio_input_leds(in), 1u << LED_CAPSL);
    b.len = 16;
    vd_post(&stq, &b, 1);
    vd_notify(&stq);
    CHECK_EQ(virtio_input_leds(in), (1u << LED_CAPSL) | (1u << LED_NUML));
    ev[0].value = 0;
    mem_write(&mem, VD_DATA_BASE, ev, 8);
    b.len = 8;
    vd_post(&stq, &b, 1);
    vd_notify(&stq);
    CHECK_EQ(virtio_input_leds(in), 1u << LED_NUML);

    while (vd_used(&stq, NULL, NULL)) {
    }
    /* Hostile: short, ragged, bogus events, huge buffers. */
    uint64_t before = log_guest_count();
    struct virtio_input_event bad = { .type = EV_LED,
                                      .code = 0xffff,
                                      .value = 1 };
    mem_write(&mem, VD_DATA_BASE + 0x100, &bad, sizeof(bad));
    struct vd_buf h[4] = { { VD_DATA_BASE, 5, false },
                           { VD_DATA_BASE, 13, false },
                           { VD_DATA_BASE + 0x100, 8, false },
                           { VD_DATA_BASE, 0x10000, false } };
    for (unsigned i = 0; i < 4; i++) {
        vd_post(&stq, &h[i], 1);
    }
    vd_notify(&stq);
    unsigned done = 0;
    while (vd_used(&stq, NULL, NULL)) {
        done++;
    }
    CHECK_EQ(done, 4);
    CHECK(log_guest_count() >= before + 3);
    CHECK(!(d->status & VIRTIO_CONFIG_S_NEEDS_RESET));
    /* Reset forgets the LEDs. */
    dev_lock();
    virtio_set_status(d, 0);
    dev_unlock();
    CHECK_EQ(virtio_input_leds(in), 0);
    teardown();
}

TEST(models)
{
    CHECK(strcmp(virtio_keyboard_model.name, "virtio-keyboard-device") == 0);
    CHECK(strcmp(virtio_mouse_model.name, "virtio-mouse-device") == 0);
    CHECK(strcmp(virtio_tablet_model.name, "virtio-tablet-device") == 0);
}

/* The conformance suite's device: arg is the kind. Events are injected
 * on every poll so that the event queue consumes buffers too. */
static struct virtio_dev *conf_create(struct mem_map *m, void *arg)
{
    enum virtio_input_kind kind = *(enum virtio_input_kind *)arg;
    return virtio_input_vdev(virtio_input_new(m, kind, "conf"));
}

static void conf_destroy(struct virtio_dev *dd)
{
    virtio_input_free(dd->opaque);
}

static void conf_poll(struct virtio_dev *dd)
{
    struct virtio_input *vi = dd->opaque;
    virtio_input_send(vi, EV_KEY, BTN_LEFT, 1);
    virtio_input_sync(vi);
}

static void conformance_kind(enum virtio_input_kind kind)
{
    CHECK(vd_ram(&mem) == 0);
    struct virtio_input *vi = virtio_input_new(&mem, kind, NULL);
    struct vconf_device cd = {
        .ops = virtio_input_vdev(vi)->ops,
        .create = conf_create,
        .destroy = conf_destroy,
        .poll = conf_poll,
        .arg = &kind,
    };
    virtio_input_free(vi);
    mem_free(&mem);
    vconf_run(&cd);
}

TEST(conformance_keyboard)
{
    conformance_kind(VIRTIO_INPUT_KEYBOARD);
}

TEST(conformance_tablet)
{
    conformance_kind(VIRTIO_INPUT_TABLET);
}

TEST(conformance_mouse)
{
    conformance_kind(VIRTIO_INPUT_MOUSE);
}

int main(void)
{
    RUN(keyboard_config);
    RUN(mouse_config);
    RUN(tablet_config);
    RUN(config_hostile_writes);
    RUN(events);
    RUN(event_ring_overflow);
    RUN(small_event_buffer);
    RUN(status_queue);
    RUN(models);
    RUN(conformance_keyboard);
    RUN(conformance_tablet);
    RUN(conformance_mouse);
    HARNESS_END();
}
