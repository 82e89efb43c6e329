/* SPDX-License-Identifier: MIT */
/*
 * The interface between the gfx core (gfx.c) and its components, one per
 * context type, as in rutabaga_gfx. Internal to src/gfx: the device only
 * sees gfx.h. The core owns the resource table, the guest backing, host
 * memory accounting, scanouts and cursors, and checks everything generic
 * (ids, rectangles inside resources, backing present) before it calls a
 * component; a component owns what lies behind a resource (for 2D, the
 * pixman image) and checks what only it can (formats, strides, lengths).
 *
 * Every op is optional. A missing command op makes the core answer
 * VIRTIO_GPU_RESP_ERR_UNSPEC; a missing hook (resource_destroy) does
 * nothing. The context, capset and fence slots are reserved for the
 * context-type work: the core does not dispatch them yet.
 */
#ifndef SWEDE_GFX_COMPONENT_H
#define SWEDE_GFX_COMPONENT_H

#include <stddef.h>
#include <stdint.h>

#include "gfx/gfx.h"

struct gfx_component_ops;
struct gfx_context; /* defined by the core once contexts exist */

/* A piece of backing as a host range; start is its offset in the whole
 * backing (the sum of the lengths before it), for binary search. */
struct gfx_host_iov {
    uint8_t *base;
    uint64_t len;
    uint64_t start;
};

struct gfx_resource {
    uint32_t id;
    uint32_t format; /* enum virtio_gpu_formats */
    uint32_t width, height;
    /* The pixels the scanouts and cursors show, or NULL if the resource
     * has none. Set and freed by the component that created it. */
    pixman_image_t *image;
    const struct gfx_component_ops *comp;
    /* Backing: NULL/0 when none is attached. */
    struct gfx_host_iov *iov;
    uint32_t n_iov;
    uint64_t backing_len;
    uint64_t backing_hostmem;  /* charged for iov[] */
    uint64_t hostmem;          /* everything else charged for this resource */
    uint32_t scanout_mask;     /* bit n: scanout n shows it */
    struct gfx_resource *next; /* hash chain */
};

struct gfx_component_ops {
    const char *name;
    uint32_t capset_id; /* VIRTIO_GPU_CAPSET_*, 0 for none (2D) */

    /* RESOURCE_CREATE_2D. res has id, format, width and height set (width
     * and height non-zero); the component charges what it allocates with
     * gfx_hostmem_charge() and sets res->image. On error it must leave
     * nothing allocated (the core then releases res->hostmem). */
    uint32_t (*resource_create_2d)(struct gfx *g, struct gfx_resource *res);
    /* TRANSFER_TO_HOST_2D. The core has checked that r lies inside the
     * resource, is not empty, and that backing is attached. */
    uint32_t (*transfer_to_host_2d)(struct gfx *g, struct gfx_resource *res,
                                    const struct gfx_rect *r, uint64_t offset);
    /* Hook: free what the component allocated for res. The core releases
     * the host memory charged and the backing itself. */
    void (*resource_destroy)(struct gfx *g, struct gfx_resource *res);

    /* Reserved for contexts, capsets and fence timelines (not dispatched
     * yet; see the file comment). */
    uint32_t (*get_capset_info)(struct gfx *g, uint32_t *max_version,
                                uint32_t *max_size);
    uint32_t (*get_capset)(struct gfx *g, uint32_t version, void *buf,
                           uint32_t size);
    uint32_t (*context_create)(struct gfx *g, struct gfx_context *ctx,
                               uint32_t context_init);
    void (*context_destroy)(struct gfx *g, struct gfx_context *ctx);
    uint32_t (*context_attach_resource)(struct gfx *g, struct gfx_context *ctx,
                                        struct gfx_resource *res);
    void (*context_detach_resource)(struct gfx *g, struct gfx_context *ctx,
                                    struct gfx_resource *res);
    uint32_t (*context_submit)(struct gfx *g, struct gfx_context *ctx,
                               const void *cmd, uint32_t size);
    uint32_t (*context_create_fence)(struct gfx *g, struct gfx_context *ctx,
                                     uint32_t ring_idx, uint64_t fence_id);
};

/* The components. */
extern const struct gfx_component_ops gfx_2d_component;

/* Charge bytes of host memory to res (added to res->hostmem).
 * VIRTIO_GPU_RESP_OK_NODATA, or VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY if it
 * would pass max_hostmem (nothing is charged then). */
uint32_t gfx_hostmem_charge(struct gfx *g, struct gfx_resource *res,
                            uint64_t bytes);
/* Copy len bytes at offset off of res's backing into dst. 0, or -EFAULT
 * if any of them lies outside the backing. */
int gfx_backing_read(const struct gfx_resource *res, uint64_t off, void *dst,
                     size_t len);

#endif
