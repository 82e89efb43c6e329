/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.2 spec, section 2.7 "Split Virtqueues") over
 * guest memory: popping available descriptor chains (direct and indirect,
 * section 2.7.5.3) into iovecs of host pointers, and pushing used
 * elements with event-idx notification suppression (2.7.7, 2.7.10).
 *
 * This is a choke point for hostile input (design.md principle 3): every
 * index, length and address the guest supplies is checked here before
 * use; a chain walk is capped at the queue size; a malformed ring marks
 * the queue broken and virtq_pop() fails, after which the device core sets
 * DEVICE_NEEDS_RESET. Not here: the status machine and features (virtio.h)
 * and any transport. Called with the device lock held.
 */
#ifndef SWEDE_HW_VIRTIO_QUEUE_H
#define SWEDE_HW_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct mem_map;

#define VIRTQ_MAX_SIZE 1024u /* largest queue a device may offer */

struct virtq {
    struct mem_map *mem;
    uint16_t num_max; /* offered by the device */
    uint16_t num;     /* chosen by the driver (power of two, <= num_max) */
    bool ready;
    bool event_idx; /* VIRTIO_RING_F_EVENT_IDX negotiated */
    bool indirect;  /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
    bool broken;    /* malformed ring seen: no more pops until reset */
    uint64_t desc_gpa, avail_gpa, used_gpa;
    uint16_t last_avail; /* next avail ring entry to consume */
    uint16_t used_idx;   /* next used ring entry to fill */
    uint16_t signalled_used;
    bool signalled_used_valid;
};

/*
 * One popped chain. out[] are the device-readable buffers (the request),
 * in[] the device-writable ones (the response), in chain order; the
 * spec requires all readable descriptors before all writable ones, and a
 * chain breaking that is malformed. iov_base points into guest RAM.
 */
struct virtq_elem {
    uint16_t head;
    unsigned n_out, n_in;
    uint64_t out_len, in_len; /* totals, bytes */
    struct iovec out[VIRTQ_MAX_SIZE];
    struct iovec in[VIRTQ_MAX_SIZE];
};

/* Forget the rings; keeps mem and num_max. */
void virtq_reset(struct virtq *q);
/* Check the driver's configuration when it sets the queue ready: sizes,
 * alignment (desc 16, avail 2, used 4) and that all three rings lie in
 * guest RAM. false: leave the queue not ready. */
bool virtq_validate(struct virtq *q);

/* 1: e holds a chain; 0: nothing available; -EIO: malformed (q->broken is
 * set and the guest error is logged). */
int virtq_pop(struct virtq *q, struct virtq_elem *e);
/* Give back e->head having written `written` bytes into e->in. */
void virtq_push(struct virtq *q, const struct virtq_elem *e, uint32_t written);
/* Put back the last popped chain (a device that cannot handle it now). */
void virtq_unpop(struct virtq *q);
/* After pushes: must the driver be interrupted (event idx or
 * VRING_AVAIL_F_NO_INTERRUPT)? Updates the signalled state. */
bool virtq_should_notify(struct virtq *q);
/* Tell the driver not to notify us / to notify again (used flags or the
 * avail event, depending on event_idx). */
void virtq_set_notification(struct virtq *q, bool enable);

/* Bounded copies between a chain's buffers and a flat buffer; they return
 * the number of bytes copied (short if the chain is short). */
size_t virtq_read(const struct virtq_elem *e, size_t off, void *buf,
                  size_t len);
size_t virtq_write(const struct virtq_elem *e, size_t off, const void *buf,
                   size_t len);

#endif
