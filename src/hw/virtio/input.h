/* SPDX-License-Identifier: MIT */
/*
 * virtio-input (virtio 1.2 spec, section 5.8 "Input Device"):
 * virtio-keyboard-device, virtio-mouse-device and virtio-tablet-device as
 * QEMU presents them (names, ids, event bitmaps, absolute ranges). The
 * device side of a display backend: events go in with virtio_input_send()
 * and are handed to the guest at each EV_SYN, or kept in a bounded ring
 * while the guest has posted no buffers. Not here: routing host input to
 * a device (src/ui), multitouch, virtio-input-host passthrough.
 */
#ifndef SWEDE_HW_VIRTIO_INPUT_H
#define SWEDE_HW_VIRTIO_INPUT_H

#include <stdint.h>

#include "hw/models.h"

struct mem_map;
struct virtio_dev;
struct virtio_input;

enum virtio_input_kind {
    VIRTIO_INPUT_KEYBOARD,
    VIRTIO_INPUT_MOUSE,
    VIRTIO_INPUT_TABLET,
};

/* Events kept while the guest has no buffers; the oldest go first. */
#define VIRTIO_INPUT_QUEUED_MAX 256
/* Largest absolute coordinate of the tablet (QEMU's INPUT_EVENT_ABS_MAX). */
#define VIRTIO_INPUT_ABS_MAX 0x7fff

/* A device on guest memory mem; serial (may be NULL) is copied and shown
 * as VIRTIO_INPUT_CFG_ID_SERIAL. NULL without memory. Board build time. */
struct virtio_input *virtio_input_new(struct mem_map *mem,
                                      enum virtio_input_kind kind,
                                      const char *serial);
void virtio_input_free(struct virtio_input *in);
struct virtio_dev *virtio_input_vdev(struct virtio_input *in);

/* Queue one event (type/code from linux/input-event-codes.h); an EV_SYN
 * sends everything queued so far to the guest as far as it has buffers.
 * Any thread that does not hold the device lock (it takes the lock). */
void virtio_input_send(struct virtio_input *in, uint16_t type, uint16_t code,
                       uint32_t value);
/* virtio_input_send(in, EV_SYN, SYN_REPORT, 0). */
void virtio_input_sync(struct virtio_input *in);
/* LED state the guest last sent on the status queue: bit n is LED n
 * (LED_NUML, LED_CAPSL, ...). Any thread (a snapshot). */
uint32_t virtio_input_leds(struct virtio_input *in);
/* Events dropped because the ring was full (statistics, tests). */
uint64_t virtio_input_dropped(struct virtio_input *in);

extern const struct device_model virtio_keyboard_model;
extern const struct device_model virtio_mouse_model;
extern const struct device_model virtio_tablet_model;

#endif
