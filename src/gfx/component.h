/* SPDX-License-Identifier: MIT */
/*
 * The interface between the gfx core (gfx.c) and its components, one per
 * context type, as in rutabaga_gfx (reference §3.1). Internal to src/gfx:
 * the device only sees gfx.h. The core owns the resource table, the guest
 * backing, host memory and fd accounting, contexts (ids, debug names,
 * which resources are attached), capset enumeration, fence timelines,
 * blob mappings into the host-visible region, scanouts and cursors, and
 * checks everything generic (ids, rectangles inside resources, backing
 * present, blob flags, sizes) before it calls a component; a component
 * owns what lies behind a resource or context (for 2D the pixman image,
 * for a context type its protocol) and checks what only it can.
 *
 * Every op is optional. A missing command op makes the core answer
 * VIRTIO_GPU_RESP_ERR_UNSPEC ("unsupported"); a missing hook
 * (resource_destroy, context_destroy, context_detach_resource, fini) does
 * nothing. Two exceptions, both documented at the op: a missing
 * context_attach_resource accepts the attachment, and a missing
 * context_create_fence signals the fence at once (the work of the command
 * it follows was synchronous).
 *
 * Threads: every op is called with the device lock held, on whichever
 * thread holds it (vCPU or main loop), and may call the gfx_* helpers
 * below except where a helper says otherwise. A component that completes
 * work on a thread of its own signals fences with gfx_fence_signal_async(),
 * which never waits for the device lock: a worker may therefore be joined
 * from context_destroy without deadlock.
 *
 * Ops are stable: cross_domain.c is written against this file.
 */
#ifndef SWEDE_GFX_COMPONENT_H
#define SWEDE_GFX_COMPONENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gfx/gfx.h"

struct gfx_component_ops;

/* A piece of backing as a host range; start is its offset in the whole
 * backing (the sum of the lengths before it), for binary search. */
struct gfx_host_iov {
    uint8_t *base;
    uint64_t len;
    uint64_t start;
};

struct gfx_resource {
    uint32_t id;
    uint32_t format; /* enum virtio_gpu_formats (2D resources) */
    uint32_t width, height;
    /* The pixels the scanouts and cursors show, or NULL if the resource
     * has none. Set and freed by the component that created it. */
    pixman_image_t *image;
    /* The component that created it: the 2D component, the component of
     * the context a HOST3D blob was made in, or NULL for a GUEST blob
     * (the core's own). */
    const struct gfx_component_ops *comp;
    /* Backing: NULL/0 when none is attached. For blobs with guest memory
     * (GUEST, HOST3D_GUEST) this is the blob's mem entries. */
    struct gfx_host_iov *iov;
    uint32_t n_iov;
    uint64_t backing_len;
    uint64_t backing_hostmem;  /* charged for iov[] */
    uint64_t hostmem;          /* everything else charged for this resource */
    uint32_t scanout_mask;     /* bit n: scanout n shows it */
    struct gfx_resource *next; /* hash chain */

    /* Blobs (RESOURCE_CREATE_BLOB); blob_mem 0 for 2D resources. */
    uint32_t blob_mem;   /* VIRTIO_GPU_BLOB_MEM_* */
    uint32_t blob_flags; /* VIRTIO_GPU_BLOB_FLAG_USE_* */
    uint64_t blob_id;    /* the guest's name for the host object */
    uint64_t blob_size;  /* bytes, as the guest asked */
    uint32_t ctx_id;     /* context it was created in (0: none) */
    /*
     * Host memory of a HOST3D/HOST3D_GUEST blob, set by the component's
     * context_create_blob: a memfd (or any mmap-able shared-memory fd)
     * whose bytes [blob_fd_offset, blob_fd_offset + blob_size) are the
     * blob. blob_fd_offset must be a multiple of the host page size; the
     * fd must be at least blob_fd_offset + blob_size rounded up to a page
     * long (or reach into that last page if it is sealed against
     * shrinking: the rest of the page reads as zeros). The core takes
     * ownership (closes it when the resource goes) and maps it into the
     * host-visible region on MAP_BLOB, and for scanouts. -1: none.
     */
    int blob_fd;
    uint64_t blob_fd_offset;
    /* Map blob_fd read-only for the guest: for fds that are read-only or
     * sealed against writing (a compositor's keymap). The guest reads the
     * same pages; its writes are refused (mem_ptr), and the mapping is
     * private copy-on-write, so none can reach the fd anyway. */
    bool blob_private;
    /* VIRTIO_GPU_MAP_CACHE_* (low 4 bits used) returned by MAP_BLOB;
     * set by the component with blob_fd. */
    uint32_t map_info;
    /* The core's host mapping of the blob fd (blob_size rounded up to a
     * page), made after context_create_blob succeeds; components may use
     * it too. NULL when there is no fd. */
    uint8_t *blob_host;
    /* Where MAP_BLOB put it in the host-visible region. */
    bool mapped;
    uint64_t map_offset, map_len;
    /* RESOURCE_ASSIGN_UUID. */
    bool has_uuid;
    uint8_t uuid[16];
    /* The component's own per-resource state. */
    void *priv;
};

/* Rings a context may name (ring_idx is a u8 on the wire; Linux allows
 * 64, VIRTGPU_CONTEXT_PARAM_NUM_RINGS). */
#define GFX_MAX_RINGS 64u

struct gfx_context {
    uint32_t id;        /* the guest's ctx_id, never 0 */
    uint32_t capset_id; /* context_init & VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK
                           (the component's capset_id if that was 0) */
    uint32_t context_init;   /* as sent */
    char debug_name[64 + 1]; /* NUL-terminated, maybe empty */
    const struct gfx_component_ops *comp;
    void *priv; /* the component's own state */
    /* Core bookkeeping: attached resources, rings that got fences and the
     * last id signalled on each ring. Read-only for components. */
    struct gfx_resource **attached;
    uint32_t n_attached, cap_attached;
    uint64_t rings_fenced;    /* bit r: ring r got a fence */
    uint64_t rings_signalled; /* bit r: last_signalled[r] is set */
    uint64_t last_signalled[GFX_MAX_RINGS];
    uint64_t hostmem; /* charged for the context */
    struct gfx_context *next;
};

/*
 * What a component implements. name is the context type's name ("2d",
 * "cross-domain", "test"); capset_id the VIRTIO_GPU_CAPSET_* it serves,
 * 0 for none (2D). The core enumerates capsets in the order components
 * are enabled and routes CTX_CREATE by capset id.
 */
struct gfx_component_ops {
    const char *name;
    uint32_t capset_id;

    /* ---- lifecycle ---- */

    /* Once per gfx when the component is enabled (gfx_create), main
     * thread, no lock needed. *state is what gfx_component_state()
     * returns afterwards. 0, or a negative errno with err set (the device
     * reports it as a configuration error). */
    int (*init)(struct gfx *g, const struct gfx_config *cfg, void **state,
                struct error *err);
    /* gfx_destroy: after every context and resource is gone. */
    void (*fini)(struct gfx *g, void *state);

    /* ---- 2D resources ---- */

    /* RESOURCE_CREATE_2D. res has id, format, width and height set (width
     * and height non-zero); the component charges what it allocates with
     * gfx_hostmem_charge() and sets res->image. On error it must leave
     * nothing allocated (the core then releases res->hostmem). */
    uint32_t (*resource_create_2d)(struct gfx *g, struct gfx_resource *res);
    /* TRANSFER_TO_HOST_2D. The core has checked that r lies inside the
     * resource, is not empty, and that backing is attached. */
    uint32_t (*transfer_to_host_2d)(struct gfx *g, struct gfx_resource *res,
                                    const struct gfx_rect *r, uint64_t offset);
    /* Hook: free what the component allocated for res (image, priv). The
     * core releases the host memory charged, the backing, the blob fd and
     * its mappings itself, after this. */
    void (*resource_destroy)(struct gfx *g, struct gfx_resource *res);

    /* ---- capsets ---- */

    /* GET_CAPSET_INFO for this component's capset. */
    uint32_t (*get_capset_info)(struct gfx *g, uint32_t *max_version,
                                uint32_t *max_size);
    /* GET_CAPSET: fill size bytes of buf (size is max_size from
     * get_capset_info; buf is zeroed). version <= max_version is checked
     * by the core. */
    uint32_t (*get_capset)(struct gfx *g, uint32_t version, void *buf,
                           uint32_t size);

    /* ---- contexts ---- */

    /* CTX_CREATE. ctx has id, capset_id, context_init and debug_name set;
     * the component sets ctx->priv. On error nothing must stay
     * allocated; context_destroy is then not called. */
    uint32_t (*context_create)(struct gfx *g, struct gfx_context *ctx,
                               uint32_t context_init);
    /* CTX_DESTROY, reset, gfx_destroy. Every resource has been detached
     * (context_detach_resource called for each) before this. A worker
     * thread may be joined here (see Threads). Fences still held are
     * retired by the core afterwards. */
    void (*context_destroy)(struct gfx *g, struct gfx_context *ctx);
    /* CTX_ATTACH_RESOURCE (the core ignores a second attach of the same
     * resource and refuses more than GFX_MAX_ATTACHED). Missing: accept. */
    uint32_t (*context_attach_resource)(struct gfx *g, struct gfx_context *ctx,
                                        struct gfx_resource *res);
    /* CTX_DETACH_RESOURCE, and implicitly when the resource is unref'd or
     * the context destroyed. Only for attached resources. */
    void (*context_detach_resource)(struct gfx *g, struct gfx_context *ctx,
                                    struct gfx_resource *res);
    /* SUBMIT_3D: size bytes of the context type's command stream, copied
     * out of guest memory (size <= GFX_MAX_SUBMIT, may be 0); cmd is only
     * valid during the call. */
    uint32_t (*context_submit)(struct gfx *g, struct gfx_context *ctx,
                               const void *cmd, uint32_t size);
    /* A FLAG_FENCE command with FLAG_INFO_RING_IDX on (ctx, ring_idx)
     * (ring_idx < GFX_MAX_RINGS, checked) after its work was handed to the
     * component. Signal fence_id with gfx_fence_signal() now or later,
     * or gfx_fence_signal_async() from another thread; signalling an id
     * retires every earlier fence on the same (ctx, ring). fence ids on a
     * ring only grow (the Linux driver uses one global counter). Missing
     * op: the core signals at once. An error answers the command with it
     * (fence not held). */
    uint32_t (*context_create_fence)(struct gfx *g, struct gfx_context *ctx,
                                     uint32_t ring_idx, uint64_t fence_id);

    /* ---- blobs ---- */

    /* RESOURCE_CREATE_BLOB with blob_mem HOST3D or HOST3D_GUEST in ctx.
     * res has id, blob_mem, blob_flags, blob_id, blob_size (> 0), ctx_id
     * and, for HOST3D_GUEST, the guest backing set. Provide the host
     * memory: set res->blob_fd, blob_fd_offset, map_info, and charge it
     * with gfx_hostmem_charge(); gfx_fd_charge() first for a new fd. A
     * blob_id the context does not know, or a size that does not match
     * the object, is VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER. May also set
     * width/height/format/priv. On error leave blob_fd -1 and nothing
     * allocated. */
    uint32_t (*context_create_blob)(struct gfx *g, struct gfx_context *ctx,
                                    struct gfx_resource *res);
    /* TRANSFER_TO_HOST_3D (to_host) and TRANSFER_FROM_HOST_3D on a
     * resource this component created; ctx is the hdr's context (NULL for
     * ctx_id 0). The core has checked the resource exists. */
    uint32_t (*transfer_3d)(struct gfx *g, struct gfx_context *ctx,
                            struct gfx_resource *res,
                            const struct gfx_transfer_3d *t, bool to_host);
};

/* Most resources one context may have attached. */
#define GFX_MAX_ATTACHED 65536u

/* The components. The cross-domain one lives in cross_domain.c; the
 * test one (test_component.c) is for unit, device and fuzz tests only
 * and cannot be enabled from the command line. */
extern const struct gfx_component_ops gfx_2d_component;
extern const struct gfx_component_ops gfx_cross_domain_component;
extern const struct gfx_component_ops gfx_test_component;

/* The state init() stored for comp in g, or NULL. */
void *gfx_component_state(struct gfx *g, const struct gfx_component_ops *comp);
/* The configuration g was created with (for components: socket paths). */
const struct gfx_config *gfx_get_config(const struct gfx *g);

/* Charge bytes of host memory to res (added to res->hostmem).
 * VIRTIO_GPU_RESP_OK_NODATA, or VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY if it
 * would pass max_hostmem (nothing is charged then). Released when res
 * goes. */
uint32_t gfx_hostmem_charge(struct gfx *g, struct gfx_resource *res,
                            uint64_t bytes);
/* Count one more host fd the guest holds (a blob fd, a component's own
 * per-context fds): VIRTIO_GPU_RESP_OK_NODATA, or
 * VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY past max_fds. A blob fd set in
 * context_create_blob is released by the core with the resource; any
 * other charge is given back with gfx_fd_release(). */
uint32_t gfx_fd_charge(struct gfx *g);
void gfx_fd_release(struct gfx *g);
/* Copy len bytes at offset off of res's backing into dst. 0, or -EFAULT
 * if any of them lies outside the backing. */
int gfx_backing_read(const struct gfx_resource *res, uint64_t off, void *dst,
                     size_t len);
/* Copy len bytes from src into res's backing at off; 0 or -EFAULT. */
int gfx_backing_write(const struct gfx_resource *res, uint64_t off,
                      const void *src, size_t len);
/* Look up a resource by id (NULL if none); for components that take ids
 * from their command streams. Only valid during the op. */
struct gfx_resource *gfx_resource_get(struct gfx *g, uint32_t id);
/* Is res attached to ctx? */
bool gfx_context_has_resource(const struct gfx_context *ctx,
                              const struct gfx_resource *res);

/*
 * Fence signalling. fence_id on (ctx, ring_idx) and every earlier fence
 * on that timeline are done; the device then answers the held commands.
 * gfx_fence_signal: device lock held (inside an op). An id not above the
 * last one signalled on that ring does nothing.
 * gfx_fence_signal_async: any thread, never takes the device lock; the
 * signal is queued and delivered by gfx_fence_poll() (the device arranges
 * that through gfx_config.wakeup), and dropped if the context is gone by
 * then. 0, or -ENOMEM.
 */
void gfx_fence_signal(struct gfx *g, struct gfx_context *ctx, uint32_t ring_idx,
                      uint64_t fence_id);
int gfx_fence_signal_async(struct gfx *g, uint32_t ctx_id, uint32_t ring_idx,
                           uint64_t fence_id);

#endif
