/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of gfx's rutabaga core through the test component
 * (gfx/test_component.c): capsets, contexts, submits, blobs and their
 * mappings into the host-visible region (seen through a guest memory
 * block made of it, as the board does), uuids, blob scanouts, and fence
 * timelines: in order within a (context, ring), independent across rings
 * and contexts, async signals, and retirement on context destroy.
 */
#include <endian.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "gfx/gfx.h"
#include "gfx/test_component.h"
#include "harness.h"
#include "mem/mem.h"

#define OK       VIRTIO_GPU_RESP_OK_NODATA
#define RAM_BASE 0x80000000ull
#define RAM_SIZE (4ull << 20)
#define HV_BASE  0x4000000000ull
#define HV_SIZE  (1ull << 20)

static struct mem_map mm;

/* Fences seen by the listener, in order. */
static struct {
    uint32_t ctx, ring;
    uint64_t id;
} seen[64];
static unsigned n_seen;
static unsigned wakeups;

static void on_fence(void *o, uint32_t ctx, uint32_t ring, uint64_t id)
{
    (void)o;
    if (n_seen < 64) {
        seen[n_seen].ctx = ctx;
        seen[n_seen].ring = ring;
        seen[n_seen].id = id;
        n_seen++;
    }
}

static pixman_image_t *shown;
static void on_scanout(void *o, uint32_t n, pixman_image_t *img,
                       const struct gfx_rect *r)
{
    (void)o;
    (void)n;
    (void)r;
    shown = img;
}

static const struct gfx_listener listener = {
    .scanout_set = on_scanout,
    .fence_signalled = on_fence,
};

static void wake(void *o)
{
    (void)o;
    wakeups++;
}

static struct gfx *new_gfx(void)
{
    struct gfx_config cfg = {
        .mem = &mm,
        .max_hostmem = 64ull << 20,
        .num_scanouts = 1,
        .test_component = true,
        .host_visible_size = HV_SIZE,
        .wakeup = wake,
    };
    struct gfx *g = NULL;
    struct error err = { 0 };
    CHECK_EQ(gfx_create(&cfg, &g, &err), 0);
    gfx_set_listener(g, &listener, NULL);
    n_seen = 0;
    return g;
}

static uint32_t submit(struct gfx *g, uint32_t ctx, const uint32_t *w,
                       unsigned n)
{
    uint32_t le[8];
    for (unsigned i = 0; i < n; i++) {
        le[i] = htole32(w[i]);
    }
    return gfx_submit_3d(g, ctx, le, n * 4);
}

TEST(capsets)
{
    struct gfx *g = new_gfx();
    uint32_t id, ver, size;
    CHECK_EQ(gfx_num_capsets(g), 1);
    CHECK_EQ(gfx_get_capset_info(g, 0, &id, &ver, &size),
             VIRTIO_GPU_RESP_OK_CAPSET_INFO);
    CHECK_EQ(id, GFX_CAPSET_TEST);
    CHECK_EQ(size, 16);
    CHECK_EQ(gfx_get_capset_info(g, 1, &id, &ver, &size),
             VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    uint8_t buf[64];
    CHECK_EQ(gfx_get_capset(g, GFX_CAPSET_TEST, 1, buf, sizeof(buf), &size),
             VIRTIO_GPU_RESP_OK_CAPSET);
    CHECK_EQ(size, 16);
    CHECK_EQ(buf[0], 1);
    CHECK_EQ(gfx_get_capset(g, GFX_CAPSET_TEST, 2, buf, sizeof(buf), &size),
             VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK_EQ(gfx_get_capset(g, 5, 0, buf, sizeof(buf), &size),
             VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    gfx_destroy(g);
}

TEST(contexts)
{
    struct gfx *g = new_gfx();
    CHECK_EQ(gfx_ctx_create(g, 0, GFX_CAPSET_TEST, "x", 1),
             VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
    CHECK_EQ(gfx_ctx_create(g, 1, GFX_CAPSET_TEST, "test", 4), OK);
    CHECK_EQ(gfx_ctx_create(g, 1, GFX_CAPSET_TEST, "test", 4),
             VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
    CHECK_EQ(gfx_ctx_create(g, 2, 5, "cd", 2),
             VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK_EQ(gfx_ctx_create(g, 2, 0, NULL, 0), OK); /* default type */
    uint32_t nop[] = { TEST_OP_NOP };
    CHECK_EQ(submit(g, 1, nop, 1), OK);
    CHECK_EQ(submit(g, 9, nop, 1), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
    uint32_t bad[] = { 99 };
    CHECK_EQ(submit(g, 1, bad, 1), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK_EQ(gfx_ctx_attach_resource(g, 1, 7),
             VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    CHECK_EQ(gfx_ctx_destroy(g, 1), OK);
    CHECK_EQ(gfx_ctx_destroy(g, 1), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
    gfx_destroy(g);
}

TEST(ring_fences)
{
    struct gfx *g = new_gfx();
    CHECK_EQ(gfx_ctx_create(g, 1, GFX_CAPSET_TEST, "a", 1), OK);
    CHECK_EQ(gfx_ctx_create(g, 2, GFX_CAPSET_TEST, "b", 1), OK);
    /* Global and unheld rings signal at once. */
    CHECK_EQ(gfx_create_fence(g, 0, GFX_RING_GLOBAL, 10), OK);
    CHECK_EQ(n_seen, 1);
    CHECK_EQ(seen[0].ring, GFX_RING_GLOBAL);
    CHECK_EQ(gfx_create_fence(g, 1, 0, 11), OK);
    CHECK_EQ(n_seen, 2);
    /* Hold ring 1 of context 1: its fences wait; ring 0 and context 2's
     * ring 1 do not. */
    uint32_t hold[] = { TEST_OP_HOLD, 1 };
    CHECK_EQ(submit(g, 1, hold, 2), OK);
    CHECK_EQ(gfx_create_fence(g, 1, 1, 12), OK);
    CHECK_EQ(gfx_create_fence(g, 1, 1, 13), OK);
    CHECK_EQ(n_seen, 2);
    CHECK_EQ(gfx_create_fence(g, 1, 0, 14), OK);
    CHECK_EQ(gfx_create_fence(g, 2, 1, 15), OK);
    CHECK_EQ(n_seen, 4);
    CHECK_EQ(seen[3].ctx, 2);
    uint32_t rel[] = { TEST_OP_RELEASE, 1 };
    CHECK_EQ(submit(g, 1, rel, 2), OK);
    CHECK_EQ(n_seen, 5);
    CHECK_EQ(seen[4].ctx, 1);
    CHECK_EQ(seen[4].ring, 1);
    CHECK_EQ(seen[4].id, 13); /* retires 12 too */
    /* Async: queued, delivered by poll. */
    CHECK_EQ(submit(g, 1, hold, 2), OK);
    CHECK_EQ(gfx_create_fence(g, 1, 1, 16), OK);
    uint32_t rela[] = { TEST_OP_RELEASE_ASYNC, 1 };
    CHECK_EQ(submit(g, 1, rela, 2), OK);
    CHECK_EQ(n_seen, 5);
    CHECK(wakeups > 0);
    gfx_fence_poll(g);
    CHECK_EQ(n_seen, 6);
    CHECK_EQ(seen[5].id, 16);
    /* Errors: no context, ring out of range. */
    CHECK_EQ(gfx_create_fence(g, 9, 0, 17),
             VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
    CHECK_EQ(gfx_create_fence(g, 1, 64, 17),
             VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    /* A held fence the guest never sees completed is retired when its
     * context goes. */
    CHECK_EQ(submit(g, 2, hold, 2), OK);
    CHECK_EQ(gfx_create_fence(g, 2, 1, 18), OK);
    unsigned before = n_seen;
    CHECK_EQ(gfx_ctx_destroy(g, 2), OK);
    CHECK(n_seen > before);
    CHECK_EQ(seen[n_seen - 1].id, UINT64_MAX);
    gfx_destroy(g);
}

TEST(blobs_and_maps)
{
    struct gfx *g = new_gfx();
    struct mem_map hm = { 0 };
    uint64_t hv_size;
    uint8_t *hv = gfx_host_visible(g, &hv_size);
    CHECK_EQ(hv_size, HV_SIZE);
    struct error err = { 0 };
    CHECK_EQ(mem_add_block_host(&hm, HV_BASE, hv_size, hv,
                                gfx_host_visible_ro_pages(g), "hv", &err),
             0);
    CHECK_EQ(gfx_ctx_create(g, 1, GFX_CAPSET_TEST, "a", 1), OK);
    const uint32_t MAP = VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE;
    CHECK_EQ(gfx_resource_create_blob(g, 1, 5, VIRTIO_GPU_BLOB_MEM_HOST3D, MAP,
                                      1, 8192, NULL, 0),
             OK);
    CHECK_EQ(gfx_fds_used(g), 1);
    CHECK_EQ(gfx_resource_create_blob(g, 1, 5, VIRTIO_GPU_BLOB_MEM_HOST3D, MAP,
                                      1, 8192, NULL, 0),
             VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    CHECK_EQ(gfx_resource_create_blob(g, 9, 6, VIRTIO_GPU_BLOB_MEM_HOST3D, MAP,
                                      1, 8192, NULL, 0),
             VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
    CHECK_EQ(gfx_resource_create_blob(g, 1, 6, 7, MAP, 1, 8192, NULL, 0),
             VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK_EQ(gfx_resource_create_blob(g, 1, 6, VIRTIO_GPU_BLOB_MEM_HOST3D, MAP,
                                      1, 0, NULL, 0),
             VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    /* Guest blob shorter than its size. */
    struct gfx_iovec e = { RAM_BASE, 4096 };
    CHECK_EQ(gfx_resource_create_blob(g, 0, 6, VIRTIO_GPU_BLOB_MEM_GUEST, 0, 0,
                                      8192, &e, 1),
             VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK_EQ(gfx_resource_create_blob(g, 0, 6, VIRTIO_GPU_BLOB_MEM_GUEST, 0, 0,
                                      4096, &e, 1),
             OK);
    /* Write through a submit, see it through guest memory once mapped. */
    CHECK_EQ(gfx_ctx_attach_resource(g, 1, 5), OK);
    uint32_t wr[] = { TEST_OP_WRITE, 5, 4100, 0xcafef00d };
    CHECK_EQ(submit(g, 1, wr, 4), OK);
    uint32_t info = 0;
    CHECK_EQ(gfx_resource_map_blob(g, 5, 0x10000, &info),
             VIRTIO_GPU_RESP_OK_MAP_INFO);
    CHECK_EQ(info, VIRTIO_GPU_MAP_CACHE_CACHED);
    uint32_t v = 0;
    CHECK_EQ(mem_read(&hm, HV_BASE + 0x10000 + 4100, &v, 4), 0);
    CHECK_EQ(le32toh(v), 0xcafef00d);
    /* The guest writes, the host sees. */
    v = htole32(0x12345678);
    CHECK_EQ(mem_write(&hm, HV_BASE + 0x10000, &v, 4), 0);
    /* Errors: mapped twice, guest blob, overlap, past the end,
     * misaligned. */
    CHECK_EQ(gfx_resource_map_blob(g, 5, 0x20000, &info),
             VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK_EQ(gfx_resource_map_blob(g, 6, 0x20000, &info),
             VIRTIO_GPU_RESP_ERR_UNSPEC);
    CHECK_EQ(gfx_resource_create_blob(g, 1, 7, VIRTIO_GPU_BLOB_MEM_HOST3D, MAP,
                                      2, 4096, NULL, 0),
             OK);
    CHECK_EQ(gfx_resource_map_blob(g, 7, 0x11000, &info),
             VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK_EQ(gfx_resource_map_blob(g, 7, HV_SIZE, &info),
             VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK_EQ(gfx_resource_map_blob(g, 7, UINT64_MAX - 4095, &info),
             VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK_EQ(gfx_resource_map_blob(g, 7, 0x12001, &info),
             VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK_EQ(gfx_resource_map_blob(g, 99, 0x12000, &info),
             VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    CHECK_EQ(gfx_resource_map_blob(g, 7, HV_SIZE - 4096, &info),
             VIRTIO_GPU_RESP_OK_MAP_INFO);
    /* Unmap: zero again. */
    CHECK_EQ(gfx_resource_unmap_blob(g, 5), OK);
    CHECK_EQ(gfx_resource_unmap_blob(g, 5),
             VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    CHECK_EQ(mem_read(&hm, HV_BASE + 0x10000, &v, 4), 0);
    CHECK_EQ(v, 0);
    /* uuid: stable per resource. */
    uint8_t u1[16], u2[16];
    CHECK_EQ(gfx_resource_assign_uuid(g, 5, u1),
             VIRTIO_GPU_RESP_OK_RESOURCE_UUID);
    CHECK_EQ(gfx_resource_assign_uuid(g, 5, u2),
             VIRTIO_GPU_RESP_OK_RESOURCE_UUID);
    CHECK(memcmp(u1, u2, 16) == 0);
    CHECK_EQ(u1[6] >> 4, 4);
    /* Unref of a mapped blob unmaps it; everything is given back. */
    CHECK_EQ(gfx_resource_unref(g, 7), OK);
    CHECK_EQ(gfx_resource_unref(g, 5), OK);
    CHECK_EQ(gfx_resource_unref(g, 6), OK);
    CHECK_EQ(gfx_fds_used(g), 0);
    gfx_destroy(g);
    mem_free(&hm);
}

TEST(scanout_blob)
{
    struct gfx *g = new_gfx();
    uint8_t *p = mem_ptr(&mm, RAM_BASE, 4 * 4 * 4, true);
    for (unsigned i = 0; i < 16; i++) {
        uint32_t px = 0xff000000u | i;
        memcpy(p + 4 * i, &px, 4);
    }
    struct gfx_iovec e = { RAM_BASE, 4096 };
    CHECK_EQ(gfx_resource_create_blob(g, 0, 3, VIRTIO_GPU_BLOB_MEM_GUEST, 0, 0,
                                      4096, &e, 1),
             OK);
    struct gfx_rect r = { 1, 1, 2, 2 };
    CHECK_EQ(gfx_set_scanout_blob(g, 0, 3, &r, 4, 4,
                                  VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 16, 0),
             OK);
    CHECK(shown != NULL);
    CHECK_EQ(((uint32_t *)pixman_image_get_data(shown))[0], 0xff000005u);
    /* A framebuffer past the blob's end is refused. */
    CHECK_EQ(gfx_set_scanout_blob(g, 0, 3, &r, 4, 4,
                                  VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 2048, 0),
             VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    /* Flush copies again. */
    uint32_t px = 0xff0000aa;
    memcpy(p + 4 * 5, &px, 4);
    struct gfx_rect all = { 0, 0, 4, 4 };
    CHECK_EQ(gfx_resource_flush(g, 3, &all), OK);
    CHECK_EQ(((uint32_t *)pixman_image_get_data(shown))[0], 0xff0000aau);
    pixman_image_t *snap = gfx_scanout_snapshot(g, 0);
    CHECK(snap != NULL);
    pixman_image_unref(snap);
    CHECK_EQ(gfx_resource_unref(g, 3), OK);
    CHECK(shown == NULL);
    gfx_destroy(g);
}

int main(void)
{
    struct error err = { 0 };
    if (mem_add_block(&mm, RAM_BASE, RAM_SIZE, false, "ram", &err) < 0) {
        printf("mem setup: %s\n", err.msg);
        return 1;
    }
    RUN(capsets);
    RUN(contexts);
    RUN(ring_fences);
    RUN(blobs_and_maps);
    RUN(scanout_blob);
    mem_free(&mm);
    HARNESS_END();
}
