/* SPDX-License-Identifier: MIT */
/*
 * gfx, swede's rutabaga (design.md "Graphics (the rutabaga model)"): the
 * resource table, guest backing, scanouts and cursors behind a
 * virtio-gpu device (virtio 1.2 spec, section 5.7 "GPU Device", 5.7.6
 * "Device Operation"). The device decodes each command and calls the one
 * gfx_* function of the same name; every such function returns the
 * virtio-gpu response type to answer with (VIRTIO_GPU_RESP_OK_NODATA or
 * a VIRTIO_GPU_RESP_ERR_*), so the device passes it straight back.
 *
 * This is a choke point for hostile input (design.md principle 3): ids,
 * formats, sizes, rectangles, offsets and backing addresses all come from
 * the guest and are checked here; guest-caused host allocations are
 * counted against max_hostmem. Guest errors are logged through
 * log_guest() and never abort. What gfx does with pixels is done by a
 * component per context type (component.h); today that is the 2D
 * component (2d.c). Contexts, capsets, blobs and fence timelines are not
 * implemented yet: the device answers those commands with
 * VIRTIO_GPU_RESP_ERR_UNSPEC until they land here.
 *
 * Threads: a struct gfx is not locked; the device calls every function
 * with its device lock held, and the listener is called back from inside
 * those calls, on the same thread, under the same lock. A listener must
 * not call back into gfx.
 */
#ifndef SWEDE_GFX_GFX_H
#define SWEDE_GFX_GFX_H

#include <linux/virtio_gpu.h>
#include <pixman.h>
#include <stdint.h>

struct error;
struct gfx;
struct mem_map;

/* Scanouts a device may configure (num_scanouts is 1..this). */
#define GFX_MAX_SCANOUTS VIRTIO_GPU_MAX_SCANOUTS
/* Most mem entries one RESOURCE_ATTACH_BACKING may carry. Linux sends one
 * entry per contiguous run of pages, so a 4K framebuffer in the worst
 * case (every page apart) needs 8100; 16384 is QEMU's limit too. The
 * device should refuse larger nr_entries before reading them. */
#define GFX_MAX_BACKING_ENTRIES 16384u
/* Cursor resources are GFX_CURSOR_SIZE square. */
#define GFX_CURSOR_SIZE 64u
/* QEMU's default for virtio-gpu's max_hostmem property. */
#define GFX_DEFAULT_MAX_HOSTMEM (256ull << 20)

/* A rectangle in host byte order (struct virtio_gpu_rect is little
 * endian on the wire; the device converts). */
struct gfx_rect {
    uint32_t x, y, width, height;
};

/* One guest backing entry (struct virtio_gpu_mem_entry, host order). */
struct gfx_iovec {
    uint64_t gpa;
    uint32_t len;
};

struct gfx_config {
    /* Guest RAM the backing entries point into; must outlive the gfx.
     * Blocks never move, so host pointers are taken at attach time. */
    const struct mem_map *mem;
    /* Cap on host memory the guest can make gfx allocate (resource
     * images, backing tables, bookkeeping), bytes, > 0. */
    uint64_t max_hostmem;
    uint32_t num_scanouts; /* 1..GFX_MAX_SCANOUTS */
};

/* A scanout's cursor as the display should draw it. */
struct gfx_cursor {
    /* GFX_CURSOR_SIZE square PIXMAN_a8r8g8b8 (premultiplied), a copy of
     * the cursor resource; NULL when the cursor is hidden. Owned by gfx,
     * valid until the next cursor_update for this scanout. */
    pixman_image_t *image;
    uint32_t hot_x, hot_y; /* hot spot inside the image */
    int32_t x, y;          /* hot spot position on the scanout */
};

/*
 * What the display layer (src/ui) is told. Every callback is optional.
 * Images passed here belong to gfx; one given to scanout_set stays valid
 * until the next scanout_set for the same scanout (gfx disables a scanout
 * before it frees the image it shows). Pixels of a shown image change
 * only inside gfx calls (transfers); scanout_damage says where.
 */
struct gfx_listener {
    /* Scanout `scanout` now shows the rectangle r of image, or is disabled
     * (image and r NULL). The whole region should be redrawn. */
    void (*scanout_set)(void *opaque, uint32_t scanout, pixman_image_t *image,
                        const struct gfx_rect *r);
    /* The guest flushed r, in scanout coordinates (0,0 is the top left of
     * the shown rectangle), already clipped to it and never empty. */
    void (*scanout_damage)(void *opaque, uint32_t scanout,
                           const struct gfx_rect *r);
    /* The cursor image, hot spot or visibility changed. */
    void (*cursor_update)(void *opaque, uint32_t scanout,
                          const struct gfx_cursor *cursor);
    /* Only the cursor position changed. */
    void (*cursor_move)(void *opaque, uint32_t scanout, int32_t x, int32_t y);
};

/* Create a gfx with no resources, all scanouts disabled and cursors
 * hidden. 0 or a negative errno (bad config, no memory). */
int gfx_create(const struct gfx_config *cfg, struct gfx **out,
               struct error *err);
/* Free everything. The listener is not called; the display must stop
 * using gfx images before this. g may be NULL. */
void gfx_destroy(struct gfx *g);
/* Device reset: unref every resource (disabling the scanouts that show
 * them, through the listener) and hide every cursor. */
void gfx_reset(struct gfx *g);
/* Set the one listener (NULL to remove). The current state is replayed
 * to the new listener: scanout_set for every enabled scanout,
 * cursor_update for every visible cursor. */
void gfx_set_listener(struct gfx *g, const struct gfx_listener *listener,
                      void *opaque);

/*
 * The commands. Each returns VIRTIO_GPU_RESP_OK_NODATA or the error to
 * answer with. Resource ids are chosen by the guest; 0 is never a valid
 * resource (VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, as is an unknown or
 * duplicate id). A rectangle that does not lie inside its resource is
 * VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER; an empty one (zero width or
 * height) inside it is accepted and does nothing.
 */

/* RESOURCE_CREATE_2D: format is an enum virtio_gpu_formats value
 * (gfx_format_to_pixman() must know it, else INVALID_PARAMETER); zero or
 * overflowing sizes are INVALID_PARAMETER; beyond max_hostmem is
 * OUT_OF_MEMORY. The image starts zeroed. */
uint32_t gfx_resource_create_2d(struct gfx *g, uint32_t resource_id,
                                uint32_t format, uint32_t width,
                                uint32_t height);
/* RESOURCE_UNREF: disables the scanouts showing it, drops its backing. */
uint32_t gfx_resource_unref(struct gfx *g, uint32_t resource_id);
/* RESOURCE_ATTACH_BACKING: 1..GFX_MAX_BACKING_ENTRIES entries (else
 * INVALID_PARAMETER); each must lie wholly inside one writable guest RAM
 * block (else INVALID_PARAMETER). Zero-length entries are skipped. The
 * entries are copied; the caller keeps its array. A resource that already
 * has backing is UNSPEC (detach first). */
uint32_t gfx_resource_attach_backing(struct gfx *g, uint32_t resource_id,
                                     const struct gfx_iovec *entries,
                                     uint32_t n);
/* RESOURCE_DETACH_BACKING: UNSPEC if none is attached. */
uint32_t gfx_resource_detach_backing(struct gfx *g, uint32_t resource_id);
/* TRANSFER_TO_HOST_2D: copy rectangle r from the backing into the
 * resource. As in QEMU and crosvm, the backing holds rows of
 * width * bytes-per-pixel bytes and offset is the byte offset of r's first
 * pixel in it, so row i of r starts at offset + i * stride. Every byte
 * read must lie inside the backing (else INVALID_PARAMETER); no backing
 * is UNSPEC. */
uint32_t gfx_transfer_to_host_2d(struct gfx *g, uint32_t resource_id,
                                 const struct gfx_rect *r, uint64_t offset);
/* RESOURCE_FLUSH: report r to every scanout showing the resource. */
uint32_t gfx_resource_flush(struct gfx *g, uint32_t resource_id,
                            const struct gfx_rect *r);
/* SET_SCANOUT: show rectangle r of the resource on scanout_id (>=
 * num_scanouts is INVALID_SCANOUT_ID). resource_id 0, or (as in QEMU) an
 * empty r, disables the scanout. */
uint32_t gfx_set_scanout(struct gfx *g, uint32_t scanout_id,
                         uint32_t resource_id, const struct gfx_rect *r);
/* UPDATE_CURSOR (cursorq): copy the GFX_CURSOR_SIZE square resource (any
 * other size is INVALID_PARAMETER, and nothing changes) into the scanout's
 * cursor, or hide the cursor when resource_id is 0. The byte an X format
 * leaves unused is read as alpha (Linux's cursors are XRGB dumb buffers
 * with alpha in it; QEMU reads them the same way). The hot spot is
 * clamped into the image. x, y are the wire's le32 read as signed: Linux
 * sends negative positions for a cursor partly off the left/top edge. */
uint32_t gfx_update_cursor(struct gfx *g, uint32_t scanout_id,
                           uint32_t resource_id, uint32_t hot_x, uint32_t hot_y,
                           int32_t x, int32_t y);
/* MOVE_CURSOR (cursorq): new position only. */
uint32_t gfx_move_cursor(struct gfx *g, uint32_t scanout_id, int32_t x,
                         int32_t y);

/* Queries (same thread and lock rules). */
uint32_t gfx_num_scanouts(const struct gfx *g);
/* Host memory currently charged against max_hostmem, bytes. */
uint64_t gfx_hostmem_used(const struct gfx *g);
/* The pixman format holding a virtio-gpu format's bytes as they lie in
 * guest memory on this host, or 0 if gfx does not support the format. */
pixman_format_code_t gfx_format_to_pixman(uint32_t virtio_format);
/* A copy of what scanout_id shows (its rectangle of the resource), in the
 * resource's pixman format, for screendumps; the caller unrefs it. NULL if
 * the scanout is disabled or invalid, or memory is short. */
pixman_image_t *gfx_scanout_snapshot(struct gfx *g, uint32_t scanout_id);

#endif
