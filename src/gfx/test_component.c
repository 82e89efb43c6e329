/* SPDX-License-Identifier: MIT */
/*
 * FOR TESTS ONLY: a tiny context type ("test", capset GFX_CAPSET_TEST)
 * that lets unit, device and fuzz tests drive contexts, capsets, submits,
 * HOST3D blobs and ring fence timelines without the cross-domain
 * component. It is compiled into swede but can only be enabled through
 * gfx_config.test_component, which no command-line option sets.
 *
 * Capset (version 1, 16 bytes): le32 version 1, le32 'TEST', le32
 * GFX_MAX_RINGS, le32 0. A submit is a sequence of le32 words, each
 * command an opcode and its arguments:
 *   TEST_OP_NOP
 *   TEST_OP_HOLD ring        fences on ring are held from now on
 *   TEST_OP_RELEASE ring     signal the newest held fence on ring (now)
 *   TEST_OP_RELEASE_ASYNC ring  same, through gfx_fence_signal_async
 *   TEST_OP_WRITE res off val   store le32 val at off in an attached blob
 * Without HOLD a ring's fences signal at once. HOST3D blobs are memfds
 * of the asked size (blob_id is not checked), map_info CACHED.
 * TRANSFER_*_3D on a HOST3D_GUEST blob copies box.w bytes between
 * backing offset and host offset box.x.
 */
#include "gfx/test_component.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/log.h"
#include "gfx/component.h"

struct test_ctx {
    uint64_t hold_mask;
    uint64_t held_mask;
    uint64_t held[GFX_MAX_RINGS];
};

static uint32_t test_capset_info(struct gfx *g, uint32_t *max_version,
                                 uint32_t *max_size)
{
    (void)g;
    *max_version = 1;
    *max_size = 16;
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t test_capset(struct gfx *g, uint32_t version, void *buf,
                            uint32_t size)
{
    (void)g;
    (void)version;
    uint32_t w[4] = { htole32(1), htole32(0x54534554), htole32(GFX_MAX_RINGS),
                      0 };
    memcpy(buf, w, size < sizeof(w) ? size : sizeof(w));
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t test_ctx_create(struct gfx *g, struct gfx_context *ctx,
                                uint32_t context_init)
{
    (void)g;
    (void)context_init;
    ctx->priv = calloc(1, sizeof(struct test_ctx));
    return ctx->priv ? VIRTIO_GPU_RESP_OK_NODATA
                     : VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
}

static void test_ctx_destroy(struct gfx *g, struct gfx_context *ctx)
{
    (void)g;
    free(ctx->priv);
}

static uint32_t test_release(struct gfx *g, struct gfx_context *ctx,
                             uint32_t ring, bool async)
{
    struct test_ctx *t = ctx->priv;
    if (ring >= GFX_MAX_RINGS) {
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    uint64_t bit = 1ull << ring;
    t->hold_mask &= ~bit;
    if (t->held_mask & bit) {
        t->held_mask &= ~bit;
        if (async) {
            gfx_fence_signal_async(g, ctx->id, ring, t->held[ring]);
        } else {
            gfx_fence_signal(g, ctx, ring, t->held[ring]);
        }
    }
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t test_submit(struct gfx *g, struct gfx_context *ctx,
                            const void *cmd, uint32_t size)
{
    struct test_ctx *t = ctx->priv;
    uint32_t n = size / 4;
    if (size % 4) {
        log_guest("virtio-gpu: test context %u: submit of %u bytes", ctx->id,
                  size);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    const uint8_t *p = cmd;
    uint32_t w[4];
    for (uint32_t i = 0; i < n;) {
        uint32_t op;
        memcpy(&op, p + 4 * i, 4);
        op = le32toh(op);
        uint32_t nargs = op == TEST_OP_WRITE ? 3 : op == TEST_OP_NOP ? 0 : 1;
        if (op > TEST_OP_WRITE || n - i - 1 < nargs) {
            log_guest("virtio-gpu: test context %u: bad op %u", ctx->id, op);
            return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
        }
        for (uint32_t k = 0; k < nargs; k++) {
            memcpy(&w[k], p + 4 * (i + 1 + k), 4);
            w[k] = le32toh(w[k]);
        }
        i += 1 + nargs;
        uint32_t r = VIRTIO_GPU_RESP_OK_NODATA;
        switch (op) {
        case TEST_OP_NOP:
            break;
        case TEST_OP_HOLD:
            if (w[0] >= GFX_MAX_RINGS) {
                return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
            }
            t->hold_mask |= 1ull << w[0];
            break;
        case TEST_OP_RELEASE:
        case TEST_OP_RELEASE_ASYNC:
            r = test_release(g, ctx, w[0], op == TEST_OP_RELEASE_ASYNC);
            break;
        case TEST_OP_WRITE: {
            struct gfx_resource *res = gfx_resource_get(g, w[0]);
            uint32_t v = htole32(w[2]);
            if (!res || !gfx_context_has_resource(ctx, res) ||
                !res->blob_host || w[1] > res->blob_size ||
                res->blob_size - w[1] < 4) {
                return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
            }
            memcpy(res->blob_host + w[1], &v, 4);
            break;
        }
        }
        if (r != VIRTIO_GPU_RESP_OK_NODATA) {
            return r;
        }
    }
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t test_create_fence(struct gfx *g, struct gfx_context *ctx,
                                  uint32_t ring_idx, uint64_t fence_id)
{
    struct test_ctx *t = ctx->priv;
    uint64_t bit = 1ull << ring_idx;
    if (t->hold_mask & bit) {
        t->held[ring_idx] = fence_id;
        t->held_mask |= bit;
        return VIRTIO_GPU_RESP_OK_NODATA;
    }
    gfx_fence_signal(g, ctx, ring_idx, fence_id);
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t test_create_blob(struct gfx *g, struct gfx_context *ctx,
                                 struct gfx_resource *res)
{
    (void)ctx;
    long page = sysconf(_SC_PAGESIZE);
    uint64_t psz = page > 0 ? (uint64_t)page : 4096;
    uint64_t len = (res->blob_size + psz - 1) & ~(psz - 1);
    if (gfx_hostmem_charge(g, res, len) != VIRTIO_GPU_RESP_OK_NODATA ||
        gfx_fd_charge(g) != VIRTIO_GPU_RESP_OK_NODATA) {
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY; /* core releases hostmem */
    }
    int fd = memfd_create("swede-test-blob", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)len) < 0) {
        if (fd >= 0) {
            close(fd);
        }
        gfx_fd_release(g);
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    res->blob_fd = fd;
    res->blob_fd_offset = 0;
    res->map_info = VIRTIO_GPU_MAP_CACHE_CACHED;
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t test_transfer_3d(struct gfx *g, struct gfx_context *ctx,
                                 struct gfx_resource *res,
                                 const struct gfx_transfer_3d *t, bool to_host)
{
    (void)g;
    (void)ctx;
    if (res->blob_mem != VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST || !res->blob_host ||
        t->x > res->blob_size || t->w > res->blob_size - t->x) {
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    int r =
        to_host
            ? gfx_backing_read(res, t->offset, res->blob_host + t->x, t->w)
            : gfx_backing_write(res, t->offset, res->blob_host + t->x, t->w);
    return r < 0 ? VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER
                 : VIRTIO_GPU_RESP_OK_NODATA;
}

const struct gfx_component_ops gfx_test_component = {
    .name = "test",
    .capset_id = GFX_CAPSET_TEST,
    .get_capset_info = test_capset_info,
    .get_capset = test_capset,
    .context_create = test_ctx_create,
    .context_destroy = test_ctx_destroy,
    .context_submit = test_submit,
    .context_create_fence = test_create_fence,
    .context_create_blob = test_create_blob,
    .transfer_3d = test_transfer_3d,
};
