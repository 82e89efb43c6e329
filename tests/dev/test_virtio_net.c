/* SPDX-License-Identifier: MIT */
/*
 * virtio-net-device tests on fake guest RAM with a fake network backend
 * (frames sent are recorded, resumes counted): identity, features and
 * config space; transmit with checksum completion; malformed transmit
 * headers and frames dropped with a guest-error line while the chain
 * still completes; receive spread over several mergeable buffers with
 * num_buffers and DATA_VALID; hold-back when the guest has no buffers and
 * resume once it posts some; control-queue commands (answers OK/ERR, a
 * command without an ack byte sets NEEDS_RESET); and the shared virtio
 * conformance suite over a virtio-mmio transport.
 */
#include <endian.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <stdlib.h>

#include "backend/net.h"
#include "core/log.h"
#include "core/loop.h"
#include "harness.h"
#include "hw/virtio/net.h"
#include "vdev_driver.h"
#include "virtio_conformance.h"

#define HDR 12u

struct fake_nb {
    struct net_backend nb;
    uint8_t last[NET_FRAME_MAX];
    size_t last_len;
    unsigned sent, resumes;
};

static void fake_send(struct net_backend *b, const uint8_t *f, size_t len)
{
    struct fake_nb *fb = (struct fake_nb *)b;
    memcpy(fb->last, f, len);
    fb->last_len = len;
    fb->sent++;
}

static void fake_resume(struct net_backend *b)
{
    ((struct fake_nb *)b)->resumes++;
}

static void fake_close(struct net_backend *b)
{
    (void)b;
}

static const struct net_backend_ops fake_ops = {
    .type = "fake",
    .send = fake_send,
    .resume = fake_resume,
    .close = fake_close,
};

static struct fake_nb fake = { .nb = { .ops = &fake_ops, .csum_valid = true } };
static struct mem_map mem;
static struct virtio_net *vn;
static struct virtio_dev *d;
static struct vd_queue rxq, txq, ctq;
static const uint8_t mac0[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x99 };

static void quit_cb(void *opaque)
{
    (void)opaque;
    loop_quit();
}

/* Run the main loop's pending calls (and ms of timers). */
static void run_loop_ms(unsigned ms)
{
    struct loop_timer *t = loop_timer_new(quit_cb, NULL);
    loop_timer_arm(t, loop_now_ns() + ms * 1000000ull);
    loop_run();
    loop_timer_free(t);
}

static void setup(uint64_t features)
{
    struct error err = { 0 };
    CHECK(vd_ram(&mem) == 0);
    fake.sent = fake.resumes = 0;
    vn = virtio_net_new(&mem, &fake.nb, mac0, &err);
    CHECK(vn != NULL);
    d = virtio_net_vdev(vn);
    CHECK(vd_features(d, features));
    CHECK(vd_queue(&rxq, d, 0, 16));
    CHECK(vd_queue(&txq, d, 1, 16));
    CHECK(vd_queue(&ctq, d, 2, 16));
    vd_driver_ok(d);
}

static void teardown(void)
{
    run_loop_ms(1);
    virtio_net_free(vn);
    mem_free(&mem);
}

/* One's-complement sum over p[0..len) folded: 0xffff when the checksum
 * stored inside is right. */
static uint16_t sum16(const uint8_t *p, size_t len)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        s += (uint32_t)p[i] << 8 | p[i + 1];
    }
    if (len & 1) {
        s += (uint32_t)p[len - 1] << 8;
    }
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)s;
}

/* Post header + frame on the transmit queue, flush, return used count. */
static unsigned tx(const struct virtio_net_hdr_v1 *h, uint32_t hlen,
                   const uint8_t *frame, uint32_t flen)
{
    uint64_t gpa = VD_DATA_BASE;
    mem_write(&mem, gpa, h, hlen);
    mem_write(&mem, gpa + 0x1000, frame, flen);
    struct vd_buf b[2] = { { gpa, hlen, false },
                           { gpa + 0x1000, flen, false } };
    vd_post(&txq, b, flen ? 2 : 1);
    vd_notify(&txq);
    run_loop_ms(1);
    unsigned n = 0;
    uint32_t len;
    while (vd_used(&txq, NULL, &len)) {
        CHECK_EQ(len, 0);
        n++;
    }
    return n;
}

static void udp_frame(uint8_t *f, size_t len)
{
    memset(f, 0, len);
    memcpy(f, "\xff\xff\xff\xff\xff\xff\x52\x54\x00\x12\x34\x99\x08\x00", 14);
    f[14] = 0x45;
    for (size_t i = 42; i < len; i++) {
        f[i] = (uint8_t)(i * 13);
    }
    f[40] = 0x12; /* partial checksum (pseudo header) left by the guest */
    f[41] = 0x34;
}

TEST(identity)
{
    setup(~0ull);
    CHECK_EQ(d->ops->device_id, VIRTIO_ID_NET);
    uint64_t f = d->features;
    CHECK(f & (1ull << VIRTIO_NET_F_MAC));
    CHECK(f & (1ull << VIRTIO_NET_F_STATUS));
    CHECK(f & (1ull << VIRTIO_NET_F_MRG_RXBUF));
    CHECK(f & (1ull << VIRTIO_NET_F_CSUM));
    CHECK(f & (1ull << VIRTIO_NET_F_GUEST_CSUM));
    CHECK(f & (1ull << VIRTIO_NET_F_CTRL_VQ));
    CHECK(!(f & (1ull << VIRTIO_NET_F_HOST_TSO4)));
    uint8_t m[6];
    uint16_t st;
    vd_cfg_read(d, 0, m, 6);
    CHECK(memcmp(m, mac0, 6) == 0);
    vd_cfg_read(d, 6, &st, 2);
    CHECK_EQ(le16toh(st), VIRTIO_NET_S_LINK_UP);
    uint8_t junk[6] = { 1, 2, 3, 4, 5, 6 };
    vd_cfg_write(d, 0, junk, 6);
    vd_cfg_read(d, 0, m, 6);
    CHECK(memcmp(m, mac0, 6) == 0);
    CHECK(strcmp(virtio_net_model.name, "virtio-net-device") == 0);
    uint8_t pm[6];
    CHECK(virtio_net_parse_mac("52:54:00:ab:cd:ef", pm) && pm[5] == 0xef);
    CHECK(!virtio_net_parse_mac("53:54:00:ab:cd:ef", pm)); /* multicast */
    CHECK(!virtio_net_parse_mac("52:54:00:ab:cd", pm));
    CHECK(!virtio_net_parse_mac("52:54:00:ab:cd:ef:00", pm));
    teardown();
}

TEST(tx_checksum)
{
    setup(~0ull);
    uint8_t f[200];
    udp_frame(f, sizeof(f));
    struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
                                   .csum_start = htole16(34),
                                   .csum_offset = htole16(6) };
    CHECK_EQ(tx(&h, HDR, f, sizeof(f)), 1);
    CHECK_EQ(fake.sent, 1);
    CHECK_EQ(fake.last_len, sizeof(f));
    /* The receiver adds the pseudo-header sum the guest left in the field
     * (0x1234) to the data sum: all ones when the checksum is right. */
    uint32_t v = sum16(fake.last + 34, sizeof(f) - 34) + 0x1234u;
    CHECK_EQ((v & 0xffff) + (v >> 16), 0xffff);
    CHECK(memcmp(fake.last + 42, f + 42, sizeof(f) - 42) == 0);
    /* Without NEEDS_CSUM the frame goes out unchanged. */
    h.flags = 0;
    CHECK_EQ(tx(&h, HDR, f, sizeof(f)), 1);
    CHECK_EQ(fake.sent, 2);
    CHECK(memcmp(fake.last, f, sizeof(f)) == 0);
    teardown();
}

TEST(tx_malformed)
{
    setup(~0ull);
    uint8_t f[100];
    udp_frame(f, sizeof(f));
    struct virtio_net_hdr_v1 h = { 0 };
    uint64_t logs = log_guest_count();

    CHECK_EQ(tx(&h, 8, NULL, 0), 1); /* short header */
    CHECK_EQ(tx(&h, HDR, f, 10), 1); /* runt frame */
    h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    CHECK_EQ(tx(&h, HDR, f, sizeof(f)), 1);
    h.gso_type = 0;
    h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h.csum_start = htole16(99);
    h.csum_offset = htole16(0);
    CHECK_EQ(tx(&h, HDR, f, sizeof(f)), 1); /* csum field past the end */
    h.csum_start = htole16(0xffff);
    h.csum_offset = htole16(0xffff);
    CHECK_EQ(tx(&h, HDR, f, sizeof(f)), 1);
    CHECK_EQ(fake.sent, 0);
    CHECK(log_guest_count() >= logs + 5);
    CHECK(!(d->status & VIRTIO_CONFIG_S_NEEDS_RESET));
    /* Still working afterwards. */
    h.flags = 0;
    CHECK_EQ(tx(&h, HDR, f, sizeof(f)), 1);
    CHECK_EQ(fake.sent, 1);
    teardown();
}

TEST(tx_csum_not_negotiated)
{
    setup(1ull << VIRTIO_NET_F_MAC);
    uint8_t f[100];
    udp_frame(f, sizeof(f));
    struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
                                   .csum_start = htole16(34),
                                   .csum_offset = htole16(6) };
    CHECK_EQ(tx(&h, HDR, f, sizeof(f)), 1);
    CHECK_EQ(fake.sent, 0);
    teardown();
}

TEST(rx_mergeable)
{
    setup(~0ull);
    uint8_t f[1400];
    for (size_t i = 0; i < sizeof(f); i++) {
        f[i] = (uint8_t)(i * 7 + 1);
    }
    uint64_t base = VD_DATA_BASE + 0x10000;
    for (unsigned i = 0; i < 4; i++) {
        struct vd_buf b = { base + i * 0x1000, 600, true };
        vd_post(&rxq, &b, 1);
    }
    vd_notify(&rxq);
    CHECK(fake.nb.receive(fake.nb.receive_opaque, f, sizeof(f)));
    uint32_t id, len, total = 0;
    unsigned n = 0;
    while (vd_used(&rxq, &id, &len)) {
        CHECK_EQ(id, n);
        total += len;
        n++;
    }
    CHECK_EQ(n, 3);
    CHECK_EQ(total, HDR + sizeof(f));
    struct virtio_net_hdr_v1 h;
    mem_read(&mem, base, &h, sizeof(h));
    CHECK_EQ(le16toh(h.num_buffers), 3);
    CHECK_EQ(h.flags, VIRTIO_NET_HDR_F_DATA_VALID);
    uint8_t got[sizeof(f)];
    mem_read(&mem, base + HDR, got, 600 - HDR);
    mem_read(&mem, base + 0x1000, got + 600 - HDR, 600);
    mem_read(&mem, base + 0x2000, got + 1200 - HDR, sizeof(f) - 1200 + HDR);
    CHECK(memcmp(got, f, sizeof(f)) == 0);
    teardown();
}

TEST(rx_hold_and_resume)
{
    setup(~0ull);
    uint8_t f[1000] = { 1 };
    /* No buffers: the backend must keep the frame. */
    CHECK(!fake.nb.receive(fake.nb.receive_opaque, f, sizeof(f)));
    /* A buffer too small for the whole frame is not enough either. */
    struct vd_buf b = { VD_DATA_BASE, 500, true };
    vd_post(&rxq, &b, 1);
    vd_notify(&rxq);
    run_loop_ms(1);
    CHECK_EQ(fake.resumes, 1);
    CHECK(!fake.nb.receive(fake.nb.receive_opaque, f, sizeof(f)));
    CHECK(!vd_used(&rxq, NULL, NULL));
    struct vd_buf b2 = { VD_DATA_BASE + 0x1000, 1500, true };
    vd_post(&rxq, &b2, 1);
    vd_notify(&rxq);
    run_loop_ms(1);
    CHECK_EQ(fake.resumes, 2);
    CHECK(fake.nb.receive(fake.nb.receive_opaque, f, sizeof(f)));
    unsigned n = 0;
    while (vd_used(&rxq, NULL, NULL)) {
        n++;
    }
    CHECK_EQ(n, 2);
    /* No resume without a held frame. */
    vd_notify(&rxq);
    run_loop_ms(1);
    CHECK_EQ(fake.resumes, 2);
    teardown();
}

TEST(rx_no_mergeable_too_small)
{
    setup(1ull << VIRTIO_NET_F_MAC);
    uint8_t f[1000] = { 0 };
    struct vd_buf b = { VD_DATA_BASE, 500, true };
    vd_post(&rxq, &b, 1);
    vd_notify(&rxq);
    uint64_t logs = log_guest_count();
    CHECK(fake.nb.receive(fake.nb.receive_opaque, f, sizeof(f))); /* dropped */
    CHECK(log_guest_count() > logs);
    CHECK(fake.nb.receive(fake.nb.receive_opaque, f, 400)); /* fits */
    uint32_t len;
    CHECK(vd_used(&rxq, NULL, &len));
    CHECK_EQ(len, HDR + 400);
    teardown();
}

TEST(rx_malformed_buffer)
{
    setup(~0ull);
    struct vd_buf b = { VD_DATA_BASE, 64, false }; /* not writable */
    vd_post(&rxq, &b, 1);
    vd_notify(&rxq);
    uint8_t f[60] = { 0 };
    CHECK(fake.nb.receive(fake.nb.receive_opaque, f, sizeof(f)));
    CHECK(d->status & VIRTIO_CONFIG_S_NEEDS_RESET);
    teardown();
}

static uint8_t ctrl(const void *cmd, uint32_t len, bool ack_byte)
{
    uint64_t gpa = VD_DATA_BASE + 0x20000;
    uint8_t ack = 0xee;
    mem_write(&mem, gpa, cmd, len);
    mem_write(&mem, gpa + 0x1000, &ack, 1);
    struct vd_buf b[2] = { { gpa, len, false }, { gpa + 0x1000, 1, true } };
    vd_post(&ctq, b, ack_byte ? 2 : 1);
    vd_notify(&ctq);
    uint32_t ul;
    if (vd_used(&ctq, NULL, &ul) && ack_byte) {
        CHECK_EQ(ul, 1);
    }
    mem_read(&mem, gpa + 0x1000, &ack, 1);
    return ack;
}

TEST(control_queue)
{
    setup(~0ull);
    uint8_t promisc[3] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1 };
    CHECK_EQ(ctrl(promisc, 3, true), VIRTIO_NET_OK);
    CHECK_EQ(ctrl(promisc, 2, true), VIRTIO_NET_ERR); /* no data byte */
    uint8_t nouni[3] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOUNI, 1 };
    CHECK_EQ(ctrl(nouni, 3, true), VIRTIO_NET_ERR);
    uint8_t set[8] = { VIRTIO_NET_CTRL_MAC,
                       VIRTIO_NET_CTRL_MAC_ADDR_SET,
                       0x52,
                       0x54,
                       0,
                       1,
                       2,
                       3 };
    CHECK_EQ(ctrl(set, 8, true), VIRTIO_NET_OK);
    uint8_t m[6];
    vd_cfg_read(d, 0, m, 6);
    CHECK(memcmp(m, set + 2, 6) == 0);
    uint8_t table[2 + 4 + 6 + 4] = { VIRTIO_NET_CTRL_MAC,
                                     VIRTIO_NET_CTRL_MAC_TABLE_SET, 1 };
    CHECK_EQ(ctrl(table, sizeof(table), true), VIRTIO_NET_OK);
    uint8_t badt[2 + 4 + 4] = { VIRTIO_NET_CTRL_MAC,
                                VIRTIO_NET_CTRL_MAC_TABLE_SET,
                                0xff,
                                0xff,
                                0xff,
                                0xff };
    CHECK_EQ(ctrl(badt, sizeof(badt), true), VIRTIO_NET_ERR);
    uint8_t unknown[2] = { 99, 0 };
    CHECK_EQ(ctrl(unknown, 2, true), VIRTIO_NET_ERR);
    CHECK_EQ(ctrl(unknown, 1, true), VIRTIO_NET_ERR); /* short header */
    CHECK(!(d->status & VIRTIO_CONFIG_S_NEEDS_RESET));
    ctrl(promisc, 3, false); /* nowhere to put the ack */
    CHECK(d->status & VIRTIO_CONFIG_S_NEEDS_RESET);
    teardown();
}

static struct virtio_dev *conf_create(struct mem_map *m, void *arg)
{
    struct error err = { 0 };
    (void)arg;
    return virtio_net_vdev(virtio_net_new(m, &fake.nb, mac0, &err));
}

static void conf_destroy(struct virtio_dev *dd)
{
    run_loop_ms(1);
    virtio_net_free(dd->opaque);
}

static void conf_poll(struct virtio_dev *dd)
{
    virtio_net_tx_flush(dd->opaque);
}

TEST(conformance)
{
    struct error err = { 0 };
    CHECK(vd_ram(&mem) == 0);
    struct virtio_net *s = virtio_net_new(&mem, &fake.nb, mac0, &err);
    struct vconf_device cd = {
        .ops = virtio_net_vdev(s)->ops,
        .create = conf_create,
        .destroy = conf_destroy,
        .poll = conf_poll,
    };
    virtio_net_free(s);
    mem_free(&mem);
    vconf_run(&cd);
}

int main(void)
{
    struct error err = { 0 };
    if (loop_init(&err) < 0) {
        printf("loop_init: %s\n", err.msg);
        return 1;
    }
    fake.nb.id = "fake";
    RUN(identity);
    RUN(tx_checksum);
    RUN(tx_malformed);
    RUN(tx_csum_not_negotiated);
    RUN(rx_mergeable);
    RUN(rx_hold_and_resume);
    RUN(rx_no_mergeable_too_small);
    RUN(rx_malformed_buffer);
    RUN(control_queue);
    RUN(conformance);
    HARNESS_END();
}
