/* SPDX-License-Identifier: MIT */
/*
 * The 2D component (virtio 1.2 spec, 5.7.6.8: RESOURCE_CREATE_2D and
 * TRANSFER_TO_HOST_2D; the same job as rutabaga_gfx's Rutabaga2D): a 2D
 * resource is a pixman image in one of the eight 32-bit formats the Linux
 * driver uses, filled from the guest backing by transfers. Host memory
 * for the image is charged before it is allocated. Not here: resource
 * lookup, rectangle checks, backing and scanouts (gfx.c), 3D resources.
 */
#include <limits.h>

#include "core/log.h"
#include "gfx/component.h"
#include "gfx/gfx.h"

#define GFX_2D_BPP 4 /* every supported format */

pixman_format_code_t gfx_format_to_pixman(uint32_t virtio_format)
{
    /*
     * virtio-gpu names formats by their bytes in memory (B8G8R8A8 is B
     * first); pixman names 32-bit formats by the bits of a native-endian
     * word, most significant first. So B,G,R,A bytes are the word
     * 0xAARRGGBB, a8r8g8b8, on a little-endian host.
     */
    switch (virtio_format) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
        return PIXMAN_a8r8g8b8;
    case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
        return PIXMAN_x8r8g8b8;
    case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
        return PIXMAN_b8g8r8a8;
    case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
        return PIXMAN_b8g8r8x8;
    case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
        return PIXMAN_a8b8g8r8;
    case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
        return PIXMAN_r8g8b8x8;
    case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
        return PIXMAN_r8g8b8a8;
    case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
        return PIXMAN_x8b8g8r8;
#else
    case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
        return PIXMAN_b8g8r8a8;
    case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
        return PIXMAN_b8g8r8x8;
    case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
        return PIXMAN_a8r8g8b8;
    case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
        return PIXMAN_x8r8g8b8;
    case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
        return PIXMAN_r8g8b8a8;
    case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
        return PIXMAN_x8b8g8r8;
    case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
        return PIXMAN_a8b8g8r8;
    case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
        return PIXMAN_r8g8b8x8;
#endif
    default:
        return 0;
    }
}

static uint32_t gfx_2d_resource_create(struct gfx *g, struct gfx_resource *res)
{
    pixman_format_code_t pf = gfx_format_to_pixman(res->format);
    if (!pf) {
        log_guest("virtio-gpu: resource %u: unsupported format %u", res->id,
                  res->format);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    /* pixman keeps the stride and the image size in ints. */
    uint64_t stride = (uint64_t)res->width * GFX_2D_BPP;
    if (stride > INT_MAX || res->height > INT_MAX / stride) {
        log_guest("virtio-gpu: resource %u: %ux%u is too large", res->id,
                  res->width, res->height);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    uint32_t resp = gfx_hostmem_charge(g, res, stride * res->height);
    if (resp != VIRTIO_GPU_RESP_OK_NODATA) {
        return resp;
    }
    /* With bits NULL pixman allocates the image zeroed. */
    res->image = pixman_image_create_bits(pf, (int)res->width, (int)res->height,
                                          NULL, (int)stride);
    if (!res->image) {
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static void gfx_2d_resource_destroy(struct gfx *g, struct gfx_resource *res)
{
    (void)g;
    if (res->image) {
        pixman_image_unref(res->image);
        res->image = NULL;
    }
}

static uint32_t gfx_2d_transfer_to_host(struct gfx *g, struct gfx_resource *res,
                                        const struct gfx_rect *r,
                                        uint64_t offset)
{
    (void)g;
    if (!res->image) {
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    /* Bounded at create: stride < 2^31, so nothing below overflows. */
    uint64_t stride = (uint64_t)res->width * GFX_2D_BPP;
    uint64_t row = (uint64_t)r->width * GFX_2D_BPP;
    uint64_t need = stride * (r->height - 1) + row;
    if (need > res->backing_len || offset > res->backing_len - need) {
        log_guest("virtio-gpu: resource %u: transfer of %ux%u at offset "
                  "%#llx overruns the %llu-byte backing",
                  res->id, r->width, r->height, (unsigned long long)offset,
                  (unsigned long long)res->backing_len);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    uint8_t *dst = (uint8_t *)pixman_image_get_data(res->image);
    size_t dst_stride = (size_t)pixman_image_get_stride(res->image);
    dst += (size_t)r->y * dst_stride + (size_t)r->x * GFX_2D_BPP;
    if (r->x == 0 && r->width == res->width && dst_stride == stride) {
        /* Whole rows: one contiguous range on both sides. */
        if (gfx_backing_read(res, offset, dst, need) < 0) {
            return VIRTIO_GPU_RESP_ERR_UNSPEC;
        }
        return VIRTIO_GPU_RESP_OK_NODATA;
    }
    for (uint32_t i = 0; i < r->height; i++) {
        if (gfx_backing_read(res, offset + i * stride, dst, row) < 0) {
            return VIRTIO_GPU_RESP_ERR_UNSPEC;
        }
        dst += dst_stride;
    }
    return VIRTIO_GPU_RESP_OK_NODATA;
}

const struct gfx_component_ops gfx_2d_component = {
    .name = "2d",
    .resource_create_2d = gfx_2d_resource_create,
    .transfer_to_host_2d = gfx_2d_transfer_to_host,
    .resource_destroy = gfx_2d_resource_destroy,
};
