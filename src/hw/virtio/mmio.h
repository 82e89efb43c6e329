/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport, version 2 register layout (virtio 1.2 spec,
 * section 4.2.2; offsets from linux/virtio_mmio.h), including the
 * shared-memory-region registers (SHMSel/SHMLen/SHMBase) the GPU will use.
 * An empty slot (no device) reads MagicValue, Version 2 and DeviceID 0,
 * as QEMU's unpopulated virtio-mmio transports do. Registers only: the
 * device logic lives in core.c and the device. Device lock held.
 */
#ifndef SWEDE_HW_VIRTIO_MMIO_H
#define SWEDE_HW_VIRTIO_MMIO_H

#include <stdint.h>

#include "bus/irq.h"

struct bus;
struct error;
struct virtio_dev;
struct virtio_mmio;

#define VIRTIO_MMIO_SIZE 0x200u

/* A transport at base; dev may be NULL for an empty slot and plugged
 * later with virtio_mmio_plug() while the board is being built. */
struct virtio_mmio *virtio_mmio_new(struct bus *bus, uint64_t base,
                                    struct irq_line irq, struct error *err);
void virtio_mmio_plug(struct virtio_mmio *m, struct virtio_dev *dev);
struct virtio_dev *virtio_mmio_dev(struct virtio_mmio *m);
void virtio_mmio_reset(struct virtio_mmio *m);
void virtio_mmio_free(struct virtio_mmio *m);

/* Shared memory region id (for the GPU's host-visible region); len 0:
 * the region does not exist. */
void virtio_mmio_set_shm(struct virtio_mmio *m, uint8_t id, uint64_t base,
                         uint64_t len);

#endif
