/* SPDX-License-Identifier: MIT */
/*
 * virtio-serial-device (virtio 1.2 spec, section 5.3 "Console Device")
 * with VIRTIO_CONSOLE_F_MULTIPORT, and its ports as QEMU names them:
 * virtconsole (a console port, hvc in the guest) and virtserialport (a
 * named port, /dev/vportNpM). A port carries bytes between its rx/tx
 * queues and a chardev. Not here: port hot-plug, console resize.
 */
#ifndef SWEDE_HW_VIRTIO_CONSOLE_H
#define SWEDE_HW_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/models.h"

struct chardev;
struct error;
struct mem_map;
struct virtio_dev;
struct virtio_serial;

/* QEMU's default and the most that fit VIRTIO_MAX_QUEUES queues. */
#define VIRTIO_SERIAL_MAX_PORTS 31
/* Longest port name sent in PORT_NAME. */
#define VIRTIO_SERIAL_NAME_MAX 255
/* Control messages kept while the guest has posted no c_ivq buffers. */
#define VIRTIO_SERIAL_CTRL_PENDING 128

/* A device with max_ports (1..VIRTIO_SERIAL_MAX_PORTS) ports on guest
 * memory mem; NULL without memory. Board build time (and tests). */
struct virtio_serial *virtio_serial_new(struct mem_map *mem,
                                        unsigned max_ports);
/* Detaches the ports from their chardevs (which the caller still owns). */
void virtio_serial_free(struct virtio_serial *s);
struct virtio_dev *virtio_serial_vdev(struct virtio_serial *s);

/* Add a port. nr < 0: the first free number (0 for a console if free,
 * never 0 for a plain port, as QEMU). chr may be NULL (output dropped, no
 * input); the port becomes chr's receiver, so this runs on the main-loop
 * thread after loop_init(). name may be NULL. Returns the port number or
 * a negative errno with err set. Board build time, before the guest runs. */
int virtio_serial_add_port(struct virtio_serial *s, struct chardev *chr,
                           const char *name, int nr, bool console,
                           struct error *err);

extern const struct device_model virtio_serial_model;
extern const struct device_model virtconsole_model;
extern const struct device_model virtserialport_model;

#endif
