/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.2 spec, section 2.7): popping descriptor
 * chains, direct and indirect (2.7.5.3), into iovecs of host pointers, and
 * pushing used elements with notification suppression (2.7.7, 2.7.10).
 *
 * Everything in the rings is written by a guest that may be hostile and
 * may be changing them while we read: each descriptor is copied out once
 * and checked as copied, every index is bounded by the table it indexes,
 * a chain walk takes at most as many steps as its table has entries, and
 * every buffer must lie wholly inside one block of guest RAM (writable
 * buffers not in ROM). A ring that breaks a rule marks the queue broken
 * (2.7.5.3.1, 2.7.4.2 "MUST NOT"s): virtq_pop() fails with -EIO until the
 * queue is reset, and the device core sets DEVICE_NEEDS_RESET. Not here:
 * packed rings, the status machine, transports.
 *
 * Ordering against the guest (2.7.13): the available index is read with
 * acquire semantics before the ring entries it publishes; the used index
 * is written with release semantics after the elements; a full fence
 * separates publishing used entries (or re-enabling notifications) from
 * reading the driver's suppression fields.
 */
#include "hw/virtio/queue.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_ring.h>
#include <stddef.h>
#include <string.h>

#include "core/log.h"
#include "mem/mem.h"

/* Ring sizes in bytes, with the trailing event field when negotiated. */
static uint64_t virtq_desc_size(const struct virtq *q)
{
    return (uint64_t)q->num * sizeof(struct vring_desc);
}

static uint64_t virtq_avail_size(const struct virtq *q)
{
    return offsetof(struct vring_avail, ring) + (uint64_t)q->num * 2 +
           (q->event_idx ? 2 : 0);
}

static uint64_t virtq_used_size(const struct virtq *q)
{
    return offsetof(struct vring_used, ring) +
           (uint64_t)q->num * sizeof(struct vring_used_elem) +
           (q->event_idx ? 2 : 0);
}

static uint8_t *virtq_avail(const struct virtq *q)
{
    return mem_ptr(q->mem, q->avail_gpa, virtq_avail_size(q), false);
}

static uint8_t *virtq_used(const struct virtq *q)
{
    return mem_ptr(q->mem, q->used_gpa, virtq_used_size(q), true);
}

/* Guest-shared 16-bit fields: single naturally aligned accesses (the
 * rings' alignment is checked in virtq_validate). */
static uint16_t virtq_ld16(const uint8_t *p, int order)
{
    return le16toh(__atomic_load_n((const uint16_t *)p, order));
}

static void virtq_st16(uint8_t *p, uint16_t v, int order)
{
    __atomic_store_n((uint16_t *)p, htole16(v), order);
}

void virtq_reset(struct virtq *q)
{
    struct mem_map *mem = q->mem;
    uint16_t num_max = q->num_max;

    memset(q, 0, sizeof(*q));
    q->mem = mem;
    q->num_max = num_max;
    q->num = num_max;
}

bool virtq_validate(struct virtq *q)
{
    if (q->num == 0 || q->num > q->num_max || q->num > VIRTQ_MAX_SIZE ||
        (q->num & (q->num - 1))) {
        log_guest("virtq: queue size %u is not a power of two <= %u", q->num,
                  q->num_max);
        return false;
    }
    if ((q->desc_gpa & (VRING_DESC_ALIGN_SIZE - 1)) ||
        (q->avail_gpa & (VRING_AVAIL_ALIGN_SIZE - 1)) ||
        (q->used_gpa & (VRING_USED_ALIGN_SIZE - 1))) {
        log_guest("virtq: misaligned rings (desc 0x%llx avail 0x%llx used "
                  "0x%llx)",
                  (unsigned long long)q->desc_gpa,
                  (unsigned long long)q->avail_gpa,
                  (unsigned long long)q->used_gpa);
        return false;
    }
    if (!mem_ptr(q->mem, q->desc_gpa, virtq_desc_size(q), false) ||
        !virtq_avail(q) || !virtq_used(q)) {
        log_guest("virtq: rings not in guest RAM (desc 0x%llx avail 0x%llx "
                  "used 0x%llx, size %u)",
                  (unsigned long long)q->desc_gpa,
                  (unsigned long long)q->avail_gpa,
                  (unsigned long long)q->used_gpa, q->num);
        return false;
    }
    q->last_avail = 0;
    q->used_idx = 0;
    q->signalled_used_valid = false;
    q->broken = false;
    return true;
}

static int virtq_malformed(struct virtq *q, const char *why, unsigned v)
{
    q->broken = true;
    log_guest("virtq: malformed ring: %s (%u)", why, v);
    return -EIO;
}

/* Add one descriptor's buffer to e. */
static int virtq_add_buf(struct virtq *q, struct virtq_elem *e,
                         const struct vring_desc *d)
{
    uint64_t addr = le64toh(d->addr);
    uint32_t len = le32toh(d->len);
    bool w = le16toh(d->flags) & VRING_DESC_F_WRITE;

    if (!w && e->n_in) {
        return virtq_malformed(q, "readable descriptor after a writable one",
                               e->head);
    }
    if ((w ? e->n_in : e->n_out) >= VIRTQ_MAX_SIZE) {
        return virtq_malformed(q, "too many descriptors in chain", e->head);
    }
    if (e->out_len + e->in_len + len > UINT32_MAX) {
        return virtq_malformed(q, "chain longer than 4 GiB", e->head);
    }
    void *p = mem_ptr(q->mem, addr, len, w);
    if (!p) {
        q->broken = true;
        log_guest("virtq: malformed ring: buffer 0x%llx+0x%x not in guest "
                  "%s",
                  (unsigned long long)addr, len,
                  w ? "RAM (or read-only)" : "RAM");
        return -EIO;
    }
    if (len == 0) {
        return 0; /* nothing to transfer; the address was still checked */
    }
    if (w) {
        e->in[e->n_in++] = (struct iovec){ p, len };
        e->in_len += len;
    } else {
        e->out[e->n_out++] = (struct iovec){ p, len };
        e->out_len += len;
    }
    return 0;
}

int virtq_pop(struct virtq *q, struct virtq_elem *e)
{
    if (q->broken) {
        return -EIO;
    }
    if (!q->ready || q->num == 0) {
        return 0;
    }
    uint8_t *avail = virtq_avail(q);
    const uint8_t *ring =
        mem_ptr(q->mem, q->desc_gpa, virtq_desc_size(q), false);
    if (!avail || !ring) {
        return virtq_malformed(q, "rings left guest RAM", 0);
    }
    /* Our last avail_event store must be visible before we read the
     * driver's index, or a buffer it adds meanwhile could go unnoticed by
     * both sides (x86 lets a load pass an earlier store): 2.7.10. */
    if (q->event_idx) {
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    }
    uint16_t avail_idx =
        virtq_ld16(avail + offsetof(struct vring_avail, idx), __ATOMIC_ACQUIRE);
    uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
    if (pending == 0) {
        return 0;
    }
    if (pending > q->num) {
        return virtq_malformed(q,
                               "available index moved by more than the "
                               "queue size",
                               pending);
    }
    uint16_t head = virtq_ld16(avail + offsetof(struct vring_avail, ring) +
                                   2u * (q->last_avail & (q->num - 1)),
                               __ATOMIC_RELAXED);
    if (head >= q->num) {
        return virtq_malformed(q, "head index out of range", head);
    }

    e->head = head;
    e->n_out = e->n_in = 0;
    e->out_len = e->in_len = 0;

    const uint8_t *table = ring;
    unsigned tnum = q->num, idx = head, steps = 0;
    bool in_indirect = false;
    for (;;) {
        struct vring_desc d;
        if (++steps > tnum) {
            return virtq_malformed(q,
                                   "descriptor chain loops or is longer "
                                   "than its table",
                                   head);
        }
        memcpy(&d, table + (size_t)idx * sizeof(d), sizeof(d));
        uint16_t flags = le16toh(d.flags);
        if (flags & VRING_DESC_F_INDIRECT) {
            uint32_t len = le32toh(d.len);
            if (!q->indirect) {
                return virtq_malformed(q, "indirect descriptor not negotiated",
                                       head);
            }
            if (in_indirect) {
                return virtq_malformed(q,
                                       "indirect descriptor in an "
                                       "indirect table",
                                       head);
            }
            if (flags & VRING_DESC_F_NEXT) {
                return virtq_malformed(q, "indirect descriptor with NEXT",
                                       head);
            }
            if (len == 0 || len % sizeof(d) ||
                len / sizeof(d) > VIRTQ_MAX_SIZE) {
                return virtq_malformed(q, "bad indirect table length", len);
            }
            table = mem_ptr(q->mem, le64toh(d.addr), len, false);
            if (!table) {
                return virtq_malformed(q, "indirect table not in guest RAM",
                                       len);
            }
            in_indirect = true;
            tnum = len / sizeof(d);
            idx = 0;
            steps = 0;
            continue;
        }
        int r = virtq_add_buf(q, e, &d);
        if (r < 0) {
            return r;
        }
        if (!(flags & VRING_DESC_F_NEXT)) {
            break;
        }
        idx = le16toh(d.next);
        if (idx >= tnum) {
            return virtq_malformed(q, "next index out of range", idx);
        }
    }

    q->last_avail++;
    if (q->event_idx) {
        /* Ask to be notified as soon as anything new arrives. */
        uint8_t *used = virtq_used(q);
        if (used) {
            virtq_st16(used + offsetof(struct vring_used, ring) +
                           (size_t)q->num * sizeof(struct vring_used_elem),
                       q->last_avail, __ATOMIC_RELAXED);
        }
    }
    return 1;
}

void virtq_unpop(struct virtq *q)
{
    q->last_avail--;
}

void virtq_push(struct virtq *q, const struct virtq_elem *e, uint32_t written)
{
    if (!q->ready || q->num == 0) {
        return; /* reset while the request was in flight: drop it */
    }
    uint8_t *used = virtq_used(q);
    if (!used) {
        virtq_malformed(q, "used ring left guest RAM", 0);
        return;
    }
    if (written > e->in_len) {
        written = (uint32_t)e->in_len;
    }
    struct vring_used_elem el = { .id = htole32(e->head),
                                  .len = htole32(written) };
    memcpy(used + offsetof(struct vring_used, ring) +
               (size_t)(q->used_idx & (q->num - 1)) * sizeof(el),
           &el, sizeof(el));
    q->used_idx++;
    virtq_st16(used + offsetof(struct vring_used, idx), q->used_idx,
               __ATOMIC_RELEASE);
}

bool virtq_should_notify(struct virtq *q)
{
    if (!q->ready || q->num == 0) {
        return false;
    }
    uint8_t *avail = virtq_avail(q);
    if (!avail) {
        return false;
    }
    /* The used index we just published must be visible before we look at
     * what the driver asked for (2.7.7.2, 2.7.10). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!q->event_idx) {
        uint16_t flags = virtq_ld16(avail + offsetof(struct vring_avail, flags),
                                    __ATOMIC_RELAXED);
        return !(flags & VRING_AVAIL_F_NO_INTERRUPT);
    }
    uint16_t old = q->signalled_used, new = q->used_idx;
    bool valid = q->signalled_used_valid;
    q->signalled_used = new;
    q->signalled_used_valid = true;
    if (!valid) {
        return true;
    }
    uint16_t event =
        virtq_ld16(avail + offsetof(struct vring_avail, ring) + 2u * q->num,
                   __ATOMIC_RELAXED);
    return vring_need_event(event, new, old);
}

void virtq_set_notification(struct virtq *q, bool enable)
{
    if (!q->ready || q->num == 0) {
        return;
    }
    uint8_t *used = virtq_used(q);
    uint8_t *avail = virtq_avail(q);
    if (!used || !avail) {
        return;
    }
    if (q->event_idx) {
        /* Disabling is a hint we can skip: avail_event just stays where
         * it is. Enabling asks for a notification for the next buffer. */
        if (enable) {
            uint16_t idx = virtq_ld16(avail + offsetof(struct vring_avail, idx),
                                      __ATOMIC_RELAXED);
            virtq_st16(used + offsetof(struct vring_used, ring) +
                           (size_t)q->num * sizeof(struct vring_used_elem),
                       idx, __ATOMIC_RELAXED);
        }
    } else {
        virtq_st16(used + offsetof(struct vring_used, flags),
                   enable ? 0 : VRING_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
    }
    /* The caller re-checks the available ring after enabling; the driver
     * must see our flag before we read its index (2.7.10). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

size_t virtq_read(const struct virtq_elem *e, size_t off, void *buf, size_t len)
{
    size_t done = 0;
    for (unsigned i = 0; i < e->n_out && done < len; i++) {
        size_t n = e->out[i].iov_len;
        if (off >= n) {
            off -= n;
            continue;
        }
        n -= off;
        if (n > len - done) {
            n = len - done;
        }
        memcpy((uint8_t *)buf + done, (uint8_t *)e->out[i].iov_base + off, n);
        done += n;
        off = 0;
    }
    return done;
}

size_t virtq_write(const struct virtq_elem *e, size_t off, const void *buf,
                   size_t len)
{
    size_t done = 0;
    for (unsigned i = 0; i < e->n_in && done < len; i++) {
        size_t n = e->in[i].iov_len;
        if (off >= n) {
            off -= n;
            continue;
        }
        n -= off;
        if (n > len - done) {
            n = len - done;
        }
        memcpy((uint8_t *)e->in[i].iov_base + off, (const uint8_t *)buf + done,
               n);
        done += n;
        off = 0;
    }
    return done;
}
