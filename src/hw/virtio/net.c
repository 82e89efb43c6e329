/* SPDX-License-Identifier: MIT */
/*
 * virtio-net-device (virtio 1.2 spec, section 5.1): the transmit decoder
 * and the receive path, a choke point for hostile input (design.md
 * principle 3). Features: MAC, STATUS (link always up), MRG_RXBUF, CSUM
 * (the device completes partial checksums before a frame leaves),
 * GUEST_CSUM (frames from a backend that makes its own checksums are
 * marked DATA_VALID), CTRL_VQ with CTRL_RX and CTRL_MAC_ADDR, EVENT_IDX
 * and INDIRECT_DESC. No GSO/TSO, no multiqueue, no receive filtering
 * (every frame is delivered, as in promiscuous mode).
 *
 * Queues: 0 receive, 1 transmit, 2 control. With VERSION_1 the header is
 * always struct virtio_net_hdr_v1 (12 bytes, 5.1.6).
 *
 * Transmit: a notification (vCPU thread) only schedules a main-loop call
 * and turns further notifications off; the call pops chains one at a
 * time under the device lock, checks the header (length, gso_type,
 * csum_start/csum_offset inside the frame, frame length within
 * NET_FRAME_MAX), copies the frame into a flat buffer, completes the
 * chain and then, without the lock, hands the frame to the backend
 * (backends may deliver to the guest synchronously). A bad header or
 * frame is dropped (the chain still completes, as transmit has no status)
 * with a rate-limited guest-error line.
 *
 * Receive: the backend calls in on the main loop; the frame goes into one
 * chain, or with MRG_RXBUF into as many chains as it needs (num_buffers
 * in the first header). If the guest has not posted enough, every popped
 * chain is put back and the backend is told to hold the frame; the next
 * receive-queue notification schedules net_backend_resume(). A receive
 * chain with no writable byte, or whose first one is shorter than the
 * header, is malformed: DEVICE_NEEDS_RESET, as QEMU does.
 */
#include "hw/virtio/net.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/net.h"
#include "board/board.h"
#include "bus/bus.h"
#include "core/error.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/options.h"
#include "hw/virtio/virtio.h"

#define RXQ        0
#define TXQ        1
#define CTRLQ      2
#define NUM_QUEUES 3
#define HDR_LEN    sizeof(struct virtio_net_hdr_v1)
#define TX_BUDGET  256 /* frames per main-loop call before yielding */

struct virtio_net {
    struct virtio_dev vdev;
    struct net_backend *nb;
    struct virtio_net_config cfg; /* as the guest sees it */
    bool stopped;                 /* malformed ring: wait for reset */
    bool tx_scheduled;            /* a tx flush call is queued or running */
    bool rx_wanted;               /* the backend holds a frame for us */
    bool resume_scheduled;        /* a resume call is queued */
    bool promisc, allmulti;       /* CTRL_RX state (no filtering is done) */
    /* Scratch chains, device lock held: rx[0] the first receive chain,
     * rx[1] the others; tx for transmit and control. */
    struct virtq_elem rx[2];
    struct virtq_elem tx;
    uint8_t frame[NET_FRAME_MAX + HDR_LEN];
};

static struct virtio_net *vnet_of(struct virtio_dev *d)
{
    return d->opaque;
}

/* RFC 1071 sum of len bytes, not folded. */
static uint32_t csum_add(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    size_t i = 0;
    for (; i + 1 < len; i += 2) {
        sum += (uint32_t)p[i] << 8 | p[i + 1];
        if (sum & 0x80000000u) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
    }
    if (i < len) {
        sum += (uint32_t)p[i] << 8;
    }
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* Check the transmit chain in s->tx and copy its frame into s->frame;
 * returns the frame length or 0 to drop it. Device lock held. */
static void vnet_tx_cb(void *opaque);

static size_t vnet_tx_frame(struct virtio_net *s)
{
    struct virtq_elem *e = &s->tx;
    struct virtio_net_hdr_v1 hdr;

    if (virtq_read(e, 0, &hdr, sizeof(hdr)) != sizeof(hdr)) {
        log_guest("virtio-net: transmit chain of %llu readable bytes, "
                  "shorter than the %zu-byte header",
                  (unsigned long long)e->out_len, HDR_LEN);
        return 0;
    }
    uint64_t len = e->out_len - HDR_LEN;
    if (len < 14 || len > NET_FRAME_MAX) {
        log_guest("virtio-net: transmit frame of %llu bytes (must be "
                  "14..%u)",
                  (unsigned long long)len, NET_FRAME_MAX);
        return 0;
    }
    if (hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
        log_guest("virtio-net: transmit with gso_type %u (no GSO feature "
                  "was offered)",
                  hdr.gso_type);
        return 0;
    }
    if (virtq_read(e, HDR_LEN, s->frame, (size_t)len) != len) {
        return 0; /* cannot happen: out_len counts the readable bytes */
    }
    if (hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        uint32_t start = le16toh(hdr.csum_start);
        uint32_t off = le16toh(hdr.csum_offset);
        if (!virtio_has_feature(&s->vdev, VIRTIO_NET_F_CSUM)) {
            log_guest("virtio-net: NEEDS_CSUM without VIRTIO_NET_F_CSUM");
            return 0;
        }
        if (start >= len || off + 2 > len - start) {
            log_guest("virtio-net: csum_start %u + csum_offset %u outside "
                      "the %llu-byte frame",
                      start, off, (unsigned long long)len);
            return 0;
        }
        uint16_t c = csum_fold(csum_add(s->frame + start, len - start));
        s->frame[start + off] = (uint8_t)(c >> 8);
        s->frame[start + off + 1] = (uint8_t)c;
    }
    return (size_t)len;
}

void virtio_net_tx_flush(struct virtio_net *s)
{
    struct virtq *q = &s->vdev.vq[TXQ];
    unsigned n = 0;

    for (;;) {
        dev_lock();
        if (s->stopped || !virtio_driver_ok(&s->vdev)) {
            s->tx_scheduled = false;
            dev_unlock();
            return;
        }
        if (n == TX_BUDGET) {
            /* Let the rest of the main loop run; come back. */
            virtio_notify(&s->vdev, TXQ);
            dev_unlock();
            loop_call(vnet_tx_cb, s);
            return;
        }
        int r = virtq_pop(q, &s->tx);
        if (r == 0) {
            /* Re-arm the notification and look once more, or a frame
             * queued meanwhile could wait forever. */
            virtq_set_notification(q, true);
            r = virtq_pop(q, &s->tx);
        }
        if (r == 0) {
            s->tx_scheduled = false;
            virtio_notify(&s->vdev, TXQ);
            dev_unlock();
            return;
        }
        if (r < 0) {
            virtio_set_needs_reset(&s->vdev, "malformed transmit queue");
            s->stopped = true;
            s->tx_scheduled = false;
            dev_unlock();
            return;
        }
        virtq_set_notification(q, false);
        size_t len = vnet_tx_frame(s);
        virtq_push(q, &s->tx, 0);
        if (++n % 32 == 0) {
            virtio_notify(&s->vdev, TXQ); /* a batch: free the guest's skbs */
        }
        dev_unlock();
        if (len) {
            net_backend_send(s->nb, s->frame, len);
        }
    }
}

static void vnet_tx_cb(void *opaque)
{
    virtio_net_tx_flush(opaque);
}

static void vnet_resume_cb(void *opaque)
{
    struct virtio_net *s = opaque;
    dev_lock();
    s->resume_scheduled = false;
    bool want = s->rx_wanted;
    s->rx_wanted = false;
    dev_unlock();
    if (want) {
        net_backend_resume(s->nb);
    }
}

/* Device lock held. */
static void vnet_schedule_resume(struct virtio_net *s)
{
    if (s->rx_wanted && !s->resume_scheduled) {
        s->resume_scheduled = true;
        loop_call(vnet_resume_cb, s);
    }
}

/* Pop chains until need bytes fit (one chain without MRG_RXBUF) and put
 * them back; returns how many it takes, 0 if
 * the guest has not posted enough (all put back), -1 if malformed (the
 * device is stopped). Device lock held. */
static int vnet_rx_pop(struct virtio_net *s, size_t need, bool mrg)
{
    struct virtq *q = &s->vdev.vq[RXQ];
    uint64_t have = 0;
    unsigned k = 0;

    while (have < need) {
        if (k > 0 && !mrg) {
            break;
        }
        if (k == q->num) {
            break; /* every buffer of the ring is not enough */
        }
        struct virtq_elem *e = &s->rx[k ? 1 : 0];
        int r = virtq_pop(q, e);
        if (r < 0) {
            virtio_set_needs_reset(&s->vdev, "malformed receive queue");
            s->stopped = true;
            return -1;
        }
        if (r == 0) {
            break;
        }
        if (e->in_len == 0 || (k == 0 && e->in_len < HDR_LEN)) {
            virtq_push(q, e, 0);
            virtio_set_needs_reset(&s->vdev,
                                   "virtio-net receive buffer shorter than "
                                   "the header or not writable");
            s->stopped = true;
            return -1;
        }
        have += e->in_len;
        k++;
    }
    for (unsigned i = 0; i < k; i++) {
        virtq_unpop(q);
    }
    return have >= need ? (int)k : 0;
}

static bool vnet_receive(void *opaque, const uint8_t *frame, size_t len)
{
    struct virtio_net *s = opaque;
    struct virtq *q = &s->vdev.vq[RXQ];
    bool mrg = virtio_has_feature(&s->vdev, VIRTIO_NET_F_MRG_RXBUF);
    size_t need = HDR_LEN + len;

    dev_lock();
    if (s->stopped || !virtio_driver_ok(&s->vdev) || !q->ready) {
        dev_unlock();
        return true; /* no driver: the frame is lost, as on a wire */
    }
    int k = vnet_rx_pop(s, need, mrg);
    if (k == 0) {
        /* Ask to be told about new buffers, then look once more. */
        virtq_set_notification(q, true);
        k = vnet_rx_pop(s, need, mrg);
    }
    if (k == 0 && !mrg && q->num) {
        /* One chain too small for the frame? (vnet_rx_pop put it back.) */
        struct virtq_elem *e = &s->rx[0];
        if (virtq_pop(q, e) == 1) {
            if (e->in_len < need) {
                log_guest("virtio-net: %zu-byte frame does not fit a "
                          "%llu-byte receive buffer (no MRG_RXBUF); dropped",
                          len, (unsigned long long)e->in_len);
                virtq_unpop(q);
                dev_unlock();
                return true;
            }
            virtq_unpop(q);
        }
    }
    if (k <= 0) {
        if (k == 0) {
            s->rx_wanted = true;
        }
        dev_unlock();
        return k < 0;
    }
    struct virtio_net_hdr_v1 hdr = { 0 };
    if (s->nb->csum_valid &&
        virtio_has_feature(&s->vdev, VIRTIO_NET_F_GUEST_CSUM)) {
        hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    }
    hdr.gso_type = VIRTIO_NET_HDR_GSO_NONE;
    hdr.num_buffers = htole16((uint16_t)k);

    /* Fill the chains: pop them a second time, now knowing num_buffers
     * (the guest cannot take back posted buffers). */
    size_t done = 0; /* bytes of header + frame written */
    for (int i = 0; i < k; i++) {
        struct virtq_elem *e = &s->rx[i ? 1 : 0];
        if (virtq_pop(q, e) != 1) {
            virtio_set_needs_reset(&s->vdev, "receive queue changed");
            s->stopped = true;
            dev_unlock();
            return true;
        }
        size_t off = 0;
        if (i == 0) {
            off = virtq_write(e, 0, &hdr, HDR_LEN);
            done = off;
        }
        size_t w = virtq_write(e, off, frame + (done - HDR_LEN),
                               need - done < e->in_len - off ? need - done
                                                             : e->in_len - off);
        done += w;
        virtq_push(q, e, (uint32_t)(off + w));
    }
    virtio_notify(&s->vdev, RXQ);
    dev_unlock();
    return true;
}

/* The control command in s->tx; returns VIRTIO_NET_OK or _ERR. */
static uint8_t vnet_ctrl_cmd(struct virtio_net *s, uint8_t cls, uint8_t cmd,
                             uint64_t dlen)
{
    struct virtq_elem *e = &s->tx;
    const size_t off = sizeof(struct virtio_net_ctrl_hdr);

    switch (cls) {
    case VIRTIO_NET_CTRL_RX: {
        uint8_t on;
        if (!virtio_has_feature(&s->vdev, VIRTIO_NET_F_CTRL_RX) ||
            (cmd != VIRTIO_NET_CTRL_RX_PROMISC &&
             cmd != VIRTIO_NET_CTRL_RX_ALLMULTI) ||
            dlen != 1 || virtq_read(e, off, &on, 1) != 1) {
            break;
        }
        *(cmd == VIRTIO_NET_CTRL_RX_PROMISC ? &s->promisc : &s->allmulti) =
            on != 0;
        return VIRTIO_NET_OK;
    }
    case VIRTIO_NET_CTRL_MAC:
        if (cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
            uint8_t mac[6];
            if (!virtio_has_feature(&s->vdev, VIRTIO_NET_F_CTRL_MAC_ADDR) ||
                dlen != 6 || virtq_read(e, off, mac, 6) != 6) {
                break;
            }
            memcpy(s->cfg.mac, mac, 6);
            return VIRTIO_NET_OK;
        }
        if (cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET) {
            /* Two tables (unicast, multicast): le32 entries, then the
             * MACs. Checked, not used: no filtering is done. */
            uint64_t pos = off, end = off + dlen;
            for (int t = 0; t < 2; t++) {
                uint32_t n;
                if (end - pos < 4 || virtq_read(e, pos, &n, 4) != 4) {
                    goto bad;
                }
                n = le32toh(n);
                pos += 4;
                if ((end - pos) / 6 < n) {
                    goto bad;
                }
                pos += (uint64_t)n * 6;
            }
            if (pos == end) {
                return VIRTIO_NET_OK;
            }
        }
        break;
    default:
        break;
    }
bad:
    log_guest("virtio-net: control command class %u cmd %u with %llu "
              "bytes refused",
              cls, cmd, (unsigned long long)dlen);
    return VIRTIO_NET_ERR;
}

static void vnet_ctrl(struct virtio_net *s)
{
    struct virtq *q = &s->vdev.vq[CTRLQ];
    bool pushed = false;

    while (!s->stopped) {
        int r = virtq_pop(q, &s->tx);
        if (r == 0) {
            break;
        }
        if (r < 0) {
            virtio_set_needs_reset(&s->vdev, "malformed control queue");
            s->stopped = true;
            break;
        }
        struct virtq_elem *e = &s->tx;
        if (e->in_len == 0) {
            virtq_push(q, e, 0);
            virtio_set_needs_reset(&s->vdev, "virtio-net control command "
                                             "without a writable ack byte");
            s->stopped = true;
            break;
        }
        struct virtio_net_ctrl_hdr h;
        uint8_t ack = VIRTIO_NET_ERR;
        if (virtq_read(e, 0, &h, sizeof(h)) != sizeof(h)) {
            log_guest("virtio-net: control command of %llu bytes",
                      (unsigned long long)e->out_len);
        } else {
            ack = vnet_ctrl_cmd(s, h.class, h.cmd, e->out_len - sizeof(h));
        }
        /* The ack is the last writable byte (5.1.6.5). */
        virtq_write(e, (size_t)e->in_len - 1, &ack, 1);
        virtq_push(q, e, (uint32_t)e->in_len);
        pushed = true;
    }
    if (pushed) {
        virtio_notify(&s->vdev, CTRLQ);
    }
}

static uint64_t vnet_features(struct virtio_dev *d)
{
    (void)d;
    return (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) |
           (1ull << VIRTIO_NET_F_MRG_RXBUF) | (1ull << VIRTIO_NET_F_CSUM) |
           (1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_CTRL_VQ) |
           (1ull << VIRTIO_NET_F_CTRL_RX) |
           (1ull << VIRTIO_NET_F_CTRL_MAC_ADDR) |
           (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
           (1ull << VIRTIO_RING_F_EVENT_IDX);
}

static bool vnet_set_features(struct virtio_dev *d, uint64_t f)
{
    (void)d;
    /* 5.1.3.1: CTRL_RX and CTRL_MAC_ADDR depend on CTRL_VQ. */
    uint64_t needs_vq =
        (1ull << VIRTIO_NET_F_CTRL_RX) | (1ull << VIRTIO_NET_F_CTRL_MAC_ADDR);
    return !(f & needs_vq) || (f & (1ull << VIRTIO_NET_F_CTRL_VQ));
}

static uint32_t vnet_config_size(struct virtio_dev *d)
{
    (void)d;
    /* mac, status, max_virtqueue_pairs, mtu */
    return offsetof(struct virtio_net_config, speed);
}

static void vnet_config_read(struct virtio_dev *d, uint32_t off, void *buf,
                             uint32_t len)
{
    struct virtio_net *s = vnet_of(d);
    if (off <= sizeof(s->cfg) && len <= sizeof(s->cfg) - off) {
        memcpy(buf, (uint8_t *)&s->cfg + off, len);
    } else {
        memset(buf, 0, len);
    }
}

static void vnet_config_write(struct virtio_dev *d, uint32_t off,
                              const void *buf, uint32_t len)
{
    /* The MAC is read-only for VERSION_1 drivers (5.1.4.2). */
    (void)d;
    (void)off;
    (void)buf;
    (void)len;
}

static void vnet_driver_ok(struct virtio_dev *d)
{
    vnet_schedule_resume(vnet_of(d));
}

static void vnet_queue_notify(struct virtio_dev *d, unsigned n)
{
    struct virtio_net *s = vnet_of(d);
    if (s->stopped) {
        return;
    }
    switch (n) {
    case RXQ:
        vnet_schedule_resume(s);
        break;
    case TXQ:
        if (!s->tx_scheduled) {
            s->tx_scheduled = true;
            virtq_set_notification(&d->vq[TXQ], false);
            loop_call(vnet_tx_cb, s);
        }
        break;
    case CTRLQ:
        if (virtio_has_feature(d, VIRTIO_NET_F_CTRL_VQ)) {
            vnet_ctrl(s);
        }
        break;
    default:
        break;
    }
}

static void vnet_reset(struct virtio_dev *d)
{
    struct virtio_net *s = vnet_of(d);
    /* A queued tx flush finds the driver not ready and stops; a backend
     * holding a frame stays held until the new driver posts buffers. */
    s->stopped = false;
    s->promisc = s->allmulti = false;
}

static const struct virtio_dev_ops vnet_ops = {
    .name = "virtio-net-device",
    .device_id = VIRTIO_ID_NET,
    .features = vnet_features,
    .config_size = vnet_config_size,
    .config_read = vnet_config_read,
    .config_write = vnet_config_write,
    .set_features = vnet_set_features,
    .driver_ok = vnet_driver_ok,
    .queue_notify = vnet_queue_notify,
    .reset = vnet_reset,
};

struct virtio_net *virtio_net_new(struct mem_map *mem, struct net_backend *nb,
                                  const uint8_t mac[6], struct error *err)
{
    struct virtio_net *s = calloc(1, sizeof(*s));
    if (!s) {
        err_set(err, -ENOMEM, "-device virtio-net-device: out of memory");
        return NULL;
    }
    s->nb = nb;
    memcpy(s->cfg.mac, mac, 6);
    s->cfg.status = htole16(VIRTIO_NET_S_LINK_UP);
    s->cfg.max_virtqueue_pairs = htole16(1);
    s->cfg.mtu = htole16(1500);
    virtio_dev_init(&s->vdev, &vnet_ops, s, mem, NUM_QUEUES,
                    VIRTIO_NET_QUEUE_SIZE);
    net_backend_attach(nb, vnet_receive, s);
    return s;
}

void virtio_net_free(struct virtio_net *s)
{
    if (!s) {
        return;
    }
    net_backend_attach(s->nb, NULL, NULL);
    loop_call_cancel(vnet_tx_cb, s);
    loop_call_cancel(vnet_resume_cb, s);
    free(s);
}

struct virtio_dev *virtio_net_vdev(struct virtio_net *s)
{
    return &s->vdev;
}

bool virtio_net_parse_mac(const char *str, uint8_t mac[6])
{
    unsigned b[6];
    char tail;
    if (sscanf(str, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
               &b[4], &b[5], &tail) != 6 ||
        strlen(str) != 17) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = (uint8_t)b[i];
    }
    return !(mac[0] & 1);
}

static int vnet_create(struct vm *vm, const struct opts *o,
                       struct device_instance *out, struct error *err)
{
    const char *on = "-device virtio-net-device";
    static uint8_t next_mac = 0x56; /* QEMU's 52:54:00:12:34:56, +1 each */
    uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, next_mac };
    const char *m = opts_get(o, "mac");

    if (m && !virtio_net_parse_mac(m, mac)) {
        return err_set(err, -EINVAL,
                       "%s: mac=%s: use six hex bytes like 52:54:00:12:34:56 "
                       "(not a multicast address)",
                       on, m);
    }
    if (!m) {
        next_mac++;
    }
    struct net_backend *nb = vm_take_netdev(vm, opts_get(o, "netdev"), on, err);
    if (!nb) {
        return err_is_set(err) ? err->code : -EINVAL;
    }
    struct virtio_net *s = virtio_net_new(&vm->mem, nb, mac, err);
    if (!s) {
        return err->code;
    }
    out->model = &virtio_net_model;
    out->state = s;
    out->vdev = &s->vdev;
    return 0;
}

static void vnet_destroy(void *state)
{
    virtio_net_free(state);
}

static const char *const vnet_props[] = { "netdev", "mac", NULL };

const struct device_model virtio_net_model = {
    .name = "virtio-net-device",
    .desc = "virtio network device (-netdev user or tap)",
    .props = vnet_props,
    .create = vnet_create,
    .destroy = vnet_destroy,
};
