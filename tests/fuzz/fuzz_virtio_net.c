/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for virtio-net (src/hw/virtio/net.c): the transmit decoder
 * (virtio_net_hdr_v1, checksum offload offsets, frame lengths), the
 * control-queue decoder and the receive path. The backend is a loopback:
 * every frame the device transmits comes straight back as a received
 * frame, so transmit input also drives receive (mergeable buffers, the
 * hold-back when the guest posted too little, resume).
 *
 * Input: byte 0 = flags (bit 1: negotiate no optional features); then
 * per chain one byte (bits 0-1: buffers - 1, bits 2-3: queue 0 rx, 1 tx,
 * 2 control, 3 = no chain, resume the backend instead) and per buffer 1
 * flag byte (bit 0: device-writable), a 16-bit offset (in 16-byte units
 * from the data area) and a 16-bit length, followed, for readable
 * buffers, by up to length bytes of contents. Checks: no crash, no
 * sanitizer report, no frame longer than NET_FRAME_MAX reaches the
 * backend.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../dev/vdev_driver.h"
#include "backend/net.h"
#include "core/loop.h"
#include "hw/virtio/net.h"

#define MAX_CHAINS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct loop_nb {
    struct net_backend nb;
    uint8_t held[NET_FRAME_MAX];
    size_t held_len;
    bool holding;
};

static struct mem_map mem;
static struct loop_nb lb;
static struct virtio_net *vn;
static struct virtio_dev *d;

static void lb_send(struct net_backend *b, const uint8_t *f, size_t len)
{
    struct loop_nb *l = (struct loop_nb *)b;
    if (len > NET_FRAME_MAX) {
        __builtin_trap();
    }
    if (l->holding) {
        return; /* one frame kept at most, like tap */
    }
    if (!net_backend_deliver(b, f, len)) {
        memcpy(l->held, f, len);
        l->held_len = len;
        l->holding = true;
    }
}

static void lb_resume(struct net_backend *b)
{
    struct loop_nb *l = (struct loop_nb *)b;
    if (l->holding && net_backend_deliver(b, l->held, l->held_len)) {
        l->holding = false;
    }
}

static void lb_close(struct net_backend *b)
{
    (void)b;
}

static const struct net_backend_ops lb_ops = {
    .type = "loopback",
    .send = lb_send,
    .resume = lb_resume,
    .close = lb_close,
};

static void machine_init(void)
{
    struct error err = { 0 };
    static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
    if (loop_init(&err) < 0 || vd_ram(&mem) < 0) {
        __builtin_trap();
    }
    lb.nb.ops = &lb_ops;
    lb.nb.id = "fuzz";
    lb.nb.csum_valid = true;
    vn = virtio_net_new(&mem, &lb.nb, mac, &err);
    if (!vn) {
        __builtin_trap();
    }
    d = virtio_net_vdev(vn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    struct vd_queue q[3];

    if (!ready) {
        machine_init();
        ready = true;
    }
    if (size < 1) {
        return 0;
    }
    uint8_t flags = data[0];
    size_t p = 1;

    lb.holding = false;
    vd_ring_next = VD_RAM_BASE;
    if (!vd_features(d, (flags & 2) ? 0 : ~0ull) ||
        !vd_queue(&q[0], d, 0, 16) || !vd_queue(&q[1], d, 1, 16) ||
        !vd_queue(&q[2], d, 2, 16)) {
        __builtin_trap();
    }
    vd_driver_ok(d);

    for (unsigned c = 0; c < MAX_CHAINS && p < size; c++) {
        uint8_t ch = data[p++];
        unsigned nbuf = 1 + (ch & 3);
        unsigned qn = (ch >> 2) & 3;
        if (qn == 3) {
            net_backend_resume(&lb.nb);
            continue;
        }
        struct vd_queue *qq = &q[qn];
        struct vd_buf b[4];
        unsigned k = 0;
        while (k < nbuf && p + 5 <= size) {
            uint8_t bf = data[p];
            uint16_t off = (uint16_t)(data[p + 1] | data[p + 2] << 8);
            uint16_t len = (uint16_t)(data[p + 3] | data[p + 4] << 8);
            p += 5;
            b[k].gpa = VD_DATA_BASE + (uint64_t)off * 16;
            b[k].len = len;
            b[k].write = bf & 1;
            if (!b[k].write) {
                size_t n = size - p < len ? size - p : len;
                mem_write(&mem, b[k].gpa, data + p, n);
                p += n;
            }
            k++;
        }
        if (k == 0) {
            break;
        }
        vd_post(qq, b, k);
        vd_notify(qq);
        if (qn == 1) {
            virtio_net_tx_flush(vn);
        }
        while (vd_used(qq, NULL, NULL)) {
        }
    }
    /* The main loop's share: queued tx flushes and resumes. */
    virtio_net_tx_flush(vn);
    net_backend_resume(&lb.nb);
    dev_lock();
    virtio_set_status(d, 0);
    dev_unlock();
    return 0;
}
