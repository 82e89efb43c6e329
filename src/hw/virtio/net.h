/* SPDX-License-Identifier: MIT */
/*
 * virtio-net-device (virtio 1.2 spec, section 5.1 "Network Device") on a
 * network backend (backend/net.h): one receive and one transmit queue and
 * the control queue. Guest-side calls run with the device lock held on
 * the vCPU thread; the data path itself (transmit, receive, resume) runs
 * on the main-loop thread, which takes the device lock around ring
 * accesses and never holds it while calling the backend.
 */
#ifndef SWEDE_HW_VIRTIO_NET_H
#define SWEDE_HW_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/models.h"

struct mem_map;
struct net_backend;
struct virtio_dev;
struct virtio_net;
struct error;

#define VIRTIO_NET_QUEUE_SIZE 256u

/* A device on guest memory mem attached to backend nb (not owned), with
 * the given MAC. NULL with err set on failure. Main thread. */
struct virtio_net *virtio_net_new(struct mem_map *mem, struct net_backend *nb,
                                  const uint8_t mac[6], struct error *err);
/* Detaches from the backend and frees. Main thread, guest stopped. */
void virtio_net_free(struct virtio_net *s);
struct virtio_dev *virtio_net_vdev(struct virtio_net *s);

/* Transmit what the guest queued, now (what the main loop does after a
 * notification; tests and fuzz targets call it directly). Main-loop
 * thread, device lock not held. */
void virtio_net_tx_flush(struct virtio_net *s);

/* "52:54:00:12:34:56" -> bytes; false on garbage, a multicast address. */
bool virtio_net_parse_mac(const char *str, uint8_t mac[6]);

extern const struct device_model virtio_net_model;

#endif
