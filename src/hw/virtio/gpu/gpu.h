/* SPDX-License-Identifier: MIT */
/*
 * virtio-gpu-device, 2D (virtio 1.2 spec, section 5.7 "GPU Device"), as
 * QEMU presents it: a control queue and a cursor queue whose commands are
 * decoded here and handed one-to-one to src/gfx (design.md "Graphics (the
 * rutabaga model)"), GET_DISPLAY_INFO and GET_EDID answered from the
 * device's own per-head state, and one display console per head
 * (src/ui/console.h) fed through gfx's listener. A console backend can ask
 * for a new head size; the device then raises VIRTIO_GPU_EVENT_DISPLAY so
 * the guest reads the display info again. The same decoder, with
 * conf.rutabaga, is virtio-gpu-rutabaga-device (QEMU 8.2's
 * virtio-gpu-rutabaga on MMIO): contexts, capsets, blobs, uuids, the
 * host-visible region and fence timelines, all in src/gfx. Not here:
 * virtio-vga and the PCI transport.
 * Everything but virtio_gpu_new/free runs with the device lock held, or
 * takes it (the console's request_size, main-loop thread).
 */
#ifndef SWEDE_HW_VIRTIO_GPU_GPU_H
#define SWEDE_HW_VIRTIO_GPU_GPU_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/models.h"

struct error;
struct mem_map;
struct virtio_dev;
struct virtio_gpu;

/* QEMU's defaults for the properties of the same names. */
#define VIRTIO_GPU_DEFAULT_XRES 1280
#define VIRTIO_GPU_DEFAULT_YRES 800
/* Largest head the device reports: the 12 bits an EDID detailed timing
 * has for each dimension. Larger requests are clamped to it. */
#define VIRTIO_GPU_MAX_RES 4095
/* Bytes of EDID the device builds for a head (one EDID 1.4 base block). */
#define VIRTIO_GPU_EDID_SIZE 128

struct virtio_gpu_conf {
    uint32_t max_outputs; /* heads, 1..VIRTIO_GPU_MAX_SCANOUTS */
    uint32_t xres, yres;  /* head 0's size at power-on, 1..MAX_RES */
    bool edid;            /* offer VIRTIO_GPU_F_EDID */
    uint64_t max_hostmem; /* cap on guest-caused host memory, > 0 */
    /* The -device id= (NULL without one), naming the consoles for QMP
     * screendump; copied. */
    const char *dev_id;
    /* virtio-gpu-rutabaga-device: features VIRGL (see gpu.c),
     * RESOURCE_BLOB, CONTEXT_INIT, RESOURCE_UUID; the context types of
     * capset_mask (gfx_config) and, for tests only, the test one. */
    bool rutabaga;
    uint64_t capset_mask;
    bool test_component;
    /* Bytes of host-visible shared memory region (0: none); the board
     * places it (virtio_gpu_host_visible). */
    uint64_t hostmem;
    const char *wayland_socket_path; /* NULL: QEMU's default search */
};

/* A device on guest memory mem with conf's heads, each given a console
 * (ui_console_new). NULL with err set (naming the bad setting) on a bad
 * conf, when the display layer has no console left, or without memory.
 * Main thread, while the board is built (and tests). */
struct virtio_gpu *virtio_gpu_new(struct mem_map *mem,
                                  const struct virtio_gpu_conf *conf,
                                  struct error *err);
/* Free the device and its gfx. The consoles stay with the display layer
 * (it has no way to remove one) and must not ask this device for a size
 * afterwards: free it only after the backends have stopped. g may be
 * NULL. */
void virtio_gpu_free(struct virtio_gpu *g);
struct virtio_dev *virtio_gpu_vdev(struct virtio_gpu *g);
/* The host-visible region (shmid VIRTIO_GPU_SHM_ID_HOST_VISIBLE): its
 * host mapping, which never moves, and size; NULL/0 without one. The
 * board adds it to guest memory as a RAM-like block
 * (mem_add_block_host) and reports it through the transport. */
uint8_t *virtio_gpu_host_visible(struct virtio_gpu *g, uint64_t *size);
/* Its read-only pages, for mem_add_block_host (NULL without a region). */
const uint8_t *virtio_gpu_host_visible_ro_pages(struct virtio_gpu *g);
/* Deliver fence signals queued by component threads now (device lock
 * held); the device otherwise does it from the main loop. For tests. */
void virtio_gpu_fence_poll(struct virtio_gpu *g);

/* Build the EDID the device reports for a w x h head into out: an EDID
 * 1.4 base block whose first detailed timing, the preferred mode, is w x
 * h (1..VIRTIO_GPU_MAX_RES each). Any thread; exposed for tests. */
void virtio_gpu_edid(uint8_t out[VIRTIO_GPU_EDID_SIZE], uint32_t w, uint32_t h);

extern const struct device_model virtio_gpu_model;
extern const struct device_model virtio_gpu_rutabaga_model;

#endif
