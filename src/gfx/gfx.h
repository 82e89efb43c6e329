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
 * component per context type (component.h): the 2D component (2d.c),
 * cross-domain (cross_domain.c) and a test component for tests. The core
 * also keeps contexts, capsets, blob resources (guest memory or host
 * memfds the components provide), the host-visible region blobs are
 * mapped into (5.7.5 "shared memory regions"), uuids, and fence
 * timelines: one global, and one per (context, ring_idx) with
 * VIRTIO_GPU_FLAG_INFO_RING_IDX, each in order and independent of the
 * others.
 *
 * Threads: a struct gfx is not locked; the device calls every function
 * with its device lock held, and the listener is called back from inside
 * those calls, on the same thread, under the same lock. A listener must
 * not call back into gfx. The one exception is gfx_config.wakeup, called
 * from any thread (see there).
 */
#ifndef SWEDE_GFX_GFX_H
#define SWEDE_GFX_GFX_H

#include <linux/virtio_gpu.h>
#include <pixman.h>
#include <stdbool.h>
#include <stdint.h>

/* In <linux/virtio_gpu.h> since Linux 6.8 ("drm/virtio: add new virtio
 * gpu capset definitions"); older uapi headers (Debian 12's) lack it. */
#ifndef VIRTIO_GPU_CAPSET_CROSS_DOMAIN
#define VIRTIO_GPU_CAPSET_CROSS_DOMAIN 5
#endif

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
/* Default cap on host fds (blob memfds and the like) a guest can pin. */
#define GFX_DEFAULT_MAX_FDS 1024u
/* Largest SUBMIT_3D command stream taken (bytes). */
#define GFX_MAX_SUBMIT (1u << 20)
/* Most blobs mapped into the host-visible region at once (QEMU's
 * MAX_SLOTS). */
#define GFX_MAX_MAPPINGS 4096u
/* Largest host-visible region (the window is reserved address space,
 * not memory). */
#define GFX_MAX_HOST_VISIBLE (1ull << 40)
/* ring_idx of the global (device-wide) fence timeline in
 * gfx_listener.fence_signalled. */
#define GFX_RING_GLOBAL UINT32_MAX
/* Largest capset payload passed on. */
#define GFX_MAX_CAPSET_SIZE 4096u
/* Largest framebuffer side SET_SCANOUT_BLOB takes. */
#define VIRTIO_GPU_MAX_BLOB_DIM 16384u
/* The test component's capset id: in the private end of the 8-bit
 * context_init space, far from the VIRTIO_GPU_CAPSET_* assigned ids. */
#define GFX_CAPSET_TEST 0xfeu

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

/* TRANSFER_TO_HOST_3D / TRANSFER_FROM_HOST_3D, host order. */
struct gfx_transfer_3d {
    uint32_t x, y, z, w, h, d;
    uint32_t level, stride, layer_stride;
    uint64_t offset;
};

struct gfx_config {
    /* Guest RAM the backing entries point into; must outlive the gfx.
     * Blocks never move, so host pointers are taken at attach time. */
    const struct mem_map *mem;
    /* Cap on host memory the guest can make gfx allocate (resource
     * images, backing tables, blob memory, bookkeeping), bytes, > 0. */
    uint64_t max_hostmem;
    uint32_t num_scanouts; /* 1..GFX_MAX_SCANOUTS */
    /* Context types: bit n enables the component of capset id n
     * (VIRTIO_GPU_CAPSET_CROSS_DOMAIN is the only one today); 0: 2D only.
     * test_component adds the test component (GFX_CAPSET_TEST). Capsets
     * are enumerated in increasing id order, the test one last. */
    uint64_t capset_mask;
    bool test_component;
    /* Bytes of host-visible region (shmid VIRTIO_GPU_SHM_ID_HOST_VISIBLE)
     * to reserve for MAP_BLOB; a multiple of the host page size up to
     * GFX_MAX_HOST_VISIBLE, 0 for none. */
    uint64_t host_visible_size;
    /* Cap on host fds the guest can pin; 0: GFX_DEFAULT_MAX_FDS. */
    uint32_t max_fds;
    /* For the cross-domain component: the host Wayland socket (NULL:
     * $XDG_RUNTIME_DIR/$WAYLAND_DISPLAY, as QEMU). Copied. */
    const char *wayland_socket_path;
    /* Any thread, without the device lock and without calling into gfx:
     * a fence signal was queued (gfx_fence_signal_async); arrange for
     * gfx_fence_poll() to run soon under the device lock. Optional. */
    void (*wakeup)(void *opaque);
    void *wakeup_opaque;
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
    /* fence_id and every earlier fence on the timeline (ctx_id, ring_idx)
     * are done; ring_idx GFX_RING_GLOBAL (ctx_id 0) is the global one. A
     * destroyed context's rings are retired with fence_id UINT64_MAX.
     * Called from inside gfx_create_fence (a fence signalled at once),
     * any command, gfx_fence_poll, context destroy and reset. */
    void (*fence_signalled)(void *opaque, uint32_t ctx_id, uint32_t ring_idx,
                            uint64_t fence_id);
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

/* ---- contexts, capsets, blobs, fences (VIRTIO_GPU_F_CONTEXT_INIT,
 * F_RESOURCE_BLOB, F_RESOURCE_UUID). Context ids are the guest's; 0 and
 * unknown ids are VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID. ---- */

/* Capsets enabled (the config's num_capsets). */
uint32_t gfx_num_capsets(const struct gfx *g);
/* GET_CAPSET_INFO: index < gfx_num_capsets (else INVALID_PARAMETER).
 * OK_CAPSET_INFO. */
uint32_t gfx_get_capset_info(struct gfx *g, uint32_t index, uint32_t *id,
                             uint32_t *max_version, uint32_t *max_size);
/* GET_CAPSET: an enabled id and version <= max_version (else
 * INVALID_PARAMETER); fills *size (<= cap, else UNSPEC) bytes of buf.
 * OK_CAPSET. */
uint32_t gfx_get_capset(struct gfx *g, uint32_t id, uint32_t version, void *buf,
                        uint32_t cap, uint32_t *size);
/* CTX_CREATE: the capset id in context_init picks the component (0: the
 * first enabled); a capset not enabled is INVALID_PARAMETER, an id in use
 * INVALID_CONTEXT_ID. name is nlen bytes (at most 64 used), not
 * NUL-terminated. */
uint32_t gfx_ctx_create(struct gfx *g, uint32_t ctx_id, uint32_t context_init,
                        const char *name, uint32_t nlen);
/* CTX_DESTROY: detaches every resource, destroys the context in its
 * component, and retires its fence timelines. */
uint32_t gfx_ctx_destroy(struct gfx *g, uint32_t ctx_id);
uint32_t gfx_ctx_attach_resource(struct gfx *g, uint32_t ctx_id,
                                 uint32_t resource_id);
uint32_t gfx_ctx_detach_resource(struct gfx *g, uint32_t ctx_id,
                                 uint32_t resource_id);
/* SUBMIT_3D: size <= GFX_MAX_SUBMIT bytes of cmd. */
uint32_t gfx_submit_3d(struct gfx *g, uint32_t ctx_id, const void *cmd,
                       uint32_t size);
/* TRANSFER_TO_HOST_3D / TRANSFER_FROM_HOST_3D. ctx_id 0 is allowed. */
uint32_t gfx_transfer_3d(struct gfx *g, uint32_t ctx_id, uint32_t resource_id,
                         const struct gfx_transfer_3d *t, bool to_host);
/* RESOURCE_CREATE_BLOB. GUEST blobs take their memory from entries (sum
 * of lengths >= size, else INVALID_PARAMETER; any ctx_id); HOST3D and
 * HOST3D_GUEST come from the context ctx_id's component (entries only
 * for HOST3D_GUEST). size 0, unknown blob_mem or flags are
 * INVALID_PARAMETER. */
uint32_t gfx_resource_create_blob(struct gfx *g, uint32_t ctx_id,
                                  uint32_t resource_id, uint32_t blob_mem,
                                  uint32_t blob_flags, uint64_t blob_id,
                                  uint64_t size,
                                  const struct gfx_iovec *entries, uint32_t n);
/* RESOURCE_MAP_BLOB: map a MAPPABLE blob with host memory at offset
 * (page aligned) in the host-visible region; it and the blob's size
 * rounded up to a page must fit in the region and overlap no other
 * mapping (else INVALID_PARAMETER). *map_info gets the cache bits.
 * OK_MAP_INFO. */
uint32_t gfx_resource_map_blob(struct gfx *g, uint32_t resource_id,
                               uint64_t offset, uint32_t *map_info);
/* RESOURCE_UNMAP_BLOB: the range reads zero again. */
uint32_t gfx_resource_unmap_blob(struct gfx *g, uint32_t resource_id);
/* RESOURCE_ASSIGN_UUID: a random (v4) uuid, the same one on every call
 * for the resource. OK_RESOURCE_UUID. */
uint32_t gfx_resource_assign_uuid(struct gfx *g, uint32_t resource_id,
                                  uint8_t uuid[16]);
/* SET_SCANOUT_BLOB: show rectangle r of a width x height image of format
 * (a gfx_format_to_pixman format) whose row 0 starts at offset and rows
 * are stride bytes apart in the blob's memory (only plane 0). The scanout
 * shows a copy, refreshed on RESOURCE_FLUSH. resource_id 0 disables. */
uint32_t gfx_set_scanout_blob(struct gfx *g, uint32_t scanout_id,
                              uint32_t resource_id, const struct gfx_rect *r,
                              uint32_t width, uint32_t height, uint32_t format,
                              uint32_t stride, uint32_t offset);
/* A FLAG_FENCE command's work was handed over. ring_idx is
 * GFX_RING_GLOBAL without FLAG_INFO_RING_IDX (the global timeline,
 * signalled at once: all work on it is synchronous), else (ctx_id,
 * ring_idx) must be a context and a ring < GFX_MAX_RINGS
 * (INVALID_CONTEXT_ID / INVALID_PARAMETER, and nothing is signalled).
 * OK: listener.fence_signalled reports it, maybe during this call. */
uint32_t gfx_create_fence(struct gfx *g, uint32_t ctx_id, uint32_t ring_idx,
                          uint64_t fence_id);
/* Deliver fence signals queued from other threads. */
void gfx_fence_poll(struct gfx *g);
/* The host-visible region's host mapping (NULL without one) and size.
 * The address never changes: mappings replace pages inside it, so a
 * guest memory block made of it stays valid. */
uint8_t *gfx_host_visible(const struct gfx *g, uint64_t *size);
/* Its read-only pages (mem_add_block_host's ro_pages): where blobs whose
 * fd is read-only or write-sealed are mapped. NULL without a region. */
const uint8_t *gfx_host_visible_ro_pages(const struct gfx *g);

/* Queries (same thread and lock rules). */
uint32_t gfx_num_scanouts(const struct gfx *g);
/* Host memory currently charged against max_hostmem, bytes. */
uint64_t gfx_hostmem_used(const struct gfx *g);
/* Host fds currently charged against max_fds. */
uint32_t gfx_fds_used(const struct gfx *g);
/* The pixman format holding a virtio-gpu format's bytes as they lie in
 * guest memory on this host, or 0 if gfx does not support the format. */
pixman_format_code_t gfx_format_to_pixman(uint32_t virtio_format);
/* A copy of what scanout_id shows (its rectangle of the resource), in the
 * resource's pixman format, for screendumps; the caller unrefs it. NULL if
 * the scanout is disabled or invalid, or memory is short. */
pixman_image_t *gfx_scanout_snapshot(struct gfx *g, uint32_t scanout_id);

#endif
